"""rules/dsn.yaml: the demo's loads; each bad value is one located problem (file, key, line, fix); ``eage
check`` reports it; the NIR key, Luhn and IBAN validators hold for any valid number and catch any single
changed digit."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DEMO, copy_demo
from eage.cli import main
from eage.errors import InputError
from eage.payroll.dsn.identifiers import (
    DSN_FILE,
    dsn_identifiers_problems,
    iban_problem,
    load_dsn_identifiers,
    luhn_ok,
    nir_key,
    nir_problem,
    siret_problem,
)
from eage.payroll.params import PayrollRules, load_payroll_rules
from eage.rules.bundle import Rules, load_rules
from eage.rules.models import Staff

DEMO_TEXT = (DEMO / DSN_FILE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def law() -> tuple[Rules, PayrollRules]:
    return load_rules(DEMO), load_payroll_rules(DEMO / "rules" / "payroll")


def _root(tmp_path: Path, text: str) -> Path:
    """A folder with rules/dsn.yaml as ``text`` and the demo's contracts (the agreement's IDCC)."""
    (tmp_path / "rules" / "payroll").mkdir(parents=True)
    (tmp_path / DSN_FILE).write_text(text, encoding="utf-8")
    shutil.copy(DEMO / "rules/payroll/contracts.yaml", tmp_path / "rules/payroll/contracts.yaml")
    return tmp_path


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"{old!r} not in {DSN_FILE}"
        return text.replace(old, new, 1)

    return edit


def _drop_employee(name: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        dropped = re.sub(rf"\n  {name}:\n(    .*\n)+", "\n", text)
        assert dropped != text
        return dropped

    return edit


UNKNOWN_EMPLOYEE = """  inconnu:
    nir: "190014221800106"
    family_name: "Inconnu"
    first_names: "Jean"
    sex: "01"
    birth_date: 1990-01-15
    birth_place: "Saint-Étienne"
    birth_department: "42"
    address: {street: "1 rue Neuve", postcode: "42000", city: "Saint-Étienne"}
    pcs_ese: "543a"
    contract_number: "CDI2020001"
    conventional_status: "06"
