"""Taxe sur les salaires of an association: the annual abattement (CGI art. 1679 A) month by month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from eage.payroll.journal import tss_relief_transaction

CHARGE = "Charges:63-Impots-taxes:6311-Taxe-sur-les-salaires"
LIABILITY = "Passif:44-Etat:447-Taxe-sur-les-salaires"
DAY = dt.date(2026, 1, 31)

month_tax = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.decimals(min_value=Decimal(0), max_value=Decimal(3000), places=2),
    min_size=1,
)


def booked(months: list[dict[str, Decimal]], abattement: Decimal) -> list[Decimal]:
    """Tax booked to date after each month: provisioned by the payslips, less the relief entries."""
    out, to_date, before = [], Decimal(0), Decimal(0)
    for tax in months:
        txn = tss_relief_transaction("2026-01", tax, before, abattement, CHARGE, LIABILITY, DAY)
        relief = Decimal(0) if txn is None else -sum(p.amount for p in txn.postings if p.account == CHARGE)
        if txn is not None:
            assert txn.balance() == 0
        before += sum(tax.values(), Decimal(0))
        to_date += sum(tax.values(), Decimal(0)) - relief
        out.append(to_date)
    return out


@given(st.lists(month_tax, min_size=1, max_size=12), st.decimals(min_value=0, max_value=30000, places=0))
def test_tax_booked_to_date_is_the_tax_to_date_less_the_abattement(
    months: list[dict[str, Decimal]], abattement: Decimal
) -> None:
    cumulative = Decimal(0)
    for tax, to_date in zip(months, booked(months, abattement), strict=True):
        cumulative += sum(tax.values(), Decimal(0))
        assert to_date == max(Decimal(0), cumulative - abattement)


def test_relief_is_spread_over_the_employees_and_posted_as_a_credit_of_the_charge() -> None:
    txn = tss_relief_transaction(
        "2026-03",
        {"a": Decimal("300.00"), "b": Decimal("100.00")},
        Decimal(0),
        Decimal(24041),
        CHARGE,
        LIABILITY,
        DAY,
    )
    assert txn is not None
    charges = {dict(p.meta)["employee"]: p.amount for p in txn.postings if p.account == CHARGE}
    assert charges == {"a": Decimal("-300.00"), "b": Decimal("-100.00")}
    assert dict(txn.meta)["kind"] == "payroll"


def test_no_relief_once_the_abattement_is_used_up() -> None:
    assert (
        tss_relief_transaction(
            "2026-12", {"a": Decimal("50.00")}, Decimal(30000), Decimal(24041), CHARGE, LIABILITY, DAY
        )
        is None
    )
