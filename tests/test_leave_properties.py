"""Properties of paid leave (hypothesis), on the repository's rules/payroll/conges.yaml.

- a full reference period of work acquires 30 jours ouvrables, whatever the salary, the hours (the
  acquisition never reads them) and the leave taken meanwhile (paid leave counts as work, L3141-5 1°);
- the indemnity of leave taken is never below the one-tenth, nor below the salary maintained (L3141-24);
- at every month end the provision is the valued balance of the days, and each month's "before" is the
  previous month's figure, so the journal's changes sum to the balance (over any sequence of leave);
  through the year's payroll sequence and the journal too: the books' 4282 / 4382 hold the valued
  balance and its charges at every month end.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from eage.money import cents
from eage.month import Month
from eage.payroll.leave import LeaveState, PeriodCounter, close_month, fresh_state, plan_month, valued_balance
from test_leave import RULES, conges

D = Decimal
ANTICIPATED = conges(anticipation=True)

salaries = st.decimals(min_value=D("1500.00"), max_value=D("9000.00"), places=2)
# A month's leave: none, or one range (first day, length) inside the month.
month_leave = st.none() | st.tuples(st.integers(0, 27), st.integers(0, 9))


def leave_of(month: Month, drawn: tuple[int, int] | None) -> list[tuple[dt.date, dt.date]]:
    if drawn is None:
        return []
    first = month.first_day + dt.timedelta(days=drawn[0])
    last = min(first + dt.timedelta(days=drawn[1]), month.last_day)
    return [(first, last)]


def months_from(first: Month, count: int) -> list[Month]:
    out = [first]
    while len(out) < count:
        out.append(out[-1].next())
    return out


@settings(max_examples=40, deadline=None)
@given(
    year=st.sampled_from([2025, 2026]),
    salary=salaries,
    weekly_hours=st.sampled_from([D(35), D("17.5"), D(24)]),
    leave=st.lists(month_leave, min_size=12, max_size=12),
)
def test_a_full_period_acquires_30_days(
    year: int, salary: Decimal, weekly_hours: Decimal, leave: list[tuple[int, int] | None]
) -> None:
    del weekly_hours  # part time or full time: the acquisition is per month of work, not per hour
    start = dt.date(year, 6, 1)
    state = fresh_state(ANTICIPATED, start)
    for month, drawn in zip(months_from(Month(year, 6), 12), leave, strict=True):
        plan = plan_month(
            ANTICIPATED,
            state,
            month,
            monthly_salary=salary,
            contract_start=dt.date(2000, 1, 1),
            contract_end=None,
            leave=leave_of(month, drawn),
        )
        gross = salary - plan.absence + plan.indemnity
        state, _ = close_month(
            ANTICIPATED,
            plan,
            month,
            monthly_salary=salary,
            gross=gross,
            employer_contributions=gross * D("0.4"),
        )
    assert state.n.acquired == 30
    after = plan_month(
        ANTICIPATED,
        state,
        Month(year + 1, 6),
        monthly_salary=salary,
        contract_start=dt.date(2000, 1, 1),
        contract_end=None,
        leave=[],
    )
    assert after.state.n1.acquired == 30


@settings(max_examples=100, deadline=None)
@given(
    salary=salaries,
    gross_n1=st.decimals(min_value=D("10000.00"), max_value=D("150000.00"), places=2),
    acquired=st.integers(10, 30),
    drawn=st.tuples(st.integers(0, 27), st.integers(0, 12)),
    month_number=st.integers(6, 12),
)
def test_the_indemnity_is_never_below_the_tenth_nor_the_maintien(
    salary: Decimal, gross_n1: Decimal, acquired: int, drawn: tuple[int, int], month_number: int
) -> None:
    month = Month(2026, month_number)
    state = LeaveState(
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31), D(acquired), D(0), gross_n1),
        PeriodCounter(dt.date(2026, 6, 1), dt.date(2027, 5, 31)),
    )
    ranges = leave_of(month, drawn)
    taken = RULES.ouvrables(*ranges[0])
    if taken > acquired:
        return
    plan = plan_month(
        RULES,
        state,
        month,
        monthly_salary=salary,
        contract_start=dt.date(2000, 1, 1),
        contract_end=None,
        leave=ranges,
    )
    tenth = cents(gross_n1 / 10 * taken / acquired)
    in_month = RULES.ouvrables(month.first_day, month.last_day)
    assert plan.indemnity >= tenth
    assert plan.indemnity >= plan.absence == cents(min(salary, salary * taken / in_month))
    assert plan.indemnity == max(tenth, plan.absence)


@settings(max_examples=40, deadline=None)
@given(
    salary=salaries,
    rate=st.decimals(min_value=D("0.10"), max_value=D("0.50"), places=4),
    leave=st.lists(month_leave, min_size=14, max_size=14),
    bonus_month=st.integers(0, 13),
)
def test_the_provision_is_the_valued_balance_at_every_month_end(
    salary: Decimal, rate: Decimal, leave: list[tuple[int, int] | None], bonus_month: int
) -> None:
    state = LeaveState(
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31), D(30), D(10), salary * 12),
        PeriodCounter(dt.date(2026, 6, 1), dt.date(2027, 5, 31)),
    )
    booked = booked_charges = D(0)
    previous = (state.provision, state.provision_charges)
    for index, (month, drawn) in enumerate(zip(months_from(Month(2026, 6), 14), leave, strict=True)):
        plan = plan_month(
            ANTICIPATED,
            state,
            month,
            monthly_salary=salary,
            contract_start=dt.date(2000, 1, 1),
            contract_end=None,
            leave=leave_of(month, drawn),
        )
        gross = salary - plan.absence + plan.indemnity + (D(1000) if index == bonus_month else 0)
        state, counters = close_month(
            ANTICIPATED,
            plan,
            month,
            monthly_salary=salary,
            gross=gross,
            employer_contributions=cents(gross * rate),
        )
        assert counters.provision == valued_balance(ANTICIPATED, state, salary, month.last_day)
        assert counters.provision_charges == cents(counters.provision * cents(gross * rate) / gross)
        assert (counters.provision_before, counters.provision_charges_before) == previous
        booked += counters.provision - counters.provision_before
        booked_charges += counters.provision_charges - counters.provision_charges_before
        previous = (counters.provision, counters.provision_charges)
        assert counters.balance_n1 + counters.balance_n == state.n1.balance + state.n.balance
    assert booked == state.provision and booked_charges == state.provision_charges


# --- through the payroll sequence and the journal, on the demo's rules ------------------------------


class DemoPayroll:
    """The demo's rules, payroll rules and leave opening (a short repr: hypothesis prints its arguments)."""

    def __init__(self, root: Path) -> None:
        from eage.app.inputs import read_leave_opening
        from eage.payroll.params import load_payroll_rules
        from eage.rules.bundle import load_rules

        self.rules = load_rules(root)
        self.payroll = load_payroll_rules(root / "rules/payroll")
        self.opening = read_leave_opening(root, self.rules)

    def __repr__(self) -> str:
        return "DemoPayroll(demo)"


