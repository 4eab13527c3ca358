"""The monthly split: pools read from cost lines, shares pro rata to hours, exact to the cent."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eage.allocation.core import OVERHEAD, AllocationRules, allocate
from eage.errors import InputError
from eage.ledger.load import CostLine
from eage.timesheets import TimesheetLine

DAY = dt.date(2026, 11, 30)
RULES = AllocationRules(
    mode="actual",
    services={"compta": "Comptabilité", "paie": "Paie"},
    staff_accounts=["Charges:64-Personnel"],
    overhead_accounts=["Charges:61-Services"],
    overhead_label="Frais",
    overhead_key="billable_hours",
    excluded_accounts=["Charges:67-Exceptionnel"],
    primary_service={"alice": "compta", "bob": "paie"},
    standard_rates={},
)


def cost(account: str, amount: str, employee: str | None = None, service: str | None = None) -> CostLine:
    return CostLine(DAY, account, Decimal(amount), employee, service, None, "ledger/x.beancount", 1)


def line(employee: str, member: str | None, service: str, hours: str, day: int = 2) -> TimesheetLine:
    return TimesheetLine(dt.date(2026, 11, day), employee, member, service, Decimal(hours), "", 1)


def test_internal_time_is_borne_by_billable_hours() -> None:
    costs = [cost("Charges:64-Personnel:6411", "1000.00", employee="alice")]
    lines = [
        line("alice", "m1", "compta", "3"),
        line("alice", "m2", "compta", "1"),
        line("alice", None, "compta", "4"),
    ]
    result = allocate("2026-11", costs, lines, RULES)
    shares = {(s.member, s.service): s.amount for s in result.shares}
    assert shares == {("m1", "compta"): Decimal("750.00"), ("m2", "compta"): Decimal("250.00")}
    assert result.total_billed == result.total_cost == Decimal("1000.00")


def test_employee_cost_spreads_over_services_by_hours() -> None:
    costs = [cost("Charges:64-Personnel:6411", "900.00", employee="bob")]
    lines = [line("bob", "m1", "paie", "2"), line("bob", "m2", "compta", "1")]
    result = allocate("2026-11", costs, lines, RULES)
    pools = {p.service: p.cost for p in result.pools}
    assert pools == {"compta": Decimal("300.00"), "paie": Decimal("600.00"), OVERHEAD: Decimal("0.00")}


def test_overhead_split_by_total_billable_hours_and_excluded_cost_kept_out() -> None:
    costs = [
        cost("Charges:64-Personnel:6411", "100.00", employee="alice"),
        cost("Charges:61-Services:6132", "100.00"),
        cost("Charges:67-Exceptionnel:671", "55.00"),
        cost("Charges:64-Personnel:6475", "10.00"),  # staff account, no employee: overhead
    ]
    lines = [line("alice", "m1", "compta", "1"), line("alice", "m2", "compta", "2")]
    result = allocate("2026-11", costs, lines, RULES)
    overhead = {s.member: s.amount for s in result.shares if s.service == OVERHEAD}
    assert overhead == {"m1": Decimal("36.67"), "m2": Decimal("73.33")}
    assert result.excluded_cost == Decimal("55.00")
    assert result.total_billed == Decimal("210.00")


def test_service_metadata_feeds_that_pool_directly() -> None:
    costs = [
        cost("Charges:61-Services:6156", "480.00", service="paie"),
        cost("Charges:64-Personnel:6411", "1.00", "alice"),
    ]
    lines = [line("bob", "m1", "paie", "1"), line("alice", "m2", "compta", "1")]
    result = allocate("2026-11", costs, lines, RULES)
    assert {p.service: p.cost for p in result.pools}["paie"] == Decimal("480.00")


def test_unmapped_expense_account_is_an_error_not_dropped() -> None:
    with pytest.raises(InputError, match="feeds no cost pool"):
        allocate(
            "2026-11", [cost("Charges:62-Autres:6226", "10.00")], [line("alice", "m1", "compta", "1")], RULES
        )


def test_pool_with_cost_and_no_billable_hours_is_a_clear_error() -> None:
    costs = [cost("Charges:64-Personnel:6411", "500.00", employee="bob")]
    lines = [line("bob", None, "paie", "7"), line("alice", "m1", "compta", "1")]
    with pytest.raises(InputError, match="no billable hours"):
        allocate("2026-11", costs, lines, RULES)


def test_standard_rate_mode_bills_hours_at_the_rate() -> None:
    rules = AllocationRules(
        **{**RULES.__dict__, "mode": "standard_rate", "standard_rates": {"compta": Decimal("40")}}
    )
    result = allocate("2026-11", [], [line("alice", "m1", "compta", "2.5")], rules)
    assert [(s.member, s.amount) for s in result.shares] == [("m1", Decimal("100.00"))]


members = st.sampled_from([f"m{i}" for i in range(8)])
tlines = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob"]),
        st.one_of(st.none(), members),
        st.sampled_from(["compta", "paie"]),
        st.decimals(min_value=Decimal("0.25"), max_value=Decimal("8"), places=2),
        st.integers(1, 28),
    ),
    min_size=1,
    max_size=60,
)
money = st.decimals(min_value=Decimal("0"), max_value=Decimal("20000"), places=2)


@settings(max_examples=80)
@given(tlines, money, money, money, st.randoms())
def test_shares_sum_to_pools_whatever_the_hours(
    raw: list[tuple[str, str | None, str, Decimal, int]],
    alice: Decimal,
    bob: Decimal,
    overhead: Decimal,
    rnd: random.Random,
) -> None:
    lines = [line(e, m, s, str(h), d) for e, m, s, h, d in raw]
    costs = [
        cost("Charges:64-Personnel:6411", str(alice), employee="alice"),
        cost("Charges:64-Personnel:6411", str(bob), employee="bob"),
        cost("Charges:61-Services:6132", str(overhead)),
    ]
    try:
        result = allocate("2026-11", costs, lines, RULES)
    except InputError as exc:
        # only legitimate refusal: a pool with a cost but no billable hours
        assert "no billable hours" in str(exc) or "no member has billable hours" in str(exc)
        return
    assert result.total_billed == result.total_cost == alice + bob + overhead
    for pool in result.pools:
        billed = sum(s.amount for s in result.shares if s.service == pool.service)
        assert billed == pool.cost
    billable = {m for _, m, _, _, _ in raw if m is not None}
    assert set(result.members()) <= billable  # a member with zero hours gets nothing
    shuffled = lines[:]
    rnd.shuffle(shuffled)
    assert allocate("2026-11", costs, shuffled, RULES) == result  # order does not matter, deterministic
