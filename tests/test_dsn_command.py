"""``eage dsn YYYY-MM``: the file it writes (same bytes on a re-run, the norm's structure, dsn-tools), what
it refuses (a payroll not posted, bad identifiers, rewriting an issued DSN) and the JSON it prints.

The demo ships January to October's DSNs (reports/dsn/); the tests work on a copy of the demo."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import tree_digest
from dsn_tools import dsn_tools_validate
from eage.cli import main
from eage.payroll.dsn.build import dsn_summary
from eage.payroll.dsn.lines import parse
from eage.payroll.dsn.norm import structure_problems

DSN = Path("reports/dsn")


def _dsn(root: Path, *args: str) -> int:
    return main(["dsn", *args, "--root", str(root)])


def test_the_demo_ships_each_month_s_dsn_january_to_october(demo: Path) -> None:
    shipped = sorted(p.name for p in (demo / DSN).glob("*.dsn"))
    assert shipped == [f"2026-{m:02d}.dsn" for m in range(1, 11)]
    for name in shipped:
        lines = parse((demo / DSN / name).read_bytes(), name)
        assert structure_problems(lines, source=name) == []


def test_a_re_run_on_an_unchanged_month_gives_the_same_bytes(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = demo / DSN / "2026-10.dsn"
    shipped = path.read_bytes()
    path.unlink()
    assert _dsn(demo, "2026-10") == 0
    assert path.read_bytes() == shipped, "the shipped DSN is what eage dsn writes"
    before = tree_digest(demo)
    assert _dsn(demo, "2026-10") == 0
    assert "unchanged" in capsys.readouterr().out
    assert tree_digest(demo) == before


def test_the_demo_s_dsn_passes_dsn_tools_and_equals_the_journal(demo: Path) -> None:
    path = demo / DSN / "2026-10.dsn"
    summary = dsn_tools_validate(path)
    assert summary["ok"], summary["errors"]
    assert summary["declarations"] == 1 and summary["individus"] == 3
    declared = dsn_summary(parse(path.read_bytes(), path.name))
    by_org: dict[str, Decimal] = {}
    for body, amount in declared.payments.items():
        org = declared.bodies[body]
        by_org[org] = by_org.get(org, Decimal(0)) + amount
    journal = (demo / "ledger/generated/2026/2026-10-payroll.beancount").read_text(encoding="utf-8")
    credits: dict[str, Decimal] = {}
    for account, amount in re.findall(r"^\s+(Passif:\S+)\s+(-?[\d.]+) EUR$", journal, flags=re.MULTILINE):
        credits[account] = credits.get(account, Decimal(0)) - Decimal(amount)
    assert by_org["urssaf"] == credits["Passif:43-Organismes-sociaux:431-Securite-sociale"]
    assert by_org["agirc_arrco"] == credits["Passif:43-Organismes-sociaux:4372-Retraite-complementaire"]
    assert by_org["prevoyance"] == credits["Passif:43-Organismes-sociaux:4373-Prevoyance"]
    assert by_org["pas"] == credits["Passif:44-Etat:4421-Prelevement-a-la-source"]


def test_json_names_the_file_and_each_payment(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _dsn(demo, "2026-10", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["month"] == "2026-10" and out["file"] == "reports/dsn/2026-10.dsn"
    assert out["test"] is False and out["written"] is False and out["employee_count"] == 3
    assert set(out["employees"]) == {"cmartin", "sbernard", "lpetit"}
    organisations = {p["organisation"] for p in out["payments"].values()}
    assert organisations == {"urssaf", "agirc_arrco", "prevoyance", "pas"}
    assert all(re.fullmatch(r"-?\d+\.\d{2}", p["amount"]) for p in out["payments"].values())


def test_a_month_whose_payroll_is_not_posted_is_refused(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(demo)
    assert _dsn(demo, "2026-11") == 1
    err = capsys.readouterr().err
    assert "ledger/generated/2026/2026-11-payroll.beancount" in err and "eage run 2026-11" in err
    assert "Traceback" not in err
    assert tree_digest(demo) == before


def test_an_issued_dsn_is_never_rewritten_with_other_figures(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = demo / DSN / "2026-10.dsn"
    issued = path.read_bytes().replace(b"S20.G00.05.004,'202610'", b"S20.G00.05.004,'202699'")
    path.write_bytes(issued)
    before = tree_digest(demo)
    assert _dsn(demo, "2026-10") == 1
    err = capsys.readouterr().err
    assert "reports/dsn/2026-10.dsn" in err and "issued" in err and "eage dsn 2026-11" in err
    assert tree_digest(demo) == before
    assert _dsn(demo, "2026-10", "--test") == 1  # a test file does not replace a declaration either
    assert tree_digest(demo) == before


def test_a_test_file_is_marked_and_can_be_replaced(demo: Path) -> None:
    path = demo / DSN / "2026-10.dsn"
    real = path.read_bytes()
    path.unlink()
    assert _dsn(demo, "2026-10", "--test") == 0
    assert b"S10.G00.00.005,'01'\n" in path.read_bytes()
    assert structure_problems(parse(path.read_bytes(), path.name), source=path.name) == []
    assert _dsn(demo, "2026-10") == 0
    assert path.read_bytes() == real


def test_a_wrong_nir_key_is_refused_located_and_nothing_written(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn_yaml = demo / "rules" / "dsn.yaml"
    text = dsn_yaml.read_text(encoding="utf-8")
    nir = re.search(r'nir: "([^"]+)"', text)
    assert nir is not None
    key = nir.group(1)[-2:]
    wrong = f"{(int(key) + 1) % 97:02d}"
    dsn_yaml.write_text(text.replace(nir.group(1), nir.group(1)[:-2] + wrong, 1), encoding="utf-8")
    (demo / DSN / "2026-10.dsn").unlink()
    before = tree_digest(demo)
    assert _dsn(demo, "2026-10") == 1
    err = capsys.readouterr().err
    assert "rules/dsn.yaml" in err and "employees.cmartin.nir" in err and "Traceback" not in err
    assert tree_digest(demo) == before


def test_an_unknown_ctp_is_refused_located_and_nothing_written(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = demo / "rules" / "payroll" / "dsn.yaml"
    codes.write_text(codes.read_text(encoding="utf-8").replace('ctp: "332"', 'ctp: "333"'), encoding="utf-8")
    (demo / DSN / "2026-10.dsn").unlink()
    before = tree_digest(demo)
    assert _dsn(demo, "2026-10") == 1
    err = capsys.readouterr().err
    assert re.search(r"rules/payroll/dsn\.yaml:\d+ \[contributions\.fnal\.values\.2025-01-01\.0\.ctp\]", err)
    assert "CTP '333' is not in the table of CTPs" in err and "Traceback" not in err
    assert tree_digest(demo) == before
