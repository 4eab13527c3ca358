"""``eage check``: parse the arguments, run :func:`eage.app.check.collect`, print every problem and warning."""

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
