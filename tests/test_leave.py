"""Paid leave: the counters, the indemnity, the provision, the reprise file and the payroll variables.

The rules are the repository's rules/payroll/conges.yaml; the months run through
:func:`eage.payroll.leave.plan_month` and :func:`~eage.payroll.leave.close_month` as the payroll
sequence does, then the sequence itself on a copy of the demo.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from eage.errors import InputError
from eage.month import Month
from eage.payroll.leave import (
    BeyondBalance,
    CongesFile,
    CongesRules,
    LeaveCounters,
    LeaveState,
    PeriodCounter,
    close_month,
    fresh_state,
    load_conges,
    load_leave_opening,
    plan_month,
    valued_balance,
)
from eage.payroll.variables import MonthVariables, leave_timesheet_problems, load_payroll_variables
from eage.timesheets import TimesheetLine

REPO = Path(__file__).resolve().parent.parent
D = Decimal
SALARY = D("3000.00")


def conges(**changes: Any) -> CongesRules:
    """The repository's conges.yaml, with ``changes`` as the values in force (``anticipation=True``)."""
    data = yaml.safe_load((REPO / "rules/payroll/conges.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        data[key]["values"] = {dt.date(2000, 1, 1): value}
    return CongesRules(CongesFile.model_validate(data))


RULES = load_conges(REPO / "rules/payroll")


def run_months(
    rules: CongesRules,
    state: LeaveState,
    first: Month,
    count: int,
    *,
    leave: dict[Month, list[tuple[dt.date, dt.date]]] | None = None,
    sick: dict[Month, list[tuple[dt.date, dt.date, Any]]] | None = None,
    start: dt.date = dt.date(2000, 1, 1),
    end: dt.date | None = None,
    gross: Decimal = SALARY,
) -> list[tuple[LeaveState, Any, Any]]:
    """``count`` months from ``first``: (state after, counters, plan) of each."""
    out = []
    month = first
    for _ in range(count):
        plan = plan_month(
            rules,
            state,
            month,
            monthly_salary=SALARY,
            contract_start=start,
            contract_end=end,
            leave=(leave or {}).get(month, []),
            sick=(sick or {}).get(month, []),
        )
        paid = gross - plan.absence + plan.indemnity
        state, counters = close_month(
            rules, plan, month, monthly_salary=SALARY, gross=paid, employer_contributions=paid * D("0.40")
        )
        out.append((state, counters, plan))
        month = month.next()
    return out


def test_jours_ouvrables_count_monday_to_saturday_without_public_holidays() -> None:
    assert RULES.ouvrables(dt.date(2026, 8, 1), dt.date(2026, 8, 31)) == 25  # 15 August is a Saturday
    assert RULES.ouvrables(dt.date(2026, 8, 3), dt.date(2026, 8, 22)) == 17  # three weeks
    assert RULES.ouvrables(dt.date(2026, 12, 24), dt.date(2026, 12, 31)) == 6
    assert RULES.period_of(dt.date(2026, 1, 1)) == (dt.date(2025, 6, 1), dt.date(2026, 5, 31))
    assert RULES.period_of(dt.date(2026, 6, 1)) == (dt.date(2026, 6, 1), dt.date(2027, 5, 31))
    with pytest.raises(
        InputError, match=r"rules/payroll/conges.yaml \[jours_feries\]: no public holidays for 2031"
    ):
        RULES.ouvrables(dt.date(2031, 1, 1), dt.date(2031, 1, 31))


def test_a_year_of_work_acquires_30_days_then_rolls_over_on_1_june() -> None:
    months = run_months(RULES, fresh_state(RULES, dt.date(2025, 6, 1)), Month(2025, 6), 13)
    may = months[11][1]
    assert (may.period_n, may.acquired_n, may.balance_n) == ("2025-06-01/2026-05-31", D("30.00"), D("30.00"))
    june = months[12][1]
    assert (june.period_n1, june.acquired_n1, june.balance_n1) == ("2025-06-01/2026-05-31", D("30"), D("30"))
    assert (june.period_n, june.acquired_n) == ("2026-06-01/2027-05-31", D("2.50"))


def test_sick_leave_acquires_as_the_2024_law_says() -> None:
    """Non-professional: 2 days a month, 24 at most (L3141-5-1); professional: as work (L3141-5 5°)."""
    year = [Month(2025, 6)]
    while len(year) < 12:
        year.append(year[-1].next())
    for kind, expected in (("non_professional", D("24.00")), ("professional", D("30.00"))):
        sick = {m: [(m.first_day, m.last_day, kind)] for m in year}
        months = run_months(RULES, fresh_state(RULES, dt.date(2025, 6, 1)), Month(2025, 6), 12, sick=sick)
        assert months[-1][1].acquired_n == expected, kind
    half = {Month(2025, 6): [(dt.date(2025, 6, 16), dt.date(2025, 6, 30), "non_professional")]}
    (_, _, plan), *_ = run_months(
        RULES, fresh_state(RULES, dt.date(2025, 6, 1)), Month(2025, 6), 1, sick=half
    )
    # June 2025: 24 jours ouvrables (9 June is Whit Monday), 13 of them sick: 2.5 x 11/24 + 2 x 13/24.
    assert (plan.acquired, plan.sick_acquired) == (D("2.23"), D("1.08"))
    work_accident = {Month(2025, 6): [(dt.date(2025, 6, 16), dt.date(2025, 6, 30), "professional")]}
    ((_, _, plan),) = run_months(
        RULES, fresh_state(RULES, dt.date(2025, 6, 1)), Month(2025, 6), 1, sick=work_accident
    )
    assert (plan.acquired, plan.sick_acquired) == (D("2.50"), D("0.00"))


def test_a_part_month_acquires_pro_rata_and_the_period_rounds_up() -> None:
    start = dt.date(2025, 7, 10)
    months = run_months(RULES, fresh_state(RULES, start), Month(2025, 7), 12, start=start)
    assert months[0][2].acquired == D("1.73")  # 2.5 x 18 / 26: July 2025 from the 10th (14 July off)
    assert months[-2][1].acquired_n == D("26.73")
    assert months[-1][1].acquired_n1 == D("27")  # L3141-7: rounded up to the whole day on 1 June


def test_leave_is_paid_the_larger_of_maintien_and_the_tenth() -> None:
    state = LeaveState(
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31), D(30), D(0), D("36000.00")),
        PeriodCounter(dt.date(2026, 6, 1), dt.date(2027, 5, 31)),
    )
    august = {Month(2026, 8): [(dt.date(2026, 8, 3), dt.date(2026, 8, 22))]}
    ((_, counters, plan),) = run_months(RULES, state, Month(2026, 8), 1, leave=august)
    # maintien 3000 x 17 / 25 = 2040.00; tenth 36000 / 10 x 17 / 30 = 2040.00
    assert (plan.days_taken, plan.absence, plan.indemnity) == (D(17), D("2040.00"), D("2040.00"))
    richer = LeaveState(
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31), D(30), D(0), D("42000.00")), state.n
    )
    ((_, counters, plan),) = run_months(RULES, richer, Month(2026, 8), 1, leave=august)
    assert (plan.absence, plan.indemnity) == (D("2040.00"), D("2380.00"))  # the tenth: 4200 x 17 / 30
    assert (counters.taken_n1, counters.balance_n1, counters.taken_this_month) == (
        D("17.00"),
        D("13.00"),
        ((dt.date(2026, 8, 3), dt.date(2026, 8, 22)),),
    )


