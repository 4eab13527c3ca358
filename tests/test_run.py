"""The monthly batch end to end on a copy of the demo group: November 2026."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader

from conftest import copy_demo, tree_digest
from eage.app.commit import commit_plan, validate_plan
from eage.app.run import load_month, plan_for, plan_month, render_documents, run_month
from eage.cli import main
from eage.ledger.load import load_ledger
from eage.ledger.store import JOURNAL, SimulatedCrash, leftover_temporaries, recover
from eage.month import Month

pytestmark = pytest.mark.slow

NOVEMBER = Month(2026, 11)


def bean_errors(root: Path) -> list[object]:
    _, errors, _ = loader.load_file(str(root / "ledger/main.beancount"))
    return list(errors)


@pytest.fixture(scope="module")
def november(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """The demo with November run once, and the JSON summary it printed."""
    root = copy_demo(tmp_path_factory.mktemp("nov") / "group")
    plan = run_month(root, "2026-11")
    return root, plan.summary()


@pytest.fixture
def november_copy(november: tuple[Path, dict[str, object]], tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(november[0], target)
    return target


def test_run_posts_invoices_and_the_ledger_stays_valid(november: tuple[Path, dict[str, object]]) -> None:
    root, summary = november
    assert bean_errors(root) == []
    # Year-to-date pools bill rate x hours (the close trues the year up); the members' invoices add up
    # to what the pools bill, to the cent.
    pools = summary["pools"]
    assert isinstance(pools, list)
    assert summary["total_billed"] == str(sum((Decimal(str(p["billed"])) for p in pools), Decimal(0)))
    members = summary["members"]
    assert isinstance(members, list) and len(members) == 13  # grinta left in September
    numbers = [m["invoice"] for m in members]
    assert len(set(numbers)) == len(numbers)
    assert (root / "ledger/generated/2026/2026-11-allocation.beancount").exists()
    assert (root / "ledger/generated/2026/2026-11-payroll.beancount").exists()
    for number, member in ((m["invoice"], m["member"]) for m in members):
        assert (root / f"reports/invoices/2026/{number}-{member}.pdf").exists()
        assert (root / f"reports/invoices/2026/{number}-{member}.xml").exists()
    assert (
        (root / "reports/2026-11/invoices.csv")
        .read_text(encoding="utf-8")
        .startswith("number,member,net,vat")
    )


def test_numbers_continue_the_yearly_sequence_without_gap(november: tuple[Path, dict[str, object]]) -> None:
    ledger, _ = load_ledger(november[0])
    seqs = sorted(
        int(d.number.rsplit("-", 1)[1]) for d in ledger.issued_documents() if d.number.startswith("FAC-2026")
    )
    assert seqs == list(range(1, len(seqs) + 1))


def test_invoice_totals_equal_receivable_postings(november: tuple[Path, dict[str, object]]) -> None:
    ledger, _ = load_ledger(november[0])
    for txn in ledger.transactions():
        if txn.meta.get("kind") != "invoice":
            continue
        receivable = sum(
            (Decimal(p.units.number) for p in txn.postings if p.account.startswith("Actif:41-Clients:411-")),
            Decimal(0),
        )
        assert receivable == Decimal(txn.meta["total"]), txn.meta["invoice"]
        assert Decimal(txn.meta["net"]) + Decimal(txn.meta["vat"]) == Decimal(txn.meta["total"])


def test_rerun_is_a_byte_identical_no_op(
    november_copy: Path, november: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(november_copy)
    assert main(["run", "2026-11", "--json", "--root", str(november_copy)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == november[1]
    assert tree_digest(november_copy) == before


def test_dry_run_writes_nothing_and_uses_no_number(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(demo)
    assert main(["run", "2026-11", "--dry-run", "--json", "--root", str(demo)]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert tree_digest(demo) == before
    assert main(["run", "2026-11", "--json", "--root", str(demo)]) == 0
    real = json.loads(capsys.readouterr().out)
    assert dry == real  # the dry run planned exactly the numbers the real run then used


def test_changed_inputs_on_an_invoiced_month_are_refused(
    november_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = november_copy / "ledger/timesheets/2026-11.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "2026-11-28,cmartin,le-fil,comptabilite,0.50,ajout\n",
        encoding="utf-8",
    )
    before = tree_digest(november_copy)
    assert main(["run", "2026-11", "--root", str(november_copy)]) == 1
    err = capsys.readouterr().err
    assert "2026-11 is already invoiced and its inputs changed" in err
    assert "--correct" in err
    assert tree_digest(november_copy) == before


@pytest.fixture(scope="module")
def november_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """November's rendered documents, computed once (the plan is deterministic for the same inputs)."""
    root = copy_demo(tmp_path_factory.mktemp("docs") / "group")
    ctx = load_month(root, NOVEMBER)
    plan = plan_month(ctx, NOVEMBER)
    render_documents(ctx, plan)
    return plan.documents


