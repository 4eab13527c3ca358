"""The payroll of a month: every employee's payslip and the month's payroll journal (pure).

Everything here is a function of values already loaded (the rules, the payroll rules, the payroll
variables of each month, the leave counters taken over): no file is read. The app layer
(:mod:`eage.app.inputs`) loads those once per command.

A month's payslips depend on the months before it: the year to date (the RGDU's annual regularisation,
the cumulated figures on the payslip, the income-tax cap of overtime) and the paid-leave counters. So
:func:`compute_payslips` computes the sequence of months, in order, from the leave counters' reprise date
(ledger/payroll/leave-balances.yaml) or from January of the month's year when that is later, each
month's year to date being the sum of the same calendar year's earlier payslips (reset on 1 January),
each month's leave state the previous month's. The earlier months are recomputed from the same rules and
each month's own variables, never read back from the ledger, so a corrected month and a first run agree.
The last sequence computed is kept (keyed by the very rules objects it was computed from, and each
month's variables by value), so that a caller going month after month extends it instead of recomputing
the year.

For an association the journal also carries the month's share of the annual abattement on the taxe sur
les salaires (CGI art. 1679 A), which needs the tax provisioned on the year's earlier payslips: they come
from the same sequence (:func:`earlier_payslips`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from eage.errors import InputError
from eage.ledger.model import GeneratedFile, Txn
from eage.money import ZERO, cents
from eage.month import Month
from eage.payroll.contracts import Contracts, PayslipFields, employer_headcounts
from eage.payroll.engine import TSS_CODE_PREFIX, Payslip, PayslipInput, YearToDate, compute_payslip
from eage.payroll.journal import payroll_transactions, tss_relief_transaction
from eage.payroll.leave import (
    BALANCES_REL,
    BeyondBalance,
    LeaveOpening,
    LeaveState,
    close_month,
    days,
    plan_month,
    valued_balance,
)
from eage.payroll.params import PARAMETERS_FILE, TAXE_SALAIRES_FILE, PayrollRules
from eage.payroll.variables import EmployeeVariables, MonthVariables
from eage.rules.bundle import Rules
from eage.rules.dated import NotInForce, in_force
from eage.rules.models import Employee

Payslips = list[tuple[str, Payslip]]  # (employee id, payslip), in rules/staff.yaml's order
#: The payroll variables of each month (a month absent has none); a bare MonthVariables is read as the
#: variables of the month asked, the other months having none (the callers of before the sequence).
VariablesByMonth = Mapping[Month, MonthVariables] | MonthVariables
_NO_VARIABLES = MonthVariables()


@dataclass(frozen=True)
class MonthResult:
    """One month of the sequence: its payslips, and each employee's state after it."""

    month: Month
    variables: MonthVariables | None  # as given (None: the month had none), to reuse the sequence
    payslips: Payslips
    leave: Mapping[str, LeaveState]
    cumulative: Mapping[str, YearToDate]


@dataclass
class _Memo:
    rules: Rules
    payroll: PayrollRules
    opening: LeaveOpening | None
    contracts: Contracts | None
    steps: list[MonthResult]


_memo: _Memo | None = None


def sequence_start(month: Month, opening: LeaveOpening | None) -> Month:
    """The first month the sequence of ``month`` computes: the leave counters' reprise month when it is
    not after ``month``, else (or when later) January of ``month``'s year."""
    january = Month(month.year, 1)
    if opening is not None and opening.month <= month:
        return min(january, opening.month)
    return january


def sequence_months(month: Month, opening: LeaveOpening | None) -> list[Month]:
    """Every month the payslips of ``month`` depend on, in order, ``month`` last."""
    out = [sequence_start(month, opening)]
    while out[-1] < month:
        out.append(out[-1].next())
    return out


def compute_payslips(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    variables_by_month: VariablesByMonth,
    leave_opening: LeaveOpening | None = None,
    contracts: Contracts | None = None,
) -> Payslips:
    """Payslips of every employee under contract during ``month``, each with its year to date and, from
    the reprise date of ``leave_opening``, its leave counters (``Payslip.leave``); with the group's
    health and prévoyance ``contracts`` (rules/payroll/contracts.yaml) when given."""
    return payroll_sequence(rules, payroll, month, variables_by_month, leave_opening, contracts)[-1].payslips


