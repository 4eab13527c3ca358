"""``eage check``: every validation any command would run on the folder's files; every problem printed.

Read only: nothing is written, no number is used, and the group's lock is not taken. In order:

1. the rules: group, members, staff, allocation, accounts, VAT, fees (``load_rules``), rules/payroll/,
   rules/bank.yaml (as ``eage import-bank`` reads it, with its members and accounts), every
   rules/budget/YYYY.yaml (as ``eage budget`` reads it, against the ledger's accounts), and the group's
   invoice templates (rules/templates/*.j2);
2. every timesheet (ledger/timesheets/YYYY-MM.csv) and payroll-variables file (ledger/payroll/YYYY-MM.yaml);
3. the ledger (Beancount's own checks) and the accounts the rules name;
4. the lock manifest (``lock_problems``: edited, missing or unlisted generated files and documents);
5. the next month's documents built in memory, as ``eage run`` would build them: the month after the
   last one invoiced (or the first timesheet's month in a new folder), when its timesheet is there:
   payroll, allocation, the new entries against the ledger, and each invoice's Factur-X XML validated
   (XSD, EN 16931, BR-FR).

Placeholder identities left by ``eage init`` are warnings: the check passes, the real run refuses.
"""

from __future__ import annotations

import argparse

HELP = "run every validation a command would run (rules, timesheets, ledger, lock, next month's invoices)"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the problems as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from eage.app.check import collect

    report = collect(args.root)
    problems = [str(p) for p in report.problems]
    warnings = [str(p) for p in report.warnings]
    if args.json:
        print(
            json.dumps(
                {"ok": not problems, "problems": problems, "warnings": warnings, "checked": report.checked},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for line in report.checked:
            print(f"checked {line}")
        for problem in problems:
            print(f"problem: {problem}")
        for warning in warnings:
            print(f"warning: {warning}")
        summary = f"{len(problems)} problem(s)" if problems else "OK: no problem found"
        if warnings:
            summary += f"; {len(warnings)} warning(s)"
            if any("placeholder value" in warning for warning in warnings):
                summary += ": placeholder values, the real run issues no document until they are replaced"
        print(summary)
    return 1 if problems else 0
