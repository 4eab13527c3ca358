"""Writing to the group's folder: atomic file sets, the include list, the lock manifest.

A run prepares every file it will write in memory, then :func:`commit` writes each to a temporary file
beside its target, flushes it to disk, and renames them all at the end, ``main.beancount`` last: until
that last rename nothing new is part of the ledger, so a crash at any point leaves a ledger that loads
and no invoice number used (numbers are derived from the ledger).

A process killed while committing can leave hidden temporaries (``.NAME.PID.eage-tmp``) beside their
targets, never a partial file under a real name; the next commit into the same folder removes those
whose process is gone.

The lock manifest (ledger/generated/manifest.json) holds the sha256 of every generated ledger file and
every issued document (invoice PDF and XML, payslip PDF). :func:`lock_problems` lists every way the lock is
broken: a file edited by hand or deleted, a manifest that is missing, corrupt or names a path outside the
group's folder, a file included by eage's block that the manifest does not lock.

Test hook: when the environment variable ``EAGE_CRASH_AFTER=N`` is set, :func:`commit` kills its own
process (``os._exit(137)``, as a SIGKILL or a power cut would) after N renames. It exists only so that
tests can crash a real ``eage`` process at a chosen point; never set it otherwise.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from eage.errors import InputError, Problem

BEGIN = ";; --- eage includes: maintained by eage, do not edit inside this block ---"
END = ";; --- end of eage includes ---"
MANIFEST = "generated/manifest.json"
MANIFEST_SHOWN = "ledger/generated/manifest.json"
UNLOCKED_INCLUDES = frozenset({"generated/members.beancount"})  # rewritten from rules/members.yaml each run
CRASH_ENV = "EAGE_CRASH_AFTER"
TMP_SUFFIX = ".eage-tmp"


@dataclass(frozen=True)
class PendingFile:
    """A file to write: its absolute path and its bytes."""

    path: Path
    data: bytes


def atomic_write(path: Path, data: bytes) -> None:
    """Write one file atomically (temporary file, fsync, rename)."""
    commit([PendingFile(path, data)])


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(path: Path) -> None:
    """Remove temporaries of ``path`` left by a process that died while committing."""
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*{TMP_SUFFIX}"):
        pid = tmp.name[len(prefix) : -len(TMP_SUFFIX)]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _crash_after_env() -> int | None:
    value = os.environ.get(CRASH_ENV, "")
    return int(value) if value.isdigit() else None


def _fsync_dir(folder: Path) -> None:
    """Make the renames into ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(files: Iterable[PendingFile], *, crash_after: int | None = None) -> list[Path]:
    """Write every file atomically, in the order given; return the paths whose content changed.

    Files whose bytes are unchanged are not touched (a re-run is a no-op down to the mtime).
    ``crash_after`` is a test hook: raise after that many renames, to show a crash leaves a valid ledger;
    the environment variable ``EAGE_CRASH_AFTER`` does the same by killing the process (see the module).
    Before the last rename (main.beancount, by the callers' convention) the folders of every earlier rename
    are synced, so that even after a power cut the ledger never includes a file that is not on disk.
    """
    todo: list[tuple[Path, Path]] = []
    kill_after = _crash_after_env() if crash_after is None else None
    try:
        for item in files:
            if item.path.parent.is_dir():
                _remove_stale_temporaries(item.path)
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
        for index, (tmp, target) in enumerate(todo):
            if crash_after is not None and len(done) >= crash_after:
                raise SimulatedCrash(f"simulated crash after {len(done)} renames")
            if kill_after is not None and len(done) >= kill_after:
                os._exit(137)  # the test hook: die like a SIGKILL, no clean-up
            if index == len(todo) - 1:
                for folder in sorted({t.parent for t in done}):
                    _fsync_dir(folder)
            tmp.replace(target)
            done.append(target)
        if done:
            _fsync_dir(done[-1].parent)
    finally:
        for tmp, _ in todo:
            tmp.unlink(missing_ok=True)
    return done


class SimulatedCrash(RuntimeError):
    """Raised by the ``crash_after`` test hook of :func:`commit`."""


def commit_generated(
    root: Path,
    ledger_files: Mapping[str, str],
    documents: Mapping[str, bytes] | None = None,
    *,
    locked_documents: Callable[[str], bool] = lambda rel: False,
    unlocked_ledger_files: Collection[str] = (),
    crash_after: int | None = None,
) -> list[Path]:
    """Commit what a command generated, in the one order that keeps the ledger valid at every step.

    ``documents`` (paths relative to ``root``: PDFs, XML, reports) first, then ``ledger_files`` (paths
    relative to ledger/), then the lock manifest with the hashes of the locked files, and main.beancount's
    include block last: until that rename nothing new is part of the ledger.
    """
    ledger_dir = root / "ledger"
    main_path = ledger_dir / "main.beancount"
    main_text = main_path.read_text(encoding="utf-8")
    manifest = read_manifest(ledger_dir)
    pending: list[PendingFile] = []
    for rel, data in sorted((documents or {}).items()):
        pending.append(PendingFile(root / rel, data))
        if locked_documents(rel):
            manifest[rel] = sha256(data)
    for rel, text in sorted(ledger_files.items()):
        data = text.encode("utf-8")
        pending.append(PendingFile(ledger_dir / rel, data))
        if rel not in unlocked_ledger_files:
            manifest[f"ledger/{rel}"] = sha256(data)
    pending.append(PendingFile(ledger_dir / MANIFEST, manifest_bytes(manifest)))
    includes = set(read_includes(main_text, main_path)) | set(ledger_files)
    pending.append(PendingFile(main_path, with_includes(main_text, main_path, includes).encode("utf-8")))
    return commit(pending, crash_after=crash_after)


