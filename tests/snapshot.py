"""Snapshot files for large outputs (HTML pages): normalise, then compare with ``tests/snapshots/NAME``.

Normalising removes what changes from one build to the next without being the page's content: the
temporary folder a test works in, Fava's asset query strings (``?mtime=...``, the installed files' dates),
clock timestamps, and runs of whitespace (each line stripped, blank lines dropped, inner runs of spaces
made one). What is left is compared as it is, so a changed figure, label or row is a failure that shows
as a unified diff; ``pytest --update-snapshots`` (tests/conftest.py) rewrites the file instead.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"

_ASSET_QUERY = re.compile(r"\?mtime=\d+")
_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\b")
# A path in this machine's temporary folder (TMPDIR, else /tmp) that no root below named.
_TMP_PATH = re.compile(re.escape(tempfile.gettempdir().rstrip("/") + "/") + r"[^\s\"'<>&]*")
_SPACES = re.compile(r"[ \t]{2,}")  # spaces only: no-break spaces are French formatting, kept


def normalise(text: str, roots: Iterable[Path] = (), *, timestamps: bool = True) -> str:
    """``text`` with the volatile parts replaced: each of ``roots`` by ``{root}``, any other path in the temporary
    folder by ``{tmp}``, Fava's ``?mtime=N`` by ``?mtime=…``, timestamps by ``{timestamp}`` (unless
    ``timestamps`` is false: where a timestamp is derived from the ledger, it is content); lines stripped,
    blank lines dropped, runs of blanks made one space."""
    for root in sorted({str(r) for r in roots}, key=len, reverse=True):
        text = text.replace(root, "{root}")
    text = _TMP_PATH.sub("{tmp}", text)
    text = _ASSET_QUERY.sub("?mtime=…", text)
    if timestamps:
        text = _TIMESTAMP.sub("{timestamp}", text)
    lines = (_SPACES.sub(" ", line.strip()) for line in text.splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def compare(name: str, text: str, *, update: bool) -> None:
    """Fail with a unified diff unless ``text`` equals ``tests/snapshots/<name>``; with ``update``, write it."""
    path = SNAPSHOTS / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no snapshot tests/snapshots/{name}: run pytest --update-snapshots, then review it in git"
        )
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"tests/snapshots/{name}",
            tofile=f"{name} (this run)",
            n=2,
        )
        shown = "".join(list(diff)[:400])
        pytest.fail(
            f"tests/snapshots/{name} differs from this run (pytest --update-snapshots accepts it):\n{shown}",
            pytrace=False,
        )
