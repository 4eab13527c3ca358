"""The catalogue of bad inputs: every case in tests/catalogue/*.yaml, run through the ``eage`` command.

Each case alters a fresh copy of the demo group (a small patch of a file, a file written or deleted),
runs one command line and expects: exit code 1 (bad input) or 2 (usage), the expected substrings in the
output (file name, line or key, a hint of the fix), never a traceback, and nothing written. The cases run
in-process (an exception escaping :func:`eage.cli.main` is a traceback and fails the case); a few also
run as a real ``eage`` subprocess so that what the user sees on stderr is checked end to end.

A case reads::

    - id: rules-duplicate-key          # unique, <area>-<what>
      area: rules                      # rules | payroll | timesheets | ledger | lock | bank | fec | cli | dsn
      patch:                           # each `old` must be found in `file` (the case rots loudly otherwise)
        - {file: rules/group.yaml, old: "...", new: "...", count: 1}
      write:                           # whole files: text (+ encoding), or bytes as hex
        - {file: ledger/timesheets/2026-11.csv, text: "...", encoding: latin-1}
      delete: [rules/vat.yaml]
      args: [check]                    # "{root}" is replaced by the copy's path; --root is appended
      root: true                       # false: do not append --root
      exit: 1
      expect: ["rules/group.yaml:4", "[identity.siren]", "add this key"]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import copy_demo, tree_digest
from eage.cli import main

CATALOGUE = Path(__file__).resolve().parent / "catalogue"
AREAS = ("rules", "payroll", "timesheets", "ledger", "lock", "bank", "fec", "cli", "dsn")
EAGE = Path(sys.executable).with_name("eage")


@dataclass(frozen=True)
class Case:
    """One bad input and what the user must be told."""

    id: str
    area: str
    args: list[str]
    exit: int
    expect: list[str]
    patch: list[dict[str, Any]] = field(default_factory=list)
    write: list[dict[str, Any]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    root: bool = True
    subprocess: bool = False
    needs: str | None = None  # a command module that must exist (e.g. import_bank)


def load_cases() -> list[Case]:
    """Every case of every ``tests/catalogue/*.yaml`` file (one file per area of work), in file order."""
    cases: list[Case] = []
    for path in sorted(CATALOGUE.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        cases.extend(Case(**item) for item in raw)
    return cases


CASES = load_cases()


def available(case: Case) -> bool:
    return (
        case.needs is None or (Path(__file__).parents[1] / "src/eage/commands" / f"{case.needs}.py").exists()
    )


def apply(case: Case, root: Path) -> None:
    """Alter the copy as the case says; fail loudly when a patch no longer matches the demo."""
    for patch in case.patch:
        path = root / patch["file"]
        text = path.read_text(encoding="utf-8")
        old, new = patch["old"], patch["new"]
        assert old in text, f"{case.id}: {old!r} not found in {patch['file']}: update the case"
        replace_file(path, text.replace(old, new, patch.get("count", 1)).encode("utf-8"))
    for item in case.write:
        path = root / item["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        if "hex" in item:
            replace_file(path, bytes.fromhex(item["hex"]))
        else:
            replace_file(path, item["text"].encode(item.get("encoding", "utf-8")))
    for rel in case.delete:
        target = root / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()


def replace_file(path: Path, data: bytes) -> None:
    """Write a new file (never through a hard link into the shared pristine copy)."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def command_line(case: Case, root: Path) -> list[str]:
    args = [a.replace("{root}", str(root)) for a in case.args]
    return [*args, "--root", str(root)] if case.root else args


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the demo per test process; each case copies it again before altering it."""
    return copy_demo(tmp_path_factory.mktemp("catalogue") / "group")


def prepared(case: Case, pristine: Path, tmp_path: Path) -> Path:
    if not available(case):
        pytest.skip(f"eage.commands.{case.needs} is not there yet")
    root = tmp_path / "group"
    # rules/ and ledger/ are copied; reports/ (the PDFs, most of the bytes) is hard-linked: eage replaces
    # files by renaming, never writes into one, and the digest of the copy still sees any change.
    for name in ("rules", "ledger"):
        shutil.copytree(pristine / name, root / name)
    shutil.copytree(pristine / "reports", root / "reports", copy_function=os.link)
    apply(case, root)
    return root


def check_outcome(case: Case, code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert code == case.exit, f"{case.id}: exit {code}, expected {case.exit}\n{out}\n{err}"
    shown = out + err
    for needle in case.expect:
        assert needle in shown, f"{case.id}: {needle!r} not in the output:\n{shown}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_reported_and_nothing_is_written(
    case: Case, pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = prepared(case, pristine, tmp_path)
    before = tree_digest(tmp_path)
    code = main(command_line(case, root))
    out, err = capsys.readouterr()
    check_outcome(case, code, out, err)
    assert tree_digest(tmp_path) == before, f"{case.id}: a refused command wrote something"


SUBPROCESS_CASES = [c for c in CASES if c.subprocess]


@pytest.mark.slow
@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_what_the_user_sees_in_a_real_process(case: Case, pristine: Path, tmp_path: Path) -> None:
    root = prepared(case, pristine, tmp_path)
    before = tree_digest(tmp_path)
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1", "COLUMNS": "200"}
    done = subprocess.run(
        [str(EAGE), *command_line(case, root)], capture_output=True, text=True, env=env, timeout=120
    )
    check_outcome(case, done.returncode, done.stdout, done.stderr)
    assert tree_digest(tmp_path) == before


def test_the_catalogue_covers_every_area() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids are unique"
    counts = Counter(c.area for c in CASES)
    assert set(counts) <= set(AREAS)
    assert sum(counts.values()) >= 40
    for area in AREAS:
        assert counts[area] >= 2, f"at least two cases of {area}"
    for case in CASES:
        assert case.exit in (1, 2)
        assert case.expect, f"{case.id}: say what the user must read"
        if case.exit == 1 and case.area not in ("cli",):
            assert any(re.search(r"/|\.(yaml|csv|txt|json|beancount|pdf)\b", e) for e in case.expect), (
                f"{case.id}: an input error names its file"
            )
