"""Shared fixtures: the demo group copied to a temporary folder, and a small inline group.

Tests never read the working tree's demo (``make run`` advances it to November): the demo is taken as git
tracks it, from the index (what is committed, plus what a developer has staged), extracted once per test
process into a temporary folder, :data:`DEMO`.

Fast and slow: ``pytest -m "not slow"`` runs in under a minute and still touches every core module; ``make
test`` runs everything. Slow tests are marked in their files (``@pytest.mark.slow`` or a module-level
``pytestmark``), with one exception made here, by a rule rather than a list:
:func:`pytest_collection_modifyitems` marks slow the cases of tests/catalogue/*.yaml run in-process
(``test_catalogue.py::test_bad_input_is_reported_and_nothing_is_written``, ~250 cases at 0.2 s each, each on
its own copy of the demo) except the first case of each (area, command) pair, so the fast set still checks
one located message per area and per command (27 cases). A case is an entry of YAML, where no marker can go.

Snapshots: :func:`snapshot` compares a text with ``tests/snapshots/NAME`` and shows a unified diff when they
differ; ``pytest --update-snapshots`` rewrites the files instead (then read the diff in git before
committing it).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


@pytest.fixture
def small_group_root(tmp_path: Path) -> Path:
    """A small synthetic group (tests/groups.py): 3 members, 2 employees, timesheets for January and
    February 2025, no month run yet."""
    from groups import small_group

    return small_group(tmp_path / "small-group")


# --- fast and slow, snapshots --------------------------------------------------------------------------

CATALOGUE_TEST = "test_catalogue.py::test_bad_input_is_reported_and_nothing_is_written"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="rewrite the files under tests/snapshots/ with what the tests produce, instead of comparing",
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark slow every in-process catalogue case but the first of each (area, command) pair."""
    seen: set[tuple[str, str]] = set()
    for item in items:
        if not item.nodeid.split("[", 1)[0].endswith(CATALOGUE_TEST):
            continue
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec is not None else None
        if case is None:
            continue
        key = (str(case.area), str(case.args[0]) if case.args else "")
        if key in seen:
            item.add_marker(pytest.mark.slow)
        seen.add(key)


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``snapshot(name, text)``: ``text`` must equal ``tests/snapshots/<name>`` (``--update-snapshots``
    rewrites the file). Normalise the text first (tests/snapshot.py); the file is compared as it is."""
    from snapshot import compare

    update = bool(request.config.getoption("--update-snapshots"))

    def check(name: str, text: str) -> None:
        compare(name, text, update=update)

    return check


@pytest.fixture(scope="session")
def small_group_january(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The small group :data:`groups.JANUARY` (3 members, 2 employees) with January 2025 run for real
    (payslips, invoices, their PDFs), and that run's ``--json`` summary. Shared by the tests of a process:
    read it only; copy it (``shutil.copytree``) to run a command that writes."""
    from groups import JANUARY, run_month, small_group

    root = small_group(tmp_path_factory.mktemp("small-january") / "group", **JANUARY.kwargs)
    return root, run_month(root, JANUARY.month(0))
