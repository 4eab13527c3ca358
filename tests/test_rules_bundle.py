"""The rules bundle: every file under rules/ loaded at once, units declared per parameter, a reference per
dated value, the group's rates held in percent whatever unit the file declares.

Small rules files are written inline; the whole-folder cases start from the demo's rules/ (as git's index
has it) and break one thing in several files.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DEMO
from eage.errors import InputError
from eage.payroll.params import Dated
from eage.rules.base import Strict
from eage.rules.bundle import load_bundle, load_rules, unknown_files
from eage.rules.loader import Number, load_located, load_model
from eage.rules.models import Group
from eage.rules.parameters import Parameter, RateInPercent, Rates

D = dt.date


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def demo_rules(tmp_path: Path) -> Path:
    root = tmp_path / "group"
    shutil.copytree(DEMO / "rules", root / "rules")
    return root


def line_of(path: Path, text: str) -> int:
    """The 1-based number of the first line of ``path`` containing ``text``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class Smic(Strict):
    smic_horaire: Dated[Number]


class OneRate(Strict):
    rate: Parameter[Number]


class Holder(Strict):
    rates: Rates
    single: RateInPercent = Decimal(0)


# --- the bundle --------------------------------------------------------------------------------------


def test_the_demo_loads_as_one_bundle_without_warning(tmp_path: Path) -> None:
    bundle = load_bundle(demo_rules(tmp_path))
    assert bundle.bank is not None
    assert sorted(bundle.budgets) == [2026]
    assert bundle.warnings == []
    assert bundle.payroll.parameters.smic_horaire.unit == "eur_per_hour"


def test_one_problem_in_each_of_four_files_is_reported_at_once_with_file_and_line(tmp_path: Path) -> None:
    root = demo_rules(tmp_path)
    replace(root / "rules/group.yaml", "  headcount: 3\n", "  headcount: trois\n")
    replace(root / "rules/payroll/parameters.yaml", "    2026-06-01: 12.31\n", "    2026-06-01: douze\n")
    replace(root / "rules/bank.yaml", "duplicates:", "doublons:")
    replace(root / "rules/budget/2026.yaml", "year: 2026\n", "year: deux-mille\n")
    with pytest.raises(InputError) as caught:
        load_bundle(root)
    shown = {p.file: p for p in caught.value.problems}
    assert set(shown) == {
        "rules/group.yaml",
        "rules/payroll/parameters.yaml",
        "rules/bank.yaml",
        "rules/budget/2026.yaml",
    }
    assert shown["rules/group.yaml"].line == line_of(root / "rules/group.yaml", "headcount: trois")
    assert shown["rules/group.yaml"].key == "employer.headcount"
    assert shown["rules/payroll/parameters.yaml"].line == line_of(
        root / "rules/payroll/parameters.yaml", "2026-06-01: douze"
    )
    assert shown["rules/payroll/parameters.yaml"].key == "smic_horaire.values.2026-06-01"
    assert shown["rules/bank.yaml"].line is not None and shown["rules/bank.yaml"].message == "unknown key"
    assert shown["rules/budget/2026.yaml"].key == "year"
    assert all(p.line is not None for p in caught.value.problems)


def test_the_bank_aliases_are_checked_against_the_members(tmp_path: Path) -> None:
    root = demo_rules(tmp_path)
    replace(root / "rules/bank.yaml", "aliases:\n", "aliases:\n  les-noctambules: [NOCTAMBULES]\n")
    replace(root / "rules/staff.yaml", "    service: paie\n", "    service: jardinage\n")
    with pytest.raises(InputError) as caught:
        load_bundle(root)
    shown = sorted((p.file or "", p.key or "") for p in caught.value.problems)
    assert shown == [
        ("rules/bank.yaml", "aliases.les-noctambules"),
        ("rules/staff.yaml", "employees[2].service"),
    ]