def test_leave_beyond_the_balance_is_refused_unless_anticipated() -> None:
    state = LeaveState(
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31), D(30), D(27), D("36000")),
        PeriodCounter(dt.date(2026, 6, 1), dt.date(2027, 5, 31), D("5.00"), D(0), D("6000")),
    )
    week = {Month(2026, 8): [(dt.date(2026, 8, 3), dt.date(2026, 8, 8))]}
    with pytest.raises(BeyondBalance) as info:
        run_months(RULES, state, Month(2026, 8), 1, leave=week)
    assert (info.value.wanted, info.value.available) == (D(6), D(3))
    ((_, counters, _),) = run_months(conges(anticipation=True), state, Month(2026, 8), 1, leave=week)
    assert (counters.balance_n1, counters.taken_n, counters.balance_n) == (D("0.00"), D("3.00"), D("4.50"))
    far = LeaveState(state.n1, PeriodCounter(dt.date(2026, 6, 1), dt.date(2027, 5, 31)))
    ((_, counters, _),) = run_months(conges(anticipation=True), far, Month(2026, 8), 1, leave=week)
    assert counters.balance_n == D("-0.50")  # shown as anticipated: 2.50 acquired in August, 3 taken


def test_leave_that_sickness_prevented_is_carried_over_15_months() -> None:
    """L3141-19-1: the N-1 days left at the end of a taking period with a sick leave in it are carried."""
    state = LeaveState(
        PeriodCounter(dt.date(2024, 6, 1), dt.date(2025, 5, 31), D(30), D(20), D("36000")),
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31)),
    )
    sick = {Month(2026, 2): [(dt.date(2026, 2, 2), dt.date(2026, 2, 27), "non_professional")]}
    july = {Month(2026, 7): [(dt.date(2026, 7, 6), dt.date(2026, 7, 11))]}
    months = run_months(RULES, state, Month(2025, 6), 28, sick=sick, leave=july)
    june = months[12][1]  # 1 June 2026: the 10 days of 2024-06-01/2025-05-31 are carried
    assert (june.carried_balance, june.carried_until) == (D("10.00"), dt.date(2027, 8, 31))
    assert (june.balance_n1, june.period_n1) == (D("30.00"), "2025-06-01/2026-05-31")
    (_, taken, plan) = months[13]  # July 2026: 6 days, drawn from the carried days first
    assert (taken.carried_balance, taken.balance_n1) == (D("4.00"), D("30.00"))
    assert plan.indemnity == max(plan.absence, D("720.00"))  # the carried days' tenth: 3600 / 30 x 6
    assert months[26][1].carried_balance == D("4.00")  # August 2027, the last month
    assert (months[27][1].carried_balance, months[27][1].carried_until) == (D(0), None)  # September: lost
    without = run_months(RULES, state, Month(2025, 6), 13)
    assert (without[-1][1].carried_balance, without[-1][1].balance_n1) == (D(0), D("30.00"))


