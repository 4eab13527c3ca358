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
