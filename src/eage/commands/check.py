"""``eage check``: validate rules, timesheets and the ledger; print every problem found."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

HELP = "validate rules, timesheets and the ledger; print every problem found"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the problems as JSON")


def collect_problems(root: Path) -> tuple[list[str], list[str]]:
    """Every problem of the group's folder (as text), and what was checked."""
    from eage.errors import InputError, Problem
    from eage.ledger.load import load_ledger
    from eage.ledger.store import lock_problems, relocate_include_errors
    from eage.payroll.params import load_payroll_rules
    from eage.rules.bundle import load_rules
    from eage.timesheets import parse_timesheet

    problems: list[Problem] = []
    checked: list[str] = []
    rules = None
    try:
        rules = load_rules(root)
        checked.append(f"rules: {len(rules.members.members)} members, {len(rules.staff.employees)} employees")
    except InputError as exc:
        problems += exc.problems
    payroll = None
    try:
        payroll = load_payroll_rules(root / "rules" / "payroll")
        checked.append("rules/payroll")
    except InputError as exc:
        problems += exc.problems
    ledger = None
    try:
        ledger, errors = load_ledger(root, allow_errors=True)
        problems += errors
        checked.append(f"ledger: {len(ledger.entries)} entries")
    except InputError as exc:
        problems += exc.problems
    if rules is not None:
        ts_dir = root / "ledger" / "timesheets"
        for path in sorted(ts_dir.glob("*.csv")) if ts_dir.is_dir() else []:
            rel = f"ledger/timesheets/{path.name}"
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])\.csv", path.name):
                problems.append(Problem("timesheet file name is not YYYY-MM.csv", file=rel, fix="rename it"))
                continue
            try:
                parse_timesheet(path.read_text(encoding="utf-8-sig"), path.stem, rules, rel)
            except InputError as exc:
                problems += exc.problems
            except UnicodeDecodeError:
                problems.append(Problem("not valid UTF-8", file=rel, fix="save the file as UTF-8 CSV"))
        checked.append("timesheets")
    if ledger is not None and rules is not None:
        opened = ledger.open_accounts()
        needed = {
            "rules/accounts.yaml": [
                v
                for k, v in rules.accounts.model_dump().items()
                if isinstance(v, str) and k != "receivable_parent"
            ],
        }
        if payroll is not None:
            acc = payroll.accounts
            needed["rules/payroll/accounts.yaml"] = [
                acc.salaries,
                acc.bonuses,
                acc.net_pay,
                acc.pas,
                *acc.organisations.values(),
                *acc.charges.values(),
                *acc.reduction_charges.values(),
            ]
        for file, accounts in needed.items():
            for account in sorted(set(accounts)):
                if account not in opened:
                    problems.append(
                        Problem(
                            f"account {account} is not opened in the ledger",
                            file=file,
                            fix="add an `open` directive for it in ledger/accounts.beancount",
                        )
                    )
    problems += lock_problems(root)
    checked.append("lock manifest")
    return [str(p.relative_to(root)) for p in relocate_include_errors(problems)], checked


def run(args: argparse.Namespace) -> int:
    import json

    problems, checked = collect_problems(args.root)
    if args.json:
        print(
            json.dumps(
                {"ok": not problems, "problems": problems, "checked": checked}, ensure_ascii=False, indent=2
            )
        )
    else:
        for line in checked:
            print(f"checked {line}")
        for problem in problems:
            print(f"problem: {problem}")
        print(f"{len(problems)} problem(s)" if problems else "OK: no problem found")
    return 1 if problems else 0
