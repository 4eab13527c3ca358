"""The law of issue 14 in the payroll engine, case by case (docs/research/issue-14-law.md, cited per test):
the RGDU's 3-SMIC boundary and its progressive regularisation, the headcount of each threshold, PEEC,
the 2026 taxe sur les salaires, the health cover, overtime and complementary hours, the net social."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eage.errors import InputError
from eage.money import ZERO, cents
from eage.payroll.engine import (
    OVERTIME_EMPLOYEE_CODE,
    OVERTIME_EMPLOYER_CODE,
    RGDU_CODE,
    Headcounts,
    Payslip,
    PayslipInput,
    YearToDate,
    compute_payslip,
)
from eage.payroll.params import Rgdu, load_payroll_rules

ROOT = Path(__file__).resolve().parents[1]
RULES = load_payroll_rules(ROOT / "rules" / "payroll")
JAN = dt.date(2026, 1, 1)
# A GE whose staff are all made available to its members: none counted (CSS L130-1 III), point 9.
GE = Headcounts(fnal=0, peec=0, rgdu=0, overtime_deduction=0, forfait_social=0)


def slip(**kw: object) -> Payslip:
    values: dict[str, object] = {"month": JAN, "base_gross": Decimal(2200)}
    values.update(kw)
    return compute_payslip(RULES, PayslipInput(**values))  # type: ignore[arg-type]


def line(payslip: Payslip, code: str, side: str = "employeur") -> Decimal | None:
    return next((x.amount for x in payslip.lines if x.code == code and x.side == side), None)


# --- RGDU (point 3) --------------------------------------------------------------------------------


def test_rgdu_just_below_three_smic_is_the_minimum_coefficient() -> None:
    """5 469.09 < 3 x 12.02 x 35 x 52 / 12 = 5 469.10: eligible, C = Tmin = 0.0200, 109.38 EUR."""
    below = slip(base_gross=Decimal("5469.09"))
    assert below.rgdu_coefficient == Decimal("0.0200")
    assert below.rgdu == Decimal("109.38")
    at = slip(base_gross=Decimal("5469.10"))
    assert at.rgdu == 0 and line(at, RGDU_CODE) is None


def test_rgdu_smic_and_smic_in_force_are_two_named_figures() -> None:
    """July 2026, part time 28 h: the salary floor uses the June SMIC (12.31), the RGDU the frozen 12.02."""
    july = slip(month=dt.date(2026, 7, 1), weekly_hours=Decimal(28), base_gross=Decimal(1800))
    assert july.smic_month == cents(Decimal("12.31") * 28 * 52 / 12)  # 1 493.61
    assert july.rgdu_smic == cents(Decimal("12.02") * 28 * 52 / 12)  # 1 458.43
    with pytest.raises(InputError, match="below the SMIC"):
        slip(month=dt.date(2026, 7, 1), weekly_hours=Decimal(28), base_gross=Decimal("1493.60"))


def test_rgdu_negative_month_is_a_regularisation_line() -> None:
    january = slip(base_gross=Decimal(1900))
    february = slip(month=dt.date(2026, 2, 1), base_gross=Decimal(6000), ytd=january.cumulative)
    assert february.rgdu < 0
    (reprise,) = [x for x in february.lines if x.code == RGDU_CODE]
    assert reprise.label == "Régularisation RGDU" and reprise.amount == -february.rgdu > 0
    assert reprise.group == "Exonérations et allègements de cotisations"
    assert sum((part for _, part in february.rgdu_split), ZERO) == february.rgdu
    assert february.cumulative.rgdu == january.rgdu + february.rgdu


def _annual_reduction(gross: Decimal, smic_year: Decimal, headcount: int) -> Decimal:
    """CSS D241-7 on the year: C = Tmin + Tdelta [1/2 (3 SMIC / pay - 1)]^P, 4 decimals, 0 from 3 SMIC."""
    reduction = RULES.reductions.reduction_generale.values[JAN]
    assert isinstance(reduction, Rgdu)
    if gross >= 3 * smic_year:
        return ZERO
    inner = (3 * smic_year / gross - 1) / 2
    raw = reduction.tmin + reduction.tdelta(headcount) * inner**reduction.exponent
    c = min(raw.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), reduction.maximum(headcount))
    return cents(gross * c)


grosses = st.lists(
    st.decimals(min_value=Decimal("1867.02"), max_value=Decimal(9000), places=2), min_size=12, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(grosses, st.sampled_from([1, 49, 50]))
def test_rgdu_months_sum_to_the_annual_formula(monthly: list[Decimal], headcount: int) -> None:
    """Progressive regularisation (D241-10): the twelve months sum to the annual reduction computed on the
    annual pay and the annual SMIC 1 820 x 12.02 (frozen for 2026), to the cent: each month is the year to
    date's reduction less the months before, so the sum telescopes; the SMIC summed month by month is cut
    at 1e-10 EUR, which can move the 4-decimal coefficient only for a pay within 1e-9 of a rounding edge."""
    ytd: YearToDate | None = None
    total = ZERO
    for month, gross in enumerate(monthly, start=1):
        payslip = slip(month=dt.date(2026, month, 1), base_gross=gross, headcount=headcount, ytd=ytd)
        ytd = payslip.cumulative
        total += payslip.rgdu
    assert total == _annual_reduction(sum(monthly, ZERO), 1820 * Decimal("12.02"), headcount)


def test_rgdu_without_ytd_is_the_month_alone() -> None:
    alone = slip(base_gross=Decimal(2500))
    first = slip(base_gross=Decimal(2500), ytd=YearToDate())
    assert alone.rgdu == first.rgdu == cents(Decimal(2500) * alone.rgdu_coefficient)


# --- headcount per threshold (point 9) -------------------------------------------------------------


def test_each_threshold_reads_its_own_headcount() -> None:
    """A GE of 60 whose staff are all made available: FNAL 0.10 %, Tdelta 0.3781, no forfait social,
    no PEEC, 1.50 EUR per overtime hour; the payroll's headcount still drives the others (formation 1 %)."""
    ge = slip(headcount=60, headcounts=GE, mutuelle_total=Decimal(60), overtime_25_hours=Decimal(4))
    plain = slip(headcount=60, mutuelle_total=Decimal(60), overtime_25_hours=Decimal(4))
    fnal = next(x for x in ge.lines if x.code == "fnal")
    assert fnal.rate == Decimal("0.10") and fnal.base == min(ge.gross, ge.pss)
    assert next(x for x in plain.lines if x.code == "fnal").rate == Decimal("0.50")
    assert line(ge, "forfait_social") is None and line(plain, "forfait_social") == cents(
        Decimal(30) * 8 / 100
    )
    assert line(ge, "peec") is None and line(plain, "peec") == cents(plain.gross * Decimal("0.0045"))
    assert line(ge, OVERTIME_EMPLOYER_CODE) == Decimal("-6.00")
    assert line(plain, OVERTIME_EMPLOYER_CODE) == Decimal("-2.00")
    assert ge.rgdu_coefficient < plain.rgdu_coefficient  # Tdelta 0.3781 (FNAL 0.10 %) against 0.3821
    assert next(x for x in ge.lines if x.code == "fp").rate == Decimal(1)


