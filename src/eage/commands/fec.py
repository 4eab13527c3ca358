"""``eage fec YYYY``: write the year's FEC under reports/fec/; ``eage fec --check FILE``: validate a FEC.

The year is the financial year that closes in YYYY (rules/group.yaml ``fiscal_year_start_month``; with
the default January start, 1 January to 31 December). The file is written atomically (a temporary file
in the same folder, checked, then renamed), so a failed run leaves no partial FEC behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
from pathlib import Path

from eage.errors import InputError, UsageError

HELP = "export the FEC (fichier des écritures comptables) of a year, or check a FEC file"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("year", nargs="?", metavar="YYYY", help="the financial year (closing in YYYY)")
    parser.add_argument("--check", metavar="FILE", type=Path, help="validate FILE against the FEC format")


def financial_year(year: int, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day of the financial year that closes in ``year``."""
    if start_month == 1:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return dt.date(year - 1, start_month, 1), dt.date(year, start_month, 1) - dt.timedelta(days=1)


def run(args: argparse.Namespace) -> int:
    from eage.fec import check_fec  # heavy imports inside run keep `eage --help` fast

    if args.check is not None:
        if args.year is not None:
            raise UsageError("give either YYYY or --check FILE, not both")
        path: Path = args.check
        if not path.is_file():
            raise InputError.at("file not found", file=path, fix="give the path of a FEC file")
        problems = check_fec(path)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} fault(s) in {path}")
            return 1
        print(f"{path}: OK, a well-formed FEC")
        return 0
    if args.year is None:
        raise UsageError("give the year (eage fec YYYY) or a file to check (eage fec --check FILE)")
    if not re.fullmatch(r"\d{4}", args.year):
        raise UsageError(f"year {args.year!r} is not YYYY")
    return _export(args.root, int(args.year))


def _export(root: Path, year: int) -> int:
    from eage.fec import build_fec, check_fec, encode_fec, fec_filename, summarize
    from eage.ledger.journal import journal_entries, load_for_fec
    from eage.money import fr_number
    from eage.rules.loader import load_model
    from eage.rules.models import Group

    group = load_model(root / "rules" / "group.yaml", Group)
    year_start, year_end = financial_year(year, group.fiscal_year_start_month)
    entries, options = load_for_fec(root / "ledger" / "main.beancount")
    journal = journal_entries(entries, options, start=year_start, end=year_end)
    # ValidDate: the closing date, so that the same ledger always gives the same file, byte for byte.
    data = encode_fec(build_fec(journal, year_start, year_end, validation_date=year_end))

    from eage.ledger.store import atomic_write

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
    print(f"{shown}: {summary.lines} lines, {summary.entries} entries, {year_start} to {year_end}")
    print(f"total debit {fr_number(summary.debit)} EUR, total credit {fr_number(summary.credit)} EUR")
    return 0
