"""``eage close YYYY``: the year-end true-up, so that the year's billing equals the year's cost."""

from __future__ import annotations

import argparse
import json

from eage.commands.fees import year_arg

HELP = "year-end true-up: invoices or credit notes so the year's billing equals its cost"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("year", type=year_arg, help="the year to close, YYYY")
    parser.add_argument("--dry-run", action="store_true", help="compute and show, write nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from eage.app.close import close_year
    from eage.cli_output import console, print_issue, print_warnings

    plan = close_year(args.root, args.year, dry_run=args.dry_run)
    print_warnings(plan.warnings)
    if args.json:
        print(json.dumps(plan.summary(), ensure_ascii=False, indent=2))
    else:
        print_issue(console(), plan, dry_run=args.dry_run)
    return 0
