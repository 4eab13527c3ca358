"""Properties of paid leave (hypothesis), on the repository's rules/payroll/conges.yaml.

- a full reference period of work acquires 30 jours ouvrables, whatever the salary, the hours (the
  acquisition never reads them) and the leave taken meanwhile (paid leave counts as work, L3141-5 1°);
- the indemnity of leave taken is never below the one-tenth, nor below the salary maintained (L3141-24);
- at every month end the provision is the valued balance of the days, and each month's "before" is the
  previous month's figure, so the journal's changes sum to the balance (over any sequence of leave).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
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
