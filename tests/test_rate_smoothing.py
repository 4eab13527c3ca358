"""Pools billed at the year-to-date rate (rules/allocation.yaml ``rate_method: year_to_date``).

The rate of a month is the pool's cost from 1 January to the end of the month over its billable hours in
the same months; members are billed cents(rate x hours); ``eage close`` trues the year up. What holds
instead of "billed = cost each month":

- after the close, each year-to-date pool's billing of the year equals its cost of the year, to the
  cent, and each member's equals its share of it (the year's cost pro rata to its hours of the year);
- the rate of a month lies between the smallest and the largest monthly rate (cost / hours of each
  month alone) of the months to date, within the rounding to 4 decimals: a weighted mean of them;
- a pool billed monthly still bills its cost exactly every month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eage.allocation.core import (
    OVERHEAD,
    AllocationResult,
    AllocationRules,
    ToDate,
    add_to_date,
    allocate,
    member_hours_by_pool,
    month_to_date,
)
from eage.allocation.rules import allocation_rules
from eage.errors import InputError
from eage.invoicing import trueup
from eage.invoicing.issue import IssuePlan
from eage.ledger.load import CostLine
from eage.money import cents
from eage.rules.bundle import load_rules
from eage.timesheets import TimesheetLine

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"compta": "Comptabilité", "paie": "Paie"}
MEMBERS = ["m1", "m2", "m3"]


def rules(year_to_date: frozenset[str]) -> AllocationRules:
    return AllocationRules(
        mode="actual",
        services=SERVICES,
        staff_accounts=["Charges:64-Personnel"],
        overhead_accounts=["Charges:61-Services"],
        overhead_label="Frais",
        overhead_key="billable_hours",
        excluded_accounts=[],
        primary_service={"alice": "compta", "bob": "paie"},
        standard_rates={},
        year_to_date=year_to_date,
    )


def cost(month: int, account: str, amount: Decimal, employee: str | None = None) -> CostLine:
    return CostLine(dt.date(2026, month, 28), account, amount, employee, None, None, "ledger/x.beancount", 1)


def hours(month: int, employee: str, member: str | None, service: str, amount: Decimal) -> TimesheetLine:
    return TimesheetLine(dt.date(2026, month, 2), employee, member, service, amount, "", 1)


Month = tuple[list[CostLine], list[TimesheetLine]]


@st.composite
def a_year(draw: st.DrawFn) -> list[Month]:
    """1 to 12 months: alice's and bob's pay, the rent, and hours of every member on each service
    (each pool has hours every month, as in the demo; a holiday month has few)."""
    months = []
    for month in range(1, draw(st.integers(1, 12)) + 1):
        money = st.decimals(min_value=0, max_value=9000, places=2)
        costs = [
            cost(month, "Charges:64-Personnel:6411", draw(money), "alice"),
            cost(month, "Charges:64-Personnel:6411", draw(money), "bob"),
            cost(month, "Charges:61-Services:6132", draw(st.decimals(min_value=0, max_value=2000, places=2))),
        ]
        lines = [
            hours(month, "alice" if service == "compta" else "bob", member, service, h)
            for member in MEMBERS
            for service in SERVICES
            for h in [draw(st.decimals(min_value=D("0.25"), max_value=80, places=2))]
        ]
        lines.append(
            hours(month, "alice", None, "compta", draw(st.decimals(min_value=0, max_value=20, places=2)))
        )
        months.append((costs, lines))
    return months


def run_year(
    months: list[Month], alloc: AllocationRules
) -> tuple[list[AllocationResult], dict[tuple[str, str], Decimal]]:
    """Allocate each month with its year to date, as ``eage run`` does; the results and what was billed."""
    to_date: dict[str, ToDate] = {}
    results = []
    billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for number, (costs, lines) in enumerate(months, 1):
        result = allocate(f"2026-{number:02d}", costs, lines, alloc, to_date)
        results.append(result)
        for share in result.shares:
            billed[(share.member, share.service)] += share.amount
        to_date = add_to_date(to_date, month_to_date(costs, lines, alloc))
    return results, dict(billed)


def year_pool_cost(months: list[Month], alloc: AllocationRules) -> dict[str, Decimal]:
    total: dict[str, ToDate] = {}
    for costs, lines in months:
        total = add_to_date(total, month_to_date(costs, lines, alloc))
    return {pool: value.cost for pool, value in total.items()}


@settings(max_examples=80, deadline=None)
@given(a_year())
def test_after_the_close_each_year_to_date_pool_bills_its_years_cost_to_the_cent(months: list[Month]) -> None:
    alloc = rules(frozenset({*SERVICES, OVERHEAD}))
    _, billed = run_year(months, alloc)
    pool_cost = year_pool_cost(months, alloc)
    all_lines = [line for _, lines in months for line in lines]
    targets = trueup.year_to_date_targets(2026, pool_cost, member_hours_by_pool(all_lines, SERVICES), billed)
    diffs = trueup.trueup_differences(targets, billed)
    after: dict[str, Decimal] = defaultdict(Decimal)
    for (member, pool), amount in billed.items():
        after[pool] += amount + diffs.get(member, {}).get(pool, D(0))
    for pool, amount in pool_cost.items():
        assert after[pool] == amount, pool
    # Each member ends at its share of the year's cost, pro rata to its hours of the year.
    for (member, pool), target in targets.items():
        assert billed.get((member, pool), D(0)) + diffs.get(member, {}).get(pool, D(0)) == target


@settings(max_examples=80, deadline=None)
@given(a_year())
def test_the_rate_of_a_month_lies_between_the_monthly_rates_to_date(months: list[Month]) -> None:
    alloc = rules(frozenset({*SERVICES, OVERHEAD}))
    results, _ = run_year(months, alloc)
    monthly: dict[str, list[Decimal]] = defaultdict(list)
    half = D("0.00005")  # the rate is rounded to 4 decimals
    for result in results:
        for pool in result.pools:
            if pool.billable_hours:
                monthly[pool.service].append(pool.cost / pool.billable_hours)
            if monthly[pool.service]:
                assert min(monthly[pool.service]) - half <= pool.rate <= max(monthly[pool.service]) + half
            for share in result.shares:
                if share.service == pool.service:
                    assert share.rate == pool.rate
                    if pool.before is not None and pool.before.billable_hours:
                        assert share.amount == cents(share.hours * pool.rate)


@settings(max_examples=40, deadline=None)
@given(a_year())
def test_the_years_first_month_bills_its_cost_exactly(months: list[Month]) -> None:
    results, _ = run_year(months[:1], rules(frozenset({*SERVICES, OVERHEAD})))
    for pool in results[0].pools:
        billed = sum((s.amount for s in results[0].shares if s.service == pool.service), D(0))
        assert billed == (pool.cost if pool.billable_hours else D(0))


@settings(max_examples=60, deadline=None)
@given(a_year())
def test_a_pool_billed_monthly_bills_its_cost_every_month_beside_year_to_date_overheads(
    months: list[Month],
) -> None:
    alloc = rules(frozenset({OVERHEAD}))
    results, _ = run_year(months, alloc)
    for result in results:
        for pool in result.pools:
            billed = sum((s.amount for s in result.shares if s.service == pool.service), D(0))
            if pool.service != OVERHEAD and pool.billable_hours:
                assert billed == pool.cost
    _, billed_year = run_year(months, alloc)
    pool_cost = year_pool_cost(months, alloc)
    assert set(pool_cost) == {OVERHEAD}
    all_lines = [line for _, lines in months for line in lines]
    targets = trueup.year_to_date_targets(
        2026, pool_cost, member_hours_by_pool(all_lines, SERVICES), billed_year
    )
    diffs = trueup.trueup_differences(targets, billed_year)
    assert all(set(d) <= {OVERHEAD} for d in diffs.values())  # nothing owed on the monthly pools


def test_a_holiday_month_does_not_bill_its_rent_over_few_hours() -> None:
    """The demo's shape: 3 000 of rent a month, 300 billable hours, 60 in August."""
    months = []
    for month in range(1, 9):
        worked = D(60) if month == 8 else D(300)
        months.append(
            (
                [cost(month, "Charges:61-Services:6132", D(3000))],
                [hours(month, "alice", "m1", "compta", worked)],
            )
        )
    monthly, _ = run_year(months, rules(frozenset()))
    smoothed, _ = run_year(months, rules(frozenset({OVERHEAD})))
    rate = {r.month: {p.service: p.rate for p in r.pools}[OVERHEAD] for r in monthly}
    assert rate["2026-07"] == D(10) and rate["2026-08"] == D(50)
    ytd = {r.month: {p.service: p.rate for p in r.pools}[OVERHEAD] for r in smoothed}
    assert ytd["2026-07"] == D(10) and ytd["2026-08"] == D("11.1111")  # 24 000 / 2 160 h


