"""One writer at a time, with real processes.

A writing command started while another process holds the group's lock is refused at once (exit 1) with a
message naming the holder; read-only commands never wait for it. Two writing commands started together,
however they interleave, never issue a number twice and never lose a reported success.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from beancount import loader

from conftest import copy_demo, tree_digest
from eage.cli import main
from eage.ledger.load import load_ledger
from eage.ledger.lock import HOLDER_FILE, exclusive

EAGE = Path(sys.executable).with_name("eage")
ENV = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
HOLD = """
import sys, time
from pathlib import Path
from eage.ledger.lock import exclusive
with exclusive(Path(sys.argv[1]), "eage budget 2026"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(EAGE), *args, "--root", str(root)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def held(demo: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the demo's lock (for up to 120 s)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(demo), "120"], env=ENV, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


WRITERS = [
    ("run", "2026-11"),
    ("run", "2026-10", "--correct"),
    ("credit-note", "FAC-2026-0151", "--reason", "x"),
    ("fees", "2026"),
    ("close", "2026"),
    ("budget", "2026"),
    ("fec", "2026"),
    ("import-bank", "ledger/bank-statements/releve-2026.csv"),
    ("dsn", "2026-10"),
    ("charges", "2026-10"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args", WRITERS, ids=[" ".join(a[:2]) for a in WRITERS])
def test_a_second_writer_is_refused_at_once_naming_the_holder(
    demo: Path, held: subprocess.Popen[str], args: tuple[str, ...]
) -> None:
    (demo / HOLDER_FILE).unlink()  # the digest below must not count the holder's own file
    holder_info = (
        f'{{"command": "eage budget 2026", "pid": {held.pid}, "since": "2026-12-01T10:00:00+00:00"}}'
    )
    (demo / HOLDER_FILE).write_text(holder_info, encoding="utf-8")
    before = tree_digest(demo)
    began = time.monotonic()
    argv = [a if not a.startswith("ledger/") else str(demo / a) for a in args]
    done = subprocess.run(
        [str(EAGE), *argv, "--root", str(demo)], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "another eage command is writing in this group" in done.stderr
    assert f"`eage budget 2026` (pid {held.pid}, since 2026-12-01T10:00:00+00:00)" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - began < 20, "refused at once, not after waiting"
    assert tree_digest(demo) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("run", "2026-11", "--dry-run"),
        ("payslip", "--gross", "2500", "--month", "2026-11", "--json"),
        ("credit-note", "FAC-2026-0151", "--reason", "x", "--dry-run"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_read_only_commands_do_not_wait_for_the_lock(
    demo: Path, held: subprocess.Popen[str], args: tuple[str, ...]
) -> None:
    done = subprocess.run(
        [str(EAGE), *args, "--root", str(demo)], env=ENV, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "another eage command" not in done.stderr


def test_the_holder_file_names_the_running_command_and_goes_with_it(demo: Path) -> None:
    with exclusive(demo, "eage run 2026-11"):
        text = (demo / HOLDER_FILE).read_text(encoding="utf-8")
        assert f'"pid": {os.getpid()}' in text and "eage run 2026-11" in text
    assert not (demo / HOLDER_FILE).exists()


@pytest.mark.slow
def test_the_lock_is_released_when_its_holder_is_killed(demo: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(demo), "120"], env=ENV, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    proc.kill()
    proc.wait()
    assert (demo / HOLDER_FILE).exists(), "a killed holder leaves its file"
    assert main(["credit-note", "FAC-2026-0151", "--reason", "x", "--root", str(demo)]) == 0
    assert not (demo / HOLDER_FILE).exists(), "the next holder clears it"


def numbers(root: Path) -> list[str]:
    return [d.number for d in load_ledger(root)[0].issued_documents()]


PAIRS = [
    (("credit-note", "FAC-2026-0150", "--reason", "a"), ("credit-note", "FAC-2026-0151", "--reason", "b")),
    (("run", "2026-11"), ("credit-note", "FAC-2026-0151", "--reason", "b")),
    (("credit-note", "FAC-2026-0149", "--reason", "a"), ("budget", "2026")),
]


@pytest.mark.slow
@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a[0]}+{b[0]}" for a, b in PAIRS])
def test_two_writers_started_together_never_issue_a_number_twice(
    tmp_path: Path, pair: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    rng = random.Random(len(pair[0]) * 31 + len(pair[1]))
    for attempt in range(3):
        root = copy_demo(tmp_path / f"g{attempt}")
        first = start(root, *pair[0])
        time.sleep(rng.uniform(0.0, 1.5))
        second = start(root, *pair[1])
        results = [
            (args, *proc.communicate(timeout=300), proc.returncode)
            for args, proc in ((pair[0], first), (pair[1], second))
        ]
        ok = []
        for args, _out, err, code in results:
            assert "Traceback" not in err, err
            if code == 0:
                ok.append(args)
            else:
                assert code == 1 and "another eage command is writing in this group" in err, err
        assert ok, "at least one of the two ran"
        issued = numbers(root)
        assert len(issued) == len(set(issued)), f"a number issued twice: {issued}"
        _, errors, _ = loader.load_file(str(root / "ledger/main.beancount"))
        assert errors == []
        ledger = load_ledger(root)[0]
        for args in ok:  # every reported success is in the books
            if args[0] == "credit-note":
                credited = [d for d in ledger.issued_documents() if d.kind == "credit_note"]
                assert any(d.refers_to == args[1] for d in credited), (args, credited)
            if args[0] == "run":
                assert any(d.period == "2026-11" for d in ledger.issued_documents())
        # AV and FAC sequences stay continuous
        for prefix in ("FAC-2026-", "AV-2026-"):
            seq = sorted(int(n[len(prefix) :]) for n in issued if n.startswith(prefix))
            assert seq == list(range(seq[0], seq[0] + len(seq))) if seq else True, seq
        assert not re.search(r"eage-tmp", " ".join(p.name for p in root.rglob("*")))