def test_a_file_under_rules_that_eage_does_not_read_is_a_warning(tmp_path: Path) -> None:
    root = demo_rules(tmp_path)
    write(root / "rules/satff.yaml", "employees: []\n")
    write(root / "rules/payroll/cotisations.yaml", "contributions: []\n")
    write(root / "rules/budget/budget-2027.yaml", "year: 2027\n")
    write(root / "rules/templates/invoice.html.j2", "{{ inv.number }}\n")  # the group's own template
    bundle = load_bundle(root)  # warnings, not errors: what eage reads is valid
    assert [p.file for p in bundle.warnings] == [
        "rules/budget/budget-2027.yaml",
        "rules/payroll/cotisations.yaml",
        "rules/satff.yaml",
    ]
    assert all("does not read" in p.message for p in bundle.warnings)
    assert "rules/payroll/ holds parameters.yaml" in (bundle.warnings[1].fix or "")
    assert "named after its year" in (bundle.warnings[0].fix or "")
    assert unknown_files(root) == bundle.warnings


def test_load_rules_still_loads_the_group_files_alone(tmp_path: Path) -> None:
    rules = load_rules(demo_rules(tmp_path))
    assert rules.group.employer.headcount == 3


# --- units ---------------------------------------------------------------------------------------------


def test_a_unit_not_in_the_list_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """
        smic_horaire:
          description: SMIC horaire brut
          reference: Code du travail L3231-2
          values:
            2026-01-01: 12.02
          unit: euros
        """,
    )
    with pytest.raises(InputError) as caught:
        load_model(path, Smic)
    (problem,) = caught.value.problems
    assert problem.line == 6
    assert problem.key == "smic_horaire.unit"
    assert "'percent'" in problem.message and "'eur_per_hour'" in problem.message


def test_a_unit_per_field_names_fields_of_the_value(tmp_path: Path) -> None:
    from eage.payroll.params import ParametersFile

    text = (DEMO / "rules/payroll/parameters.yaml").read_text(encoding="utf-8")
    path = write(
        tmp_path / "parameters.yaml",
        text.replace("unit: {first: percent, second: percent}", "unit: {first: percent, troisieme: percent}"),
    )
    with pytest.raises(InputError) as caught:
        load_model(path, ParametersFile)
    (problem,) = caught.value.problems
    assert problem.key == "heures_supplementaires"
    assert "troisieme is not a field" in problem.message


def test_a_number_field_without_its_unit_is_refused(tmp_path: Path) -> None:
    from eage.payroll.params import ParametersFile

    text = (DEMO / "rules/payroll/parameters.yaml").read_text(encoding="utf-8")
    path = write(
        tmp_path / "parameters.yaml",
        text.replace("unit: {abattement: percent, pmss_cap: pmss_multiple}", "unit: {abattement: percent}"),
    )
    with pytest.raises(InputError) as caught:
        load_model(path, ParametersFile)
    (problem,) = caught.value.problems
    assert problem.key == "csg_assiette"
    assert "no unit for pmss_cap" in problem.message


def test_contribution_rates_are_declared_in_percent(tmp_path: Path) -> None:
    from eage.payroll.params import ContributionsFile

    text = (DEMO / "rules/payroll/contributions.yaml").read_text(encoding="utf-8")
    path = write(tmp_path / "contributions.yaml", text.replace("    unit: percent\n", "    unit: ratio\n", 1))
    with pytest.raises(InputError) as caught:
        load_model(path, ContributionsFile)
    (problem,) = caught.value.problems
    assert (problem.key, problem.line) == ("contributions[0].unit", 31)
    assert "'percent'" in problem.message


def test_a_payroll_parameter_in_another_unit_than_the_engine_reads_is_refused(tmp_path: Path) -> None:
    from eage.payroll.params import ParametersFile

    text = (DEMO / "rules/payroll/parameters.yaml").read_text(encoding="utf-8")
    path = write(tmp_path / "parameters.yaml", text.replace("unit: eur_per_hour", "unit: eur_per_month", 1))
    with pytest.raises(InputError) as caught:
        load_model(path, ParametersFile)
    (problem,) = caught.value.problems
    assert problem.key == "smic_horaire"
    assert "eage reads this parameter in 'eur_per_hour'" in problem.message


def test_a_payroll_parameter_without_a_unit_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """
        smic_horaire:
          description: SMIC horaire brut
          reference: Code du travail L3231-2
          values: {2026-01-01: 12.02}
        """,
    )
    with pytest.raises(InputError) as caught:
        load_model(path, Smic)
    assert [(p.key, p.message) for p in caught.value.problems] == [("smic_horaire.unit", "Field required")]


# --- references per value --------------------------------------------------------------------------------


