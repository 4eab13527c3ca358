"""``eage fees YYYY [--date YYYY-MM-DD]``: invoice each member's membership fee of the year (756)."""

from __future__ import annotations

import argparse
import json

from eage.commands.credit_note import date_arg
from eage.errors import UsageError

HELP = "invoice the members' yearly membership fees (rules/fees.yaml)"


def year_arg(value: str) -> int:
    if len(value) != 4 or not value.isdigit():
        raise UsageError(f"year {value!r} is not YYYY (for example 2026)")
    return int(value)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("year", type=year_arg, help="the year of the fees, YYYY")
    parser.add_argument(
        "--date",
        type=date_arg,
        help="day of issue, YYYY-MM-DD (default: 1 January, or the day of the year's last invoice if later)",
    )
    parser.add_argument("--dry-run", action="store_true", help="compute and show, write nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from eage.app.fees import issue_fees
    from eage.cli_output import console, print_issue, print_warnings

    plan = issue_fees(args.root, args.year, day=args.date, dry_run=args.dry_run)
    print_warnings(plan.warnings)
    if args.json:
        print(json.dumps(plan.summary(), ensure_ascii=False, indent=2))
    else:
        print_issue(console(), plan, dry_run=args.dry_run)
    return 0
