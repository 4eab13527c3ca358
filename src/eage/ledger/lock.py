"""One writer at a time: the group folder's exclusive lock.

Every command that writes into a group's folder holds this lock for its whole run; a second writer is
refused at once (exit 1) with a message naming the holder. Read-only commands (``check``, ``--dry-run``,
``fava``, ``payslip``, ``fec --check``) never wait for it.

The lock is an ``flock`` on the group folder itself (an open directory descriptor), so there is no lock file to
leave behind: the kernel releases it when the process ends, however it ends (a SIGKILL, a power cut). While it
is held, ``.eage-lock.json`` in the folder says who holds it (command, pid, since when), so that a refused
command can name the holder; the holder removes it when it lets go, and the next holder overwrites one left by
a killed process. Writing that small file is also the first write of every writing command: a read-only
folder or a full disk is reported there, before anything is computed or rendered.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from eage.errors import InputError

HOLDER_FILE = ".eage-lock.json"
# Below this much free space a writing command is refused before it computes anything: an invoice run writes a
# few megabytes, and a disk that full fails somewhere; better at once than after rendering every PDF.
MIN_FREE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as the holder wrote it."""

    command: str
    pid: int
    since: str

    def __str__(self) -> str:
        return f"`{self.command}` (pid {self.pid}, since {self.since})"


def _read_holder(root: Path) -> Holder | None:
    try:
        data = json.loads((root / HOLDER_FILE).read_text(encoding="utf-8"))
        return Holder(str(data["command"]), int(data["pid"]), str(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def os_problem(exc: OSError, path: Path | str | None = None) -> InputError:
    """An I/O error as a one-line located message (the path, what the system said, what to do)."""
    where = str(path if path is not None else exc.filename or "?")
    code = errno.errorcode.get(exc.errno or 0, "")
    fixes = {
        errno.ENOSPC: "free some disk space, then run the command again",
        errno.EDQUOT: "free some disk space (quota), then run the command again",
        errno.EROFS: "the file system is read-only: run eage on a writable copy of the group's folder",
        errno.EACCES: "check the permissions of the group's folder",
        errno.EPERM: "check the permissions of the group's folder",
        errno.EISDIR: "a folder stands where a file is expected: rename or remove it",
        errno.ENOTDIR: "a file stands where a folder is expected: check the path",
        errno.ENOENT: "check the path",
    }
    return InputError.at(
        f"{exc.strerror or exc} ({code})" if code else f"{exc.strerror or exc}",
        file=where,
        fix=fixes.get(exc.errno or 0, "check the file system, then run the command again"),
    )


def check_root(root: Path) -> None:
    """Refuse a --root that is not an existing folder (a located message, not a traceback later)."""
    if not root.exists():
        raise InputError.at(
            "does not exist",
            file=root,
            fix="give --root the folder holding rules/ and ledger/",
        )
    if not root.is_dir():
        raise InputError.at(
            "is not a folder",
            file=root,
            fix="give --root the folder holding rules/ and ledger/ (see `eage init`)",
        )


@contextlib.contextmanager
def exclusive(root: Path, command: str, *, holder_file: bool = True) -> Iterator[None]:
    """Hold the group folder's lock for the block; refuse at once (InputError) when another process has it.

    ``holder_file=False`` (``eage init``, which locks the folder it creates the group in, not a group's
    folder): no holder file is written there, and a refusal names no holder.
    """
    check_root(root)
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise os_problem(exc, root) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(root)
            who = str(holder) if holder else "another eage command"
            raise InputError.at(
                f"another eage command is writing in this group: {who}",
                file=root,
                fix="wait until it ends, then run this command again (one writer at a time)",
            ) from None
        if not holder_file:
            yield
            return
        holder_path = root / HOLDER_FILE
        since = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        info = json.dumps({"command": command, "pid": os.getpid(), "since": since}, ensure_ascii=False)
        try:
            holder_path.write_text(info + "\n", encoding="utf-8")
            free = shutil.disk_usage(root).free
        except OSError as exc:
            with contextlib.suppress(OSError):
                holder_path.unlink()
            raise os_problem(exc, root) from None
        if free < MIN_FREE_BYTES:
            holder_path.unlink(missing_ok=True)
            raise os_problem(OSError(errno.ENOSPC, f"only {free // 1024} KiB free on this disk"), root)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                holder_path.unlink()
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


@contextlib.contextmanager
def try_exclusive(root: Path) -> Iterator[bool]:
    """The lock if it is free, without a holder file (for a read-only command's recovery); False if held."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
