"""What a command reads, loaded once: the rules, the ledger snapshot and the period's input files.

:func:`load_inputs` reads, in this order (so that a user sees the same first problem as before): every
rules file (``load_rules``, rules/payroll/), the ledger (Beancount, the plugin), the lock manifest (a
generated file or a document that differs from what was issued stops every writer); then
:func:`with_months` adds the period's timesheets and payroll variables, and those of every earlier month
the year's payroll sequence computes (:func:`eage.payroll.month.sequence_months`: from the leave counters'
reprise date, ledger/payroll/leave-balances.yaml, or January). The leave rules and the counters taken
over are read with the ledger (:attr:`Inputs.leave_opening`). Planners then compute from these values
only: they read no file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eage.errors import InputError, raise_if
from eage.ledger.load import Ledger, load_ledger
from eage.ledger.store import lock_problems, read_includes, relocate_include_errors, tampered
from eage.ledger.view import LedgerView
from eage.month import Month
from eage.payroll.contracts import (
    CONTRACTS_FILE,
    Contracts,
    contracts_problems,
    legal_weekly_hours,
    load_contracts,
)
from eage.payroll.leave import BALANCES_REL, LeaveOpening, load_conges, load_leave_opening
from eage.payroll.month import sequence_months
from eage.payroll.params import PayrollRules, load_payroll_rules
from eage.payroll.variables import MonthVariables, load_variables
from eage.rules.bundle import Rules, load_rules
from eage.timesheets import TimesheetLine, read_timesheet


@dataclass(frozen=True)
class Inputs:
    """One command's inputs (see the module docstring).

    ``ledger``: the snapshot, read through :attr:`books`; ``leave_opening``: see :func:`read_leave_opening`; ``included``: the files main.beancount includes (relative to ledger/); ``generated``: the text on disk
    of each generated file of the loaded months (``generated/YYYY/YYYY-MM-*.beancount``), which a re-run
    compares with what it plans; ``generated_names``: every ``generated/YYYY/*.beancount`` on disk, for
    the next free ``…-N`` file name; ``timesheet_months``: the months with a timesheet file.
    """

    root: Path
    rules: Rules
    payroll: PayrollRules
    ledger: Ledger
    included: frozenset[str]
    generated_names: frozenset[str]
    timesheet_months: frozenset[Month]
    timesheets: Mapping[Month, list[TimesheetLine]] = field(default_factory=dict)
    variables: Mapping[Month, MonthVariables] = field(default_factory=dict)
    generated: Mapping[str, str] = field(default_factory=dict)
    #: The leave rules and the counters taken over (None: the group keeps no leave counters in eage).
    leave_opening: LeaveOpening | None = None
    #: The group's agreement, health and prévoyance contracts (rules/payroll/contracts.yaml; None: no file).
    contracts: Contracts | None = None

    @property
    def books(self) -> LedgerView:
        """What the planners read of the ledger: the typed view (the :class:`Ledger` itself is for the
        checks of new entries against the loaded ones)."""
        return self.ledger

    def timesheet(self, month: Month) -> list[TimesheetLine]:
        """The validated lines of a loaded month (:func:`with_months` loaded it)."""
        return self.timesheets[month]


def load_inputs(
    root: Path, *, check_lock: bool = True, after_rules: Callable[[Rules], None] | None = None
) -> Inputs:
    """The rules, the payroll rules, the ledger and what main.beancount includes; the lock checked.

    ``check_lock``: False where the caller has just checked it (``eage check``), or for a read-only
    command that reports it itself. ``after_rules``: called with the rules once they are loaded, before
    the ledger (``eage run`` starts its render workers there).
    """
    rules = load_rules(root)
    payroll = load_payroll_rules(root / "rules" / "payroll")
    if after_rules is not None:
        after_rules(rules)
    try:
        ledger, _ = load_ledger(root)
    except InputError as exc:
        # A deleted generated file breaks the load: name it from the lock manifest, before Beancount's words.
        raise InputError(lock_problems(root) + relocate_include_errors(exc.problems)) from None
    return inputs_of(root, rules, payroll, ledger, check_lock=check_lock)


def inputs_of(root: Path, rules: Rules, payroll: PayrollRules, ledger: Ledger, *, check_lock: bool) -> Inputs:
    """:class:`Inputs` of already loaded rules and ledger (``eage check`` loads them its own way)."""
    if check_lock:
        refuse_tampered(root)
    main_path = ledger.main_path
    included = frozenset(read_includes(main_path.read_text(encoding="utf-8"), main_path))
    generated_dir = root / "ledger" / "generated"
    names = frozenset(
        f"generated/{path.parent.name}/{path.name}"
        for path in (generated_dir.glob("*/*.beancount") if generated_dir.is_dir() else [])
    )
    folder = root / "ledger" / "timesheets"
    months: set[Month] = set()
    for path in folder.glob("*.csv") if folder.is_dir() else []:
        try:
            month = Month.parse(path.stem)
        except ValueError:
            continue  # not a month's timesheet: eage check reports the name
        if path.exists():  # a dangling link is no timesheet
            months.add(month)
    return Inputs(
        root,
        rules,
        payroll,
        ledger,
        included,
        names,
        frozenset(months),
        leave_opening=read_leave_opening(root, rules),
        contracts=read_contracts(root, rules, payroll),
    )