def payroll_sequence(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    variables_by_month: VariablesByMonth,
    leave_opening: LeaveOpening | None = None,
    contracts: Contracts | None = None,
) -> list[MonthResult]:
    """The months of :func:`sequence_months`, computed in order (the module docstring says how)."""
    global _memo
    by_month: Mapping[Month, MonthVariables] = (
        {month: variables_by_month} if isinstance(variables_by_month, MonthVariables) else variables_by_month
    )
    months = sequence_months(month, leave_opening)
    steps: list[MonthResult] = []
    memo = _memo
    if (
        memo is not None
        and memo.rules is rules
        and memo.payroll is payroll
        and memo.opening == leave_opening
        and memo.contracts is contracts
    ):
        for wanted, done in zip(months, memo.steps, strict=False):
            if done.month != wanted or not _same(by_month.get(wanted), done.variables):
                break
            steps.append(done)
    for current in months[len(steps) :]:
        steps.append(
            _month(
                rules,
                payroll,
                current,
                by_month.get(current),
                leave_opening,
                steps[-1] if steps else None,
                contracts,
            )
        )
    if memo is None or len(steps) >= len(memo.steps) or memo.rules is not rules:
        _memo = _Memo(rules, payroll, leave_opening, contracts, steps)
    return steps


def _same(given: MonthVariables | None, used: MonthVariables | None) -> bool:
    """Whether a month's variables are the ones a kept month was computed with: the same values (a
    file read again by the next month's inputs is equal), an absent month and an empty file alike."""
    if given is used:
        return True
    return (given.employees if given is not None else {}) == (used.employees if used is not None else {})


def _month(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    variables: MonthVariables | None,
    opening: LeaveOpening | None,
    before: MonthResult | None,
    contracts: Contracts | None = None,
) -> MonthResult:
    """One month of the sequence, from the state after ``before`` (None: the first month)."""
    start, last = month.first_day, month.last_day
    known = variables if variables is not None else _NO_VARIABLES
    leave_on = opening is not None and month >= opening.month
    leave_states = dict(before.leave) if before is not None else {}
    cumulative = dict(before.cumulative) if before is not None and before.month.year == month.year else {}
    out = []
    for emp in rules.staff.employees:
        contract = emp.contract
        if contract.start > last or (contract.end is not None and contract.end < start):
            continue
        extra = known.employees.get(emp.id, EmployeeVariables())
        inp = _input(rules, payroll, emp, month, extra, cumulative.get(emp.id), contracts)
        if not leave_on or opening is None:
            if extra.leave:
                file, line = known.where(emp.id, "leave")
                raise InputError.at(
                    f"{emp.id} takes paid leave in {month}, but eage keeps no leave counters then",
                    file=file,
                    line=line,
                    key=f"employees.{emp.id}.leave",
                    fix=f"take the counters over in {BALANCES_REL} (date: the first month eage computes)",
                )
            slip = _located(known, emp.id, functools.partial(compute_payslip, payroll, inp))
        else:
            slip, leave_states[emp.id] = _located(
                known,
                emp.id,
                functools.partial(
                    _with_leave, payroll, opening, month, emp, extra, known, inp, leave_states.get(emp.id)
                ),
            )
        cumulative[emp.id] = slip.cumulative
        out.append((emp.id, slip))
    return MonthResult(month, variables, out, leave_states, cumulative)


_T = TypeVar("_T")


def _located(variables: MonthVariables, employee: str, compute: Callable[[], _T]) -> _T:
    """``compute()``; a refusal of a figure of the month's variables (an overtime ceiling: key
    ``overtime_25_hours``) or without a file (a negative gross) is located at the employee's key in the
    month's variables file, where the figure was given."""
    try:
        return compute()
    except InputError as exc:
        given = set(EmployeeVariables.model_fields)
        located = []
        for problem in exc.problems:
            field = (problem.key or "").rsplit(".", 1)[-1]
            if problem.file is not None and field not in given:
                located.append(problem)
                continue
            file, line = variables.where(employee, field) if field else variables.where(employee)
            if line is None:
                file, line = variables.where(employee)
            key = f"employees.{employee}.{field}" if field else f"employees.{employee}"
            located.append(dataclasses.replace(problem, file=file, line=line, key=key))
        raise InputError(located) from None


