"""``eage budget YYYY [--through YYYY-MM]``: parse the arguments, call :mod:`eage.app.budget`, print what was written."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from eage.errors import UsageError
from eage.month import Month

HELP = "budget vs actual statements of a year (consolidated and per member), and Fava budget directives"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("year", metavar="YYYY", help="the budget year")
    parser.add_argument(
        "--through", metavar="YYYY-MM", help="last month of the period (default: last invoiced)"
    )


def run(args: argparse.Namespace) -> int:
    from eage.app.budget import build, write

    year, through = _parse(args.year, args.through)
    root: Path = args.root
    output = build(root, year, through)
    changed = write(root, output)
    print(f"budget {year}, janvier à {output.through:02d}/{year}: statements under reports/budget/{year}/")
    for line in output.summary:
        print(f"  {line}")
    print(f"Fava budget directives: ledger/{output.ledger_file}")
    print(f"{len(changed)} file(s) written, {len(output.files) + 2 - len(changed)} unchanged")
    return 0


def _parse(year_text: str, through_text: str | None) -> tuple[int, int | None]:
    if not re.fullmatch(r"\d{4}", year_text):
        raise UsageError(f"year {year_text!r} is not YYYY")
    year = int(year_text)
    if through_text is None:
        return year, None
    try:
        through = Month.parse(through_text)
    except ValueError:
        raise UsageError(f"--through {through_text!r} is not YYYY-MM") from None
    if through.year != year:
        raise UsageError(f"--through {through_text} is not in {year}")
    return year, through.number
