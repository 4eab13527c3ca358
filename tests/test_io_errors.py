"""I/O errors are one located line, exit 1, and nothing written: a full disk, a read-only folder, a bad --root.

The real cases mount a small tmpfs (the tests run as root in CI; where mounting is not allowed they are
skipped, saying why); the failure in the middle of a commit is injected in process, since a disk that fills up
exactly between two temporaries cannot be arranged for real.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import copy_demo, tree_digest
from eage.cli import main
from eage.ledger import store
from eage.ledger.store import leftover_temporaries

EAGE = Path(sys.executable).with_name("eage")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "mnt"
    point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def run_eage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EAGE), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_read_only_folder_is_refused_before_anything_is_computed(tmpfs: Path) -> None:
    root = copy_demo(tmpfs / "group")
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    before = tree_digest(root)
    done = run_eage("run", "2026-11", "--root", str(root))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert str(root) in done.stderr and "Read-only file system (EROFS)" in done.stderr
    assert "writable copy" in done.stderr and "Nothing was written." in done.stderr
    assert tree_digest(root) == before
    assert run_eage("check", "--root", str(root)).returncode == 0, "a read-only folder can still be checked"


@pytest.mark.slow
def test_a_full_disk_is_refused_before_rendering(tmpfs: Path) -> None:
    root = copy_demo(tmpfs / "group")
    filler = tmpfs / "filler"
    free = shutil.disk_usage(tmpfs).free
    filler.write_bytes(b"\0" * max(0, free - 512 * 1024))
    before = tree_digest(root)
    done = run_eage("run", "2026-11", "--root", str(root))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "KiB free on this disk (ENOSPC)" in done.stderr and "free some disk space" in done.stderr
    assert tree_digest(root) == before


@pytest.mark.slow
def test_a_disk_that_fills_up_while_staging_leaves_nothing(
    demo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = store._write_synced
    calls = {"n": 0}

    def full(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(store, "_write_synced", full)
    before = tree_digest(demo)
    assert main(["credit-note", "FAC-2026-0151", "--reason", "x", "--root", str(demo)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device (ENOSPC)" in err and "free some disk space" in err
    assert "Nothing was written." in err and "Traceback" not in err
    assert leftover_temporaries(demo) == [] and not (demo / store.JOURNAL).exists()
    assert tree_digest(demo) == before


@pytest.mark.parametrize(
    ("root", "said"),
    [("/etc/passwd", "is not a folder"), ("/nonexistent/group", "does not exist")],
)
def test_a_root_that_is_no_folder(root: str, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["check"], ["run", "2026-11"], ["run", "2026-11", "--dry-run"], ["budget", "2026"]):
        assert main([*args, "--root", root]) == 1
        err = capsys.readouterr().err
        assert f"{root}: {said}" in err and "--root" in err and "Traceback" not in err
