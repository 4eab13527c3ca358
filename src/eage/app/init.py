"""``eage init DIR``: start a new group's books, whose first month runs once its placeholders are filled in.

The group-specific files (identity, members, staff, bank layout, budget, a README.md saying what to edit
first) come from a skeleton whose placeholder values pass validation and are marked « À COMPLÉTER »:
``eage check`` and ``eage run --dry-run`` warn about them and the real run issues no document until they
are replaced (:func:`eage.app.placeholders.placeholder_problems`). The law and the chart (payroll parameters, VAT
regimes, allocation pools, accounts, fees) are copied from the rules shipped with eage, so a new group
starts from the same referenced values as the demo.

The folder is built beside its target under a temporary name (each file flushed to disk) and renamed into
place at the end: an error (or a crash) leaves no half-made folder, only, after a crash, the temporary one,
which the next init removes. The command holds the lock of the target's parent folder (eage.cli).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from eage.errors import InputError

SKELETON = Path(__file__).resolve().parent.parent / "skeleton"
SHIPPED_RULES = Path(__file__).resolve().parents[3] / "rules"
LAW_FILES = ("allocation.yaml", "accounts.yaml", "vat.yaml", "fees.yaml", "payroll")
#: The skeleton's placeholder name line in rules/group.yaml, replaced when ``--name`` is given.
NAME_LINE = '  name: "À COMPLÉTER : raison sociale du groupement"\n'
DEFAULT_TITLE = "Nouveau groupement d'employeurs"
#: The folder built beside the target, then renamed to it: ``.<name>.eage-init-<pid>``.
STAGING_PREFIX = ".{name}.eage-init-"
#: What eage itself puts in a folder while it writes there: the lock's holder file (eage.ledger.lock).
OURS = frozenset({".eage-lock.json"})


def skeleton_files(name: str | None) -> dict[str, bytes]:
    """Every file of a new group's folder (path relative to it -> bytes)."""
    if not (SHIPPED_RULES / "payroll").is_dir():
        raise InputError.at(
            "the rules shipped with eage are not found",
            file=SHIPPED_RULES,
            fix="install eage from its source tree (make run / pip install -e .)",
        )
    title = name or DEFAULT_TITLE
    files: dict[str, bytes] = {}
    for law in LAW_FILES:
        source = SHIPPED_RULES / law
        for path in sorted(source.rglob("*.yaml")) if source.is_dir() else [source]:
            files[f"rules/{path.relative_to(SHIPPED_RULES).as_posix()}"] = path.read_bytes()
    # The skeleton's files come after the law's: its rules/payroll/contracts.yaml (the group's own
    # contracts, marked « À COMPLÉTER ») replaces the demo's.
    for path in sorted((SKELETON / "rules").rglob("*.yaml")):
        rel = path.relative_to(SKELETON).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel == "rules/group.yaml" and name:
            if NAME_LINE not in text:
                raise RuntimeError("the skeleton's rules/group.yaml lost its placeholder name line")
            # A JSON string is a valid YAML double-quoted scalar: any name is written safely.
            text = text.replace(NAME_LINE, f"  name: {json.dumps(name, ensure_ascii=False)}\n")
        files[rel] = text.encode("utf-8")
    beancount_title = title.replace('"', "'").replace("\\", "/")
    for path in sorted((SKELETON / "ledger").glob("*.beancount")):
        text = path.read_text(encoding="utf-8").replace("GROUP_NAME", beancount_title)
        files[f"ledger/{path.name}"] = text.encode("utf-8")
    readme = (SKELETON / "README.md").read_text(encoding="utf-8").replace("GROUP_NAME", title)
    files["README.md"] = readme.encode("utf-8")
    files["ledger/timesheets/.keep"] = b""
    files["reports/.keep"] = b""
    return files


def create_group(target: Path, name: str | None) -> None:
    """Build the new group's folder beside ``target`` and rename it into place: whole or not at all."""
    _refuse_target(target)
    files = skeleton_files(name)
    _remove_stale_staging(target)
    staging = target.parent / f"{STAGING_PREFIX.format(name=target.name)}{os.getpid()}"
    from eage.ledger.store import crash_here, fsync_dir, write_synced

    try:
        for count, (rel, data) in enumerate(files.items(), start=1):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_synced(path, data)
            crash_here(f"stage:{count}")
        for folder in sorted({(staging / rel).parent for rel in files}):
            fsync_dir(folder)
        if target.exists():
            # An empty folder given: it is replaced by the staged one (a crash between the two leaves no
            # target and the staged folder, which the next init removes: nothing half-made).
            target.rmdir()
        # One rename: the folder appears whole or not at all.
        staging.replace(target)
        fsync_dir(target.parent)
        crash_here("rename:1")
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError.at(
            f"cannot create the folder: {exc.strerror or exc}",
            file=target,
            fix="choose a folder you can write to, on a disk with free space",
        ) from None


def _remove_stale_staging(target: Path) -> None:
    """A folder an init killed mid-way left beside ``target`` (its process is gone): removed."""
    try:
        leftovers = list(target.parent.glob(f"{STAGING_PREFIX.format(name=target.name)}*"))
    except OSError:
        return
    for folder in leftovers:
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def _refuse_target(target: Path) -> None:
    """A target that is a file, a folder that is not empty, or one that cannot be listed: refused."""
    try:
        if not target.exists():
            return
        if not target.is_dir():
            raise InputError.at(
                "is a file, not a folder", file=target, fix="give the path of a new (or empty) folder"
            )
        if any(p.name not in OURS for p in target.iterdir()):
            raise InputError.at(
                "the folder is not empty", file=target, fix="choose a new folder; init never overwrites books"
            )
    except OSError as exc:
        raise InputError.at(
            f"cannot read the folder: {exc.strerror or exc}",
            file=target,
            fix="choose a folder you can write to",
        ) from None
