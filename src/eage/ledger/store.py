"""Writing to the group's folder: a journaled commit that survives a crash at any point, the include list,
the lock manifest.

A command prepares every file it will write in memory, then :func:`commit` applies them in three steps:

1. **stage**: each new version is written to a hidden temporary beside its target
   (``.NAME.PID.eage-tmp``), flushed to disk;
2. **intent**: once every temporary is on disk, a journal (``.eage-journal.json`` at the group's root) lists the
   renames to make, each with the sha256 of the bytes it puts in place; it is itself written atomically;
3. **apply**: the temporaries are renamed over their targets in order (``main.beancount`` last, by the callers'
   convention), then the journal is removed.

A process that dies during step 1 leaves only hidden temporaries and no journal: the commit never happened, and
the next command removes them (rolled back). One that dies during step 3 leaves the journal: the next eage
command, whatever it is, finds it and rolls the commit forward (each target whose bytes already have the
journaled hash is done; each other one gets its temporary, whose hash is checked first), then says so in one
line (:func:`recover`). Files that are rewritten (bank files, payroll journals, main.beancount, the manifest)
are covered as well as new ones: no state left by a crash needs a repair by hand.

The lock manifest (ledger/generated/manifest.json) holds the sha256 of every generated ledger file and
every issued document (invoice PDF and XML, payslip PDF). :func:`lock_problems` lists every way the lock is
broken: a file edited by hand or deleted, a manifest that is missing, corrupt or names a path outside the
group's folder, a file included by eage's block that the manifest does not lock, an issued-document folder
holding a file the manifest does not know (an orphan), a temporary or a journal left by an interrupted command.

Test hook: ``EAGE_CRASH_AT=STEP`` kills the committing process with a real SIGKILL at one step:
``stage:N`` (after N temporaries are written), ``intent`` (the journal written, nothing renamed yet),
``rename:N`` (after N renames) or ``cleanup`` (every rename done, the journal not yet removed);
``EAGE_CRASH_AFTER=N`` is ``rename:N``. It exists only so that tests can kill a real ``eage`` process at a
chosen point; never set it otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import sys
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
CRASH_AT_ENV = "EAGE_CRASH_AT"
TMP_SUFFIX = ".eage-tmp"
JOURNAL = ".eage-journal.json"
# Folders whose every file is an issued document, locked by the manifest: anything else there is an orphan.
DOCUMENT_FOLDERS = ("reports/invoices", "reports/payslips")


@dataclass(frozen=True)
class PendingFile:
    """A file to write: its absolute path and its bytes."""

    path: Path
    data: bytes


def atomic_write(path: Path, data: bytes, *, root: Path | None = None) -> None:
    """Write one file atomically through the journaled commit (``root``: the group's folder, for the journal)."""
    commit([PendingFile(path, data)], root=root)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")


def _crash_point() -> str | None:
    at = os.environ.get(CRASH_AT_ENV, "")
    if at:
        return at
    after = os.environ.get(CRASH_ENV, "")
    return f"rename:{after}" if after.isdigit() else None


def _maybe_die(point: str | None, here: str) -> None:
    """The test hook: die like a power cut (SIGKILL, no clean-up of any kind) when ``here`` is the chosen step."""
    if point is not None and point == here:
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def crash_here(step: str) -> None:
    """The SIGKILL test hook for writers that do not go through :func:`commit` (``eage init``'s folder)."""
    _maybe_die(_crash_point(), step)


def fsync_dir(folder: Path) -> None:
    """Make the renames into ``folder`` durable."""
    _fsync_dir(folder)


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


def write_synced(path: Path, data: bytes) -> None:
    """Write ``path`` and flush it to disk (a staged file)."""
    _write_synced(path, data)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _journal_root(files: list[PendingFile], root: Path | None) -> Path:
    if root is not None:
        return root
    return Path(os.path.commonpath([str(f.path.parent) for f in files]))


def commit(
    files: Iterable[PendingFile], *, root: Path | None = None, crash_after: int | None = None
) -> list[Path]:
    """Write every file through the journaled commit, in the order given; return the paths whose content changed.

    Files whose bytes are unchanged are not touched (a re-run is a no-op down to the mtime). ``root`` is the
    group's folder, where the journal lives (default: the folder common to every file; every path must lie
    under it). ``crash_after`` is an in-process test hook: raise :class:`SimulatedCrash` after that many
    renames, leaving the journal as a crash would (see the module for the SIGKILL hook).
    An I/O error while staging (disk full, read-only folder) removes every temporary and raises
    :class:`InputError` naming the path: nothing was written.
    """
    items = list(files)
    if not items:
        return []
    base = _journal_root(items, root)
    point = _crash_point() if crash_after is None else None
    todo: list[tuple[Path, Path, str]] = []
    journal_tmp: Path | None = None
    try:
        for item in items:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                if item.path.read_bytes() == item.data:
                    continue
            item.path.parent.mkdir(parents=True, exist_ok=True)
            if item.path.is_dir():
                raise IsADirectoryError(21, "Is a directory", str(item.path))
            tmp = _tmp_name(item.path)
            todo.append((tmp, item.path, sha256(item.data)))
            _write_synced(tmp, item.data)
            _maybe_die(point, f"stage:{len(todo)}")
        if not todo:
            return []
        for folder in sorted({t.parent for t, _, _ in todo}):
            _fsync_dir(folder)
        journal = {
            "pid": os.getpid(),
            "command": " ".join(sys.argv[1:])[:500],
            "renames": [
                {"temporary": _rel(base, tmp), "target": _rel(base, target), "sha256": digest}
                for tmp, target, digest in todo
            ],
        }
        journal_tmp = base / f".{JOURNAL}.{os.getpid()}{TMP_SUFFIX}"
        _write_synced(journal_tmp, (json.dumps(journal, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
        journal_tmp.replace(base / JOURNAL)
        _fsync_dir(base)
    except OSError as exc:
        from eage.ledger.lock import os_problem

        for tmp, _, _ in todo:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if journal_tmp is not None:
            with contextlib.suppress(OSError):
                journal_tmp.unlink()
        raise os_problem(exc) from None
    except BaseException:
        for tmp, _, _ in todo:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    _maybe_die(point, "intent")
    done: list[Path] = []
    for tmp, target, _ in todo:
        if crash_after is not None and len(done) >= crash_after:
            raise SimulatedCrash(f"simulated crash after {len(done)} renames")
        tmp.replace(target)
        done.append(target)
        _maybe_die(point, f"rename:{len(done)}")
    for folder in sorted({t.parent for t in done}):
        _fsync_dir(folder)
    _maybe_die(point, "cleanup")
    (base / JOURNAL).unlink()
    _fsync_dir(base)
    return done


class SimulatedCrash(RuntimeError):
    """Raised by the ``crash_after`` test hook of :func:`commit`."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


GROUP_FOLDERS = ("rules", "ledger", "reports")


def _temporaries(root: Path) -> list[Path]:
    """Hidden temporaries of eage's commits: in the group's folder itself and under rules/, ledger/, reports/
    (never the rest of the tree: the demo group's folder is also the repository, with its .venv and .git)."""
    pattern = f".*{TMP_SUFFIX}"
    found = [p for p in root.glob(pattern) if p.is_file()]
    for name in GROUP_FOLDERS:
        if (root / name).is_dir():
            found += [p for p in (root / name).rglob(pattern) if p.is_file()]
    return sorted(found)


def _stale(pid: int | None) -> bool:
    return pid is None or pid == os.getpid() or not _pid_alive(pid)


def _tmp_pid(path: Path) -> int | None:
    stem = path.name[: -len(TMP_SUFFIX)]
    pid = stem.rsplit(".", 1)[-1]
    return int(pid) if pid.isdigit() else None


def recover(root: Path) -> list[str]:
    """Finish or undo what an interrupted command left in ``root``; return what was done, one line each.

    Call it holding the group's lock. A journal is rolled forward (the intent was complete, so the commit is
    finished exactly as it would have been); temporaries with no journal are removed (the commit never
    started: rolled back). Raise :class:`InputError` when the journal cannot be carried out (a temporary it
    needs is missing or not the journaled bytes: a hand change since the crash).
    """
    said: list[str] = []
    journal_path = root / JOURNAL
    interrupted = needs_recovery(root)
    if journal_path.is_file():
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
            renames = [(str(r["temporary"]), str(r["target"]), str(r["sha256"])) for r in journal["renames"]]
            pid, command = int(journal.get("pid", 0)), str(journal.get("command", ""))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise InputError.at(
                f"the journal of an interrupted commit cannot be read ({exc})",
                file=JOURNAL,
                fix="it is written by eage only; restore the folder from version control or a backup",
            ) from None
        missing = []
        for tmp_rel, target_rel, digest in renames:
            if not (_inside(target_rel) and _inside(tmp_rel)):
                missing.append(target_rel)
                continue
            target, tmp = root / target_rel, root / tmp_rel
            if target.is_file() and sha256(target.read_bytes()) == digest:
                continue
            if not (tmp.is_file() and sha256(tmp.read_bytes()) == digest):
                missing.append(target_rel)
        if missing:
            raise InputError.at(
                f"an interrupted commit cannot be finished: {', '.join(missing[:5])} "
                "has neither its journaled new bytes nor a complete temporary",
                file=JOURNAL,
                fix="something changed these files after the crash; restore the folder from version control",
            )
        finished = 0
        for tmp_rel, target_rel, digest in renames:
            target, tmp = root / target_rel, root / tmp_rel
            if target.is_file() and sha256(target.read_bytes()) == digest:
                tmp.unlink(missing_ok=True)
                continue
            tmp.replace(target)
            finished += 1
        for folder in sorted({(root / t).parent for _, t, _ in renames}):
            _fsync_dir(folder)
        journal_path.unlink()
        _fsync_dir(root)
        who = f" (`eage {command}`, pid {pid})" if command else ""
        said.append(
            f"recovered: an interrupted commit{who} was finished: {finished} of {len(renames)} file(s) put in place"
        )
    # Called holding the lock: no other live eage process is staging here, so a temporary is stale unless its
    # pid is alive and not ours (a pid reused by an unrelated process keeps its file until the next recovery).
    stale = [p for p in _temporaries(root) if _stale(_tmp_pid(p))]
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    if stale:
        said.append(f"recovered: {len(stale)} temporary file(s) of an interrupted command removed")
    # Orphans are removed only after an interrupted command (an older eage's commit left documents in place
    # before its ledger named them); otherwise a file nobody issued is reported by `eage check`, not deleted.
    orphans = orphan_documents(root) if interrupted else []
    for rel in orphans:
        (root / rel).unlink(missing_ok=True)
    if orphans:
        said.append(
            f"recovered: {len(orphans)} document(s) not in the lock manifest removed from "
            + ", ".join(sorted({str(PurePosixPath(o).parent) for o in orphans}))
        )
    return said


def _inside(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and not rel.startswith("/") and all(p not in ("..", "", ".") for p in parts)


def needs_recovery(root: Path) -> bool:
    """True when an interrupted command left a journal or a temporary in ``root`` (cheap: no hashing)."""
    if (root / JOURNAL).exists():
        return True
    return any(True for _ in _temporaries(root))


def orphan_documents(root: Path) -> list[str]:
    """Files of the issued-document folders that the lock manifest does not know (root-relative paths).

    Empty when there is no manifest yet or it cannot be read (:func:`lock_problems` reports that).
    """
    try:
        manifest = read_manifest(root / "ledger")
    except InputError:
        return []
    if not manifest:
        return []
    out = []
    for folder in DOCUMENT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            if path.is_file() and not path.name.endswith(TMP_SUFFIX):
                rel = _rel(root, path)
                if rel not in manifest:
                    out.append(rel)
    return sorted(out)


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
    return commit(pending, root=root, crash_after=crash_after)


def leftover_temporaries(root: Path) -> list[Path]:
    """Hidden temporaries under ``root`` (a crashed commit's; none after a commit that finished)."""
    return _temporaries(root)


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


_SHA256 = re.compile(r"[0-9a-f]{64}")


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
        elif not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
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
    """A manifest path: relative, POSIX, under ledger/ or reports/, no ``..``, no empty part.

    String operations only (a manifest of ten years holds tens of thousands of paths, read on every
    command): with no empty, ``.`` or ``..`` part, a path split on ``/`` is already in its normal form.
    """
    if not rel or "\\" in rel or "\x00" in rel or rel.startswith("/"):
        return False
    parts = rel.split("/")
    return (
        len(parts) >= 2 and parts[0] in ("ledger", "reports") and all(p not in ("..", ".", "") for p in parts)
    )


def manifest_bytes(files: Mapping[str, str]) -> bytes:
    text = json.dumps({"files": dict(sorted(files.items()))}, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def tampered(root: Path, manifest: Mapping[str, str]) -> list[tuple[str, str]]:
    """Files of the manifest (paths relative to root) that are missing or whose hash changed.

    Plain ``open`` on joined strings, no ``Path`` per file: a ten-year group locks tens of thousands of
    documents, hashed by ``eage check`` and by Fava's Contrôles page. (Threads were tried: with files of
    a few kilobytes they were slower.)
    """
    base = str(root)
    out = []
    for rel, digest in sorted(manifest.items()):
        try:
            with open(os.path.join(base, rel), "rb") as handle:  # noqa: PTH118, PTH123
                data = handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            out.append((rel, "missing"))
            continue
        if sha256(data) != digest:
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
    leftovers = [
        Problem(
            "left by an interrupted eage command",
            file=_rel(root, p),
            fix="run any eage command that writes (or `eage check` when no other command runs): it finishes or "
            "undoes the interrupted commit",
        )
        for p in ([root / JOURNAL] if (root / JOURNAL).exists() else []) + _temporaries(root)
    ]
    try:
        manifest = read_manifest(root / "ledger")
    except InputError as exc:
        return leftovers + list(exc.problems)
    main_path = root / "ledger" / "main.beancount"
    included: list[str] = []
    if main_path.is_file():
        with contextlib.suppress(InputError, UnicodeDecodeError):
            included = read_includes(main_path.read_text(encoding="utf-8"), main_path)
    locked_includes = [inc for inc in included if inc not in UNLOCKED_INCLUDES]
    if not (root / "ledger" / MANIFEST).exists():
        if not locked_includes:
            return leftovers  # a new group: nothing generated yet
        return [
            *leftovers,
            Problem(
                f"the lock manifest is missing while {len(locked_includes)} generated file(s) are included",
                file=MANIFEST_SHOWN,
                fix="restore it from version control; without it hand edits of invoiced months go unseen",
            ),
        ]
    problems = leftovers
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
    for rel in orphan_documents(root):
        problems.append(
            Problem(
                "an issued-document folder holds a file the lock manifest does not know (an orphan)",
                file=rel,
                fix="remove it: eage writes every invoice and payslip itself, and records it in the manifest",
            )
        )
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
