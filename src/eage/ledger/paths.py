"""Where an entry is, as a user reads it: its file relative to the group's folder.

Shared by the loader and the readers of :mod:`eage.ledger` (a module of its own, so that they need not
import each other).
"""

from __future__ import annotations

import functools
from pathlib import Path


def relative(filename: str | None, root: Path) -> str:
    """``ledger/entries.beancount`` for an entry's absolute file name; "?" when it has none."""
    if not filename:
        return "?"
    return _relative_cached(filename, root)


@functools.lru_cache(maxsize=4096)
def _relative_cached(filename: str, root: Path) -> str:
    # Cached: every entry of a file shares its filename, and resolving a path costs system calls
    # (tens of thousands of entries per command on a ten-year ledger).
    try:
        return str(Path(filename).resolve().relative_to(root.resolve()))
    except ValueError:
        return filename
