"""The books of a small synthetic group after its first month (tests/groups.py, ``small_group_january``).

The ledger bean-checks clean with the eage plugin; the month's charges equal its re-invoiced revenue
(7084) to the cent, as the summary said; each employee has a payslip and the gross of their contract in
6411; the FEC of the year is well formed and balanced; the budget statement's actuals are the ledger's,
and each member's statement shows the hours worked for it and its invoice's amount.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from groups import JANUARY, run_eage

MONTH = JANUARY.month(0)
REVENUE = "Produits:70-Ventes:7084-Mise-a-disposition-personnel"
SALARIES = "Charges:64-Personnel:6411-Salaires"


def month_postings(root: Path) -> list[tuple[str, Decimal, dict[str, Any]]]:
    """(account, amount, transaction metadata) of every posting dated in the month."""
    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(root / "ledger" / "main.beancount"))
    assert not errors, errors[0]
    rows = []
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.date.isoformat().startswith(MONTH):
            for posting in entry.postings:
                if posting.units is not None and posting.units.number is not None:
                    rows.append((posting.account, Decimal(posting.units.number), dict(entry.meta)))
    return rows


@pytest.fixture
def group(small_group_january: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    """A copy of the run group, for the commands that write (fec, budget)."""
    root = tmp_path / "group"
    shutil.copytree(small_group_january[0], root)
    return root


def test_bean_check_is_clean_with_the_eage_plugin(small_group_january: tuple[Path, dict[str, Any]]) -> None:
    root = small_group_january[0]
    assert "eage.plugins.invariants" in (root / "ledger" / "main.beancount").read_text(encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "bean-check"), str(root / "ledger" / "main.beancount")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_months_charges_are_its_revenue(small_group_january: tuple[Path, dict[str, Any]]) -> None:
    root, summary = small_group_january
    postings = month_postings(root)
    charges = sum((amount for account, amount, _ in postings if account.startswith("Charges:")), Decimal(0))
    revenue = -sum((amount for account, amount, _ in postings if account == REVENUE), Decimal(0))
    assert charges == revenue == Decimal(summary["total_cost"]) == Decimal(summary["total_billed"])


def test_each_employee_has_a_payslip_and_the_gross_of_their_contract(
    small_group_january: tuple[Path, dict[str, Any]],
) -> None:
    root = small_group_january[0]
    staff = yaml.safe_load((root / "rules" / "staff.yaml").read_text(encoding="utf-8"))["employees"]
    assert len(staff) == JANUARY.staff
    gross = {
        meta["employee"]: amount
        for account, amount, meta in month_postings(root)
        if account == SALARIES and meta.get("kind") == "payroll"
    }
    for employee in staff:
        contract = Decimal(str(next(iter(employee["gross_salary"].values()))))
        assert gross[employee["id"]] == contract.quantize(Decimal("0.01")), employee["id"]
        payslip = root / "reports" / "payslips" / "2025" / f"PAY-{MONTH}-{employee['id']}.pdf"
        assert payslip.read_bytes().startswith(b"%PDF-")


def test_the_fec_of_the_year_is_well_formed_and_balanced(group: Path) -> None:
    outcome = run_eage(["fec", "2025", "--root", str(group)])
    assert outcome.code == 0, outcome.err
    assert "total debit" in outcome.out
    (path,) = (group / "reports" / "fec").glob("*FEC20251231.txt")
    checked = run_eage(["fec", "--check", str(path), "--root", str(group)])
    assert checked.code == 0, checked.out + checked.err
    assert "OK, a well-formed FEC" in checked.out
    rows = list(csv.DictReader(path.read_text(encoding="latin-1").splitlines(), delimiter="\t"))
    debit = sum(Decimal(r["Debit"].replace(",", ".")) for r in rows)
    credit = sum(Decimal(r["Credit"].replace(",", ".")) for r in rows)
    assert debit == credit > 0


def test_the_budget_statement_shows_the_ledgers_actuals(
    group: Path, small_group_january: tuple[Path, dict[str, Any]]
) -> None:
    outcome = run_eage(["budget", "2025", "--root", str(group)])
    assert outcome.code == 0, outcome.err
    rows = list(
        csv.DictReader(
            (group / "reports" / "budget" / "2025" / "consolide.csv")
            .read_text(encoding="utf-8-sig")
            .splitlines(),
            delimiter=";",
        )
    )
    totals = {
        r["Rubrique"]: Decimal(r["Réalisé total"].replace(",", ".")) for r in rows if r["Niveau"] == "Total"
    }
    billed = Decimal(small_group_january[1]["total_billed"])
    assert totals == {"Total charges": billed, "Total produits": billed}
    # each member's statement: the hours worked for it and the amount of its invoice
    members = (group / "reports" / "budget" / "2025" / "membres.csv").read_text(encoding="utf-8-sig")
    shown = {
        r["Membre"]: (r["Heures réalisées"], r["Montant facturé"])
        for r in csv.DictReader(members.splitlines(), delimiter=";")
        if r["Service"] == "Total"
    }
    assert shown == {
        m["member"]: (m["hours"].replace(".", ","), m["amount"].replace(".", ","))
        for m in small_group_january[1]["members"]
    }
