"""Shared fixtures: the demo group copied to a temporary folder, and a small inline group."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

REPO = Path(__file__).resolve().parent.parent


def copy_demo(target: Path) -> Path:
    """Copy the demo group (rules, ledger, reports) into ``target``; return it."""
    for name in ("rules", "ledger", "reports"):
        source = REPO / name
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
