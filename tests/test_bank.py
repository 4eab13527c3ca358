"""Bank statements: layout and encoding errors, duplicates, re-import, matching, and a ledger that loads."""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DEMO, REPO, copy_demo, tree_digest
from eage.bank.matching import invoice_numbers
from eage.bank.reader import parse_amount
from eage.bank.receivables import InvoiceStatus, invoice_statuses
from eage.cli import main
from eage.ledger.load import load_ledger
from eage.ledger.store import read_includes, with_includes

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

HEADER = "Date;Libellé;Détail;Débit;Crédit\n"
DEMO_CSV = "ledger/bank-statements/releve-2026.csv"


def fresh_demo(target: Path) -> Path:
    """The demo without any imported bank line (whether or not the demo statement was imported)."""
    root = copy_demo(target)
    shutil.rmtree(root / "ledger" / "bank", ignore_errors=True)
    main_path = root / "ledger" / "main.beancount"
    text = main_path.read_text(encoding="utf-8")
    kept = [i for i in read_includes(text, main_path) if not i.startswith("bank/")]
    main_path.write_text(with_includes(text, main_path, kept), encoding="utf-8")
    manifest_path = root / "ledger" / "generated" / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["files"] = {k: v for k, v in data["files"].items() if not k.startswith("ledger/bank/")}
    manifest_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def group(tmp_path: Path) -> Path:
    return fresh_demo(tmp_path / "group")


def statuses(root: Path) -> dict[str, InvoiceStatus]:
    ledger, problems = load_ledger(root)
    assert problems == []
    from_view = invoice_statuses(ledger, "Actif:41-Clients")
    assert invoice_statuses(ledger.entries, "Actif:41-Clients") == from_view  # entries are wrapped in a view
    return {s.number: s for s in from_view}


def write_csv(root: Path, body: str, name: str = "releve.csv", encoding: str = "utf-8") -> Path:
    path = root / "ledger" / "bank-statements" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((HEADER + body).encode(encoding))
    return path


def run(root: Path, *args: str) -> int:
    return main(["import-bank", "--root", str(root), *args])


def test_amounts_and_invoice_numbers_in_labels() -> None:
    assert parse_amount("1 234,56", decimal_comma=True, thousands_separator=" ") == Decimal("1234.56")
    assert parse_amount("1.234,56", decimal_comma=True, thousands_separator=".") == Decimal("1234.56")
    assert parse_amount("12,30-", decimal_comma=True) == Decimal("-12.30")
    assert parse_amount("1,234.56", decimal_comma=False, thousands_separator=",") == Decimal("1234.56")
    assert parse_amount("", decimal_comma=True) is None
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount("1 234,56", decimal_comma=True)  # no thousands separator declared
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount("12,3a", decimal_comma=True)
    known = {"FAC-2026-0001": None, "FAC-2026-0012": None}
    label = "VIR RECU FAC20260001 ET FAC 2026 0012 ET FAC-2026-0099"
    assert invoice_numbers(label, "FAC", known) == ["FAC-2026-0001", "FAC-2026-0012"]