def test_the_balance_is_paid_when_the_contract_ends() -> None:
    state = LeaveState(
        PeriodCounter(dt.date(2025, 6, 1), dt.date(2026, 5, 31), D(30), D(20), D("36000")),
        PeriodCounter(dt.date(2026, 6, 1), dt.date(2027, 5, 31), D("5.00"), D(0), D("6000")),
    )
    end = dt.date(2026, 8, 31)
    ((_, counters, plan),) = run_months(RULES, state, Month(2026, 8), 1, end=end)
    # 10 days of N-1 at max(3600 / 30, 3000 / 26) = 120.00, and 7.5 days of N (August's acquisition
    # included) at max(600 / 7.5, 115.38): 1200.00 + 865.38
    assert plan.indemnity == D("2065.38")
    assert (counters.balance_n1, counters.balance_n, counters.provision) == (D("0.00"), D("0.00"), D("0.00"))


def test_the_provision_is_the_valued_balance_and_its_charges_the_month_rate() -> None:
    months = run_months(RULES, fresh_state(RULES, dt.date(2025, 6, 1)), Month(2025, 6), 3)
    state, counters, _ = months[-1]
    assert counters.provision == valued_balance(RULES, state, SALARY, dt.date(2025, 8, 31))
    assert counters.provision == D("900.00")  # 7.5 days x max(9000 / 10 / 7.5, 3000 / 26)
    assert counters.provision_charges == D("360.00")  # 40 %
    assert counters.provision_before == months[-2][1].provision


# --- the reprise file ---------------------------------------------------------------------------------

CONTRACTS = {
    "cmartin": (dt.date(2012, 1, 1), None),
    "lpetit": (dt.date(2016, 3, 1), None),
    "newcomer": (dt.date(2026, 3, 1), None),
}


def write_balances(root: Path, text: str) -> None:
    (root / "ledger/payroll").mkdir(parents=True, exist_ok=True)
    (root / "ledger/payroll/leave-balances.yaml").write_text(text, encoding="utf-8")