def read_contracts(root: Path, rules: Rules, payroll: PayrollRules) -> Contracts:
    """rules/payroll/contracts.yaml, validated, and the staff against it (health cover or a recorded
    exemption, classification in the grid), every problem located; a missing file too: every employer
    covers its staff for health (CSS L911-7), so a group has one."""
    contracts = load_contracts(root / "rules" / "payroll", shown=f"rules/payroll/{CONTRACTS_FILE}")
    raise_if(contracts_problems(rules, contracts, legal_weekly_hours=legal_weekly_hours(payroll)))
    return contracts


def read_leave_opening(root: Path, rules: Rules) -> LeaveOpening | None:
    """The counters of ledger/payroll/leave-balances.yaml with the rules of rules/payroll/conges.yaml, or
    None when the group has no such file (then no month may declare paid leave)."""
    path = root / BALANCES_REL
    if not path.exists() and not path.is_symlink():
        return None
    try:
        conges = load_conges(root / "rules" / "payroll")
    except InputError as exc:
        raise InputError([p.relative_to(root) for p in exc.problems]) from None
    contracts = {e.id: (e.contract.start, e.contract.end) for e in rules.staff.employees}
    return load_leave_opening(root, conges, contracts)


def refuse_tampered(root: Path) -> None:
    """Refuse to plan anything while the lock is broken: a generated file or an issued document differs
    from the manifest or is missing, or the manifest itself is missing or corrupt (see ``lock_problems``)."""
    problems = lock_problems(root, find_tampered=tampered)
    if problems:
        raise InputError(problems)


def with_months(inputs: Inputs, months: Iterable[Month], *, payroll: bool = True) -> Inputs:
    """``inputs`` with each month's timesheet (which must exist), its payroll variables and its generated
    files' text, and the payroll variables of every earlier month its payroll sequence computes.

    ``payroll``: False for a command that reads the hours only (a standard-rate close): no variables.
    """
    wanted = sorted(set(months))
    timesheets = dict(inputs.timesheets)
    variables = dict(inputs.variables)
    generated = dict(inputs.generated)
    known = set(inputs.rules.staff.by_id())
    for month in wanted:
        # In a month's order of reading: its hours, then its variables (the first problem shown is the same).
        if month not in timesheets:
            timesheets[month] = read_timesheet(inputs.root, str(month), inputs.rules)
        if payroll and month not in variables:
            variables[month] = load_variables(inputs.root, str(month), known)
        for name in sorted(inputs.generated_names):
            if name.startswith(f"generated/{month.year}/{month}-") and name not in generated:
                generated[name] = (inputs.root / "ledger" / name).read_text(encoding="utf-8")
    if payroll:
        for month in wanted:
            for earlier in sequence_months(month, inputs.leave_opening):
                if earlier not in variables:
                    variables[earlier] = load_variables(inputs.root, str(earlier), known)
    return dataclasses.replace(inputs, timesheets=timesheets, variables=variables, generated=generated)


def has_timesheet(inputs: Inputs, month: Month) -> bool:
    """Whether ``month`` has a timesheet file (as the run that bills it would read)."""
    return month in inputs.timesheet_months


def after_commit(inputs: Inputs, ledger: Ledger) -> Inputs:
    """``inputs`` with ``ledger`` in place of its snapshot, and what main.beancount includes and
    ledger/generated/ holds read again; the period's files dropped (a caller that runs month after month
    in one process, the benchmarks' history, loads each month with :func:`with_months`)."""
    fresh = inputs_of(inputs.root, inputs.rules, inputs.payroll, ledger, check_lock=False)
    return dataclasses.replace(fresh, timesheet_months=inputs.timesheet_months)
