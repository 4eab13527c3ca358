"""The README's path on a copy of the demo, in a few assertions: the smoke test of the whole.

``eage check`` is clean; November 2026 plans with the demo's figures (``eage run 2026-11 --dry-run
--json``: 13 invoices FAC-2026-0152 to 0164, 9 650.62 EUR billed for 9 650.62 EUR of cost, nothing
written); bean-check (with the eage plugin) is clean; Fava's app answers for each eage page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import copy_demo, tree_digest
from groups import run_eage

BIN = Path(sys.executable).parent
PERIOD = "time=2026-01+-+2026-10"


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the demo for the module: every command here only reads it."""
    return copy_demo(tmp_path_factory.mktemp("smoke") / "group")


def test_check_is_clean(demo_copy: Path) -> None:
    outcome = run_eage(["check", "--root", str(demo_copy)])
    assert outcome.code == 0, outcome.out + outcome.err
    assert "checked rules: 14 members, 3 employees" in outcome.out
    assert "checked 2026-11 built in memory: 3 payslip(s), allocation, 13 invoice(s)" in outcome.out
    assert outcome.out.rstrip().endswith("OK: no problem found")


def test_november_plans_with_the_demos_figures_and_writes_nothing(demo_copy: Path) -> None:
    before = tree_digest(demo_copy)
    outcome = run_eage(["run", "2026-11", "--dry-run", "--json", "--root", str(demo_copy)])
    assert outcome.code == 0, outcome.err
    summary = json.loads(outcome.out)
    assert summary["month"] == "2026-11"
    # Every pool is billed at its year-to-date rate (rules/allocation.yaml rate_method): the month's
    # billing is rate x hours, not its cost; `eage close` trues the year up to the cent.
    assert {p["service"]: (p["cost"], p["hours"], p["rate"], p["billed"]) for p in summary["pools"]} == {
        "comptabilite": ("5706.82", "163.50", "33.3660", "5455.33"),
        "paie": ("1949.86", "94.50", "21.0744", "1991.52"),
        "administration_sociale": ("1702.01", "65.50", "25.0703", "1642.11"),
        "overhead": ("1298.50", "323.50", "4.2215", "1365.64"),
    }
    assert {p["rate_method"] for p in summary["pools"]} == {"year_to_date"}
    assert (summary["total_cost"], summary["total_billed"]) == ("10657.19", "10454.60")
    members = summary["members"]
    assert [m["invoice"] for m in members] == [f"FAC-2026-{n:04d}" for n in range(152, 165)]
    assert sum(Decimal(m["amount"]) for m in members) == Decimal("10454.60")
    assert sum(Decimal(m["hours"]) for m in members) == Decimal("323.50")
    assert {m["member"]: m["amount"] for m in members}["le-fil"] == "1794.55"
    assert tree_digest(demo_copy) == before


def test_bean_check_is_clean(demo_copy: Path) -> None:
    done = subprocess.run(
        [str(BIN / "bean-check"), str(demo_copy / "ledger" / "main.beancount")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout + done.stderr == ""


def test_fava_answers_for_every_eage_page(demo_copy: Path) -> None:
    from fava.application import create_app

    client = create_app([demo_copy / "ledger" / "main.beancount"]).test_client()
    prefix = "/" + client.get("/").headers["Location"].strip("/").split("/")[0]
    headings = {
        "repartition": "Membres × services — octobre 2026",
        "factures": "<h2>Factures et avoirs</h2>",
        "controles": "Erreurs Beancount (bean-check)",
        "budget": "Budget prévisionnel 2026 — janvier à octobre 2026",
    }
    for page, heading in headings.items():
        response = client.get(f"{prefix}/extension/Eage/?page={page}&{PERIOD}")
        assert response.status_code == 200, (page, response.data[:500])
        html = response.data.decode("utf-8")
        assert "<title>eage - L&#39;équipe associée</title>" in html, page
        assert heading in html, page
    assert client.get(f"{prefix}/income_statement/?{PERIOD}").status_code == 200
