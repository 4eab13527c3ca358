"""Crash-proof runs: a real ``eage run 2026-11`` process killed while it writes, or while it renders.

The process is killed for real, with no chance to clean up: by the test hook ``EAGE_CRASH_AFTER=N``
(eage.ledger.store.commit calls ``os._exit(137)`` after N renames), or by SIGKILL at a random moment.
Afterwards the ledger loads with zero errors, every file is either its old bytes or the new complete
bytes of a finished run (only hidden ``.*.eage-tmp`` temporaries may be left, never a partial file under
a real name), no invoice number is used, and a re-run completes to exactly what an uninterrupted run
writes, with no temporary left.

To stay fast, November keeps the hours of one member only (one invoice, three payslips: 10 files), and the
independent processes run side by side.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from beancount import loader

from conftest import copy_demo
from eage import batch
from eage.ledger.load import load_ledger
from eage.ledger.store import CRASH_ENV, TMP_SUFFIX, leftover_temporaries

EAGE = Path(sys.executable).with_name("eage")
KEPT_MEMBERS = ("noctambules",)
RENAMES = 10  # 6 documents (invoice PDF + XML, 3 payslips, invoices.csv), 2 ledger files, manifest, main


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(TMP_SUFFIX)
    }


def eage(root: Path, *args: str, crash_after: int | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
    env.pop(CRASH_ENV, None)
    if crash_after is not None:
        env[CRASH_ENV] = str(crash_after)
    return subprocess.Popen(
        [str(EAGE), *args, "--root", str(root)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=180)
    return proc.returncode, err.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo (January to October run) with a one-member November timesheet."""
    root = copy_demo(tmp_path_factory.mktemp("crash") / "base")
    path = root / "ledger/timesheets/2026-11.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [lines[0]] + [ln for ln in lines[1:] if ln.split(",")[2] in ("", *KEPT_MEMBERS)]
    path.write_text("".join(kept), encoding="utf-8")
    return root


@dataclass
class Outcome:
    """One killed process: its exit code and stderr, the folder right after, and after a re-run."""

    code: int
    err: str
    files: dict[str, bytes]
    temporaries: list[Path]
    errors: list[object]
    issued: list[str]
    rerun_code: int | None = None
    rerun_err: str = ""
    rerun_files: dict[str, bytes] = field(default_factory=dict)
    rerun_temporaries: list[Path] = field(default_factory=list)
    rerun_errors: list[object] = field(default_factory=list)


@dataclass
class Crashes:
    old: dict[str, bytes]
    new: dict[str, bytes]  # what an uninterrupted run writes
    issued_before: list[str]
    outcomes: dict[str, Outcome]
    roots: dict[str, Path]
    random_kill: str  # how the random kill was timed, for messages


CRASH_POINTS = (0, 7, RENAMES - 1)  # nothing renamed; documents and a ledger file; all but main.beancount
RERUN = ("after-7", f"after-{RENAMES - 1}")


