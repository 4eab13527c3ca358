"""Input the payroll cannot compute is refused with a located message and a fix, never a traceback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from eage.errors import InputError
from eage.payroll.engine import PayslipInput, compute_payslip
from eage.payroll.params import PayrollRules, load_payroll_rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rules() -> PayrollRules:
    return load_payroll_rules(ROOT / "rules" / "payroll")


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "payroll"
    shutil.copytree(ROOT / "rules" / "payroll", target)
    return target


def test_gross_below_prorated_smic(rules: PayrollRules) -> None:
    # 24 h a week in January 2026: SMIC = 12.02 x 104 h = 1,250.08 EUR.
    with pytest.raises(InputError) as info:
        compute_payslip(
            rules,
            PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal("1250.07"), weekly_hours=Decimal(24)),
        )
    text = str(info.value)
    assert "1250.08" in text and "below the SMIC" in text and "pay at least" in text
    compute_payslip(
        rules,
        PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal("1250.08"), weekly_hours=Decimal(24)),
    )


def test_june_smic_applies_to_the_minimum_wage_check(rules: PayrollRules) -> None:
    with pytest.raises(InputError, match=r"1867\.02"):
        compute_payslip(rules, PayslipInput(month=dt.date(2026, 6, 1), base_gross=Decimal("1850")))


def test_month_with_no_parameter_in_force(rules: PayrollRules) -> None:
    with pytest.raises(InputError) as info:
        compute_payslip(rules, PayslipInput(month=dt.date(2019, 1, 1), base_gross=Decimal(3000)))
    (problem,) = info.value.problems
    assert problem.file is not None and problem.file.endswith("parameters.yaml")
    assert problem.key == "smic_horaire.values"
    assert problem.fix is not None and "2019-01-01" in problem.fix


def test_unknown_contract_kind(rules: PayrollRules) -> None:
    with pytest.raises(InputError) as info:
        compute_payslip(
            rules,
            PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal(2500), contract_kind="freelance"),
        )
    (problem,) = info.value.problems
    assert "unknown contract kind 'freelance'" in problem.message
    assert problem.key == "contrats.values" and problem.fix == "use one of CDI, CDD"


def test_unknown_employer_profile(rules: PayrollRules) -> None:
    with pytest.raises(InputError, match="unknown employer profile"):
        compute_payslip(
            rules, PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal(2500), employer_profile="scop")
        )


def test_month_must_be_a_first_day(rules: PayrollRules) -> None:
    with pytest.raises(InputError, match="first of a month"):
        compute_payslip(rules, PayslipInput(month=dt.date(2026, 1, 15), base_gross=Decimal(2500)))


def test_unknown_yaml_key_names_file_line_and_key(rules_copy: Path) -> None:
    path = rules_copy / "contributions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    base: t2\n", "    base: t2\n    plafond: 8\n", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_payroll_rules(rules_copy)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.message == "unknown key"
    assert (
        problem.key is not None
        and problem.key.startswith("contributions[")
        and problem.key.endswith(".plafond")
    )
    assert problem.line is not None


def test_unknown_key_in_parameters(rules_copy: Path) -> None:
    path = rules_copy / "parameters.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "smic_mensuel: 1823.03\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_payroll_rules(rules_copy)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.key == "smic_mensuel" and problem.message == "unknown key"


def test_unknown_organisation_is_reported(rules_copy: Path) -> None:
    path = rules_copy / "contributions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("organisation: prevoyance", "organisation: humanis", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_payroll_rules(rules_copy)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.key is not None and problem.key.endswith(".organisation")
    assert "humanis" in problem.message


def test_rate_out_of_range(rules_copy: Path) -> None:
    path = rules_copy / "contributions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("employer: 13.00}", "employer: 130.00}", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_payroll_rules(rules_copy)
    assert all(p.file == str(path) for p in info.value.problems)
    assert any(p.key is not None and "values" in p.key for p in info.value.problems)


def test_missing_file(rules_copy: Path) -> None:
    (rules_copy / "accounts.yaml").unlink()
    with pytest.raises(InputError) as info:
        load_payroll_rules(rules_copy)
    assert "file not found" in str(info.value) and "accounts.yaml" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("base_gross", Decimal("1e400")), ("bonus", Decimal("Infinity")), ("overtime_25_hours", Decimal("NaN"))],
)
def test_an_input_beyond_any_payslip_is_refused(rules: PayrollRules, name: str, value: Decimal) -> None:
    values = {"month": dt.date(2026, 1, 1), "base_gross": Decimal(2500), name: value}
    with pytest.raises(InputError) as info:
        compute_payslip(rules, PayslipInput(**values))  # type: ignore[arg-type]
    (problem,) = info.value.problems
    assert problem.key == name and "not a finite amount" in problem.message


@pytest.mark.parametrize(
    "name", ["complementary_hours", "leave_days", "leave_absence", "leave_indemnity", "mutuelle_total"]
)
def test_a_negative_new_input_is_refused(rules: PayrollRules, name: str) -> None:
    with pytest.raises(InputError) as info:
        compute_payslip(
            rules,
            dataclasses.replace(
                PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal(2200)),
                **{name: Decimal(-1)},  # type: ignore[arg-type]
            ),
        )
    assert info.value.problems[0].key == name


def test_a_prevoyance_rate_out_of_range_is_refused(rules: PayrollRules) -> None:
    with pytest.raises(InputError) as info:
        compute_payslip(
            rules,
            PayslipInput(month=dt.date(2026, 1, 1), base_gross=Decimal(2200), prevoyance_rate=Decimal(150)),
        )
    assert info.value.problems[0].key == "prevoyance_rate"


def test_overtime_rules_naming_an_unknown_contribution_are_refused(rules_copy: Path) -> None:
    path = rules_copy / "reductions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("employee_codes: [vieillesse_plaf,", "employee_codes: [vieillesse,"), encoding="utf-8"
    )
    with pytest.raises(InputError) as info:
        load_payroll_rules(rules_copy)
    problems = info.value.problems
    assert len(problems) == 3  # one per dated value
    assert all("'vieillesse'" in p.message and (p.key or "").endswith(".employee_codes") for p in problems)
