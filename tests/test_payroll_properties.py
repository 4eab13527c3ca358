"""Invariants of the payslip and of its journal entry, over many salaries, hours and employer profiles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from eage.payroll.engine import PayslipInput, compute_payslip
from eage.payroll.journal import payroll_transactions
from eage.payroll.params import load_payroll_rules

ROOT = Path(__file__).resolve().parents[1]
RULES = load_payroll_rules(ROOT / "rules" / "payroll")
SMIC_2026 = Decimal("12.02")

months = st.sampled_from(
    [dt.date(2025, m, 1) for m in (1, 6, 12)] + [dt.date(2026, m, 1) for m in (1, 5, 6, 11)]
)
hours = st.sampled_from([Decimal(h) for h in ("10", "17.5", "24", "28", "35", "39")])
headcounts = st.sampled_from([1, 4, 10, 11, 49, 50, 250])
profiles = st.sampled_from(["company", "association"])
extra = st.decimals(min_value=0, max_value=15000, places=2)


def _smic_month(month: dt.date, weekly: Decimal) -> Decimal:
    hourly = Decimal("12.31") if month >= dt.date(2026, 6, 1) else SMIC_2026
    if month < dt.date(2026, 1, 1):
        hourly = Decimal("11.88")
    return (hourly * weekly * 52 / 12).quantize(Decimal("0.01"), rounding="ROUND_UP")


def _input(month: dt.date, weekly: Decimal, above: Decimal, **kw: object) -> PayslipInput:
    return PayslipInput(
        month=month,
        base_gross=_smic_month(month, weekly) + above,
        weekly_hours=weekly,
        atmp_rate=Decimal("2.08"),
        vm_rate=Decimal("1.5"),
        **kw,  # type: ignore[arg-type]
    )


@settings(max_examples=150, deadline=None)
@given(months, hours, extra, headcounts, profiles, st.booleans())
def test_totals_are_consistent(
    month: dt.date, weekly: Decimal, above: Decimal, headcount: int, profile: str, cadre: bool
) -> None:
    slip = compute_payslip(
        RULES,
        _input(month, weekly, above, headcount=headcount, employer_profile=profile, cadre=cadre),
    )
    assert slip.net_before_tax + slip.employee_contributions == slip.gross
    assert slip.employer_cost == slip.gross + slip.employer_contributions
    employer_lines = slip.lines_of("employeur")
    assert slip.employer_contributions == sum((line.amount for line in employer_lines), Decimal(0))
    assert sum((part for _, part in slip.rgdu_split), Decimal(0)) == slip.rgdu
    for line in slip.lines:
        assert line.amount == line.amount.quantize(Decimal("0.01"))


@settings(max_examples=150, deadline=None)
@given(hours, extra, headcounts)
def test_rgdu_coefficient_bounds(weekly: Decimal, above: Decimal, headcount: int) -> None:
    month = dt.date(2026, 3, 1)
    slip = compute_payslip(RULES, _input(month, weekly, above, headcount=headcount))
    tdelta = Decimal("0.3781") if headcount < 50 else Decimal("0.3821")
    assert Decimal(0) <= slip.rgdu_coefficient <= Decimal("0.02") + tdelta
    if slip.gross >= 3 * slip.smic_month:
        assert slip.rgdu_coefficient == 0 and slip.rgdu == 0


@settings(max_examples=100, deadline=None)
@given(months, hours, extra, st.decimals(min_value="0.01", max_value=500, places=2), headcounts)
def test_employer_cost_non_decreasing_with_gross(
    month: dt.date, weekly: Decimal, above: Decimal, step: Decimal, headcount: int
) -> None:
    low = compute_payslip(RULES, _input(month, weekly, above, headcount=headcount))
    high = compute_payslip(RULES, _input(month, weekly, above + step, headcount=headcount))
    assert high.employer_cost >= low.employer_cost


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([Decimal(h) for h in ("10", "17.5", "24", "28")]))
def test_part_time_scales_the_ceilings(weekly: Decimal) -> None:
    slip = compute_payslip(
        RULES, PayslipInput(month=dt.date(2026, 2, 1), base_gross=Decimal(9000), weekly_hours=weekly)
    )
    expected = (Decimal(4005) * weekly / 35).quantize(Decimal("0.01"))
    assert slip.pss == expected
    t1 = next(line for line in slip.lines if line.code == "vieillesse_plaf" and line.side == "salarié")
    assert t1.base == expected
    t2 = next(line for line in slip.lines if line.code == "rc_T2" and line.side == "salarié")
    assert t2.base == min(Decimal(9000), 8 * expected) - expected


@settings(max_examples=150, deadline=None)
@given(
    months,
    hours,
    extra,
    profiles,
    headcounts,
    st.decimals(min_value=0, max_value=10, places=2),
    st.decimals(min_value=0, max_value=10, places=2),
    st.decimals(min_value=0, max_value=3000, places=2),
    st.decimals(min_value=0, max_value=7, places=2),
    st.decimals(min_value=0, max_value=43, places=1),
)
def test_journal_transaction_balances(
    month: dt.date,
    weekly: Decimal,
    above: Decimal,
    profile: str,
    headcount: int,
    ot25: Decimal,
    ot50: Decimal,
    bonus: Decimal,
    absence: Decimal,
    pas_rate: Decimal,
) -> None:
    slip = compute_payslip(
        RULES,
        _input(
            month,
            weekly,
            above,
            employer_profile=profile,
            headcount=headcount,
            overtime_25_hours=ot25,
            overtime_50_hours=ot50,
            bonus=bonus,
            unpaid_absence_hours=absence,
            pas_rate=pas_rate,
            cadre=headcount % 2 == 0,
        ),
    )
    # The payslip's entry, then (association) the month's taxe sur les salaires in its own entry.
    txns = payroll_transactions([("alice", "Alice Durand", "compta", slip)], RULES.accounts, month)
    txn = txns[0]
    for entry in txns:
        assert entry.balance() == Decimal("0.00")
        for posting in entry.postings:
            assert posting.amount == posting.amount.quantize(Decimal("0.01"))
    accounts = RULES.accounts
    amounts = {p.account: p.amount for p in txn.postings if not p.meta}
    assert amounts[accounts.net_pay] == -slip.net_paid
    assert amounts[accounts.salaries] + amounts.get(accounts.bonuses, Decimal(0)) == slip.gross
    charges = sum((p.amount for p in txn.postings if p.account.startswith("Charges:")), Decimal(0))
    assert charges == slip.employer_total
    every_charge = sum(
        (p.amount for entry in txns for p in entry.postings if p.account.startswith("Charges:")), Decimal(0)
    )
    assert every_charge == slip.employer_cost == slip.employer_total + slip.tss
    assert dict(txn.meta) == {
        "kind": "payroll",
        "employee": "alice",
        "payslip": f"PAY-{month:%Y-%m}-alice",
        "service": "compta",
    }
    assert txn.narration == f"Paie {month:%Y-%m} Alice Durand"


def test_payslip_pdf_is_deterministic_and_complete() -> None:
    from eage.payroll.pdf import payslip_html, render_payslip_pdf

    slip = compute_payslip(
        RULES,
        PayslipInput(month=dt.date(2026, 3, 1), base_gross=Decimal(4500), cadre=True, bonus=Decimal(150)),
    )
    employee = {"name": "Camille Martin", "post": "Responsable comptable"}
    employer = {"name": "L'équipe associée", "siret": "12345678900011"}
    html = payslip_html(slip, employee, employer)
    for line in slip.lines:
        assert line.label in html.replace("&#39;", "'")
    assert "mars 2026" in html and "2026-03-31T00:00:00+00:00" in html
    first = render_payslip_pdf(slip, employee, employer)
    assert first.startswith(b"%PDF") and first == render_payslip_pdf(slip, employee, employer)
