"""CSV cells that a spreadsheet opens as text, never as a formula (CSV/formula injection, CWE-1236).

Every CSV eage writes may be opened in a spreadsheet by the accountant. A cell starting with ``=``,
``+``, ``-``, ``@`` (or a tab or carriage return, which some spreadsheets skip before one of them) is run
as a formula: a label, note or name coming from rules, timesheets or the ledger could fetch a URL or
run a command. :func:`safe_cell` prefixes such a cell with an apostrophe, which spreadsheets show as
text. Plain numbers, negative amounts included, are left as they are so that columns stay numeric.
Write rows with :func:`safe_row` through :mod:`csv` (which quotes separators and line ends).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell that cannot start a formula; numbers and ``None`` (empty) unchanged."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(values: Iterable[object]) -> list[str]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(v) for v in values]