def test_the_reprise_file_is_read_and_checked(tmp_path: Path) -> None:
    assert load_leave_opening(tmp_path, RULES, CONTRACTS) is None
    write_balances(
        tmp_path,
        "date: 2026-01-01\nemployees:\n"
        "  cmartin:\n"
        "    n1: {period: 2024-06-01/2025-05-31, acquired: 30, taken: 24, gross: 37310.00}\n"
        "    n: {period: 2025-06-01/2026-05-31, acquired: 17.5, taken: 0, gross: 22050.00}\n"
        "  lpetit:\n"
        "    n1: {period: 2024-06-01/2025-05-31, acquired: 30, taken: 24, gross: 24610.00}\n"
        "    n: {period: 2025-06-01/2026-05-31, acquired: 17.5, taken: 0, gross: 14560.00}\n",
    )
    opening = load_leave_opening(tmp_path, RULES, CONTRACTS)
    assert opening is not None and opening.month == Month(2026, 1)
    assert opening.booked["cmartin"] == (None, None)  # not written: eage values the counters itself
    assert opening.states["cmartin"].n1.balance == 6
    assert opening.state_of("newcomer", dt.date(2026, 3, 1)).n.start == dt.date(2025, 6, 1)


def test_bad_reprise_counters_are_refused_located(tmp_path: Path) -> None:
    write_balances(
        tmp_path,
        "date: 2026-01-01\nemployees:\n"
        "  cmartin:\n"
        "    n1: {period: 2025-06-01/2026-05-31, acquired: 32, taken: 24, gross: 37310.00}\n"
        "    n: {period: 2025-06-01/2026-05-31, acquired: 17.5, taken: 18, gross: 22050.00}\n"
        "  ghost:\n"
        "    n1: {period: 2024-06-01/2025-05-31, acquired: 30, taken: 24, gross: 1.00}\n"
        "    n: {period: 2025-06-01/2026-05-31, acquired: 1, taken: 0, gross: 1.00}\n",
    )
    with pytest.raises(InputError) as info:
        load_leave_opening(tmp_path, RULES, CONTRACTS)
    shown = [str(p) for p in info.value.problems]
    file = "ledger/payroll/leave-balances.yaml"
    assert shown[0].startswith(
        f"{file}:4 [employees.cmartin.n1.period]: cmartin: period 2025-06-01/2026-05-31"
    )
    assert shown[1].startswith(f"{file}:4 [employees.cmartin.n1.acquired]: cmartin: 32 days acquired")
    assert shown[2].startswith(f"{file}:5 [employees.cmartin.n.taken]: cmartin: 18 days taken")
    assert shown[3].startswith(f"{file}:6 [employees.ghost]: unknown employee 'ghost'")
    assert shown[4].startswith(f"{file}:2 [employees]: lpetit is under contract on 2026-01-01")
    write_balances(tmp_path, "date: 2026-01-01\nemployees:\n  cmartin: {n1: {period: x}}\n")
    with pytest.raises(InputError, match=r"leave-balances.yaml:3 \[employees.cmartin"):
        load_leave_opening(tmp_path, RULES, CONTRACTS)


# --- the payroll variables --------------------------------------------------------------------------


def write_variables(root: Path, month: str, text: str) -> None:
    (root / "ledger/payroll").mkdir(parents=True, exist_ok=True)
    (root / f"ledger/payroll/{month}.yaml").write_text(text, encoding="utf-8")


def test_leave_and_sick_leave_are_read_from_the_month_variables(tmp_path: Path) -> None:
    write_variables(
        tmp_path,
        "2026-08",
        "employees:\n  cmartin:\n    leave: [{from: 2026-08-03, to: 2026-08-22}]\n"
        "    sick_leave:\n      - {from: 2026-08-24, to: 2026-08-26, kind: non_professional}\n",
    )
    variables = load_payroll_variables(tmp_path, "2026-08", {"cmartin"})
    cmartin = variables.employees["cmartin"]
    assert cmartin.leave[0].span == (dt.date(2026, 8, 3), dt.date(2026, 8, 22))
    assert cmartin.sick_leave[0].kind == "non_professional"
    assert variables.where("cmartin", "leave", 0) == ("ledger/payroll/2026-08.yaml", 3)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    leave: [{from: 2026-07-27, to: 2026-08-08}]\n",
            ":3 [employees.cmartin.leave[0]]: cmartin: leave from 2026-07-27 to 2026-08-08 is not inside 2026-08",
        ),
        (
            "    leave: [{from: 2026-08-03, to: 2026-08-08}]\n"
            "    sick_leave: [{from: 2026-08-07, to: 2026-08-10, kind: professional}]\n",
            ":4 [employees.cmartin.sick_leave[0]]: cmartin: sick_leave from 2026-08-07 to 2026-08-10 overlaps",
        ),
        (
            "    leave: [{from: 2026-08-10, to: 2026-08-03}]\n",
            ":3 [employees.cmartin.leave[0]]: Value error, to (2026-08-03) is before",
        ),
        ("    sick_leave: [{from: 2026-08-10, to: 2026-08-13, kind: flu}]\n", "kind"),
    ],
)
def test_bad_leave_dates_are_refused_located(tmp_path: Path, body: str, expected: str) -> None:
    write_variables(tmp_path, "2026-08", "employees:\n  cmartin:\n" + body)
    with pytest.raises(InputError) as info:
        load_payroll_variables(tmp_path, "2026-08", {"cmartin"})
    assert expected in str(info.value)
    assert "ledger/payroll/2026-08.yaml" in str(info.value)