def leftover_temporaries(root: Path) -> list[Path]:
    """Hidden temporaries under ``root`` (a crashed commit's; none after a commit that finished)."""
    return sorted(p for p in root.rglob(f".*{TMP_SUFFIX}"))


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


_RESTORE_MANIFEST = "restore it from version control; it is written by eage only"


def read_manifest(ledger_dir: Path) -> dict[str, str]:
    """The lock manifest: root-relative path -> sha256; empty when there is none yet.

    Raise :class:`InputError` when it is not what eage writes: invalid JSON, no ``files`` object, a path
    that is absolute, climbs out with ``..`` or lies outside ledger/ and reports/, a value that is no sha256.
    """
    path = ledger_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError.at(
            f"the lock manifest is not valid JSON ({exc})", file=MANIFEST_SHOWN, fix=_RESTORE_MANIFEST
        ) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise InputError.at(
            'the lock manifest has no "files" object (path -> sha256)',
            file=MANIFEST_SHOWN,
            fix=_RESTORE_MANIFEST,
        )
    problems = []
    for rel, digest in files.items():
        if not _locked_path_ok(rel):
            problems.append(
                Problem(
                    f"the lock manifest names {rel!r}, not a path under ledger/ or reports/",
                    file=MANIFEST_SHOWN,
                    key=f"files.{rel}",
                    fix=_RESTORE_MANIFEST,
                )
            )
        elif not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            problems.append(
                Problem(
                    f"the hash of {rel} is not a sha256 ({digest!r})",
                    file=MANIFEST_SHOWN,
                    key=f"files.{rel}",
                    fix=_RESTORE_MANIFEST,
                )
            )
    if problems:
        raise InputError(problems)
    return {str(k): str(v) for k, v in files.items()}


def _locked_path_ok(rel: str) -> bool:
    """A manifest path: relative, POSIX, under ledger/ or reports/, no ``..``, no empty part."""
    if not rel or "\\" in rel or "\x00" in rel:
        return False
    parts = PurePosixPath(rel).parts
    return (
        not rel.startswith("/")
        and len(parts) >= 2
        and parts[0] in ("ledger", "reports")
        and all(part not in ("..", ".", "") for part in parts)
        and rel == str(PurePosixPath(*parts))
    )


def manifest_bytes(files: Mapping[str, str]) -> bytes:
    text = json.dumps({"files": dict(sorted(files.items()))}, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def tampered(root: Path, manifest: Mapping[str, str]) -> list[tuple[str, str]]:
    """Files of the manifest (paths relative to root) that are missing or whose hash changed."""
    out = []
    for rel, digest in sorted(manifest.items()):
        path = root / rel
        if not path.is_file():
            out.append((rel, "missing"))
        elif sha256(path.read_bytes()) != digest:
            out.append((rel, "edited by hand (its hash differs from the lock manifest)"))
    return out


def lock_problems(
    root: Path, *, find_tampered: Callable[[Path, Mapping[str, str]], list[tuple[str, str]]] | None = None
) -> list[Problem]:
    """Every way the lock on generated files and issued documents is broken, each naming the file.

    Run by ``eage check`` and before any command that writes: a month already invoiced cannot be built
    upon while one of its files differs from what was issued. ``find_tampered`` replaces :func:`tampered`
    (the hashing of every locked file), e.g. in benchmarks.
    """
    try:
        manifest = read_manifest(root / "ledger")
    except InputError as exc:
        return list(exc.problems)
    main_path = root / "ledger" / "main.beancount"
    included: list[str] = []
    if main_path.is_file():
        with contextlib.suppress(InputError, UnicodeDecodeError):
            included = read_includes(main_path.read_text(encoding="utf-8"), main_path)
    locked_includes = [inc for inc in included if inc not in UNLOCKED_INCLUDES]
    if not (root / "ledger" / MANIFEST).exists():
        if not locked_includes:
            return []  # a new group: nothing generated yet
        return [
            Problem(
                f"the lock manifest is missing while {len(locked_includes)} generated file(s) are included",
                file=MANIFEST_SHOWN,
                fix="restore it from version control; without it hand edits of invoiced months go unseen",
            )
        ]
    problems = []
    for rel, why in (find_tampered or tampered)(root, manifest):
        if rel.startswith("reports/"):
            fix = (
                "restore it from version control; an issued document is never changed: "
                "correct it with a credit note (`eage credit-note` or `eage run YYYY-MM --correct`)"
            )
        else:
            fix = (
                "restore it from version control; generated files are never edited "
                "(to change an invoiced month: `eage run YYYY-MM --correct`)"
            )
        problems.append(Problem(why, file=rel, fix=fix))
    for inc in locked_includes:
        rel = f"ledger/{inc}"
        if rel not in manifest and (root / rel).is_file():
            problems.append(
                Problem(
                    "included in eage's block of main.beancount but not in the lock manifest",
                    file=rel,
                    fix="include a hand-written file above eage's block; if eage wrote it, restore "
                    f"{MANIFEST_SHOWN} from version control",
                )
            )
    return problems


def relocate_include_errors(problems: Iterable[Problem]) -> list[Problem]:
    """Beancount reports a missing include as ``<load>:0``: say instead that main.beancount names it."""
    out = []
    for p in problems:
        match = re.search(r'File glob "([^"]+)" does not match any files', p.message)
        if p.file in (None, "<load>", "?") and match:
            out.append(
                Problem(
                    f'includes "{match.group(1)}", which does not match any files',
                    file="ledger/main.beancount",
                    fix="restore the file (from version control), or remove its include line",
                )
            )
        else:
            out.append(p)
    return out