def test_a_negative_headcount_is_refused() -> None:
    with pytest.raises(InputError, match=r"headcounts\.peec"):
        slip(headcounts=Headcounts(fnal=0, peec=-1, rgdu=0, overtime_deduction=0, forfait_social=0))


# --- PEEC (point 2), TSS (point 1) -----------------------------------------------------------------


def test_peec_from_fifty_employees() -> None:
    assert line(slip(headcount=49), "peec") is None
    peec = next(x for x in slip(headcount=50).lines if x.code == "peec")
    assert peec.rate == Decimal("0.45") and peec.amount == Decimal("9.90")
    assert peec.group == "Autres charges dues par l'employeur"


def test_tss_2026_brackets_apply_to_wages_of_2026() -> None:
    """Décret 2026-562: 9 229 / 18 423 EUR a year; 2025 kept 9 147 / 18 259 (décret 2025-547)."""
    y2026 = slip(base_gross=Decimal(3000), employer_profile="association")
    y2025 = slip(month=dt.date(2025, 12, 1), base_gross=Decimal(3000), employer_profile="association")
    bases = {x.code: x.base for x in y2026.lines if x.code.startswith("tss_")}
    assert bases == {"tss_1": Decimal("769.08"), "tss_2": Decimal("766.17"), "tss_3": Decimal("1464.75")}
    assert next(x.base for x in y2025.lines if x.code == "tss_1") == Decimal("762.25")
    assert y2026.tss == sum((x.amount for x in y2026.lines if x.code.startswith("tss_")), ZERO)
    assert y2026.employer_total == y2026.employer_cost - y2026.tss
    assert y2026.references[-2].startswith("décret n° 2026-562")
    assert {x.group for x in y2026.lines if x.code.startswith("tss_")} == {"Taxe sur les salaires"}


# --- health and prévoyance (point 7) ---------------------------------------------------------------


