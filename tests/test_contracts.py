"""The group's contracts (rules/payroll/contracts.yaml) and the payslip's identities (rules/group.yaml,
rules/staff.yaml): the demo loads and covers its staff; each refusal names its file, line and key.

Each case starts from the demo's rules (as committed) and breaks one thing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DEMO
from eage.errors import InputError, Problem
from eage.payroll.contracts import (
    CONTRACTS_FILE,
    Contracts,
    contracts_problems,
    employer_headcounts,
    load_contracts,
)
from eage.payroll.engine import Headcounts, PayslipInput
from eage.rules.bundle import load_rules, unknown_files
from eage.rules.models import Payment, Staff

D = dt.date
PMSS_2026 = Decimal(4005)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    group = tmp_path / "group"
    shutil.copytree(DEMO / "rules", group / "rules")
    return group


def contracts_of(root: Path) -> Contracts:
    return load_contracts(root / "rules" / "payroll", shown=f"rules/payroll/{CONTRACTS_FILE}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str, after: str | None = None) -> int:
    """The 1-based line of the first ``needle`` (after the first ``after`` when given)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, text in enumerate(lines) if after in text) if after else 0
    return next(i for i, text in enumerate(lines) if i >= start and needle in text) + 1


def refused(root: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        contracts_of(root)
    return caught.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- the demo ----------------------------------------------------------------------------------------


def test_the_demo_covers_its_three_employees_by_one_health_contract(root: Path) -> None:
    rules, contracts = load_rules(root), contracts_of(root)
    assert contracts_problems(rules, contracts) == []
    for employee in rules.staff.employees:
        assert contracts.health_for(employee, D(2026, 3, 1), PMSS_2026) == (Decimal("78.00"), Decimal(50))
        assert contracts.health_for(employee, D(2025, 3, 1), Decimal(3925)) == (Decimal("76.00"), Decimal(50))


def test_the_demo_cadre_has_the_legal_minimum_prevoyance_and_the_others_none(root: Path) -> None:
    rules, contracts = load_rules(root), contracts_of(root)
    staff = rules.staff.by_id()
    assert contracts.prevoyance_for(staff["cmartin"], D(2026, 3, 1)) == Decimal("1.50")
    assert contracts.prevoyance_for(staff["lpetit"], D(2026, 3, 1)) is None
    assert contracts.prevoyance_for(staff["sbernard"], D(2026, 3, 1)) is None
    assert staff["sbernard"].contract.weekly_hours < 35  # part-time, covered all the same


def test_the_contracts_fill_the_payslip_input(root: Path) -> None:
    rules, contracts = load_rules(root), contracts_of(root)
    staff = rules.staff.by_id()
    cadre = PayslipInput(
        month=D(2026, 3, 1),
        base_gross=Decimal(3220),
        **contracts.payslip_fields(staff["cmartin"], D(2026, 3, 1), PMSS_2026),
    )
    assert (cadre.mutuelle_total, cadre.mutuelle_employer_share, cadre.prevoyance_rate) == (
        Decimal("78.00"),
        Decimal(50),
        Decimal("1.50"),
    )
    assert contracts.payslip_fields(staff["lpetit"], D(2026, 3, 1), PMSS_2026) == {
        "mutuelle_total": Decimal("78.00"),
        "mutuelle_employer_share": Decimal(50),
    }


def test_the_demo_agreement_grid_and_identities(root: Path) -> None:
    rules, contracts = load_rules(root), contracts_of(root)
    agreement = contracts.agreement(D(2026, 1, 1))
    assert agreement.idcc == "1518" and agreement.short_name == "ÉCLAT"
    assert "(ÉCLAT)" in agreement.name and "  " not in agreement.name
    assert [level.code for level in contracts.grid()] == list("ABCDEFGHI")
    staff = rules.staff.by_id()
    level = contracts.level(staff["cmartin"].classification or "", D(2026, 1, 1))
    assert level is not None and level.label == "Groupe G"
    assert staff["cmartin"].job_label == "Responsable comptable"  # no job: the post
    group = rules.group
    assert group.identity.naf == "7830Z"
    assert group.employer.urssaf is not None and group.employer.urssaf.office == "Urssaf Rhône-Alpes"
    assert group.employer.headcount == 3  # kept for the AT/MP and older callers
    assert employer_headcounts(group.employer) == Headcounts(0, 0, 0, 0, 0)
    assert group.employer.payment.date_for(2026, 5) == D(2026, 5, 29)  # 31 May 2026 is a Sunday


def test_the_bundle_knows_the_contracts_and_the_leave_rules(root: Path) -> None:
    (root / "rules" / "payroll" / "conges.yaml").write_text("# part C\n", encoding="utf-8")
    (root / "rules" / "payroll" / "contrats.yaml").write_text("# misspelt\n", encoding="utf-8")
    warned = [p.file for p in unknown_files(root)]
    assert warned == ["rules/payroll/contrats.yaml"]


# --- refusals in contracts.yaml ----------------------------------------------------------------------


def test_a_health_employer_share_below_half_is_refused_at_its_line(root: Path) -> None:
    path = root / "rules" / "payroll" / CONTRACTS_FILE
    edit(
        path,
        "2026-01-01: {amount: 78.00, employer_share: 50}",
        "2026-01-01: {amount: 78.00, employer_share: 40}",
    )
    problem = only(refused(root))
    assert problem.file == "rules/payroll/contracts.yaml"
    assert problem.key == "sante[0].contribution.values.2026-01-01.employer_share"
    assert problem.line == line_of(path, "employer_share: 40")
    assert "at least 50.00 %" in problem.message and "L911-7" in problem.message


def test_a_cadre_prevoyance_below_the_ani_minimum_is_refused_at_its_line(root: Path) -> None:
    path = root / "rules" / "payroll" / CONTRACTS_FILE
    edit(path, "2018-01-01: {employer_t1: 1.50}", "2018-01-01: {employer_t1: 1.20}")
    problem = only(refused(root))
    assert problem.key == "prevoyance[0].rates.values.2018-01-01.employer_t1"
    assert problem.line == line_of(path, "employer_t1: 1.20")
    assert "1.50 %" in problem.message


def test_a_contribution_with_both_an_amount_and_a_pmss_rate_is_refused(root: Path) -> None:
    path = root / "rules" / "payroll" / CONTRACTS_FILE
    edit(path, "{amount: 78.00, employer_share: 50}", "{amount: 78.00, pmss_rate: 1.95, employer_share: 50}")
    problem = only(refused(root))
    assert problem.key is not None and problem.key.startswith("sante[0].contribution.values.2026-01-01")
    assert problem.line == line_of(path, "pmss_rate: 1.95")


def test_a_contribution_in_percent_of_the_pmss_is_rounded_to_the_cent(root: Path) -> None:
    path = root / "rules" / "payroll" / CONTRACTS_FILE
    edit(
        path,
        "unit: {amount: eur_per_month, employer_share: percent}",
        "unit: {pmss_rate: percent, employer_share: percent}",
    )
    edit(path, "{amount: 76.00, employer_share: 50}", "{pmss_rate: 1.95, employer_share: 50}")
    edit(path, "{amount: 78.00, employer_share: 50}", "{pmss_rate: 1.95, employer_share: 60}")
    contracts = contracts_of(root)
    employee = load_rules(root).staff.by_id()["lpetit"]
    # 1.95 % x 4 005 = 78.0975 -> 78.10
    assert contracts.health_for(employee, D(2026, 2, 1), PMSS_2026) == (Decimal("78.10"), Decimal(60))


def test_a_contribution_in_another_unit_is_refused_not_converted(root: Path) -> None:
    path = root / "rules" / "payroll" / CONTRACTS_FILE
    edit(
        path,
        "unit: {amount: eur_per_month, employer_share: percent}",
        "unit: {amount: eur_per_year, employer_share: percent}",
    )
    problem = only(refused(root))
    assert problem.key == "sante[0].contribution"
    assert "eur_per_month" in problem.message
    assert problem.line == line_of(path, "contribution:", after="code: frais-sante")


def test_a_grid_code_given_twice_is_refused(root: Path) -> None:
    path = root / "rules" / "payroll" / CONTRACTS_FILE
    edit(path, "{code: I, label: Groupe I}", "{code: A, label: Groupe I}")
    problem = only(refused(root))
    assert problem.key == "classification"
    assert "A appears twice" in problem.message


def test_a_missing_contracts_file_is_refused(root: Path) -> None:
    (root / "rules" / "payroll" / CONTRACTS_FILE).unlink()
    problem = only(refused(root))
    assert problem.message == "file not found"


# --- the staff against the contracts -----------------------------------------------------------------


def test_an_employee_with_no_health_contract_and_no_exemption_is_refused(root: Path) -> None:
    edit(root / "rules" / "payroll" / CONTRACTS_FILE, "covers: all", "covers: cadres")
    rules, contracts = load_rules(root), contracts_of(root)
    problems = contracts_problems(rules, contracts)
    staff_yaml = root / "rules" / "staff.yaml"
    assert [(p.file, p.key, p.line) for p in problems] == [
        ("rules/staff.yaml", "employees[1].health", line_of(staff_yaml, "- id: sbernard")),
        ("rules/staff.yaml", "employees[2].health", line_of(staff_yaml, "- id: lpetit")),
    ]
    assert "no health contract covers Sophie Bernard on 2025-01-01" in problems[0].message
    assert "(id sbernard)" in problems[0].message
    assert problems[0].fix is not None and "health: {dispense:" in problems[0].fix
    # The payroll refuses the month too, naming the employee.
    with pytest.raises(InputError) as caught:
        contracts.health_for(rules.staff.by_id()["lpetit"], D(2026, 3, 1), PMSS_2026)
    assert only(caught.value.problems).key == "lpetit.health"


def test_a_health_contract_that_ends_leaves_the_staff_uncovered_from_the_next_day(root: Path) -> None:
    edit(
        root / "rules" / "payroll" / CONTRACTS_FILE,
        "    start: 2016-01-01\n",
        "    start: 2016-01-01\n    end: 2026-06-30\n",
    )
    rules, contracts = load_rules(root), contracts_of(root)
    problems = contracts_problems(rules, contracts)
    assert len(problems) == 3 and all("on 2026-07-01" in p.message for p in problems)
    assert contracts_problems(rules, contracts, day=D(2026, 3, 1)) == []  # a month's run before the end


def test_a_recorded_exemption_covers_its_period_only(root: Path) -> None:
    edit(
        root / "rules" / "staff.yaml",
        "    classification: D\n",
        "    classification: D\n    health: {dispense: autre-couverture-collective, since: 2024-01-01, "
        'until: 2026-04-30, proof: "Attestation de la mutuelle du conjoint"}\n',
    )
    rules, contracts = load_rules(root), contracts_of(root)
    assert contracts_problems(rules, contracts) == []
    sophie = rules.staff.by_id()["sbernard"]
    assert contracts.health_for(sophie, D(2026, 4, 1), PMSS_2026) is None
    assert contracts.health_for(sophie, D(2026, 5, 1), PMSS_2026) == (Decimal("78.00"), Decimal(50))


def test_an_unknown_exemption_code_is_refused_at_its_line(root: Path) -> None:
    staff_yaml = root / "rules" / "staff.yaml"
    edit(
        staff_yaml,
        "    classification: D\n",
        '    classification: D\n    health:\n      dispense: conjoint\n      since: 2024-01-01\n      proof: "x"\n',
    )
    problem = only(contracts_problems(load_rules(root), contracts_of(root)))
    assert (problem.file, problem.key) == ("rules/staff.yaml", "employees[1].health.dispense")
    assert problem.line == line_of(staff_yaml, "dispense: conjoint")
    assert problem.fix is not None and "autre-couverture-collective" in problem.fix


def test_an_exemption_whose_condition_the_contract_does_not_meet_is_refused(root: Path) -> None:
    staff_yaml = root / "rules" / "staff.yaml"
    edit(
        staff_yaml,
        "    classification: G\n",
        '    classification: G\n    health: {dispense: cdd-court, since: 2024-01-01, proof: "x"}\n',
    )
    problem = only(contracts_problems(load_rules(root), contracts_of(root)))
    assert problem.key == "employees[0].health.dispense"
    assert "for a CDD, the contract is a CDI" in problem.message


def test_a_part_time_exemption_for_a_full_time_contract_is_refused(root: Path) -> None:
    staff_yaml = root / "rules" / "staff.yaml"
    edit(
        staff_yaml,
        "    classification: C\n",
        '    classification: C\n    health: {dispense: temps-partiel-10, since: 2024-01-01, proof: "x"}\n',
    )
    rules, contracts = load_rules(root), contracts_of(root)
    problem = only(contracts_problems(rules, contracts, legal_weekly_hours=Decimal(35)))
    assert problem.key == "employees[2].health.dispense" and "35 h a week" in problem.message
    # The same exemption for sbernard, part-time (17.5 h): accepted; lpetit's is still refused.
    edit(
        staff_yaml,
        "    classification: D\n",
        '    classification: D\n    health: {dispense: temps-partiel-10, since: 2024-01-01, proof: "x"}\n',
    )
    problems = contracts_problems(load_rules(root), contracts, legal_weekly_hours=Decimal(35))
    assert [p.key for p in problems] == ["employees[2].health.dispense"]


def test_a_classification_not_in_the_grid_is_refused_at_its_line(root: Path) -> None:
    staff_yaml = root / "rules" / "staff.yaml"
    edit(staff_yaml, "    classification: C\n", "    classification: Z\n")
    problem = only(contracts_problems(load_rules(root), contracts_of(root)))
    assert (problem.file, problem.key) == ("rules/staff.yaml", "employees[2].classification")
    assert problem.line == line_of(staff_yaml, "classification: Z")
    assert problem.fix is not None and "A, B, C, D, E, F, G, H, I" in problem.fix


# --- refusals in group.yaml --------------------------------------------------------------------------


def group_refused(root: Path) -> Problem:
    with pytest.raises(InputError) as caught:
        load_rules(root)
    return only(caught.value.problems)


def test_a_naf_code_is_four_digits_and_a_letter(root: Path) -> None:
    group_yaml = root / "rules" / "group.yaml"
    edit(group_yaml, 'naf: "7830Z"', 'naf: "78.30Z"')
    assert load_rules(root).group.identity.naf == "7830Z"
    edit(group_yaml, 'naf: "78.30Z"', 'naf: "783Z"')
    problem = group_refused(root)
    assert (problem.file, problem.key) == ("rules/group.yaml", "identity.naf")
    assert problem.line == line_of(group_yaml, 'naf: "783Z"')


def test_a_fixed_payment_day_needs_its_day(root: Path) -> None:
    group_yaml = root / "rules" / "group.yaml"
    edit(group_yaml, "rule: last_working_day", "rule: fixed_day")
    problem = group_refused(root)
    assert problem.key == "employer.payment" and "needs day" in problem.message


def test_the_payment_date_of_each_rule() -> None:
    assert Payment(rule="fixed_day", day=31).date_for(2026, 2) == D(2026, 2, 27)  # 28 Feb is a Saturday
    assert Payment(rule="fixed_day", day=10).date_for(2026, 3) == D(2026, 3, 10)
    assert Payment().date_for(2026, 8) == D(2026, 8, 31)


def test_headcounts_name_every_threshold(root: Path) -> None:
    group_yaml = root / "rules" / "group.yaml"
    edit(group_yaml, "    forfait_social: 0\n", "")
    problem = group_refused(root)
    assert problem.key == "employer.headcounts.forfait_social" and problem.message == "Field required"


# --- the check and the payroll agree -----------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    covers=st.sampled_from(["all", "cadres", "non_cadres"]),
    ends=st.one_of(st.none(), st.dates(D(2025, 1, 1), D(2027, 12, 31))),
    cadre=st.booleans(),
    exempt=st.one_of(st.none(), st.tuples(st.dates(D(2024, 1, 1), D(2027, 12, 31)), st.integers(0, 800))),
    day=st.dates(D(2025, 1, 1), D(2027, 12, 31)),
)
def test_the_check_of_a_day_refuses_exactly_what_the_payroll_refuses(
    covers: str, ends: dt.date | None, cadre: bool, exempt: tuple[dt.date, int] | None, day: dt.date
) -> None:
    demo = load_contracts(DEMO / "rules" / "payroll")
    health = demo.file.sante[0].model_copy(update={"covers": covers, "end": ends})
    contracts = Contracts(demo.file.model_copy(update={"sante": [health]}))
    employee: dict[str, object] = {
        "id": "e1",
        "name": "E",
        "post": "Poste",
        "service": "paie",
        "contract": {"kind": "CDI", "start": D(2020, 1, 1), "weekly_hours": 35, "cadre": cadre},
        "gross_salary": {D(2020, 1, 1): 2000},
    }
    if exempt is not None:
        since, days = exempt
        employee["health"] = {
            "dispense": "css",
            "since": since,
            "until": since + dt.timedelta(days=days),
            "proof": "attestation",
        }
    staff = Staff.model_validate({"employees": [employee]})
    problems = contracts_problems(staff, contracts, day=day)
    try:
        contracts.health_for(staff.employees[0], day, PMSS_2026)
    except InputError:
        refused_by_payroll = True
    else:
        refused_by_payroll = False
    assert bool(problems) == refused_by_payroll