def _input(
    rules: Rules,
    payroll: PayrollRules,
    emp: Employee,
    month: Month,
    extra: EmployeeVariables,
    ytd: YearToDate | None,
    contracts: Contracts | None,
) -> PayslipInput:
    start, last = month.first_day, month.last_day
    employer = rules.group.employer
    contract = emp.contract
    try:
        gross = emp.gross_on(last)
        atmp = employer.atmp.at(last)
    except NotInForce as exc:
        raise InputError.at(
            f"{exc}", file="rules/staff.yaml", key=f"{emp.id}.gross_salary", fix="add a dated value"
        ) from None
    vm = employer.vm.at(last, default=ZERO)
    pas = (
        in_force(emp.pas_rate, last)
        if emp.pas_rate and min(emp.pas_rate) <= last
        else employer.pas_default_rate
    )
    return PayslipInput(
        month=start,
        base_gross=gross,
        overtime_25_hours=extra.overtime_25_hours,
        overtime_50_hours=extra.overtime_50_hours,
        complementary_hours=extra.complementary_hours,
        bonus=extra.bonus,
        unpaid_absence_hours=extra.unpaid_absence_hours,
        weekly_hours=contract.weekly_hours,
        cadre=contract.cadre,
        pas_rate=pas,
        employer_profile=employer.profile,
        headcount=employer.headcount,
        atmp_rate=atmp,
        vm_rate=vm,
        contract_kind=contract.kind,
        ytd=ytd,
        headcounts=employer_headcounts(employer),
        **_contract_fields(payroll, contracts, emp, month),
    )


def _contract_fields(
    payroll: PayrollRules, contracts: Contracts | None, emp: Employee, month: Month
) -> PayslipFields:
    """The mutuelle and prévoyance of ``emp`` in ``month`` under the group's contracts (none without)."""
    if contracts is None:
        return PayslipFields()
    day = max(month.first_day, emp.contract.start)
    pmss = payroll.value(PARAMETERS_FILE, "pmss", payroll.parameters.pmss.values, day)
    return contracts.payslip_fields(emp, day, pmss)


def _with_leave(
    payroll: PayrollRules,
    opening: LeaveOpening,
    month: Month,
    emp: Employee,
    extra: EmployeeVariables,
    variables: MonthVariables,
    inp: PayslipInput,
    state: LeaveState | None,
) -> tuple[Payslip, LeaveState]:
    """The payslip of a month under leave counters, and the employee's state after it."""
    conges = opening.conges
    contract = emp.contract
    salary = inp.base_gross
    booked_charges: Decimal | None = None
    initial = state is None
    if state is None:
        state = opening.state_of(emp.id, contract.start)
        if emp.id in opening.states:
            # The dette the books carry at the reprise: as written in the reprise file, else the counters
            # valued on its eve (and its charges at this first month's employer rate, below).
            booked, booked_charges = opening.booked.get(emp.id, (None, None))
            eve = opening.date - dt.timedelta(days=1)
            provision = booked if booked is not None else valued_balance(conges, state, salary, eve)
            state = dataclasses.replace(state, provision=cents(provision))
    ranges = [item.span for item in extra.leave]
    try:
        plan = plan_month(
            conges,
            state,
            month,
            monthly_salary=salary,
            contract_start=contract.start,
            contract_end=contract.end,
            leave=ranges,
            sick=[(item.start, item.end, item.kind) for item in extra.sick_leave],
        )
    except BeyondBalance as exc:
        index, running = 0, 0
        for index, (a, b) in enumerate(ranges):  # noqa: B007  (the range that crosses the balance)
            running += conges.ouvrables(a, b)
            if running > exc.available:
                break
        file, line = variables.where(emp.id, "leave", index)
        raise InputError.at(
            f"{emp.id} takes {exc.wanted} jours ouvrables of paid leave in {month} but has "
            f"{days(exc.available)} left of the closed reference periods (N-1, and days carried over); leave of the current period "
            "cannot be taken in advance (rules/payroll/conges.yaml, anticipation: false)",
            file=file,
            line=line,
            key=f"employees.{emp.id}.leave[{index}]",
            fix=f"shorten the leave, correct {BALANCES_REL}, or allow anticipated leave in conges.yaml",
        ) from None
    slip = compute_payslip(
        payroll,
        dataclasses.replace(
            inp, leave_days=plan.days_taken, leave_absence=plan.absence, leave_indemnity=plan.indemnity
        ),
    )
    if initial:
        charges = (
            booked_charges
            if booked_charges is not None
            else plan.state.provision * slip.employer_contributions / slip.gross
        )
        plan = dataclasses.replace(
            plan, state=dataclasses.replace(plan.state, provision_charges=cents(charges))
        )
    after, counters = close_month(
        conges,
        plan,
        month,
        monthly_salary=salary,
        gross=slip.gross,
        employer_contributions=slip.employer_contributions,
        tenth_base=slip.gross - slip.bonus if conges.primes_hors_dixieme(month.first_day) else slip.gross,
    )
    return dataclasses.replace(slip, leave=counters), after