@pytest.fixture(scope="module")
def crashes(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Crashes:
    """Every process at once (they are independent): the reference run, the crashes, the random kill;
    then the re-runs, at once too. Each test asserts on what was recorded."""
    top = tmp_path_factory.mktemp("crashes")
    names = ["reference", *(f"after-{n}" for n in CRASH_POINTS), "random"]
    roots = {name: top / name for name in names}
    for root in roots.values():
        shutil.copytree(base, root)
    procs = {"reference": eage(roots["reference"], "run", "2026-11")}
    for n in CRASH_POINTS:
        procs[f"after-{n}"] = eage(roots[f"after-{n}"], "run", "2026-11", crash_after=n)
    seed = random.randrange(1_000_000)
    delay = random.Random(seed).uniform(0.5, 6.0)
    procs["random"] = eage(roots["random"], "run", "2026-11")
    time.sleep(delay)
    procs["random"].send_signal(signal.SIGKILL)
    done = {name: finish(proc) for name, proc in procs.items()}
    assert done["reference"][0] == 0, done["reference"][1]

    issued_before = [d.number for d in load_ledger(base)[0].issued_documents()]
    outcomes = {}
    for name in names[1:]:
        root = roots[name]
        code, err = done[name]
        outcomes[name] = Outcome(
            code, err, files_of(root), leftover_temporaries(root), bean_errors(root), issued(root)
        )
    reruns = {name: eage(roots[name], "run", "2026-11") for name in RERUN}
    for name, proc in reruns.items():
        outcome = outcomes[name]
        outcome.rerun_code, outcome.rerun_err = finish(proc)
        outcome.rerun_files = files_of(roots[name])
        outcome.rerun_temporaries = leftover_temporaries(roots[name])
        outcome.rerun_errors = bean_errors(roots[name])
    return Crashes(
        files_of(base),
        files_of(roots["reference"]),
        issued_before,
        outcomes,
        roots,
        f"seed {seed}: SIGKILL after {delay:.2f} s",
    )


def issued(root: Path) -> list[str]:
    return [d.number for d in load_ledger(root)[0].issued_documents()]


def bean_errors(root: Path) -> list[object]:
    _, errors, _ = loader.load_file(str(root / "ledger/main.beancount"))
    return list(errors)


def assert_old_or_new(outcome: Outcome, crashes: Crashes) -> None:
    """Every file holds its old bytes or its new complete bytes; temporaries are hidden and named."""
    old, new, now = crashes.old, crashes.new, outcome.files
    assert set(now) <= set(old) | set(new), sorted(set(now) - set(old) - set(new))
    assert set(old) <= set(now), sorted(set(old) - set(now))
    for rel, data in now.items():
        assert data in (old.get(rel), new.get(rel)), f"{rel} is neither the old nor the new file"
    for tmp in outcome.temporaries:
        target = tmp.name[1:].rsplit(".", 2)[0]  # .NAME.PID.eage-tmp
        assert tmp.name.startswith("."), tmp
        assert target in {Path(rel).name for rel in new}, tmp


def test_the_uninterrupted_run_writes_ten_files(crashes: Crashes) -> None:
    changed = [rel for rel, data in crashes.new.items() if crashes.old.get(rel) != data]
    assert len(changed) == RENAMES, changed
    assert "ledger/main.beancount" in changed


@pytest.mark.parametrize("crash_after", CRASH_POINTS)
def test_killed_while_committing(crash_after: int, crashes: Crashes) -> None:
    outcome = crashes.outcomes[f"after-{crash_after}"]
    assert outcome.code == 137, outcome.err
    assert outcome.errors == [], "the ledger loads with zero errors"
    assert_old_or_new(outcome, crashes)
    assert outcome.files["ledger/main.beancount"] == crashes.old["ledger/main.beancount"]
    assert outcome.issued == crashes.issued_before, "a crashed run uses no invoice number"
    renamed = [rel for rel, data in outcome.files.items() if crashes.old.get(rel) != data]
    assert len(renamed) == crash_after
    assert len(outcome.temporaries) == RENAMES - crash_after  # hidden, never under a real name


def test_nothing_is_consumed_by_a_crash_before_the_first_rename(crashes: Crashes) -> None:
    outcome = crashes.outcomes["after-0"]
    assert outcome.files == crashes.old
    ctx = batch.load_context(crashes.roots["after-0"])
    planned = [inv.number for inv in batch.plan_month(ctx, "2026-11").invoices]
    written = sorted(
        "-".join(Path(rel).name.split("-")[:3])
        for rel in set(crashes.new) - set(crashes.old)
        if rel.startswith("reports/invoices/") and rel.endswith(".pdf")
    )
    assert planned == written, "the next run issues the numbers the crashed run would have used"


@pytest.mark.parametrize("name", RERUN)
def test_a_rerun_completes_to_what_an_uninterrupted_run_writes(name: str, crashes: Crashes) -> None:
    outcome = crashes.outcomes[name]
    assert outcome.rerun_code == 0, outcome.rerun_err
    assert outcome.rerun_errors == []
    assert outcome.rerun_files == crashes.new
    assert outcome.rerun_temporaries == [], "the re-run removes the dead process's temporaries"


def test_killed_at_a_random_moment(crashes: Crashes) -> None:
    outcome = crashes.outcomes["random"]
    context = f"{crashes.random_kill}, exit {outcome.code}"
    assert outcome.code in (-signal.SIGKILL, 0), f"{context}\n{outcome.err}"
    assert outcome.errors == [], context
    assert_old_or_new(outcome, crashes)
    if outcome.files["ledger/main.beancount"] == crashes.old["ledger/main.beancount"]:
        assert outcome.issued == crashes.issued_before, context
    else:
        assert outcome.files == crashes.new, context