def test_a_leave_day_with_timesheet_hours_is_refused(tmp_path: Path) -> None:
    write_variables(
        tmp_path, "2026-08", "employees:\n  cmartin:\n    leave: [{from: 2026-08-03, to: 2026-08-22}]\n"
    )
    variables = load_payroll_variables(tmp_path, "2026-08", {"cmartin", "lpetit"})
    lines = [
        TimesheetLine(dt.date(2026, 8, 3), "lpetit", "le-fil", "paie", D(7), "", 2),
        TimesheetLine(dt.date(2026, 8, 5), "cmartin", "le-fil", "comptabilite", D(3), "", 3),
        TimesheetLine(dt.date(2026, 8, 5), "cmartin", "les-3c", "comptabilite", D("1.5"), "", 5),
        TimesheetLine(dt.date(2026, 8, 24), "cmartin", "le-fil", "comptabilite", D(7), "", 4),
    ]
    (problem,) = leave_timesheet_problems(Month(2026, 8), variables, lines)
    assert str(problem).startswith(
        "ledger/payroll/2026-08.yaml:3 [employees.cmartin.leave[0]]: cmartin is on paid leave on 2026-08-05 "
        "(2026-08-03 to 2026-08-22) but ledger/timesheets/2026-08.csv records 4.5 h for that day (lines 3, 5)"
    )
    assert leave_timesheet_problems(Month(2026, 8), MonthVariables(), lines) == []


# --- the year's payroll sequence, on the demo ------------------------------------------------------


def demo_sequence(root: Path, months: range) -> tuple[Any, Any, Any, dict[Month, MonthVariables]]:
    from eage.app.inputs import read_leave_opening
    from eage.payroll.params import load_payroll_rules
    from eage.rules.bundle import load_rules

    rules = load_rules(root)
    payroll = load_payroll_rules(root / "rules/payroll")
    opening = read_leave_opening(root, rules)
    variables = {Month(2026, m): load_payroll_variables(root, str(Month(2026, m))) for m in months}
    return rules, payroll, opening, variables


SUMMER = (
    "employees:\n  cmartin:\n    leave: [{from: 2026-08-03, to: 2026-08-22}]\n"
    "  lpetit:\n    leave: [{from: 2026-08-01, to: 2026-08-08}]\n"
)


