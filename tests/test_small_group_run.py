"""The monthly run on small synthetic groups (tests/groups.py), through the ``eage`` command.

What the month must hold, whatever the group: what is billed equals the cost, pool by pool, to the cent;
each member's share of a pool is within one cent of its pro-rata value (hours of the member / billable
hours of the pool); a second run of the month adds nothing; the same inputs give the same bytes. One group
is run for real (PDFs and all) once per test process (``small_group_january``); the property over random
groups uses ``--dry-run``, which plans and validates everything but renders and writes nothing. ``eage
check`` on a small group: test_small_group_check.py.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import tree_digest
from groups import JANUARY, OVERHEAD, billable_hours, posted_shares, run_eage, run_month, small_group

CENT = Decimal("0.01")
MONTH = JANUARY.month(0)


def exact_shares(
    summary: dict[str, Any], hours: dict[str, dict[str, Decimal]]
) -> dict[tuple[str, str], Decimal]:
    """Each member's exact pro-rata share of each pool with a cost: cost x member's hours / pool's hours
    (the overhead pool by all the member's billable hours)."""
    exact: dict[tuple[str, str], Decimal] = {}
    for pool in summary["pools"]:
        cost, pool_hours = Decimal(pool["cost"]), Decimal(pool["hours"])
        if cost == 0:
            continue
        for member, by_service in hours.items():
            member_hours = (
                sum(by_service.values(), Decimal(0))
                if pool["service"] == OVERHEAD
                else by_service.get(pool["service"], Decimal(0))
            )
            exact[(member, pool["service"])] = cost * member_hours / pool_hours
    return exact


def test_billed_equals_cost_for_each_pool(small_group_january: tuple[Path, dict[str, Any]]) -> None:
    root, summary = small_group_january
    assert summary["month"] == MONTH
    assert summary["total_billed"] == summary["total_cost"]
    assert Decimal(summary["total_cost"]) == sum(Decimal(p["cost"]) for p in summary["pools"])
    posted = posted_shares(root, MONTH)
    for pool in summary["pools"]:
        billed = sum((a for (_, service), a in posted.items() if service == pool["service"]), Decimal(0))
        assert billed == Decimal(pool["cost"]), pool["service"]
    # what each member's invoice says is what was posted for them
    for member in summary["members"]:
        lines = [a for (who, _), a in posted.items() if who == member["member"]]
        assert sum(lines, Decimal(0)) == Decimal(member["amount"])


def test_each_share_within_one_cent_of_its_pro_rata_value(
    small_group_january: tuple[Path, dict[str, Any]],
) -> None:
    root, summary = small_group_january
    exact = exact_shares(summary, billable_hours(root, MONTH))
    posted = posted_shares(root, MONTH)
    assert set(posted) == {key for key, value in exact.items() if value != 0}
    for key, value in exact.items():
        assert abs(posted.get(key, Decimal(0)) - value) < CENT, key


def test_the_month_then_checks_clean_and_a_rerun_adds_nothing(
    small_group_january: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root = tmp_path / "group"
    shutil.copytree(small_group_january[0], root)
    assert run_eage(["check", "--root", str(root)]).code == 0
    before = tree_digest(root)
    assert run_month(root, MONTH) == small_group_january[1]
    assert tree_digest(root) == before


def test_same_inputs_same_bytes(small_group_january: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = small_group_january
    again = small_group(tmp_path / "group", **JANUARY.kwargs)
    run_month(again, MONTH)
    assert tree_digest(again) == tree_digest(root)


def test_the_next_month_follows_on_the_numbering(
    small_group_january: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root = tmp_path / "group"
    shutil.copytree(small_group_january[0], root)
    summary = run_month(root, JANUARY.month(1), dry_run=True)
    numbers = [m["invoice"] for m in summary["members"]]
    assert numbers == [f"FAC-2025-{n:04d}" for n in range(JANUARY.members + 1, 2 * JANUARY.members + 1)]


@settings(max_examples=8, deadline=None)
@given(
    members=st.integers(min_value=1, max_value=12),
    staff=st.integers(min_value=1, max_value=5),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_any_small_group_bills_its_cost_pro_rata(
    tmp_path_factory: pytest.TempPathFactory, members: int, staff: int, seed: int
) -> None:
    root = small_group(tmp_path_factory.mktemp("any") / "group", members, staff, months=1, seed=seed)
    summary = run_month(root, MONTH, dry_run=True)
    assert summary["total_billed"] == summary["total_cost"]
    amounts = {m["member"]: Decimal(m["amount"]) for m in summary["members"]}
    assert sum(amounts.values(), Decimal(0)) == Decimal(summary["total_billed"])
    # a member's amount is the sum of its pool shares, each within a cent of its exact value
    exact = exact_shares(summary, billable_hours(root, MONTH))
    pools = sum(1 for p in summary["pools"] if Decimal(p["cost"]) != 0)
    for member, amount in amounts.items():
        value = sum((v for (who, _), v in exact.items() if who == member), Decimal(0))
        assert abs(amount - value) < pools * CENT, member
    assert not (root / "ledger" / "generated").exists()  # a dry run writes nothing
