"""Bad input: each case gives a located error, exit 1, no traceback and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import tree_digest
from eage.cli import main
from eage.errors import InputError
from eage.rules.bundle import Rules, load_rules
from eage.timesheets import parse_timesheet

HEADER = "date,employee,member,service,hours,note\n"


@pytest.fixture(scope="module")
def rules(demo_rules_root: Path) -> Rules:
    return load_rules(demo_rules_root)


def problems(text: str, rules: Rules, month: str = "2026-11") -> str:
    with pytest.raises(InputError) as info:
        parse_timesheet(HEADER + text, month, rules, f"ledger/timesheets/{month}.csv")
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-02,cmartin,les-3c,comptabilite\n", ":2: 4 fields instead of 6"),
        ("2026-11-02,cmartin,les-3c,comptabilite,abc,x\n", ":2 [hours]: hours 'abc' is not a number"),
        ("02/11/2026,cmartin,les-3c,comptabilite,1,x\n", ":2 [date]: date '02/11/2026' is not a date"),
        ("2026-11-02,nobody,les-3c,comptabilite,1,x\n", ":2 [employee]: unknown employee 'nobody'"),
        ("2026-11-02,cmartin,nobody,comptabilite,1,x\n", ":2 [member]: unknown member 'nobody'"),
        ("2026-11-02,cmartin,les-3c,jardinage,1,x\n", ":2 [service]: unknown service 'jardinage'"),
        ("2026-11-02,cmartin,les-3c,comptabilite,-2,x\n", ":2 [hours]: hours -2 must be positive"),
        (
            "2026-11-02,cmartin,les-3c,comptabilite,8,x\n2026-11-02,cmartin,le-fil,comptabilite,5,x\n",
            ":3 [hours]: cmartin has 13 h on 2026-11-02, more than 12 h",
        ),
        ("2026-10-30,cmartin,les-3c,comptabilite,1,x\n", ":2 [date]: date 2026-10-30 is not in 2026-11"),
        ("2026-11-02,cmartin,grinta,comptabilite,1,x\n", ":2 [member]: grinta left on 2026-09-30"),
        (
            "2026-11-02,cmartin,les-3c,comptabilite,1,x\n2026-11-02,cmartin,les-3c,comptabilite,2,y\n",
            ":3: duplicate of line 2",
        ),
        (
            "2026-11-02,sbernard,les-3c,comptabilite,1,x\n",
            ":2 [service]: sbernard does not work for service 'comptabilite'",
        ),
        ("2026-11-02,cmartin,les-3c,comptabilite,1.125,x\n", "more than two decimals"),
    ],
)
def test_timesheet_line_errors_name_file_and_line(text: str, expected: str, rules: Rules) -> None:
    message = problems(text, rules)
    assert "ledger/timesheets/2026-11.csv" in message
    assert expected in message


def test_hours_outside_contract_dates(rules: Rules) -> None:
    message = problems("2011-12-30,cmartin,les-3c,comptabilite,1,x\n", rules, "2011-12")
    assert ":2 [date]: 2011-12-30 is outside cmartin's contract" in message


def test_bad_header(rules: Rules) -> None:
    with pytest.raises(InputError, match=r":1: header is"):
        parse_timesheet("day,who\n", "2026-11", rules, "ledger/timesheets/2026-11.csv")


def run_cli(root: Path, *args: str) -> int:
    return main([*args, "--root", str(root)])


def assert_refused(
    root: Path, capsys: pytest.CaptureFixture[str], *needles: str, args: tuple[str, ...] = ("run", "2026-11")
) -> None:
    before = tree_digest(root)
    assert run_cli(root, *args) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err
    assert tree_digest(root) == before, "a refused run must write nothing"


def test_month_without_timesheet(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (demo / "ledger/timesheets/2026-11.csv").unlink()
    assert_refused(demo, capsys, "ledger/timesheets/2026-11.csv", "no timesheet for 2026-11")


def test_malformed_timesheet_line_via_cli(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "ledger/timesheets/2026-11.csv"
    path.write_text(path.read_text(encoding="utf-8") + "2026-11-30,cmartin,les-3c\n", encoding="utf-8")
    assert_refused(demo, capsys, "ledger/timesheets/2026-11.csv:", "3 fields instead of 6")


def test_invalid_yaml(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (demo / "rules/staff.yaml").write_text("employees:\n  - id: [unclosed\n", encoding="utf-8")
    assert_refused(demo, capsys, "rules/staff.yaml:", "invalid YAML")


def test_unknown_key(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "rules/group.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    assert_refused(demo, capsys, "rules/group.yaml:", "[colour]: unknown key")


def test_invalid_siren(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "rules/members.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"989457148"', '"989457149"', 1), encoding="utf-8"
    )
    assert_refused(demo, capsys, "rules/members.yaml:", "[members[0].identity.siren]", "Luhn")


def test_unbalanced_ledger(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "ledger/entries.beancount"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n2026-11-10 * "Bad" "unbalanced"\n  Charges:61-Services-exterieurs:616-Assurances  10.00 EUR\n'
        "  Actif:51-Banque:512-Credit-Cooperatif  -9.00 EUR\n",
        encoding="utf-8",
    )
    assert_refused(demo, capsys, "ledger/entries.beancount:", "does not balance")


def test_invalid_ledger_syntax(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "ledger/entries.beancount"
    path.write_text(path.read_text(encoding="utf-8") + "\n2026-11-10 * oops\n", encoding="utf-8")
    assert_refused(demo, capsys, "ledger/entries.beancount:")


def test_usage_errors_exit_2(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(demo, "run", "2026-13") == 2
    assert "is not YYYY-MM" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


# ---------------------------------------------------------------- what a hostile file does to a parser


def test_a_note_over_the_csv_field_limit_is_located(rules: Rules) -> None:
    note = "x" * 140_000
    message = problems(
        f"2026-11-02,cmartin,les-3c,comptabilite,1,x\n2026-11-03,cmartin,les-3c,comptabilite,1,{note}\n",
        rules,
    )
    assert "ledger/timesheets/2026-11.csv:3: a field is larger than 131072 characters" in message


def test_a_long_note_is_refused_with_its_size(rules: Rules) -> None:
    message = problems("2026-11-02,cmartin,les-3c,comptabilite,1," + "n" * 1001 + "\n", rules)
    assert ":2 [note]: the note has 1001 characters, more than 1000" in message


def test_a_quote_opened_and_never_closed_names_its_line(rules: Rules) -> None:
    text = (
        '2026-11-02,cmartin,les-3c,comptabilite,1,x\n2026-11-03,cmartin,les-3c,comptabilite,1,"oops\n'
        + "2026-11-04,cmartin,les-3c,comptabilite,1,x\n" * 3
    )
    message = problems(text, rules)
    assert ":3: a double quote opened on line 3 is never closed" in message


def test_a_comma_in_hours_says_to_use_a_point(rules: Rules) -> None:
    assert ":2 [hours]: hours '1,5' uses a comma" in problems(
        '2026-11-02,cmartin,les-3c,comptabilite,"1,5",x\n', rules
    )


def test_a_timesheet_that_is_a_directory(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "ledger/timesheets/2026-11.csv"
    path.unlink()
    path.mkdir()
    (path / "notes.txt").write_text("not a timesheet\n", encoding="utf-8")
    assert_refused(
        demo,
        capsys,
        "ledger/timesheets/2026-11.csv: is a directory, not a file",
        args=("run", "2026-11", "--dry-run"),
    )


def test_a_timesheet_too_large_is_refused_before_it_is_read(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eage.timesheets.MAX_TIMESHEET_BYTES", 1024 * 1024)
    path = demo / "ledger/timesheets/2026-11.csv"
    path.write_bytes(path.read_bytes() + b"#" * (1024 * 1024))
    assert_refused(
        demo,
        capsys,
        "ledger/timesheets/2026-11.csv: is larger than 1 MB",
        args=("run", "2026-11", "--dry-run"),
    )


def test_a_latin1_timesheet_names_the_line(demo: Path, rules: Rules) -> None:
    from eage.timesheets import read_timesheet_file

    path = demo / "ledger/timesheets/2026-11.csv"
    path.write_bytes(b"date,employee,member,service,hours,note\n2026-11-02,cmartin,,comptabilite,1,caf\xe9\n")
    with pytest.raises(InputError) as info:
        read_timesheet_file(path, "2026-11", rules, "ledger/timesheets/2026-11.csv")
    assert str(info.value).startswith(
        "ledger/timesheets/2026-11.csv:2: not valid UTF-8 (byte 0xE9 at column 39)"
    )


def test_a_rules_file_that_is_a_directory(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "rules/vat.yaml"
    path.unlink()
    path.mkdir()
    assert_refused(
        demo, capsys, "rules/vat.yaml: is a directory, not a file", args=("run", "2026-11", "--dry-run")
    )


def test_a_rules_file_too_large(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eage.rules.loader.MAX_YAML_BYTES", 1024 * 1024)
    path = demo / "rules/members.yaml"
    path.write_bytes(path.read_bytes() + b"#" * (1024 * 1024))
    assert_refused(
        demo, capsys, "rules/members.yaml: is larger than 1 MB", args=("run", "2026-11", "--dry-run")
    )


def test_payroll_variables_are_checked_by_one_function(demo: Path) -> None:
    """``eage check`` and ``eage run`` read a month's variables through load_payroll_variables."""
    from eage.payroll.variables import load_payroll_variables

    (demo / "ledger/payroll/2026-11.yaml").write_text(
        "employees:\n  lpetit:\n    bonus: 100\n  ghost:\n    bonus: 5\n  sbernard:\n    unpaid_absence_hours: 80\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_payroll_variables(demo, "2026-11")
    shown = [str(p) for p in info.value.problems]
    assert shown[0].startswith("ledger/payroll/2026-11.yaml:4 [employees.ghost]: unknown employee 'ghost'")
    assert shown[1].startswith("ledger/payroll/2026-11.yaml:7 [employees.sbernard.unpaid_absence_hours]")
    assert "75.83 h" in shown[1]
    assert load_payroll_variables(demo, "2026-06").employees["sbernard"].unpaid_absence_hours == 7
    assert load_payroll_variables(demo, "2026-09").employees == {}  # a month without variables
    with pytest.raises(InputError, match="YYYY-MM"):
        load_payroll_variables(demo, "2026-1")


def test_payroll_variables_leave_dates_are_refused_located(demo: Path) -> None:
    """Paid leave and sick leave are ranges inside the month, known kinds, never on the same day."""
    from eage.payroll.variables import load_payroll_variables

    (demo / "ledger/payroll/2026-11.yaml").write_text(
        "employees:\n  lpetit:\n    leave: [{from: 2026-10-26, to: 2026-11-07}]\n"
        "  cmartin:\n    leave: [{from: 2026-11-02, to: 2026-11-07}]\n"
        "    sick_leave: [{from: 2026-11-06, to: 2026-11-10, kind: professional}]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_payroll_variables(demo, "2026-11")
    shown = [str(p) for p in info.value.problems]
    assert shown[0].startswith(
        "ledger/payroll/2026-11.yaml:3 [employees.lpetit.leave[0]]: lpetit: leave from 2026-10-26 to "
        "2026-11-07 is not inside 2026-11"
    )
    assert shown[1].startswith(
        "ledger/payroll/2026-11.yaml:6 [employees.cmartin.sick_leave[0]]: cmartin: sick_leave"
    )
    (demo / "ledger/payroll/2026-11.yaml").write_text(
        "employees:\n  cmartin:\n    sick_leave: [{from: 2026-11-02, to: 2026-11-03, kind: flu}]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"2026-11.yaml:3 \[employees.cmartin.sick_leave\[0\].kind\]"):
        load_payroll_variables(demo, "2026-11")


def test_one_employee_absent_all_month_with_a_bonus_is_computed(demo: Path) -> None:
    from eage.payroll.variables import load_payroll_variables

    (demo / "ledger/payroll/2026-11.yaml").write_text(
        "employees:\n  sbernard:\n    unpaid_absence_hours: 75.83\n    bonus: 200\n", encoding="utf-8"
    )
    assert load_payroll_variables(demo, "2026-11").employees["sbernard"].bonus == 200


def test_an_alias_bomb_under_a_known_key_is_refused_before_it_is_built(tmp_path: Path) -> None:
    from eage.rules.loader import load_model
    from eage.rules.models import Members

    lines = ['a0: &a0 ["x"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = tmp_path / "members.yaml"
    path.write_text("members:\n  - " + "\n    ".join(lines) + "\n  - *a8\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_model(path, Members)
    assert str(info.value).startswith(
        f"{path}:3 [members[0].a1[0]]: an alias repeats the part anchored on line 2"
    )