def tss_tax(payslips: Iterable[tuple[str, Payslip]]) -> dict[str, Decimal]:
    """Each employee's taxe sur les salaires provisioned on the month's payslip."""
    return {
        emp: sum((line.amount for line in slip.lines if line.code.startswith(TSS_CODE_PREFIX)), ZERO)
        for emp, slip in payslips
    }


def needs_earlier_months(rules: Rules) -> bool:
    """Whether the month's journal depends on the year's earlier payslips (an association's abattement)."""
    return rules.group.employer.profile == "association"


def tss_relief(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    payslips: Sequence[tuple[str, Payslip]],
    earlier: Iterable[Sequence[tuple[str, Payslip]]],
    day: dt.date,
) -> Txn | None:
    """For an association, the month's share of the annual abattement on the taxe sur les salaires.

    ``earlier``: the payslips of the year's months before ``month`` (their tax is the year's tax to date).
    """
    if not needs_earlier_months(rules):
        return None
    month_tax = tss_tax(payslips)
    if not any(month_tax.values()):
        return None
    tss = payroll.value(
        TAXE_SALAIRES_FILE, "taxe_sur_salaires", payroll.taxe_salaires.taxe_sur_salaires.values, day
    )
    before = sum((sum(tss_tax(slips).values(), ZERO) for slips in earlier), ZERO)
    return tss_relief_transaction(
        str(month),
        month_tax,
        before,
        tss.abattement_annuel,
        payroll.accounts.charges[tss.charge],
        payroll.accounts.organisations[tss.organisation],
        day,
    )


def earlier_payslips(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    variables: VariablesByMonth,
    leave_opening: LeaveOpening | None = None,
    contracts: Contracts | None = None,
) -> list[Payslips]:
    """The payslips of the year's months before ``month``, January first, from the same sequence as
    :func:`compute_payslips` (computed once for both)."""
    steps = payroll_sequence(rules, payroll, month, variables, leave_opening, contracts)
    return [step.payslips for step in steps[:-1] if step.month.year == month.year]


def payroll_journal(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    payslips: Sequence[tuple[str, Payslip]],
    earlier: Iterable[Sequence[tuple[str, Payslip]]],
    path: str,
) -> GeneratedFile:
    """The month's payroll journal (``path``, relative to ledger/): one entry per payslip, dated the month's
    last day, then, for an association, the abattement's share of the taxe sur les salaires."""
    day = month.last_day
    names = {e.id: e for e in rules.staff.employees}
    txns = payroll_transactions(
        [(emp_id, names[emp_id].name, names[emp_id].service, slip) for emp_id, slip in payslips],
        payroll.accounts,
        day,
    )
    relief = tss_relief(rules, payroll, month, payslips, earlier, day)
    if relief is not None:
        txns.append(relief)
    return GeneratedFile(path, f"Payroll journal {month}", tuple(txns))
