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

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from eage.app.commit import unopened_rule_accounts, validate_plan
from eage.app.documents import invoice_xml_problems
from eage.app.inputs import inputs_of, with_months
from eage.app.placeholders import placeholder_problems
from eage.app.run import plan_month
from eage.errors import InputError, Problem
from eage.ledger.load import Ledger
from eage.month import Month
from eage.payroll.params import PayrollRules
from eage.rules.bundle import Rules

_MONTH_FILE = re.compile(r"(\d{4}-(?:0[1-9]|1[0-2]))\.(csv|yaml)")
_YEAR_FILE = re.compile(r"(\d{4})\.yaml")


@dataclass
class Report:
    """What ``eage check`` found: problems (exit 1), warnings (reported, exit 0) and what was checked."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def add(self, problems: list[Problem]) -> None:
        self.problems += problems


def collect_problems(root: Path) -> tuple[list[str], list[str]]:
    """Every problem of the group's folder (as text), and what was checked."""
    report = collect(root)
    return [str(p) for p in report.problems], report.checked


def collect(root: Path) -> Report:
    """Run every check on the folder at ``root``; problems are shown relative to it, each once."""
    from eage.app.inputs import read_contracts
    from eage.ledger.load import load_ledger
    from eage.ledger.store import lock_problems, relocate_include_errors
    from eage.payroll.params import load_payroll_rules
    from eage.rules.bundle import load_rules, unknown_files

    report = Report()
    rules = None
    try:
        rules = load_rules(root)
        report.checked.append(
            f"rules: {len(rules.members.members)} members, {len(rules.staff.employees)} employees"
        )
    except InputError as exc:
        report.add(exc.problems)
    payroll = None
    try:
        payroll = load_payroll_rules(root / "rules" / "payroll")
        report.checked.append("rules/payroll")
    except InputError as exc:
        report.add(exc.problems)
    if rules is not None and payroll is not None:
        try:
            read_contracts(root, rules, payroll)
            report.checked.append("rules/payroll/contracts.yaml against the staff")
        except InputError as exc:
            report.add(exc.problems)
        _check_dsn_identifiers(root, rules, payroll, report)
    ledger = None
    ledger_ok = False
    try:
        ledger, errors = load_ledger(root, allow_errors=True)
        report.add(errors)
        ledger_ok = not errors
        report.checked.append(f"ledger: {len(ledger.entries)} entries")
    except InputError as exc:
        report.add(exc.problems)
    if ledger is not None and rules is not None:
        report.add(plugin_config_problems(root, ledger, rules))
    _check_bank_rules(root, rules, ledger, report)
    _check_budgets(root, rules, ledger, report)
    _check_templates(root, report)
    _check_timesheets(root, rules, report)
    _check_payroll_variables(root, rules, report)
    unopened = (
        unopened_rule_accounts(rules, payroll, ledger) if ledger is not None and rules is not None else []
    )
    report.add(unopened)
    lock = lock_problems(root)
    report.add(lock)
    report.checked.append("lock manifest")
    # The run refuses a broken ledger, lock or chart before it builds anything: so does the check.
    blocked = not ledger_ok or lock or unopened
    if rules is not None and payroll is not None and ledger is not None and not blocked:
        _build_next_month(root, rules, payroll, ledger, report)
    report.warnings = placeholder_problems(root) + unknown_files(root, rules.group if rules else None)
    seen: set[str] = set()
    unique = []
    for problem in relocate_include_errors(report.problems):
        shown = problem.relative_to(root)
        if str(shown) not in seen:  # a file read by two checks (the next month's variables) counts once
            seen.add(str(shown))
            unique.append(shown)
    report.problems = unique
    return report


PLUGIN = "eage.plugins.invariants"