def test_the_management_fee_follows_the_true_up() -> None:
    billed = {("m1", OVERHEAD): D("100.00"), ("m1", "management_fee"): D("5.00"), ("m1", "compta"): D(50)}
    targets = trueup.year_to_date_targets(
        2026, {OVERHEAD: D("120.00")}, {OVERHEAD: {"m1": D(10)}}, billed, fee_rate=D("0.05")
    )
    assert targets == {
        ("m1", OVERHEAD): D("120.00"),
        ("m1", "management_fee"): D("6.00"),
        ("m1", "compta"): D(50),
    }


def test_a_year_to_date_pool_with_cost_and_no_hours_in_the_year_is_refused_at_the_close() -> None:
    with pytest.raises(InputError) as err:
        trueup.year_to_date_targets(2026, {OVERHEAD: D("10.00")}, {OVERHEAD: {}}, {})
    assert "no billable hours in the year" in err.value.problems[0].message


def test_a_cost_before_the_years_first_hours_waits_for_them() -> None:
    alloc = rules(frozenset({OVERHEAD}))
    january = allocate("2026-01", [cost(1, "Charges:61-Services:6132", D(500))], [], alloc)
    assert [s for s in january.shares if s.service == OVERHEAD] == []
    before = month_to_date([cost(1, "Charges:61-Services:6132", D(500))], [], alloc)
    february = allocate(
        "2026-02",
        [cost(2, "Charges:61-Services:6132", D(500))],
        [hours(2, "alice", "m1", "compta", D(100))],
        alloc,
        before,
    )
    (share,) = [s for s in february.shares if s.service == OVERHEAD]
    assert share.rate == D(10) and share.amount == D("1000.00")


