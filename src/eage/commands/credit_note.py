"""``eage credit-note INVOICE --reason TEXT [--date YYYY-MM-DD]``: cancel an issued invoice in full."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re

from eage.errors import UsageError
from eage.rules.dated import parse_day

HELP = "cancel an issued invoice with a credit note (avoir) for its full amount"


def date_arg(value: str) -> dt.date:
    day = parse_day(value.strip())
    if day is None:
        raise UsageError(f"--date: {value!r} is not a date written YYYY-MM-DD (for example 2026-11-30)")
    return day


#: The reason is printed on the credit note and in its XML (BT-22): a sentence, not a document.
MAX_REASON_CHARS = 300
#: Invisible characters XML refuses or that change what a text shows (tabs and line breaks are spaces).
_HIDDEN = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")


def reason_arg(value: str) -> str:
    hidden = _HIDDEN.search(value)
    if hidden is not None:
        raise UsageError(
            f"--reason: the text contains an invisible control character (U+{ord(hidden.group()):04X}); "
            "retype it without"
        )
    if len(value) > MAX_REASON_CHARS:
        raise UsageError(
            f"--reason: {len(value)} characters, more than {MAX_REASON_CHARS}; say it in a sentence"
        )
    return value


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("invoice", help="the invoice number, e.g. FAC-2026-0007")
    parser.add_argument(
        "--reason",
        required=True,
        type=reason_arg,
        help="why the invoice is cancelled (printed on the credit note)",
    )
    parser.add_argument(
        "--date",
        type=date_arg,
        help="day of issue, YYYY-MM-DD (default: the invoice's date or the last credit note's, whichever is later)",
    )
    parser.add_argument("--dry-run", action="store_true", help="compute and show, write nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from eage.app.credit_note import issue_credit_note
    from eage.cli_output import console, print_issue, print_warnings

    plan = issue_credit_note(args.root, args.invoice, args.reason, day=args.date, dry_run=args.dry_run)
    print_warnings(plan.warnings)
    if args.json:
        print(json.dumps(plan.summary(), ensure_ascii=False, indent=2))
    else:
        print_issue(console(), plan, dry_run=args.dry_run)
    return 0