def plugin_config_problems(root: Path, ledger: Ledger, rules: Rules) -> list[Problem]:
    """A configuration string given to the eage plugin in main.beancount must say what
    rules/allocation.yaml says (the billing mode, the excluded accounts); a bare plugin line reads the
    rules file itself, so it never differs."""
    from eage.plugins.invariants import Config, parse_config

    configs = [config for name, config in ledger.settings.plugins if name == PLUGIN]
    main_rel = "ledger/main.beancount"
    if not configs:
        return []  # without the plugin, bean-check and Fava do not see eage's invariants: allowed
    line = None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = (root / main_rel).read_text(encoding="utf-8")
        line = next(
            (n for n, ln in enumerate(text.splitlines(), 1) if ln.startswith(f'plugin "{PLUGIN}"')), None
        )
    parsed, _ = parse_config(configs[0], ledger.options)
    allocation = rules.allocation
    wanted = Config(
        billing_mode=allocation.billing_mode, excluded_accounts=tuple(allocation.excluded_accounts)
    )
    if parsed is None or (parsed.billing_mode, parsed.excluded_accounts) == (
        wanted.billing_mode,
        wanted.excluded_accounts,
    ):
        return []  # an unreadable configuration is reported by the plugin itself
    return [
        Problem(
            f"the eage plugin's configuration ({parsed.billing_mode}, {len(parsed.excluded_accounts)} excluded "
            "account(s)) differs from rules/allocation.yaml",
            file=main_rel,
            line=line,
            fix=f'write the bare line plugin "{PLUGIN}": the plugin then reads rules/allocation.yaml itself',
        )
    ]


def _check_bank_rules(root: Path, rules: Rules | None, ledger: Ledger | None, report: Report) -> None:
    """rules/bank.yaml as ``eage import-bank`` reads it (optional until a statement is imported)."""
    from eage.bank.config import BANK_RULES, load_bank_rules

    if not (root / BANK_RULES).exists():
        report.checked.append(f"{BANK_RULES}: absent (needed by `eage import-bank` only)")
        return
    try:
        bank = load_bank_rules(root)
    except InputError as exc:
        report.add(exc.problems)
        return
    report.checked.append(BANK_RULES)
    if rules is not None:
        members = {m.id for m in rules.members.members}
        for member in sorted(set(bank.aliases) - members):
            report.problems.append(
                Problem(
                    f"aliases for unknown member {member!r}",
                    file=BANK_RULES,
                    key=f"aliases.{member}",
                    fix="use member ids of rules/members.yaml",
                )
            )
    if ledger is not None:
        opened = ledger.open_accounts()
        named = [("account", bank.account)] + [
            (f"debit_rules[{i}].account", rule.account) for i, rule in enumerate(bank.debit_rules)
        ]
        for key, account in named:
            if account is not None and account not in opened:
                report.problems.append(
                    Problem(
                        f"account {account} is not opened in the ledger",
                        file=BANK_RULES,
                        key=key,
                        fix="name an opened account, or open it in ledger/accounts.beancount",
                    )
                )


def _check_dsn_identifiers(root: Path, rules: Rules, payroll: PayrollRules, report: Report) -> None:
    """rules/dsn.yaml as ``eage dsn`` reads it (optional until a DSN is made, like rules/bank.yaml)."""
    from eage.payroll.dsn.identifiers import DSN_FILE, dsn_identifiers_problems

    if not (root / DSN_FILE).exists() and not (root / DSN_FILE).is_symlink():
        report.checked.append(f"{DSN_FILE}: absent (needed by `eage dsn` only)")
        return
    report.add(dsn_identifiers_problems(root, rules, payroll))
    report.checked.append(DSN_FILE)
    _check_dsn_files(root, report)


def _check_dsn_files(root: Path, report: Report) -> None:
    """rules/payroll/dsn.yaml (the DSN's codes) and rules/payroll/echeances.yaml (the bodies' due dates),
    as ``eage dsn`` and ``eage charges`` read them, when the group keeps them."""
    from eage.app.charges import load_echeances
    from eage.payroll.dsn.mapping import load_dsn_mapping

    for rel, load in (
        ("rules/payroll/dsn.yaml", lambda: load_dsn_mapping(root)),
        ("rules/payroll/echeances.yaml", lambda: load_echeances(root / "rules")),
    ):
        if not (root / rel).exists():
            continue
        try:
            load()
            report.checked.append(rel)
        except InputError as exc:
            report.add(exc.problems)