def test_the_payroll_sequence_carries_the_counters_and_the_year_to_date(demo: Path) -> None:
    from eage.payroll.month import compute_payslips, earlier_payslips, payroll_sequence

    write_variables(demo, "2026-08", SUMMER)
    rules, payroll, opening, variables = demo_sequence(demo, range(1, 13))
    assert opening is not None
    august = dict(compute_payslips(rules, payroll, Month(2026, 8), variables, opening))
    slip = august["cmartin"]
    leave = slip.leave
    assert isinstance(leave, LeaveCounters)
    # 1 June 2026: N (2025-06-01/2026-05-31, 17.5 + 5 x 2.5 = 30) became N-1; 17 days taken in August.
    assert (leave.period_n1, leave.acquired_n1, leave.taken_n1, leave.balance_n1) == (
        "2025-06-01/2026-05-31",
        D("30.00"),
        D("17.00"),
        D("13.00"),
    )
    assert (leave.period_n, leave.acquired_n, leave.balance_n) == (
        "2026-06-01/2027-05-31",
        D("7.50"),
        D("7.50"),
    )
    assert slip.leave_days == 17
    assert slip.leave_indemnity >= D("2189.60")  # the maintien: 3220.00 x 17 / 25 jours ouvrables
    july = dict(compute_payslips(rules, payroll, Month(2026, 7), variables, opening))["cmartin"]
    assert isinstance(july.leave, LeaveCounters)
    assert (leave.provision_before, leave.provision_charges_before) == (
        july.leave.provision,
        july.leave.provision_charges,
    )
    # Part time acquires as full time (per month of work, L3141-3): 17.5 + 5 x 2.5 = 30 on 31 May 2026.
    may = dict(compute_payslips(rules, payroll, Month(2026, 5), variables, opening))
    for emp in ("cmartin", "sbernard", "lpetit"):
        counters = may[emp].leave
        assert isinstance(counters, LeaveCounters)
        assert (counters.period_n, counters.acquired_n) == ("2025-06-01/2026-05-31", D("30.00")), emp
    # January's "before" is the dette the books carry at the reprise (leave-balances.yaml).
    january = dict(compute_payslips(rules, payroll, Month(2026, 1), variables, opening))["cmartin"].leave
    assert isinstance(january, LeaveCounters)
    assert (january.provision_before, january.provision_charges_before) == (D("2951.20"), D("1360.78"))
    # The year to date: the year's payslips before August, and 1 January starts afresh.
    earlier = earlier_payslips(rules, payroll, Month(2026, 8), variables, opening)
    assert len(earlier) == 7
    gross = sum((dict(month)["cmartin"].gross for month in earlier), D(0))
    assert slip.cumulative.gross == gross + slip.gross
    assert slip.cumulative.months == 8
    # The sequence kept from the last call is the one a fresh call computes.
    kept = payroll_sequence(rules, payroll, Month(2026, 8), variables, opening)
    fresh = payroll_sequence(rules, payroll, Month(2026, 8), dict(variables), opening)
    assert [step.payslips for step in kept] == [step.payslips for step in fresh]


def test_leave_beyond_the_balance_is_refused_with_its_location(demo: Path) -> None:
    from eage.payroll.month import compute_payslips

    write_variables(
        demo, "2026-03", "employees:\n  cmartin:\n    leave: [{from: 2026-03-02, to: 2026-03-14}]\n"
    )
    rules, payroll, opening, variables = demo_sequence(demo, range(1, 5))
    with pytest.raises(InputError) as info:
        compute_payslips(rules, payroll, Month(2026, 4), variables, opening)
    assert str(info.value).startswith(
        "ledger/payroll/2026-03.yaml:3 [employees.cmartin.leave[0]]: cmartin takes 12 jours ouvrables of paid "
        "leave in 2026-03 but has 0.00 left of the closed reference periods (N-1, and days carried over)"
    )


def test_a_bad_conges_file_is_refused_located_relative_to_the_group(demo: Path) -> None:
    from eage.app.inputs import read_leave_opening
    from eage.rules.bundle import load_rules

    path = demo / "rules/payroll/conges.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("unit: {per_month: days", "unit: {per_month: eur")
    )
    with pytest.raises(InputError) as info:
        read_leave_opening(demo, load_rules(demo))
    assert str(info.value).startswith("rules/payroll/conges.yaml:")
    assert "acquisition" in str(info.value)


def test_a_bonus_stays_out_of_the_tenth_base(demo: Path) -> None:
    """conges.yaml primes_hors_dixieme: the December bonus is in the gross, not in period N's base."""
    from eage.payroll.month import payroll_sequence

    write_variables(demo, "2026-12", "employees:\n  lpetit:\n    bonus: 1000.00\n")
    rules, payroll, opening, variables = demo_sequence(demo, range(1, 13))
    steps = payroll_sequence(rules, payroll, Month(2026, 12), variables, opening)
    november, december = steps[-2], steps[-1]
    slip = dict(december.payslips)["lpetit"]
    assert slip.bonus == D("1000.00")
    added = december.leave["lpetit"].n.gross - november.leave["lpetit"].n.gross
    assert added == slip.gross - D("1000.00")
