"""``eage dsn YYYY-MM [--test] [--json]``: the month's DSN in reports/dsn/YYYY-MM.dsn (the work is
:mod:`eage.app.dsn`)."""

from __future__ import annotations

import argparse
import json
import sys

from eage.commands.run import month_arg

HELP = "write the month's DSN (déclaration sociale nominative) in reports/dsn/YYYY-MM.dsn"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("month", type=month_arg, help="the month to declare, YYYY-MM")
    parser.add_argument(
        "--test", action="store_true", help="mark the file as a test file (S10.G00.00.005 = 01, essai)"
    )
    parser.add_argument("--json", action="store_true", help="print what the DSN declares as JSON")


def run(args: argparse.Namespace) -> int:
    from eage.app.dsn import write_month

    done = write_month(args.root, args.month, test=args.test)
    summary = done.summary.as_json()
    if args.json:
        out = {
            "month": done.month,
            "file": done.path.as_posix(),
            "test": done.test,
            "written": done.written,
            "rubrics": done.rubrics,
            **summary,
            "employee_count": done.employees,
            "unconfirmed_codes": list(done.unconfirmed),
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    state = "written" if done.written else "unchanged (the same bytes were already there)"
    kind = "test file" if done.test else "DSN mensuelle"
    print(
        f"{done.path}: {kind} of {done.month}, {done.rubrics} rubrics, {done.employees} employee(s), {state}"
    )
    payments = summary["payments"]
    assert isinstance(payments, dict)
    for body, paid in payments.items():
        print(f"  {paid['organisation']:<12} {body:<16} {paid['amount']:>12} EUR")
    if done.unconfirmed:
        shown = ", ".join(done.unconfirmed[:6]) + (", ..." if len(done.unconfirmed) > 6 else "")
        print(
            f"note: {len(done.unconfirmed)} code(s) of rules/payroll/dsn.yaml are marked confirmed: false "
            f"({shown}): check them against the URSSAF's and Agirc-Arrco's tables before a real filing",
            file=sys.stderr,
        )
    return 0
