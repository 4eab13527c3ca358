"""Writing to the group's folder: atomic file sets, the include list, the lock manifest.

A run prepares every file it will write in memory, then :func:`commit` writes each to a temporary file
beside its target, flushes it to disk, and renames them all at the end, ``main.beancount`` last: until
that last rename nothing new is part of the ledger, so a crash at any point leaves a ledger that loads
and no invoice number used (numbers are derived from the ledger).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from eage.errors import InputError

BEGIN = ";; --- eage includes: maintained by eage, do not edit inside this block ---"
END = ";; --- end of eage includes ---"
MANIFEST = "generated/manifest.json"


@dataclass(frozen=True)
class PendingFile:
    """A file to write: its absolute path and its bytes."""

    path: Path
    data: bytes


def atomic_write(path: Path, data: bytes) -> None:
    """Write one file atomically (temporary file, fsync, rename)."""
    commit([PendingFile(path, data)])


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.eage-tmp")


def commit(files: Iterable[PendingFile], *, crash_after: int | None = None) -> list[Path]:
    """Write every file atomically, in the order given; return the paths whose content changed.

    Files whose bytes are unchanged are not touched (a re-run is a no-op down to the mtime).
    ``crash_after`` is a test hook: raise after that many renames, to show a crash leaves a valid ledger.
    """
    todo: list[tuple[Path, Path]] = []
    try:
        for item in files:
            with contextlib.suppress(FileNotFoundError):
                if item.path.read_bytes() == item.data:
                    continue
            item.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _tmp_name(item.path)
            with tmp.open("wb") as handle:
                handle.write(item.data)
                handle.flush()
                os.fsync(handle.fileno())
            todo.append((tmp, item.path))
    except BaseException:
        for tmp, _ in todo:
            tmp.unlink(missing_ok=True)
        raise
    done: list[Path] = []
    try:
        for tmp, target in todo:
            if crash_after is not None and len(done) >= crash_after:
                raise SimulatedCrash(f"simulated crash after {len(done)} renames")
            tmp.replace(target)
            done.append(target)
    finally:
        for tmp, _ in todo:
            tmp.unlink(missing_ok=True)
    return done


class SimulatedCrash(RuntimeError):
    """Raised by the ``crash_after`` test hook of :func:`commit`."""


def leftover_temporaries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(".*.eage-tmp"))


def read_includes(main_text: str, main_path: Path) -> list[str]:
    """The include paths inside eage's block of main.beancount."""
    block = _block(main_text, main_path)
    return re.findall(r'^include\s+"([^"]+)"\s*$', block, flags=re.M)


def _block(main_text: str, main_path: Path) -> str:
    start = main_text.find(BEGIN)
    end = main_text.find(END)
    if start < 0 or end < start:
        raise InputError.at(
            "the block of includes maintained by eage is missing",
            file=main_path,
            fix=f"add the two lines {BEGIN!r} and {END!r} (see `eage init`)",
        )
    return main_text[start + len(BEGIN) : end]


def with_includes(main_text: str, main_path: Path, includes: Iterable[str]) -> str:
    """main.beancount's text with eage's include block holding exactly ``includes`` (sorted, unique)."""
    _block(main_text, main_path)
    start = main_text.find(BEGIN) + len(BEGIN)
    end = main_text.find(END)
    lines = "".join(f'include "{inc}"\n' for inc in sorted(set(includes)))
    return main_text[:start] + "\n" + lines + main_text[end:]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(ledger_dir: Path) -> dict[str, str]:
    path = ledger_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError.at(
            f"the lock manifest is not valid JSON ({exc})",
            file=path,
            fix="restore it from version control; it is written by eage only",
        ) from None
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in files.items()}


def manifest_bytes(files: Mapping[str, str]) -> bytes:
    text = json.dumps({"files": dict(sorted(files.items()))}, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def tampered(root: Path, manifest: Mapping[str, str]) -> list[tuple[str, str]]:
    """Files of the manifest (paths relative to root) that are missing or whose hash changed."""
    out = []
    for rel, digest in sorted(manifest.items()):
        path = root / rel
        if not path.exists():
            out.append((rel, "missing"))
        elif sha256(path.read_bytes()) != digest:
            out.append((rel, "edited by hand (its hash differs from the lock manifest)"))
    return out