"""

#: case -> (the edit of the demo's file, the key of the one problem, a part of its message).
BAD: dict[str, tuple[Callable[[str], str], str, str]] = {
    "nir-key": (
        _replace('"2 84 05 42 218 045 76"', '"2 84 05 42 218 045 77"'),
        "employees.cmartin.nir",
        "key 77",
    ),
    "nir-length": (
        _replace('"2 84 05 42 218 045 76"', '"2 84 05 42 218 045"'),
        "employees.cmartin.nir",
        "15",
    ),
    "nir-sex": (
        _replace('    sex: "02"\n    birth_date: 1984', '    sex: "01"\n    birth_date: 1984'),
        "employees.cmartin.nir",
        "does not agree with sex 01",
    ),
    "nir-birth-month": (
        _replace("birth_date: 1984-05-12", "birth_date: 1984-06-12"),
        "employees.cmartin.nir",
        "month of birth 05",
    ),
    "nir-birth-year": (
        _replace("birth_date: 1984-05-12", "birth_date: 1985-05-12"),
        "employees.cmartin.nir",
        "year of birth 84",
    ),
    "nir-department": (
        _replace('birth_department: "2A"', 'birth_department: "2B"'),
        "employees.lpetit.birth_department",
        "department 2A",
    ),
    "nic-missing": (_replace('nic: "00011"  # SIRET 917 535 908 00011\n', ""), "nic", "Field required"),
    "nic-not-the-siret": (_replace('nic: "00011"', 'nic: "00012"'), "nic", "last five digits"),
    "urssaf-siret-luhn": (
        _replace('"90000000100017"', '"90000000100018"'),
        "organisations.urssaf.ops_id",
        "Luhn",
    ),
    "unknown-conventional-status": (
        _replace('conventional_status: "04"', 'conventional_status: "11"'),
        "employees.cmartin.conventional_status",
        "'01'",
    ),
    "unknown-payment-mode": (_replace('payment_mode: "05"', 'payment_mode: "03"'), "payment_mode", "'05'"),
    "missing-employee": (_drop_employee("sbernard"), "employees", "no identity for employee sbernard"),
    "unknown-employee": (
        _replace("  lpetit:\n", UNKNOWN_EMPLOYEE + "  lpetit:\n"),
        "employees.inconnu",
        "no employee of rules/staff.yaml",
    ),
    "duplicate-contract-number": (
        _replace('"CDI2016001"', '"CDI2012001"'),
        "employees.lpetit.contract_number",
        "also cmartin's",
    ),
    "iban": (
        _replace('payment_mode: "05"', 'payment_mode: "05"\niban: "FR55 1027 8073 0000 2001 2345 646"'),
        "iban",
        "not a valid IBAN",
    ),
    "idcc-not-the-agreement": (
        _replace('idcc: "1518"', 'idcc: "1517"'),
        "idcc",
        "differs from the agreement",
    ),
    "pas-not-dgfip": (_replace('ops_id: "DGFIP"', 'ops_id: "DGFIP2"'), "organisations.pas.ops_id", "DGFIP"),
    "organisation-missing": (
        _replace('  agirc_arrco:\n    ops_id: "A9999"', '  retraite:\n    ops_id: "A9999"'),
        "organisations",
        "no organisation agirc_arrco",
    ),
    "contribution-in-two-contracts": (
        _replace("contributions: [prev_cadre]", "contributions: [prev_cadre, mutuelle]"),
        "contracts[1].contributions",
        "collected by 2 contracts",
    ),
    "contribution-not-insured": (
        _replace("contributions: [prev_cadre]", "contributions: [prev_cadre, csg_ded]"),
        "contracts[1].contributions[1]",
        "no contribution paid to prevoyance",
    ),
    "pcs-ese-shape": (_replace('pcs_ese: "373c"', 'pcs_ese: "373C"'), "employees.cmartin.pcs_ese", "pattern"),
    "ape-shape": (_replace('apen: "7830Z"', 'apen: "78.30Z"'), "apen", "pattern"),
}


def test_the_demo_file_loads(law: tuple[Rules, PayrollRules]) -> None:
    rules, payroll = law
    assert dsn_identifiers_problems(DEMO, rules, payroll) == []
    ids = load_dsn_identifiers(DEMO, rules, payroll)
    assert ids.fictitious
    assert (ids.nic, ids.apen, ids.apet, ids.idcc) == ("00011", "7830Z", "7830Z", "1518")
    assert ids.iban == rules.group.invoicing.iban and ids.bic == "CMCIFR2A"
    assert sorted(ids.employees) == sorted(e.id for e in rules.staff.employees)
    assert set(ids.organisations) == {"urssaf", "agirc_arrco", "prevoyance", "pas"}
    assert ids.organisations["pas"].ops_id == "DGFIP"
    for ident in ids.employees.values():
        assert len(ident.nir) == 15 and nir_problem(ident.nir) is None
    assert ids.employees["lpetit"].nir == "195022A00402702"
    assert {c.contributions for c in ids.contracts} == {("mutuelle",), ("prev_cadre",)}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_value_is_one_located_problem(
    case: str, tmp_path: Path, law: tuple[Rules, PayrollRules]
) -> None:
    edit, key, message = BAD[case]
    root = _root(tmp_path, edit(DEMO_TEXT))
    rules, payroll = law
    problems = dsn_identifiers_problems(root, rules, payroll)
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    problem = problems[0]
    assert (problem.file, problem.key) == (DSN_FILE, key), str(problem)
    assert message in problem.message, str(problem)
    assert problem.line is not None and problem.fix
    with pytest.raises(InputError) as raised:
        load_dsn_identifiers(root, rules, payroll)
    assert raised.value.problems == problems


def test_a_missing_file_is_a_problem_when_the_group_has_staff(
    tmp_path: Path, law: tuple[Rules, PayrollRules]
) -> None:
    rules, payroll = law
    (problem,) = dsn_identifiers_problems(tmp_path, rules, payroll)
    assert problem.file == DSN_FILE and "not found" in problem.message
    with pytest.raises(InputError):
        load_dsn_identifiers(tmp_path, rules, payroll)


def test_no_file_and_no_staff_is_no_problem(tmp_path: Path, law: tuple[Rules, PayrollRules]) -> None:
    rules, payroll = law
    assert dsn_identifiers_problems(tmp_path, replace(rules, staff=Staff(employees=[])), payroll) == []


def test_a_bad_bic_taken_from_the_group_is_located_in_the_dsn_file(
    tmp_path: Path, law: tuple[Rules, PayrollRules]
) -> None:
    rules, payroll = law
    invoicing = rules.group.invoicing.model_copy(update={"bic": "CMCI FR2A"})
    group = rules.group.model_copy(update={"invoicing": invoicing})
    (problem,) = dsn_identifiers_problems(_root(tmp_path, DEMO_TEXT), replace(rules, group=group), payroll)
    assert (problem.file, problem.key) == (DSN_FILE, "bic") and "CMCI FR2A" in problem.message


def test_the_idcc_and_the_ape_default_to_the_contracts_and_the_group(
    tmp_path: Path, law: tuple[Rules, PayrollRules]
) -> None:
    text = DEMO_TEXT.replace('idcc: "1518"', "").replace('apen: "7830Z"', "").replace('apet: "7830Z"', "")
    rules, payroll = law
    ids = load_dsn_identifiers(_root(tmp_path, text), rules, payroll)
    assert (ids.idcc, ids.apen, ids.apet) == ("1518", "7830Z", "7830Z")


def test_the_skeleton_file_passes_for_the_skeleton_group(tmp_path: Path) -> None:
    target = tmp_path / "nouveau"
    assert main(["init", str(target)]) == 0
    rules, payroll = load_rules(target), load_payroll_rules(target / "rules" / "payroll")
    assert dsn_identifiers_problems(target, rules, payroll) == []


@pytest.mark.slow
def test_check_reports_a_broken_nir_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = copy_demo(tmp_path / "group")
    path = demo / DSN_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace('"2 84 05 42 218 045 76"', '"2 84 05 42 218 045 77"'),
        encoding="utf-8",
    )
    line = next(
        n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "045 77" in text
    )
    capsys.readouterr()
    assert main(["check", "--root", str(demo)]) == 1
    out = capsys.readouterr().out
    assert f"rules/dsn.yaml:{line} [employees.cmartin.nir]: not a NIR: its key 77 is wrong" in out, out
    assert "carte Vitale" in out and "Traceback" not in out


# --- the validators, for any number -------------------------------------------------------------------

_DIGIT = "0123456789"


@st.composite
def nir_bodies(draw: st.DrawFn) -> str:
    """The 13 characters of a NIR from valid parts (the INSEE's: sex, year, month, department, commune,
    order)."""
    sex = draw(st.sampled_from("123478"))
    year = draw(st.integers(0, 99))
    month = draw(st.sampled_from([*range(1, 13), *range(20, 43), *range(50, 100)]))
    department = draw(st.sampled_from([f"{d:02d}" for d in range(1, 100)] + ["2A", "2B"]))
    commune = draw(st.integers(1, 999))
    order = draw(st.integers(1, 999))
    return f"{sex}{year:02d}{month:02d}{department}{commune:03d}{order:03d}"


@settings(max_examples=300)
@given(nir_bodies())
def test_a_nir_with_its_computed_key_passes(body: str) -> None:
    nir = f"{body}{nir_key(body):02d}"
    assert nir_problem(nir) is None
    assert (
        nir_problem(f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}") is None
    )


@settings(max_examples=300)
@given(nir_bodies(), st.integers(0, 14), st.integers(1, 9))
def test_any_single_changed_digit_of_a_nir_fails(body: str, position: int, shift: int) -> None:
    nir = f"{body}{nir_key(body):02d}"
    if not nir[position].isdigit():
        return  # the A or B of Corsica's department: not a digit to change
    changed = nir[:position] + str((int(nir[position]) + shift) % 10) + nir[position + 1 :]
    assert nir_problem(changed) is not None, changed


def test_corsica_reads_2a_as_19_and_2b_as_18() -> None:
    assert nir_key("195022A004027") == nir_key("1950219004027")
    assert nir_key("195022B004027") == nir_key("1950218004027")


def _luhn_digit(body: str) -> str:
    return next(d for d in _DIGIT if luhn_ok(body + d))


@settings(max_examples=300)
@given(st.text(_DIGIT, min_size=13, max_size=13), st.integers(0, 13), st.integers(1, 9))
def test_luhn_passes_its_own_check_digit_and_catches_a_changed_digit(
    body: str, position: int, shift: int
) -> None:
    siret = body + _luhn_digit(body)
    assert luhn_ok(siret)
    changed = siret[:position] + str((int(siret[position]) + shift) % 10) + siret[position + 1 :]
    assert not luhn_ok(changed)
    if not siret.startswith("356000000"):
        assert siret_problem(siret) is None and siret_problem(changed) is not None


def test_la_poste_sirets_add_up_to_a_multiple_of_5() -> None:
    # La Poste's establishments (SIREN 356000000): the sum of the digits is a multiple of 5, not Luhn's.
    assert siret_problem("35600000000015") is None  # 3 + 5 + 6 + 1 + 5 = 20
    assert not luhn_ok("35600000000015")
    assert siret_problem("35600000000016") is not None


def _with_check_digits(country: str, bban: str) -> str:
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


@settings(max_examples=300)
@given(
    st.sampled_from(["FR", "DE", "BE"]),
    st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=11, max_size=30),
    st.data(),
)
def test_an_iban_with_its_check_digits_passes_and_a_changed_digit_fails(
    country: str, bban: str, data: st.DataObject
) -> None:
    iban = _with_check_digits(country, bban)
    assert iban_problem(iban) is None
    assert iban_problem(" ".join(iban[i : i + 4] for i in range(0, len(iban), 4))) is None
    digits = [i for i, c in enumerate(iban) if c.isdigit()]
    position = data.draw(st.sampled_from(digits))
    shift = data.draw(st.integers(1, 9))
    changed = iban[:position] + str((int(iban[position]) + shift) % 10) + iban[position + 1 :]
    assert iban_problem(changed) is not None, changed


def test_the_demo_identifiers_are_valid_numbers() -> None:
    assert iban_problem("FR55 1027 8073 0000 2001 2345 645") is None
    assert iban_problem("FR55 1027 8073 0000 2001 2345 646") is not None
    assert siret_problem("90000000100017") is None
    assert nir_problem("2 84 05 42 218 045 76") is None
    assert nir_problem("284054221804576".replace("2", "9", 1)) is not None  # sex digit 9
    assert nir_problem("284134221804576") is not None  # month 13
