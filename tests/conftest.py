"""Shared fixtures: the demo group copied to a temporary folder, and a small inline group.

Tests never read the working tree's demo (``make run`` advances it to November): the demo is taken as git
tracks it, from the index (what is committed, plus what a developer has staged), extracted once per test
process into a temporary folder, :data:`DEMO`.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

REPO = Path(__file__).resolve().parent.parent
DEMO_PARTS = ("rules", "ledger", "reports")


def _extract_tracked_demo() -> Path:
    """The demo's tracked files (rules/, ledger/, reports/) as git's index has them, in a temporary folder."""
    target = Path(tempfile.mkdtemp(prefix="eage-demo-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    try:
        listed = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z", "--", *DEMO_PARTS],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(
            ["git", "-C", str(REPO), "checkout-index", "-z", "--stdin", f"--prefix={target}/"],
            input=listed,
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(
            f"the tests take the demo group from git: {REPO} must be a git checkout with git installed ({exc})"
        ) from exc
    return target


DEMO = _extract_tracked_demo()


def copy_demo(target: Path) -> Path:
    """Copy the demo group as committed (rules, ledger, reports) into ``target``; return it."""
    for name in DEMO_PARTS:
        source = DEMO / name
        if source.exists():
            shutil.copytree(source, target / name)
    return target


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A fresh copy of the demo group, January to October 2026 already run."""
    return copy_demo(tmp_path / "group")


@pytest.fixture(scope="session")
def demo_rules_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only copy of the demo (do not write into it)."""
    return copy_demo(tmp_path_factory.mktemp("demo-ro"))


def tree_digest(root: Path) -> str:
    """A digest of every file's path and bytes under ``root``: equal digests, nothing written."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