# --- the rules --------------------------------------------------------------------------------------------


def test_rate_method_is_read_from_the_rules(tmp_path: Path) -> None:
    rules_dir = _copy_rules(tmp_path)
    path = rules_dir / "allocation.yaml"
    text = _without_rate_method(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    assert allocation_rules(load_rules(tmp_path), dt.date(2026, 1, 31)).year_to_date == frozenset()
    path.write_text(
        text + "rate_method:\n  services: year_to_date\n  overhead: year_to_date\n", encoding="utf-8"
    )
    alloc = allocation_rules(load_rules(tmp_path), dt.date(2026, 1, 31))
    assert alloc.year_to_date == frozenset({*alloc.services, OVERHEAD})


def test_a_year_to_date_rate_with_standard_rates_or_an_equal_overhead_key_is_refused(tmp_path: Path) -> None:
    rules_dir = _copy_rules(tmp_path)
    path = rules_dir / "allocation.yaml"
    text = _without_rate_method(path.read_text(encoding="utf-8")) + "rate_method:\n  overhead: year_to_date\n"
    path.write_text(text.replace("billing_mode: actual", "billing_mode: standard_rate"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_rules(tmp_path)
    assert "year_to_date applies to billing_mode actual only" in str(err.value)
    path.write_text(text.replace("key: billable_hours", "key: equal"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        allocation_rules(load_rules(tmp_path), dt.date(2026, 1, 31))
    assert err.value.problems[0].key == "rate_method.overhead"


def _copy_rules(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path / "rules"


def _without_rate_method(text: str) -> str:
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("rate_method:"):
            skipping = True
            continue
        if skipping and line.startswith(" "):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


# --- a small group run and closed -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def closed_group(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IssuePlan]:
    """A small group billed at the year-to-date rate for every pool, three months run, January corrected,
    then the year closed."""
    from eage.app import close as app_close
    from eage.app.correct import run_correction
    from groups import GroupSpec, run_month, small_group

    spec = GroupSpec(members=3, staff=2, months=3, seed=5)
    root = small_group(tmp_path_factory.mktemp("ytd") / "group", **spec.kwargs)
    path = root / "rules" / "allocation.yaml"
    text = _without_rate_method(path.read_text(encoding="utf-8"))
    path.write_text(
        text + "rate_method:\n  services: year_to_date\n  overhead: year_to_date\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("eage.invoicing.pdf.render_invoice_pdf", lambda *_a, **_k: b"%PDF-stub")
        mp.setattr("eage.payroll.pdf.render_payslip_pdf", lambda *_a, **_k: b"%PDF-stub payslip")
        mp.setattr("eage.invoicing.validate.validate_facturx_xml", lambda _xml: [])
        for index in range(spec.months):
            run_month(root, spec.month(index))
        # January corrected after March was billed: February's and March's rates to date move, and the
        # close settles them instead of asking for their correction too.
        january = root / "ledger" / "timesheets" / "2025-01.csv"
        line = "2025-01-02,s001,m0001,comptabilite,2.00,suivi\n"
        text = january.read_text(encoding="utf-8")
        assert line in text
        january.write_text(text.replace(line, line.replace("2.00", "4.00"), 1), encoding="utf-8")
        run_correction(root, "2025-01")
        plan = app_close.close_year(root, 2025)
    return root, plan


def test_a_closed_year_bills_each_pools_cost_of_the_year_to_the_cent(
    closed_group: tuple[Path, IssuePlan],
) -> None:
    from eage.app.inputs import load_inputs, with_months
    from eage.ledger.load import load_ledger
    from eage.month import Month

    root, plan = closed_group
    _, problems = load_ledger(root)
    assert problems == []  # the invariants plugin checks the year once its true-up is issued
    inputs = load_inputs(root)
    months = [Month(2025, n) for n in (1, 2, 3)]
    inputs = with_months(inputs, months, payroll=False)
    ledger = inputs.books
    total: dict[str, ToDate] = {}
    for month in months:
        alloc = allocation_rules(inputs.rules, month.last_day)
        costs = ledger.costs(month.first_day, month.end, ledger.settings.name_expenses)
        total = add_to_date(total, month_to_date(costs, inputs.timesheet(month), alloc))
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for (_, pool), amount in trueup.billed_in_year(
        ledger.issued_documents(), inputs.rules.accounts.revenue, 2025
    ).items():
        billed[pool] += amount
    assert {pool: billed[pool] for pool in total} == {pool: value.cost for pool, value in total.items()}
    assert plan.issued  # three months at moving rates leave something to settle


def test_the_close_refuses_hours_that_no_longer_match_the_timesheet(
    closed_group: tuple[Path, IssuePlan], tmp_path: Path
) -> None:
    import shutil

    from eage.app import close as app_close

    root = tmp_path / "group"
    shutil.copytree(closed_group[0], root)
    march = root / "ledger" / "timesheets" / "2025-03.csv"
    lines = march.read_text(encoding="utf-8").splitlines(keepends=True)
    march.write_text("".join(lines[:-1]), encoding="utf-8")  # the month's last line dropped
    with pytest.raises(InputError) as err:
        app_close.close_year(root, 2025, dry_run=True)
    assert any("2025-03" in p.message and " h on " in p.message for p in err.value.problems)


def test_a_month_after_a_corrected_one_reruns_as_a_no_op(
    closed_group: tuple[Path, IssuePlan], tmp_path: Path
) -> None:
    """February was billed at January's first rate to date; January corrected since, February's rate to
    date moved, its own inputs did not: a re-run writes nothing (the close settled the difference)."""
    import shutil

    from conftest import tree_digest
    from groups import run_eage

    root = tmp_path / "group"
    shutil.copytree(closed_group[0], root)
    before = tree_digest(root)
    for month in ("2025-02", "2025-03"):
        outcome = run_eage(["run", month, "--root", str(root)])
        assert outcome.code == 0, outcome.err
        assert "nothing changed" in outcome.out
    assert tree_digest(root) == before


def test_closing_again_issues_nothing(closed_group: tuple[Path, IssuePlan]) -> None:
    from eage.app import close as app_close

    root, _ = closed_group
    assert app_close.close_year(root, 2025, dry_run=True).status == "nothing"


def test_an_invoice_billed_at_a_year_to_date_rate_says_how_the_rate_is_set() -> None:
    from eage.app.run import year_to_date_notes

    lines = [hours(1, "alice", "m1", "compta", D(10)), hours(1, "bob", "m2", "paie", D(5))]
    costs = [
        cost(1, "Charges:61-Services:6132", D(150)),
        cost(1, "Charges:64-Personnel:6411", D(100), "alice"),
    ]
    result = allocate("2026-01", costs, lines, rules(frozenset({OVERHEAD})))
    (note,) = year_to_date_notes(result, "m1")
    assert note.startswith("Taux horaire de l'année à date (Frais) : coût du 1er janvier à la fin du mois")
    assert "régularisé à la clôture annuelle" in note
    assert year_to_date_notes(allocate("2026-01", costs, lines, rules(frozenset())), "m1") == ()


def test_the_run_summary_gives_each_pools_method_rate_and_billing() -> None:
    from eage.app.run import MonthPlan

    lines = [hours(2, "alice", "m1", "compta", D(10)), hours(2, "bob", "m2", "paie", D(30))]
    costs = [
        cost(2, "Charges:61-Services:6132", D(150)),
        cost(2, "Charges:64-Personnel:6411", D(100), "alice"),
    ]
    before = {OVERHEAD: ToDate(D(250), D(10))}
    result = allocate("2026-02", costs, lines, rules(frozenset({OVERHEAD})), before)
    pools = {p["service"]: p for p in MonthPlan("2026-02", result, [], [], {}, "new").summary()["pools"]}  # type: ignore[attr-defined]
    assert pools[OVERHEAD] == {
        "service": OVERHEAD,
        "cost": "150.00",
        "hours": "40.00",
        "rate_method": "year_to_date",
        "rate": "8.0000",  # (250 + 150) / (10 + 40)
        "billed": "320.00",
    }
    assert pools["compta"]["rate_method"] == "monthly" and pools["compta"]["billed"] == "100.00"
