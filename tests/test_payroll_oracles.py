"""The six reference payslips of January 2026 (URSSAF's modele-social), reproduced line by line.

Oracle profile: company subject to VAT (taxe d'apprentissage, no taxe sur les salaires), headcount
"moins de 5", AT/MP 2.08 %, no mutuelle, no versement mobilité. The model does not round per line, we do:
lines within 0.01 EUR, totals within 0.05 EUR. Known model defect not copied: its net imposable of a cadre
includes the employer's prévoyance, which is not taxable within the legal limits (CGI 83, 1° quater).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eage.payroll.engine import PayslipInput, compute_payslip
from eage.payroll.params import PayrollRules, load_payroll_rules

ROOT = Path(__file__).resolve().parents[1]
# A copy of ../shared/oracles/payroll-2026-public.json kept in the repository (its README beside it), so
# that a fresh clone and CI run these cases; a missing file fails the collection instead of skipping.
ORACLES = ROOT / "tests" / "data" / "payroll-2026-public.json"
CASES: list[dict[str, Any]] = json.loads(ORACLES.read_text(encoding="utf-8"))

LINE_TOLERANCE = Decimal("0.01")
TOTAL_TOLERANCE = Decimal("0.05")


@pytest.fixture(scope="module")
def rules() -> PayrollRules:
    return load_payroll_rules(ROOT / "rules" / "payroll")


def _input(case: dict[str, Any]) -> PayslipInput:
    situation = case["situation"]
    gross = Decimal(situation["salarié . contrat . salaire brut"].split()[0])
    hours_key = "salarié . contrat . temps de travail . temps partiel . heures par semaine"
    hours = Decimal(situation.get(hours_key, "35 heure/semaine").split()[0])
    day, month, year = (int(part) for part in case["date"].split("/"))
    assert situation["entreprise . salariés . effectif . seuil"] == "'moins de 5'"
    assert situation["entreprise . TVA"] == "oui"
    return PayslipInput(
        month=dt.date(year, month, day),
        base_gross=gross,
        weekly_hours=hours,
        cadre=situation["salarié . contrat . statut cadre"] == "oui",
        employer_profile="company",
        headcount=4,
        atmp_rate=Decimal("2.08"),
        vm_rate=Decimal(0),
    )


def _d(value: float | int) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_lines_match_the_oracle(rules: PayrollRules, case: dict[str, Any]) -> None:
    slip = compute_payslip(rules, _input(case))
    mine = {(line.side, line.code): line for line in slip.lines}
    for expected in case["lines"]:
        line = mine.pop((expected["side"], expected["code"]))
        assert abs(line.base - _d(expected["base"])) <= LINE_TOLERANCE, expected
        assert line.rate == _d(expected["rate"]), expected
        assert abs(line.amount - _d(expected["amount"])) <= LINE_TOLERANCE, expected
    assert not mine, f"lines the oracle does not have: {sorted(mine)}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_totals_match_the_oracle(rules: PayrollRules, case: dict[str, Any]) -> None:
    slip = compute_payslip(rules, _input(case))
    totals = case["totals"]
    expected_taxable = _d(totals["net_imposable"])
    if slip.cadre:
        # Model defect: remove the employer's prévoyance it adds to the taxable net.
        expected_taxable -= next(_d(line["amount"]) for line in case["lines"] if line["code"] == "prev_cadre")
    pairs = {
        "brut": (slip.gross, _d(totals["brut"])),
        "cotisations_salariales": (slip.employee_contributions, _d(totals["cotisations_salariales"])),
        "cotisations_patronales": (slip.employer_contributions, _d(totals["cotisations_patronales"])),
        "rgdu": (slip.rgdu, _d(totals["rgdu"])),
        "net_avant_impot": (slip.net_before_tax, _d(totals["net_avant_impot"])),
        "net_imposable": (slip.net_taxable, expected_taxable),
        "cout_total_employeur": (slip.employer_cost, _d(totals["cout_total_employeur"])),
    }
    for name, (mine, expected) in pairs.items():
        assert abs(mine - expected) <= TOTAL_TOLERANCE, (name, mine, expected)
    assert slip.rgdu_coefficient == _d(case["params"]["RGDU_coefficient"])
    assert slip.pss == _d(case["params"]["PSS_proratise"])
    assert slip.smic_month == _d(case["params"]["SMIC_contrat"])


def test_all_six_oracles_are_present() -> None:
    assert len(CASES) == 6


# --- issue 14's extra cases: scripts/urssaf_cases/generate.mjs (same model and versions) -------------

EXTRA: list[dict[str, Any]] = json.loads(
    (ROOT / "tests" / "data" / "urssaf-extra-2026.json").read_text(encoding="utf-8")
)
#: The model's headcount for each of its thresholds ("moins de 5" is 4 employees, and so on).
SEUILS = {
    "'moins de 5'": 4,
    "'moins de 11'": 10,
    "'moins de 20'": 19,
    "'moins de 50'": 49,
    "'moins de 150'": 149,
}


def _extra_input(case: dict[str, Any]) -> PayslipInput:
    situation = case["situation"]

    def number(key: str, default: str) -> Decimal:
        return Decimal(situation.get(key, default).split()[0])

    assert situation["salarié . contrat . statut cadre"] == "non" and case["date"] == "01/01/2026"
    return PayslipInput(
        month=dt.date(2026, 1, 1),
        base_gross=number("salarié . contrat . salaire brut", ""),
        employer_profile="company",
        headcount=SEUILS[situation["entreprise . salariés . effectif . seuil"]],
        atmp_rate=Decimal("2.08"),
        mutuelle_total=number("salarié . cotisations . prévoyances . santé . montant", "0"),
        mutuelle_employer_share=number(
            "salarié . cotisations . prévoyances . santé . taux employeur", "50 %"
        ),
        overtime_25_hours=number("salarié . temps de travail . heures supplémentaires", "0"),
    )


@pytest.mark.parametrize("case", EXTRA, ids=[c["id"] for c in EXTRA])
def test_extra_cases_match_the_model(rules: PayrollRules, case: dict[str, Any]) -> None:
    """Lines within 0.01 EUR, totals within 0.05 EUR. One difference of method: the model rounds the
    overtime pay exempt of income tax to the euro (its ``arrondi: oui``), eage keeps it to the cent, so
    for overtime the net taxable is compared after that rounding, and the CSG lines whose base the exempt
    pay moves (deductible CSG, CSG on non-taxable income) within 0.05 EUR."""
    slip = compute_payslip(rules, _extra_input(case))
    totals = case["totals"]
    model_exempt = _d(totals["heures_sup_exonerees"])
    assert abs(slip.overtime_exempt - model_exempt) <= Decimal("0.50")
    pairs = {
        "brut": slip.gross,
        "cotisations_salariales": slip.employee_contributions,
        "cotisations_patronales": slip.employer_contributions,
        "rgdu": slip.rgdu,
        "net_avant_impot": slip.net_before_tax,
        "net_imposable": slip.net_taxable + slip.overtime_exempt - model_exempt,
        "montant_net_social": slip.net_social,
        "cout_total_employeur": slip.employer_cost,
    }
    for name, mine in pairs.items():
        assert abs(mine - _d(totals[name])) <= TOTAL_TOLERANCE, (name, mine, totals[name])
    mine_lines = {(line.side, line.code): line.amount for line in slip.lines}
    for expected in case["lines"]:
        amount = abs(mine_lines.get((expected["side"], expected["code"]), Decimal(0)))
        moved = slip.overtime_exempt and expected["code"] in ("csg_ded", "csg_hs")
        tolerance = TOTAL_TOLERANCE if moved else LINE_TOLERANCE
        assert abs(amount - _d(expected["amount"])) <= tolerance, expected


def test_extra_cases_cover_the_issue() -> None:
    """Mutuelle, overtime under and from 20 employees, 50 employees (PEEC), both sides of 3 SMIC."""
    codes = {line["code"] for case in EXTRA for line in case["lines"]}
    assert {"mutuelle", "forfait_social", "peec", "hs_reduction_salariale", "hs_deduction_patronale"} <= codes
    boundary = {case["id"]: _d(case["totals"]["rgdu"]) for case in EXTRA if "3smic" in case["id"]}
    assert boundary == {"x-3smic-5469.09": Decimal("109.38"), "x-3smic-5469.10": Decimal(0)}


def test_rgdu_keeps_the_january_smic_after_june(rules: PayrollRules) -> None:
    """The July RGDU uses 12.02 EUR, not the June SMIC (BOSS news of June 2026; the model's known defect)."""
    january = compute_payslip(rules, PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal(2200)))
    july = compute_payslip(rules, PayslipInput(month=dt.date(2026, 7, 1), base_gross=Decimal(2200)))
    assert july.rgdu_coefficient == january.rgdu_coefficient == Decimal("0.2448")
    assert july.smic_month == Decimal("1867.02")  # the minimum wage check uses the June SMIC