def _check_budgets(root: Path, rules: Rules | None, ledger: Ledger | None, report: Report) -> None:
    """Every rules/budget/YYYY.yaml as ``eage budget YYYY`` reads it."""
    from eage.budget.model import Budget, load_budget
    from eage.rules.loader import load_model

    folder = root / "rules" / "budget"
    if not folder.is_dir():
        return
    count = 0
    for path in sorted(folder.iterdir()):
        rel = f"rules/budget/{path.name}"
        match = _YEAR_FILE.fullmatch(path.name)
        if not match:
            if path.suffix in (".yaml", ".yml"):
                report.problems.append(
                    Problem("a budget file is named YYYY.yaml", file=rel, fix="rename it, e.g. 2026.yaml")
                )
            continue
        count += 1
        try:
            if rules is not None and ledger is not None:
                load_budget(
                    root,
                    int(match.group(1)),
                    members=[m.id for m in rules.members.members],
                    services=list(rules.allocation.services),
                    open_accounts=ledger.open_accounts(),
                    revenue_account=rules.accounts.revenue,
                )
            else:  # the cross-checks need the rules and the ledger: the file alone
                load_model(path, Budget)
        except InputError as exc:
            report.add(exc.problems)
        except OSError as exc:
            report.problems.append(_unreadable(rel, exc))
    report.checked.append(f"rules/budget: {count} budget(s)")


def _check_templates(root: Path, report: Report) -> None:
    """The group's own invoice templates compile (they are rendered with the next month's invoices)."""
    import jinja2

    folder = root / "rules" / "templates"
    if not folder.is_dir():
        return
    env = jinja2.Environment(autoescape=True)
    for path in sorted(folder.glob("*.j2")):
        rel = f"rules/templates/{path.name}"
        try:
            env.parse(path.read_text(encoding="utf-8"))
        except jinja2.TemplateSyntaxError as exc:
            report.problems.append(
                Problem(
                    f"the template does not compile: {exc.message}",
                    file=rel,
                    line=exc.lineno,
                    fix="fix the Jinja syntax (or remove the file to use the shipped template)",
                )
            )
        except UnicodeDecodeError:
            report.problems.append(Problem("not valid UTF-8", file=rel, fix="save the file as UTF-8"))
        except OSError as exc:
            report.problems.append(_unreadable(rel, exc))
    report.checked.append("rules/templates")


def _check_timesheets(root: Path, rules: Rules | None, report: Report) -> None:
    """Every ledger/timesheets/*.csv as ``eage run`` reads it."""
    from eage.timesheets import read_timesheet

    folder = root / "ledger" / "timesheets"
    count = 0
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        rel = f"ledger/timesheets/{path.name}"
        match = _MONTH_FILE.fullmatch(path.name)
        if not match:
            report.problems.append(
                Problem("timesheet file name is not YYYY-MM.csv", file=rel, fix="rename it")
            )
            continue
        if not path.is_file():
            report.problems.append(
                Problem("is not a file", file=rel, fix="a timesheet is a CSV file: remove or rename this")
            )
            continue
        count += 1
        if rules is None:
            continue
        try:
            read_timesheet(root, match.group(1), rules)
        except InputError as exc:
            report.add(exc.problems)
        except UnicodeDecodeError:
            report.problems.append(Problem("not valid UTF-8", file=rel, fix="save the file as UTF-8 CSV"))
        except OSError as exc:
            report.problems.append(_unreadable(rel, exc))
    report.checked.append(f"timesheets: {count}")