def test_a_value_keeps_its_own_reference_and_the_parameter_reference_is_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """
        smic_horaire:
          description: SMIC horaire brut
          reference: Code du travail L3231-2
          unit: eur_per_hour
          values:
            2025-11-01: 11.88
            2026-01-01: {value: 12.02, reference: "décret 2025-1228"}
        """,
    )
    smic = load_model(path, Smic).smic_horaire
    assert smic.values == {D(2025, 11, 1): Decimal("11.88"), D(2026, 1, 1): Decimal("12.02")}
    assert smic.at(D(2026, 3, 1)) == Decimal("12.02")
    assert smic.reference_at(D(2026, 3, 1)) == "décret 2025-1228"
    assert smic.reference_at(D(2025, 12, 31)) == "Code du travail L3231-2"


def test_the_demo_pmss_values_carry_their_arrete() -> None:
    from eage.payroll.params import load_payroll_rules

    pmss = load_payroll_rules(DEMO / "rules/payroll").parameters.pmss
    assert pmss.at(D(2026, 1, 1)) == 4005
    assert pmss.reference_at(D(2026, 1, 1)) == "arrêté du 22 décembre 2025 (4 005 EUR)"
    assert pmss.reference_at(D(2025, 6, 1)) == "arrêté du 19 décembre 2024 (3 925 EUR)"


def test_a_contribution_value_with_its_own_reference_is_validated_and_kept(tmp_path: Path) -> None:
    from eage.payroll.params import ContributionsFile

    text = (DEMO / "rules/payroll/contributions.yaml").read_text(encoding="utf-8")
    old = "      2026-01-01: {employer: 13.00}\n"
    dated = '      2026-01-01: {value: {employer: 13.00}, reference: "CSS D242-3 (2026)"}\n'
    line = text[: text.index(old)].count("\n") + 1
    path = write(tmp_path / "contributions.yaml", text.replace(old, dated, 1))
    maladie = load_model(path, ContributionsFile).contributions[0]
    (case,) = maladie.cases_on(D(2026, 3, 1))
    assert case.employer == Decimal("13.00")
    assert maladie.reference_at(D(2026, 3, 1)) == "CSS D242-3 (2026)"
    assert maladie.reference_at(D(2025, 3, 1)) == maladie.reference
    bad = write(tmp_path / "bad.yaml", text.replace(old, dated.replace("13.00", "treize"), 1))
    with pytest.raises(InputError) as caught:
        load_model(bad, ContributionsFile)
    assert [(p.line, p.key) for p in caught.value.problems] == [
        (line, "contributions[0].values.2026-01-01.value.employer")
    ]


def test_a_misspelt_key_of_a_long_form_value_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.yaml",
        """
        rate:
          unit: percent
          values:
            2026-01-01: {value: 13.00, refrence: "CSS D242-3"}
        """,
    )
    with pytest.raises(InputError) as caught:
        load_model(path, OneRate)
    (problem,) = caught.value.problems
    assert (problem.line, problem.key, problem.message) == (
        4,
        "rate.values.2026-01-01.refrence",
        "unknown key",
    )


def test_a_bad_value_is_located_at_its_day_in_either_form(tmp_path: Path) -> None:
    for value, key in (
        ("douze", "rate.values.2026-01-01"),
        ("{value: douze}", "rate.values.2026-01-01.value"),
    ):
        path = write(tmp_path / "p.yaml", f"rate:\n  unit: percent\n  values:\n    2026-01-01: {value}\n")
        with pytest.raises(InputError) as caught:
            load_model(path, OneRate)
        (problem,) = caught.value.problems
        assert (problem.line, problem.key) == (4, key)


# --- percent and ratio ----------------------------------------------------------------------------------