def test_matching_by_number_amount_partial_rule_and_suspense(
    group: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = statuses(group)
    # The 2026 fees are issued first (FAC-2026-0001..0014, kind "fee"): monthly invoices follow them.
    assert before["FAC-2026-0001"].kind == "fee" and before["FAC-2026-0001"].status == "impayée"
    dlab = next(s for s in before.values() if s.member == "1dlab" and s.kind == "invoice")
    les3c = next(s for s in before.values() if s.member == "les-3c" and s.kind == "invoice")
    crefad = next(s for s in before.values() if s.member == "crefad-loire" and s.kind == "invoice")
    assert (dlab.number, dlab.total) == ("FAC-2026-0015", Decimal("754.19"))
    assert les3c.total not in {s.open for s in before.values() if s.member == "les-3c" and s != les3c}
    body = (
        "05/02/2026;VIR SEPA RECU /DE 1DLAB;/MOTIF FAC-2026-0015;;754,19\n"
        f"06/02/2026;VIR CINEMA LE FRANCE;REGLEMENT JANVIER;;{les3c.total:.2f}\n".replace(".", ",")
        + f"07/02/2026;VIR CREFAD LOIRE;FAC {crefad.number[4:8]} {crefad.number[9:]};;500,00\n"
        "08/02/2026;VIR SEPA RECU /DE INCONNU;DON;;42,00\n"
        "15/02/2026;PRLV URSSAF RHONE ALPES;COTISATIONS 01/2026;1493,75;\n"
    )
    path = write_csv(group, body)
    assert run(group, str(path)) == 0
    out = capsys.readouterr().out
    assert "5 new, 0 already imported" in out
    assert "1 line(s) to identify" in out
    after = statuses(group)
    assert after["FAC-2026-0015"].status == "payée"
    assert after["FAC-2026-0001"].status == "impayée"  # the fee, not named in any line, is left open
    assert after[les3c.number].status == "payée"
    assert after[crefad.number].status == "partiellement payée"
    assert after[crefad.number].open == crefad.total - Decimal("500.00")
    text = (group / "ledger" / "bank" / "2026-02.beancount").read_text(encoding="utf-8")
    assert text.startswith(";; Generated by eage")
    assert 'option "name_assets" "Actif"' in text
    assert "^FAC-2026-0015" in text and 'kind: "bank"' in text and 'invoice: "FAC-2026-0015"' in text
    assert "Actif:41-Clients:411-1dlab" in text
    assert '! "VIR SEPA RECU /DE INCONNU DON"' in text
    assert "Actif:47-Attente:471-Compte-attente" in text
    assert "Passif:43-Organismes-sociaux:431-Securite-sociale" in text
    assert main(["check", "--root", str(group)]) == 0  # manifest updated, ledger loads with zero errors


def test_a_payment_naming_several_invoices_is_split_only_on_their_exact_sum(group: Path) -> None:
    from eage.app.import_bank import import_bank

    before = statuses(group)
    invoices = [s for s in before.values() if s.kind == "invoice" and s.period == "2026-01"]
    first, second, third, fourth = invoices[:4]
    assert len({first.member, second.member}) == 2
    exact = first.total + second.total
    short = third.total + fourth.total - Decimal("0.01")
    body = (
        f"05/02/2026;VIR GROUPE REGLEMENT;{second.number} ET {first.number};;{exact:.2f}\n"
        f"06/02/2026;VIR GROUPE REGLEMENT;{third.number} {fourth.number};;{short:.2f}\n"
    ).replace(".", ",")
    result = import_bank(group, write_csv(group, body))
    assert [m.how for m in result.matches] == ["numéro", "attente"]
    assert result.notes == [
        f"ledger/bank-statements/releve.csv:3: names {third.number} (open {third.total:.2f}), {fourth.number} "
        f"(open {fourth.total:.2f}): {short:.2f} received, their open balances sum to {short + Decimal('0.01'):.2f}; "
        "not split, to be settled by hand"
    ]
    after = statuses(group)
    assert after[first.number].status == after[second.number].status == "payée"
    assert after[third.number].status == after[fourth.number].status == "impayée"
    text = (group / "ledger" / "bank" / "2026-02.beancount").read_text(encoding="utf-8")
    assert f"Actif:41-Clients:411-{first.member}" in text and f"Actif:41-Clients:411-{second.member}" in text
    assert 'reason: "names ' in text  # the 471 line says why, in the ledger (Fava shows it)


def test_a_line_before_the_bank_account_cites_the_statement_line(
    group: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = "05/02/2026;VIR SEPA RECU /DE 1DLAB;/MOTIF FAC-2026-0015;;754,19\n"
    err = _fails(group, write_csv(group, ok + ok.replace("2026", "1999", 1)), capsys)
    assert "ledger/bank-statements/releve.csv:3: dated 1999-02-05, before the account" in err
    assert "ledger/bank/1999" not in err


def test_reimport_adds_nothing(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = group / DEMO_CSV
    if not csv.exists():
        pytest.skip("demo bank statement not generated (scripts/demo_bank_csv.py)")
    assert run(group, str(csv)) == 0
    first = capsys.readouterr().out
    lines = sum(1 for _ in csv.open(encoding="utf-8")) - 1
    assert f"{lines} new, 0 already imported" in first
    digest = tree_digest(group / "ledger")
    assert run(group, str(csv)) == 0
    assert f"0 new, {lines} already imported" in capsys.readouterr().out
    assert tree_digest(group / "ledger") == digest
    ledger, problems = load_ledger(group)
    assert problems == []
    refs = [t.meta["bank_ref"] for t in ledger.transactions() if "bank_ref" in t.meta]
    assert len(refs) == len(set(refs)) == lines == len(ledger.bank_refs())
    by_number = {s.number: s for s in invoice_statuses(ledger, "Actif:41-Clients")}
    kinds = {s.status for s in by_number.values()}
    assert {"payée", "partiellement payée", "impayée"} <= kinds


def test_overlapping_statement_posts_only_new_lines(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    january = "05/02/2026;VIR SEPA RECU /DE 1DLAB;/MOTIF FAC-2026-0015;;754,19\n"
    assert run(group, str(write_csv(group, january, "a.csv"))) == 0
    more = january + "08/02/2026;VIR SEPA RECU /DE INCONNU;DON;;42,00\n"
    assert run(group, str(write_csv(group, more, "b.csv"))) == 0
    assert "1 new, 1 already imported" in capsys.readouterr().out


def test_duplicate_lines_inside_the_file_are_skipped_with_a_count(
    group: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "08/02/2026;VIR SEPA RECU /DE INCONNU;DON;;42,00\n"
    assert run(group, str(write_csv(group, line + line + line))) == 0
    out = capsys.readouterr().out
    assert "1 new, 0 already imported" in out
    assert "2 duplicate line(s) inside the file skipped (lines 3, 4)" in out
    text = (group / "ledger" / "bank" / "2026-02.beancount").read_text(encoding="utf-8")
    assert text.count("INCONNU") == 1


def test_duplicates_keep_mode_imports_each_once(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = group / "rules" / "bank.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("duplicates: skip", "duplicates: keep"), "utf-8"
    )
    line = "08/02/2026;VIR SEPA RECU /DE INCONNU;DON;;42,00\n"
    path = write_csv(group, line + line)
    assert run(group, str(path)) == 0
    assert run(group, str(path)) == 0
    out = capsys.readouterr().out
    assert "2 new, 0 already imported" in out and "0 new, 2 already imported" in out


def _fails(group: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    digest = tree_digest(group / "ledger")
    assert run(group, str(path)) == 1
    assert tree_digest(group / "ledger") == digest  # nothing written
    return capsys.readouterr().err


def test_missing_column_names_the_file_line_and_fix(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = group / "ledger" / "bank-statements" / "autre-banque.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Date;Libellé;Montant\n05/02/2026;VIR;671,71\n", encoding="utf-8")
    err = _fails(group, path, capsys)
    assert "ledger/bank-statements/autre-banque.csv:1" in err
    assert "column not found" in err and "Détail" in err and "rules/bank.yaml" in err


def test_bad_date_and_bad_amount_name_their_line(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok = "05/02/2026;VIR SEPA RECU /DE 1DLAB;/MOTIF FAC-2026-0015;;754,19\n"
    err = _fails(group, write_csv(group, ok + "2026-02-06;VIR;X;;1,00\n"), capsys)
    assert "releve.csv:3" in err and "date_format" in err
    err = _fails(group, write_csv(group, ok + ok.replace("754,19", "7O8,86")), capsys)
    assert "releve.csv:3" in err and "not an amount" in err


def test_short_line_names_the_delimiter(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(group, write_csv(group, "05/02/2026,VIR,,1,00\n"), capsys)
    assert "releve.csv:2" in err and "delimiter" in err


def test_wrong_encoding(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = "05/02/2026;VIR;/MOTIF;;1,00\n06/02/2026;VIR REÇU CRÉDIT;x;;2,00\n"
    err = _fails(group, write_csv(group, body, encoding="cp1252"), capsys)
    assert "releve.csv:1" in err and "not valid utf-8" in err and "layout.encoding" in err  # "Libellé"
    rules = group / "rules" / "bank.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace('encoding: "utf-8"', 'encoding: "cp1252"'), "utf-8"
    )
    err = _fails(group, write_csv(group, body, encoding="utf-8"), capsys)
    assert "looks like UTF-8" in err and "releve.csv:1" in err


def test_bad_layout_in_rules(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = group / "rules" / "bank.yaml"
    text = rules.read_text(encoding="utf-8").replace('  credit: "Crédit"\n', "")
    rules.write_text(text, encoding="utf-8")
    err = _fails(group, write_csv(group, ""), capsys)
    assert "rules/bank.yaml" in err and "debit" in err


def test_hand_edited_bank_file_is_refused(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(group, str(write_csv(group, "05/02/2026;VIR X;;;1,00\n", "a.csv"))) == 0
    bank = group / "ledger" / "bank" / "2026-02.beancount"
    bank.write_text(bank.read_text(encoding="utf-8") + "; note\n", encoding="utf-8")
    err = _fails(group, write_csv(group, "06/02/2026;VIR Y;;;2,00\n", "b.csv"), capsys)
    assert "ledger/bank/2026-02.beancount" in err and "edited by hand" in err


def test_demo_statement_is_reproducible(tmp_path: Path) -> None:
    """scripts/demo_bank_csv.py rewrites the same bytes from the demo ledger."""
    import subprocess
    import sys

    csv = DEMO / DEMO_CSV
    if not csv.exists():
        pytest.skip("demo bank statement not generated")
    root = fresh_demo(tmp_path / "g")
    subprocess.run([sys.executable, str(REPO / "scripts" / "demo_bank_csv.py"), str(root)], check=True)
    assert (root / DEMO_CSV).read_bytes() == csv.read_bytes()
