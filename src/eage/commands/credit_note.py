"""``eage credit-note INVOICE --reason TEXT [--date YYYY-MM-DD]``: cancel an issued invoice in full."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from eage.errors import UsageError
from eage.rules.dated import parse_day

HELP = "cancel an issued invoice with a credit note (avoir) for its full amount"


def date_arg(value: str) -> dt.date:
    day = parse_day(value.strip())
    if day is None:
        raise UsageError(f"--date: {value!r} is not a date written YYYY-MM-DD (for example 2026-11-30)")
    return day


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("invoice", help="the invoice number, e.g. FAC-2026-0007")
    parser.add_argument(
        "--reason", required=True, help="why the invoice is cancelled (printed on the credit note)"
    )
    parser.add_argument(
        "--date",
        type=date_arg,
        help="day of issue, YYYY-MM-DD (default: the invoice's date or the last credit note's, whichever is later)",
    )
    parser.add_argument("--dry-run", action="store_true", help="compute and show, write nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:

    from eage.cli_output import console, print_issue
    from eage.invoicing.credit import issue_credit_note

    plan = issue_credit_note(args.root, args.invoice, args.reason, day=args.date, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(plan.summary(), ensure_ascii=False, indent=2))
    else:
        print_issue(console(), plan, dry_run=args.dry_run)
    return 0