def test_a_bare_rate_is_a_ratio_held_in_percent(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", "rates: {2026-01-01: 0.0208}\nsingle: 0.054\n")
    holder = load_model(path, Holder)
    assert holder.rates.unit == "ratio"
    assert holder.rates.at(D(2026, 5, 1)) == Decimal("2.08")
    assert str(holder.rates.at(D(2026, 5, 1))) == "2.0800"  # as 0.0208 * 100 always printed
    assert holder.rates.ratios() == {D(2026, 1, 1): Decimal("0.0208")}
    assert holder.single == Decimal("5.4")


def test_a_rate_declared_in_percent_or_in_ratio_is_the_same_percent(tmp_path: Path) -> None:
    percent = write(
        tmp_path / "p.yaml",
        """
        rates:
          unit: percent
          reference: taux notifié par la Carsat
          values:
            2026-01-01: {value: 2.08, reference: "notification du 15 décembre 2025"}
        single: {unit: percent, value: 5.4}
        """,
    )
    ratio = write(
        tmp_path / "r.yaml",
        "rates: {unit: ratio, values: {2026-01-01: 0.0208}}\nsingle: {unit: ratio, value: 0.054}\n",
    )
    one, two = load_model(percent, Holder), load_model(ratio, Holder)
    assert one.rates.at(D(2026, 2, 1)) == two.rates.at(D(2026, 2, 1)) == Decimal("2.08")
    assert one.single == two.single == Decimal("5.4")
    assert one.rates.ratios() == two.rates.ratios() == {D(2026, 1, 1): Decimal("0.0208")}
    assert one.rates.reference_at(D(2026, 2, 1)) == "notification du 15 décembre 2025"
    assert two.rates.reference_at(D(2026, 2, 1)) is None


def test_rates_dump_to_a_form_that_validates_back_to_the_same_percent(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.yaml",
        "rates: {unit: ratio, values: {2026-01-01: {value: 0.0208, reference: n}}}\nsingle: 0.054\n",
    )
    holder = load_model(path, Holder)
    again = Holder.model_validate(holder.model_dump(by_alias=True))
    assert dict(again.rates) == dict(holder.rates) == {D(2026, 1, 1): Decimal("2.08")}
    assert again.rates.reference_at(D(2026, 1, 1)) == "n"
    assert again.single == holder.single == Decimal("5.4")


def test_a_ratio_above_one_is_refused_with_its_line(tmp_path: Path) -> None:
    # 2.08 in a file of ratios is the percent written in the wrong unit: refused, never read as 208 %.
    for text, line, key in (
        ("rates: {2026-01-01: 2.08}\n", 1, "rates.2026-01-01"),
        ("rates:\n  unit: ratio\n  values: {2026-01-01: 2.08}\n", 1, "rates"),
    ):
        path = write(tmp_path / "r.yaml", text)
        with pytest.raises(InputError) as caught:
            load_model(path, Holder)
        (problem,) = caught.value.problems
        assert (problem.line, problem.key) == (line, key)


def test_the_demo_employer_rates_are_in_percent() -> None:
    employer = load_model(DEMO / "rules/group.yaml", Group).employer
    assert employer.atmp.at(D(2026, 1, 31)) == Decimal("2.08")
    assert employer.atmp.ratios() == {D(2025, 1, 1): Decimal("0.0208"), D(2026, 1, 1): Decimal("0.0208")}
    assert employer.vm.at(D(2026, 1, 31), default=Decimal(0)) == 0
    assert employer.pas_default_rate == 0


# --- dates ---------------------------------------------------------------------------------------------


@given(
    starts=st.lists(st.dates(D(2000, 1, 1), D(2040, 12, 31)), min_size=1, max_size=8, unique=True),
    day=st.dates(D(2000, 1, 1), D(2041, 12, 31)),
)
def test_any_day_reads_the_latest_value_in_force(starts: list[dt.date], day: dt.date) -> None:
    entries = {start: {"value": index, "reference": f"texte {index}"} for index, start in enumerate(starts)}
    param = OneRate.model_validate({"rate": {"unit": "count", "values": entries}}).rate
    rates = Rates._build({start: Decimal(index) / 100 for index, start in enumerate(starts)})
    in_force = [start for start in starts if start <= day]
    if not in_force:
        with pytest.raises(LookupError):
            param.at(day)
        assert rates.at(day, default=Decimal(-1)) == -1
        return
    latest = max(in_force)
    assert param.at(day) == starts.index(latest)
    assert param.reference_at(day) == f"texte {starts.index(latest)}"
    assert rates.at(day) == Decimal(starts.index(latest))


def test_located_keeps_the_lines_of_a_long_form(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", "rate:\n  unit: percent\n  values:\n    2026-01-01: {value: 1}\n")
    located = load_located(path, OneRate)
    assert located.line(("rate", "values", "2026-01-01")) == 4
    assert isinstance(located.value, OneRate)