def _check_payroll_variables(root: Path, rules: Rules | None, report: Report) -> None:
    """Every ledger/payroll/YYYY-MM.yaml (overtime, bonuses, absences) as the payroll reads it."""
    from eage.payroll.leave import BALANCES_REL
    from eage.payroll.variables import MonthVariables, leave_timesheet_problems, load_variables
    from eage.rules.loader import load_model
    from eage.timesheets import read_timesheet, timesheet_path

    folder = root / "ledger" / "payroll"
    if not folder.is_dir():
        return
    count = 0
    for path in sorted(folder.iterdir()):
        rel = f"ledger/payroll/{path.name}"
        if path.suffix not in (".yaml", ".yml"):
            continue
        if rel == BALANCES_REL:
            _check_leave_balances(root, rules, report)
            continue
        match = _MONTH_FILE.fullmatch(path.name)
        if not match:
            report.problems.append(
                Problem(
                    "payroll variables file name is not YYYY-MM.yaml",
                    file=rel,
                    fix="rename it (e.g. 2026-11.yaml): the payroll never reads it otherwise",
                )
            )
            continue
        if not path.is_file():
            report.problems.append(Problem("is not a file", file=rel, fix="remove or rename it"))
            continue
        count += 1
        try:
            if rules is not None:
                variables = load_variables(root, match.group(1), set(rules.staff.by_id()))
                if (
                    any(v.leave for v in variables.employees.values())
                    and timesheet_path(root, match.group(1)).is_file()
                ):
                    lines = read_timesheet(root, match.group(1), rules)
                    report.add(leave_timesheet_problems(Month.parse(match.group(1)), variables, lines))
            else:
                load_model(path, MonthVariables)
        except InputError as exc:
            report.add(exc.problems)
        except OSError as exc:
            report.problems.append(_unreadable(rel, exc))
    report.checked.append(f"payroll variables: {count}")


def _check_leave_balances(root: Path, rules: Rules | None, report: Report) -> None:
    """ledger/payroll/leave-balances.yaml (the leave counters taken over), as the payroll reads it."""
    from eage.app.inputs import read_leave_opening

    if rules is None:
        return  # the rules' own problems are reported; the counters are checked against them
    try:
        read_leave_opening(root, rules)
    except InputError as exc:
        report.add(exc.problems)
        return
    except OSError as exc:
        report.problems.append(_unreadable("ledger/payroll/leave-balances.yaml", exc))
        return
    report.checked.append("leave balances")


def next_month(root: Path, ledger: Ledger) -> Month | None:
    """The month ``eage run`` would bill next: the one after the last invoiced, else the first timesheet's."""
    invoiced = [d.period for d in ledger.issued_documents() if d.kind == "invoice" and d.period]
    if invoiced:
        return Month.parse(max(invoiced)).next()
    folder = root / "ledger" / "timesheets"
    months = sorted(
        Month.parse(m.group(1))
        for p in (folder.glob("*.csv") if folder.is_dir() else [])
        if (m := _MONTH_FILE.fullmatch(p.name))
    )
    return months[0] if months else None


def _build_next_month(
    root: Path, rules: Rules, payroll: PayrollRules, ledger: Ledger, report: Report
) -> None:
    """The next month's payroll, allocation, entries and invoices, built and validated in memory."""
    from eage.timesheets import timesheet_path

    month = next_month(root, ledger)
    if month is None or not timesheet_path(root, str(month)).is_file():
        shown = f"{month} has no timesheet yet" if month else "no timesheet yet"
        report.checked.append(f"next month's documents: {shown}, nothing to build")
        return
    try:
        # lock_problems found nothing: the locked files are not hashed a second time.
        inputs = with_months(inputs_of(root, rules, payroll, ledger, check_lock=False), [month])
        plan = plan_month(inputs, month)
        if plan.status == "unchanged":
            report.checked.append(f"{month}: already run, unchanged")
            return
        validate_plan(inputs, plan)
    except InputError as exc:
        report.add(exc.problems)
        return
    failed = invoice_xml_problems(inputs, plan.invoices)
    report.add(failed)
    report.checked.append(
        f"{month} built in memory: {len(plan.payslips)} payslip(s), allocation, {len(plan.invoices)} "
        f"invoice(s), Factur-X XML validated (XSD, EN 16931, BR-FR){'' if not failed else ': see below'}"
    )


def _unreadable(rel: str, exc: OSError) -> Problem:
    return Problem(
        f"cannot be read: {exc.strerror or exc}", file=rel, fix="check the file (a file, readable by you)"
    )
