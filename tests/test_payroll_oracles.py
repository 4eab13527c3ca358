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