def test_mutuelle_two_lines_csg_base_net_taxable() -> None:
    without = slip(headcount=12)
    health = slip(headcount=12, mutuelle_total=Decimal("75.55"), mutuelle_employer_share=Decimal(60))
    employee = next(x for x in health.lines if x.code == "mutuelle" and x.side == "salarié")
    employer = next(x for x in health.lines if x.code == "mutuelle" and x.side == "employeur")
    assert (employee.group, employer.group) == ("Santé", "Santé")
    assert employer.amount == Decimal("45.33") and employee.amount == Decimal("30.22")
    csg = next(x.base for x in health.lines if x.code == "csg_ded")
    assert csg == next(x.base for x in without.lines if x.code == "csg_ded") + employer.amount
    # The employee's share is deducted; the employer's is a taxable benefit (CGI 83 1° quater).
    assert health.net_before_tax < without.net_before_tax
    csg_cost = sum(
        (line(health, c, "salarié") or ZERO) - (line(without, c, "salarié") or ZERO)
        for c in ("csg_nd", "crds")
    )
    assert health.net_taxable == (
        without.net_taxable
        - employee.amount
        - (line(health, "csg_ded", "salarié") or ZERO)
        + (line(without, "csg_ded", "salarié") or ZERO)
        - csg_cost
        + csg_cost
        + employer.amount
    )
    assert line(health, "forfait_social") == cents(employer.amount * 8 / 100)
    assert line(slip(headcount=10, mutuelle_total=Decimal(70)), "forfait_social") is None
    assert health.net_social == health.net_before_tax


def test_the_employer_pays_at_least_half_of_the_health_cover() -> None:
    with pytest.raises(InputError, match="mutuelle_employer_share") as caught:
        slip(mutuelle_total=Decimal(70), mutuelle_employer_share=Decimal(40))
    assert "L911-7" in (caught.value.problems[0].fix or "")


def test_prevoyance_rate_of_the_contract() -> None:
    non_cadre = slip(prevoyance_rate=Decimal("0.80"))
    assert line(non_cadre, "prev_cadre") == cents(Decimal(2200) * Decimal("0.008"))
    cadre = slip(cadre=True, base_gross=Decimal(4500), prevoyance_rate=Decimal(2))
    assert next(x.rate for x in cadre.lines if x.code == "prev_cadre") == Decimal(2)
    with pytest.raises(InputError, match=r"below the 1\.50 % minimum"):
        slip(cadre=True, base_gross=Decimal(4500), prevoyance_rate=Decimal(1))


# --- overtime and complementary hours (point 8) ----------------------------------------------------


def test_overtime_reliefs() -> None:
    base = slip(pas_rate=Decimal(10))
    over = slip(overtime_25_hours=Decimal(10), pas_rate=Decimal(10))
    hs = next(e.amount for e in over.earnings if e.code == "hs25")
    relief = next(x for x in over.lines if x.code == OVERTIME_EMPLOYEE_CODE)
    assert relief.side == "salarié" and relief.rate == Decimal("-11.3100")  # 6.90 + 0.40 + 3.15 + 0.86
    assert relief.amount == -cents(hs * Decimal("0.1131"))
    assert line(over, OVERTIME_EMPLOYER_CODE) == Decimal("-15.00")
    assert line(slip(overtime_25_hours=Decimal(10), headcount=20), OVERTIME_EMPLOYER_CODE) == Decimal("-5.00")
    # Exempt of income tax (CGI 81 quater): the overtime pay leaves the net taxable; its deductible CSG
    # becomes non-deductible.
    assert over.overtime_exempt == hs
    csg_back = cents(hs * Decimal("0.9825") * Decimal("0.068"))
    taxable_without_exemption = over.net_taxable + hs - csg_back
    assert over.cumulative.overtime_exempt == hs
    assert taxable_without_exemption > base.net_taxable
    assert over.pas == cents(over.net_taxable / 10)


def test_income_tax_cap_of_the_year() -> None:
    """7 500 EUR of net taxable a year = 7 500 / (1 - 0.9825 x 6.8 %) = 8 036.95 EUR of overtime pay."""
    near_cap = YearToDate(months=11, overtime_exempt=Decimal("8000.00"))
    over = slip(month=dt.date(2026, 12, 1), overtime_25_hours=Decimal(10), ytd=near_cap)
    assert over.overtime_exempt == Decimal("36.95")
    assert over.cumulative.overtime_exempt == Decimal("8036.95")