def test_association_pays_taxe_sur_salaires_not_apprenticeship_tax(rules: PayrollRules) -> None:
    slip = compute_payslip(
        rules,
        PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal(2200), employer_profile="association"),
    )
    codes = {line.code for line in slip.lines}
    assert "ta" not in codes
    assert {"tss_1", "tss_2", "tss_3"} <= codes
    first = next(line for line in slip.lines if line.code == "tss_1")
    assert first.rate == Decimal("4.25")
    assert first.base == Decimal("769.08")  # 9,229 / 12 (décret 2026-562, wages paid in 2026)
    assert first.group == "Taxe sur les salaires"
    assert slip.tss == sum((line.amount for line in slip.lines if line.code.startswith("tss_")), Decimal(0))
    assert slip.employer_total == slip.employer_cost - slip.tss


def test_headcount_thresholds(rules: PayrollRules) -> None:
    def rates(headcount: int) -> dict[str, tuple[Decimal, Decimal]]:
        slip = compute_payslip(
            rules,
            PayslipInput(
                month=dt.date(2026, 1, 1), base_gross=Decimal(5000), headcount=headcount, vm_rate=Decimal(2)
            ),
        )
        return {line.code: (line.base, line.rate) for line in slip.lines if line.side == "employeur"}

    small, medium, large = rates(10), rates(11), rates(50)
    assert small["fp"][1] == Decimal("0.55") and medium["fp"][1] == Decimal("1.00")
    assert "vm" not in small and medium["vm"][1] == Decimal(2)
    assert medium["fnal"] == (Decimal(4005), Decimal("0.10"))
    assert large["fnal"] == (Decimal(5000), Decimal("0.50"))


def test_2025_uses_fillon_and_reduced_rates(rules: PayrollRules) -> None:
    slip = compute_payslip(rules, PayslipInput(month=dt.date(2025, 3, 1), base_gross=Decimal("1801.80")))
    by_code = {line.code: line for line in slip.lines if line.side == "employeur"}
    assert by_code["maladie"].rate == Decimal("7.00")
    assert by_code["af"].rate == Decimal("3.45")
    assert slip.rgdu_coefficient == Decimal("0.3194")  # at the SMIC: T itself
    assert slip.pss == Decimal(3925)
