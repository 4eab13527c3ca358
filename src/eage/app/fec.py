"""``eage fec YYYY``: the year's FEC under reports/fec/; ``eage fec --check FILE``: a FEC's faults.

The year is the financial year that closes in YYYY (rules/group.yaml ``fiscal_year_start_month``; with
the default January start, 1 January to 31 December). The file is checked before it is written, then
written through the journaled commit (:func:`eage.ledger.store.atomic_write`), so a failed run leaves no
partial FEC behind.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eage.errors import InputError


def financial_year(year: int, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day of the financial year that closes in ``year``."""
    if start_month == 1:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return dt.date(year - 1, start_month, 1), dt.date(year, start_month, 1) - dt.timedelta(days=1)


def check_file(path: Path) -> list[str]:
    """The faults of the FEC file at ``path`` ([] for a well-formed FEC)."""
    from eage.fec import check_fec

    if not path.is_file():
        raise InputError.at("file not found", file=path, fix="give the path of a FEC file")
    return [str(problem) for problem in check_fec(path)]


@dataclass(frozen=True)
class Exported:
    """What ``eage fec YYYY`` wrote, and the figures it prints."""

    path: Path
    lines: int
    entries: int
    start: dt.date
    end: dt.date
    debit: str  # French format
    credit: str


def export(root: Path, year: int) -> Exported:
    """Build the FEC of the financial year closing in ``year``, check it, then write it atomically."""
    from eage.fec import build_fec, check_fec, encode_fec, fec_filename, summarize
    from eage.ledger.journal import journal_entries, load_for_fec
    from eage.ledger.store import atomic_write
    from eage.money import fr_number
    from eage.rules.loader import load_model
    from eage.rules.models import Group

    group = load_model(root / "rules" / "group.yaml", Group)
    year_start, year_end = financial_year(year, group.fiscal_year_start_month)
    entries, options = load_for_fec(root / "ledger" / "main.beancount")
    journal = journal_entries(entries, options, start=year_start, end=year_end)
    # ValidDate: the closing date, so that the same ledger always gives the same file, byte for byte.
    data = encode_fec(build_fec(journal, year_start, year_end, validation_date=year_end))

    target = root / "reports" / "fec" / fec_filename(group.identity.siren, year_end)
    with tempfile.TemporaryDirectory(prefix="eage-fec-") as scratch:
        checked = Path(scratch) / target.name
        checked.write_bytes(data)
        problems = check_fec(checked, year_start=year_start, year_end=year_end)
    if problems:
        # Our own output failing our own check is a bug, not bad input: keep the traceback.
        raise RuntimeError("generated FEC fails its check:\n" + "\n".join(str(p) for p in problems))
    atomic_write(target, data, root=root)  # the journaled commit, like every other file eage writes

    summary = summarize(journal, year_start, year_end)
    shown = target.relative_to(root) if target.is_relative_to(root) else target
    return Exported(
        shown,
        summary.lines,
        summary.entries,
        year_start,
        year_end,
        fr_number(summary.debit),
        fr_number(summary.credit),
    )