@pytest.fixture(scope="module")
def demo_payroll(demo_rules_root: Path) -> DemoPayroll:
    return DemoPayroll(demo_rules_root)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leave=st.lists(month_leave, min_size=7, max_size=7))
def test_the_books_4282_and_4382_hold_the_valued_balance_at_every_month_end(
    demo_payroll: DemoPayroll, leave: list[tuple[int, int] | None]
) -> None:
    """Over a year of random leave (what the counters allow), the journal's provision entries added to
    the reprise's dette give, at each month end, the valued balance of the days, gross and charges.
    The leave falls in June to December, after the rollover (before it lpetit has 6 days left)."""
    from eage.errors import InputError
    from eage.payroll.journal import LEAVE_CHARGES_DEBT, LEAVE_DEBT, payroll_transactions
    from eage.payroll.month import payroll_sequence
    from eage.payroll.variables import MonthVariables

    rules, payroll, opening = demo_payroll.rules, demo_payroll.payroll, demo_payroll.opening
    assert opening is not None
    variables = {
        month: MonthVariables.model_validate(
            {"employees": {"lpetit": {"leave": [{"from": a, "to": b} for a, b in leave_of(month, drawn)]}}}
        )
        for month, drawn in zip(months_from(Month(2026, 6), 7), leave, strict=True)
    }
    try:
        steps = payroll_sequence(rules, payroll, Month(2026, 12), variables, opening)
    except InputError as exc:
        event("refused: beyond the balance")
        assert "jours ouvrables of paid leave" in str(exc) and "[employees.lpetit.leave[0]]" in str(exc)
        return
    debt = payroll.accounts.organisations[LEAVE_DEBT]
    charges_debt = payroll.accounts.organisations[LEAVE_CHARGES_DEBT]
    booked, booked_charges = opening.booked["lpetit"]
    balance, charges_balance = -(booked or D(0)), -(booked_charges or D(0))  # credit balances
    for step in steps:
        entries = [(emp, emp, "paie", slip) for emp, slip in step.payslips if emp == "lpetit"]
        for txn in payroll_transactions(entries, payroll.accounts, step.month.last_day):
            for posting in txn.postings:
                balance += posting.amount if posting.account == debt else 0
                charges_balance += posting.amount if posting.account == charges_debt else 0
        ((_, _, _, slip),) = entries
        state = step.leave["lpetit"]
        salary = rules.staff.by_id()["lpetit"].gross_on(step.month.last_day)
        assert -balance == valued_balance(opening.conges, state, salary, step.month.last_day)
        assert slip.leave is not None and -charges_balance == slip.leave.provision_charges
