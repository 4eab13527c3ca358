"""``eage payslip``: the JSON contract, the table, and the exit codes."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eage.cli import main

ROOT = Path(__file__).resolve().parents[1]
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "rules" / "payroll", tmp_path / "rules" / "payroll")
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_json_contract(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["payslip", "--root", str(root), "--gross", "2200", "--month", "2026-01", "--json"])
    for key in (
        "gross",
        "employee_contributions",
        "employer_contributions",
        "rgdu",
        "net_before_tax",
        "net_taxable",
        "employer_cost",
    ):
        value = data[key]
        assert isinstance(value, str) and AMOUNT.match(value), key
    assert data["gross"] == "2200.00"
    assert data["rgdu"] == "538.56"
    assert data["net_before_tax"] == "1741.51"
    assert data["employer_cost"] == "2605.15"
    lines = data["lines"]
    assert isinstance(lines, list) and lines
    for line in lines:
        assert set(line) == {"side", "code", "label", "base", "rate", "amount", "group"}
        assert isinstance(line["group"], str) and line["group"]
        assert line["side"] in ("salarié", "employeur")
        assert AMOUNT.match(line["base"]) and AMOUNT.match(line["amount"])
        assert isinstance(line["rate"], str)
    cds = next(line for line in lines if line["code"] == "cds")
    assert cds["rate"] == "0.016"
    assert data["net_social"] == data["net_before_tax"]
    assert next(line for line in lines if line["code"] == "rgdu")["group"] == (
        "Exonérations et allègements de cotisations"
    )


def test_flags_mutuelle_overtime_leave(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["payslip", "--root", str(root), "--gross", "2200", "--month", "2026-03", "--json"]
    data = _json(
        capsys,
        [
            *argv,
            "--mutuelle",
            "80",
            "--mutuelle-employer-share",
            "60",
            "--overtime-hours",
            "8",
            "--leave-days",
            "3",
        ],
    )
    health = {line["side"]: line for line in data["lines"] if line["code"] == "mutuelle"}
    assert health["employeur"]["amount"] == "48.00" and health["salarié"]["amount"] == "32.00"
    assert health["employeur"]["group"] == "Santé"
    codes = {line["code"] for line in data["lines"]}
    assert {"hs_reduction_salariale", "hs_deduction_patronale"} <= codes
    # The leave is valued by salary maintained (deducted and paid alike), so the gross only gains the
    # overtime.
    hs = Decimal("2200") / (Decimal(35) * 52 / 12) * Decimal("1.25") * 8
    assert Decimal(data["gross"]) == Decimal(2200) + hs.quantize(Decimal("0.01"))
    part = _json(
        capsys,
        [
            "payslip",
            "--root",
            str(root),
            "--gross",
            "1500",
            "--month",
            "2026-03",
            "--hours-per-week",
            "24",
            "--overtime-hours",
            "5",
            "--json",
        ],
    )
    part_codes = {line["code"] for line in part["lines"]}
    assert "hs_reduction_salariale" in part_codes and "hs_deduction_patronale" not in part_codes


def test_a_health_share_below_half_is_refused(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["payslip", "--root", str(root), "--gross", "2200", "--month", "2026-03"]
    assert main([*argv, "--mutuelle", "80", "--mutuelle-employer-share", "40"]) != 0
    assert "--mutuelle-employer-share" in capsys.readouterr().err


def test_flags_cadre_part_time_headcount(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["payslip", "--root", str(root), "--gross", "4500", "--month", "2026-01", "--cadre"]
    data = _json(capsys, [*argv, "--headcount", "60", "--atmp-rate", "1.5", "--vm-rate", "2", "--json"])
    codes = {(line["side"], line["code"]) for line in data["lines"]}
    assert ("employeur", "apec") in codes and ("employeur", "vm") in codes
    data = _json(
        capsys,
        [
            "payslip",
            "--root",
            str(root),
            "--gross",
            "1500",
            "--month",
            "2026-01",
            "--hours-per-week",
            "24",
            "--json",
        ],
    )
    assert data["rgdu"] == "372.90"


def test_association_profile(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "payslip",
        "--root",
        str(root),
        "--gross",
        "2500",
        "--month",
        "2026-03",
        "--employer",
        "association",
    ]
    data = _json(capsys, [*argv, "--json"])
    codes = {line["code"] for line in data["lines"]}
    assert "tss_1" in codes and "ta" not in codes


def test_table_output(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payslip", "--root", str(root), "--gross", "2800", "--month", "2026-01"]) == 0
    out = capsys.readouterr().out
    assert "CSG déductible" in out and "Coût employeur" in out and "2\u202f800,00" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--gross", "abc", "--month", "2026-01"],
        ["--gross", "-5", "--month", "2026-01"],
        ["--gross", "2200", "--month", "2026-13"],
        ["--gross", "2200", "--month", "janvier"],
        ["--gross", "2200", "--month", "2026-01", "--headcount", "2.5"],
        ["--gross", "2200", "--month", "2026-01", "--employer", "scop"],
        ["--gross", "1e400", "--month", "2026-01"],
        ["--gross", "inf", "--month", "2026-01"],
        ["--gross", "nan", "--month", "2026-01"],
        ["--gross", "123456789012345678901234567890", "--month", "2026-01"],
        ["--gross", "2_200", "--month", "2026-01"],
        ["--gross", "2200", "--month", "2026-01", "--hours-per-week", "1e1"],
        ["--gross", "2200", "--month", "2026-01", "--atmp-rate", "Infinity"],
        ["--gross", "2200", "--month", "2026-01", "--headcount", "99999999999999999999"],
        ["--month", "2026-01"],
    ],
)
def test_usage_errors_exit_2(root: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payslip", "--root", str(root), *argv]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_below_smic_exits_1(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payslip", "--root", str(root), "--gross", "1500", "--month", "2026-01", "--json"]) == 1
    err = capsys.readouterr().err
    assert "below the SMIC" in err and "1823.03" in err


def test_month_not_covered_exits_1(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payslip", "--root", str(root), "--gross", "3000", "--month", "2018-05"]) == 1
    err = capsys.readouterr().err
    assert "parameters.yaml" in err and "smic_horaire" in err


def test_missing_rules_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payslip", "--root", str(tmp_path), "--gross", "3000", "--month", "2026-01"]) == 1
    assert "file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--gross", "1e400"),
        ("--gross", "-1"),
        ("--hours-per-week", "49"),
        ("--pas-rate", "1e2"),
        ("--vm-rate", "-0"),
    ],
)
def test_a_usage_error_names_the_flag_and_the_range(
    root: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = {"--gross": "2200", "--month": "2026-01", flag: value}
    assert main(["payslip", "--root", str(root), *[f"{k}={v}" for k, v in argv.items()]]) == 2
    err = capsys.readouterr().err
    assert f"{flag}: {value!r}" in err and "Traceback" not in err
    assert "a number from" in err


def test_the_largest_gross_is_computed(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["payslip", "--root", str(root), "--gross", "9999999.99", "--month", "2026-01", "--json"]) == 0
    )
