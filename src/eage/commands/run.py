"""``eage run YYYY-MM``: the monthly batch (payroll, allocation, postings, invoices)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from eage.commands.credit_note import date_arg
from eage.errors import Problem, UsageError
from eage.month import Month

HELP = "run the monthly batch: payroll, allocation, postings, invoices"


def month_arg(value: str) -> Month:
    try:
        return Month.parse(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("month", help="the month to run, YYYY-MM")
    parser.add_argument("--dry-run", action="store_true", help="compute and show, write nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--correct",
        action="store_true",
        help="after an invoiced month's inputs changed: credit notes and replacement invoices",
    )
    parser.add_argument(
        "--date",
        type=date_arg,
        help="with --correct: day of issue, YYYY-MM-DD (default: the month's end or the last document's date)",
    )


def run(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from eage.app.placeholders import placeholder_problems, refuse_placeholders
    from eage.app.run import run_month
    from eage.cli_output import console as make_console
    from eage.cli_output import print_issue, print_plan

    month = month_arg(args.month)
    console = make_console(stderr=args.json)
    if args.date is not None and not args.correct:
        raise UsageError("--date goes with --correct (a monthly run is dated the month's last day)")
    if args.correct:
        from eage.app.correct import check_correction, run_correction

        if args.dry_run:
            correction = check_correction(args.root, month, day=args.date)
        else:
            refuse_placeholders(args.root)
            correction = run_correction(args.root, month, day=args.date)
        if args.json:
            print(json.dumps(correction.summary(), ensure_ascii=False, indent=2))
        else:
            print_issue(console, correction, dry_run=args.dry_run)
        if args.dry_run:
            _warn(placeholder_problems(args.root))
        return 0
    with Progress(console=console, transient=True, disable=args.json or not console.is_terminal) as bar:
        task = bar.add_task("Rendering invoices", total=None)

        def progress(_label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        plan = run_month(args.root, month, dry_run=args.dry_run, progress=progress)
    if args.json:
        print(json.dumps(plan.summary(), ensure_ascii=False, indent=2))
    else:
        print_plan(console, plan, dry_run=args.dry_run)
    _warn(plan.warnings)
    return 0


def _warn(problems: Sequence[Problem]) -> None:
    """Warnings on stderr (a --json summary on stdout stays parseable): what the real run will refuse."""
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if problems:
        print(
            f"warning: {len(problems)} placeholder value(s): the real run issues no document until they are "
            "replaced (see the folder's README.md)",
            file=sys.stderr,
        )
