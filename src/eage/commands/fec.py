"""``eage fec YYYY``: write the year's FEC under reports/fec/; ``eage fec --check FILE``: validate a FEC.

The year is the financial year that closes in YYYY (rules/group.yaml ``fiscal_year_start_month``); the
work is :mod:`eage.app.fec`.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from eage.errors import UsageError

HELP = "export the FEC (fichier des écritures comptables) of a year, or check a FEC file"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("year", nargs="?", metavar="YYYY", help="the financial year (closing in YYYY)")
    parser.add_argument("--check", metavar="FILE", type=Path, help="validate FILE against the FEC format")


def run(args: argparse.Namespace) -> int:
    from eage.app.fec import check_file, export  # heavy imports inside run keep `eage --help` fast

    if args.check is not None:
        if args.year is not None:
            raise UsageError("give either YYYY or --check FILE, not both")
        path: Path = args.check
        problems = check_file(path)
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
    done = export(args.root, int(args.year))
    print(f"{done.path}: {done.lines} lines, {done.entries} entries, {done.start} to {done.end}")
    print(f"total debit {done.debit} EUR, total credit {done.credit} EUR")
    return 0