@pytest.mark.parametrize("crash_after", [0, 3, 10, 25, 33])
def test_a_crash_while_writing_is_finished_by_the_recovery(
    demo: Path, crash_after: int, november_documents: dict[str, bytes]
) -> None:
    """A commit interrupted after its journal was written is rolled forward: the month ends fully issued,
    with exactly the numbers the interrupted run had planned, and no temporary or journal is left."""
    ctx = load_month(demo, NOVEMBER)
    plan = plan_month(ctx, NOVEMBER)
    validate_plan(ctx, plan)
    plan.documents = dict(november_documents)
    with pytest.raises(SimulatedCrash):
        commit_plan(ctx, plan, crash_after=crash_after)
    assert (demo / JOURNAL).exists()
    said = recover(demo)
    assert said and said[0].startswith("recovered: an interrupted commit")
    assert leftover_temporaries(demo) == [] and not (demo / JOURNAL).exists()
    assert bean_errors(demo) == []
    ledger, _ = load_ledger(demo)
    issued = [d.number for d in ledger.issued_documents() if d.period == "2026-11"]
    assert issued == [i.number for i in plan.invoices], "the planned numbers, each once"
    # a re-run of the month is a no-op
    again = plan_for(demo, NOVEMBER)
    assert again.status == "unchanged"


def test_months_are_billed_in_order(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(demo)
    assert main(["run", "2026-12", "--dry-run", "--root", str(demo)]) == 1
    err = capsys.readouterr().err
    assert "2026-11 has a timesheet but was not run" in err
    assert "eage run 2026-11" in err
    assert tree_digest(demo) == before


def test_a_month_rendered_in_two_processes_is_byte_identical(
    demo_rules_root: Path, november_documents: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool a large month uses (invoices and payslips queued to two workers) changes no byte."""
    from eage.app.run import render_pool_for

    monkeypatch.setenv("EAGE_RENDER_WORKERS", "2")
    ctx = load_month(demo_rules_root, NOVEMBER)
    plan = plan_month(ctx, NOVEMBER)
    with render_pool_for(plan) as pool:
        assert pool.workers == 2
        render_documents(ctx, plan, pool=pool)
    assert sorted(plan.documents) == sorted(november_documents)
    assert plan.documents == november_documents


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_invoice_whose_xml_breaks_the_rules_stops_the_month(
    demo_rules_root: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """In process or in the pool: the first invalid invoice is named, and nothing is kept of the month."""
    import dataclasses

    from eage.errors import InputError

    monkeypatch.setenv("EAGE_RENDER_WORKERS", workers)
    ctx = load_month(demo_rules_root, NOVEMBER)
    plan = plan_month(ctx, NOVEMBER)
    bad = plan.invoices[2]
    plan.invoices[2] = dataclasses.replace(bad, buyer=dataclasses.replace(bad.buyer, siren=""))
    with pytest.raises(InputError, match=rf"the Factur-X XML of {bad.number} \({bad.member_id}\) breaks"):
        render_documents(ctx, plan)
    assert plan.documents == {}


def test_a_relative_root_is_the_same_group(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`eage run` from inside the group's folder (--root "."): the rewritten members file is recognised."""
    monkeypatch.chdir(demo)
    assert main(["credit-note", "FAC-2026-0151", "--reason", "x", "--root", "."]) == 0
    assert main(["run", "2026-11", "--dry-run", "--root", "."]) == 0


def test_a_cost_posted_after_its_month_was_billed_is_reported_and_corrected(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo bills every pool at its year-to-date rate: a cost posted late in an earlier month is no
    gap of that month (the next months' rate includes it and `eage close` trues the year up), so
    `eage check` passes; `eage run 2026-10 --correct` still re-bills October at the rate that includes it.
    (A monthly pool's gap is reported: tests/test_rate_smoothing.py and the small group's tests.)"""
    entries = demo / "ledger/entries.beancount"
    late = (
        '\n2026-10-20 * "Papeterie Jacquard" "Facture oubliée 10/2026"\n'
        "  Charges:60-Achats:6064-Fournitures-administratives  30.00 EUR\n"
        "  Actif:51-Banque:512-Credit-Cooperatif\n"
    )
    entries.write_text(entries.read_text(encoding="utf-8") + late, encoding="utf-8")
    assert main(["check", "--root", str(demo)]) == 0
    capsys.readouterr()
    assert main(["run", "2026-10", "--correct", "--root", str(demo)]) == 0
    capsys.readouterr()
    _, errors, _ = loader.load_file(str(demo / "ledger/main.beancount"))
    assert errors == [], "corrected: the month bills its cost again"