def test_complementary_hours_of_a_part_timer() -> None:
    """24 h a week = 104 h a month: 10.40 h at 10 %, beyond at 25 %, at most one tenth (10.40 h)."""
    part = slip(weekly_hours=Decimal(24), base_gross=Decimal(1500), complementary_hours=Decimal("10.40"))
    codes = {e.code: e for e in part.earnings}
    assert codes["hc10"].quantity == Decimal("10.40") and "hc25" not in codes
    assert codes["hc10"].label == "Heures complémentaires 10 %"
    assert line(part, OVERTIME_EMPLOYEE_CODE, "salarié") is not None
    assert line(part, OVERTIME_EMPLOYER_CODE) is None  # no flat deduction for complementary hours
    with pytest.raises(InputError, match="exceed the ceiling") as caught:
        slip(weekly_hours=Decimal(24), base_gross=Decimal(1500), complementary_hours=Decimal(11))
    assert caught.value.problems[0].key == "heures_complementaires.values"
    with pytest.raises(InputError, match="for part time"):
        slip(complementary_hours=Decimal(2))


def test_complementary_hours_beyond_the_tenth_under_an_agreement(tmp_path: Path) -> None:
    import shutil

    rules_dir = tmp_path / "payroll"
    shutil.copytree(ROOT / "rules" / "payroll", rules_dir)
    path = rules_dir / "parameters.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "first_tranche: 10, ceiling: 10", "first_tranche: 10, ceiling: 33.33"
        ),
        encoding="utf-8",
    )
    rules = load_payroll_rules(rules_dir)
    part = compute_payslip(
        rules,
        PayslipInput(
            month=JAN, weekly_hours=Decimal(24), base_gross=Decimal(1500), complementary_hours=Decimal(20)
        ),
    )
    codes = {e.code: e.quantity for e in part.earnings}
    assert codes["hc10"] == Decimal("10.4") and codes["hc25"] == Decimal("9.6")


def test_overtime_beyond_48_hours_a_week_is_refused() -> None:
    slip(overtime_25_hours=Decimal(34), overtime_50_hours=Decimal(22))  # 207.67 h: within 208 h
    with pytest.raises(InputError, match="maximum of 48 h") as caught:
        slip(overtime_25_hours=Decimal(35), overtime_50_hours=Decimal(22))
    assert caught.value.problems[0].key == "overtime_25_hours"


# --- net social, groups, cumuls (points 4 and 5) ---------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    st.decimals(min_value=Decimal(0), max_value=Decimal(12000), places=2),
    st.sampled_from([Decimal(h) for h in ("17.5", "24", "35", "39")]),
    st.booleans(),
    st.sampled_from(["company", "association"]),
)
def test_net_social_is_net_before_tax_in_a_plain_case(
    above: Decimal, weekly: Decimal, cadre: bool, profile: str
) -> None:
    smic = cents(Decimal("12.02") * weekly * 52 / 12) + Decimal("0.01")
    payslip = slip(base_gross=smic + above, weekly_hours=weekly, cadre=cadre, employer_profile=profile)
    assert payslip.net_social == payslip.net_before_tax
    assert payslip.employer_total == payslip.gross + payslip.employer_contributions - payslip.tss
    assert all(x.group for x in payslip.lines)
    assert payslip.cumulative == YearToDate(
        months=1,
        gross=payslip.gross,
        rgdu_smic=payslip.cumulative.rgdu_smic,
        rgdu=payslip.rgdu,
        net_taxable=payslip.net_taxable,
        hours=payslip.cumulative.hours,
        overtime_exempt=ZERO,
    )
    assert payslip.hours == cents(weekly * 52 / 12)


def test_leave_lines_and_the_indemnity_apart() -> None:
    payslip = slip(leave_days=Decimal(5), leave_absence=Decimal("423.08"), leave_indemnity=Decimal("440.00"))
    codes = {e.code: e.amount for e in payslip.earnings}
    assert codes["cp_absence"] == Decimal("-423.08") and codes["cp_indemnite"] == Decimal("440.00")
    assert payslip.gross == Decimal("2216.92") and payslip.leave_indemnity == Decimal("440.00")
    assert payslip.leave_days == 5
    # Paid leave is not an absence for the RGDU: its SMIC stays whole.
    assert payslip.rgdu_smic == slip().rgdu_smic


def test_employer_shares_beyond_the_exclusion_limit_are_refused() -> None:
    """CSS D242-1: 6 % PMSS + 1.5 % of gross, at most 12 % PMSS (2 200 EUR: 240.30 + 33.00 = 273.30)."""
    slip(mutuelle_total=Decimal("546.60"), mutuelle_employer_share=Decimal(50))  # 273.30: at the limit
    with pytest.raises(InputError, match=r"exceed the 273\.30 EUR") as caught:
        slip(mutuelle_total=Decimal("546.62"), mutuelle_employer_share=Decimal(50))
    assert caught.value.problems[0].key == "prevoyance_exclusion.values"
