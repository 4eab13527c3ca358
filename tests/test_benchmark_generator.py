"""The benchmark generator (benchmarks/generate.py): reproducible from a seed, and a valid group."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, tree_digest
from eage.cli import main as eage

sys.path.insert(0, str(REPO / "benchmarks"))

import generate

pytestmark = pytest.mark.slow

# 5 members, 3 staff, timesheets for 2 months: January 2025 run as history, February left to run.
TINY = generate.Spec(members=5, staff=3, months=1, seed=42)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate.generate(tmp_path_factory.mktemp("gen") / "group", TINY)


def test_same_seed_same_bytes(tiny: Path, tmp_path: Path) -> None:
    again = generate.generate(tmp_path / "group", TINY)
    assert tree_digest(again) == tree_digest(tiny)


def test_another_seed_another_group(tiny: Path, tmp_path: Path) -> None:
    other = generate.generate(tmp_path / "group", generate.Spec(5, 3, months=0, seed=43))
    assert (other / "rules" / "members.yaml").read_bytes() != (tiny / "rules" / "members.yaml").read_bytes()


def test_group_passes_check_and_its_months_run(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(p.name for p in (tiny / "ledger" / "timesheets").glob("*.csv")) == [
        "2025-01.csv",
        "2025-02.csv",
    ]
    assert eage(["check", "--root", str(tiny)]) == 0
    # The history month went through eage's batch: invoices in the ledger, placeholders for their PDFs.
    allocation = (tiny / "ledger" / "generated" / "2025" / "2025-01-allocation.beancount").read_text("utf-8")
    assert allocation.count('kind: "invoice"') == TINY.members
    pdf = next((tiny / "reports" / "invoices" / "2025").glob("FAC-2025-0001-*.pdf")).read_bytes()
    assert pdf.startswith(b"%PDF-") and b"SYNTHETIC PLACEHOLDER" in pdf
    # The benchmarked month plans and validates against the generated ledger.
    assert eage(["run", TINY.bench_month, "--dry-run", "--json", "--root", str(tiny)]) == 0
    assert '"total_billed"' in capsys.readouterr().out


def test_group_budget_runs(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The generator writes the budget of the last history year; `eage budget` accepts it and writes.
    assert TINY.budget_year == 2025
    assert sorted(p.name for p in (tiny / "rules" / "budget").iterdir()) == ["2025.yaml"]
    group = tmp_path / "group"
    shutil.copytree(tiny, group, symlinks=True)  # eage budget writes: keep the shared fixture intact
    assert eage(["budget", "2025", "--root", str(group)]) == 0
    out = capsys.readouterr().out
    assert "budget 2025, janvier à 01/2025" in out
    assert (group / "reports" / "budget" / "2025" / "consolide.csv").exists()
    assert (group / "ledger" / "generated" / "budget-2025.beancount").exists()


def test_luhn_and_vat_numbers() -> None:
    from eage.rules.models import luhn_ok

    assert luhn_ok(generate.luhn_complete("91753590"))
    assert generate.luhn_complete("91753590") == "917535908"  # the demo group's SIREN
    assert generate.vat_number("917535908") == "FR33917535908"
