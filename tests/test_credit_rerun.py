"""A credit note, then a re-run of its month: nothing to do (issue 13, credit-note coherence).

A standalone credit note (``eage credit-note``) cancels a document; it does not change a month's inputs,
so ``eage run YYYY-MM`` afterwards is a no-op: status "unchanged", no file written, no number used. A real
change of the inputs is still refused with the ``--correct`` hint, and ``--correct`` re-bills a credited
member at its current share (see :mod:`eage.app.correct`). Every command is a real run of the CLI
on a fresh copy of the demo (January to October 2026 run), with the PDFs stubbed (the XML stays real).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import tree_digest
from eage.app.run import plan_for
from eage.cli import main
from eage.ledger.load import IssuedDocument, load_ledger
from eage.ledger.store import manifest_bytes, read_manifest

pytestmark = pytest.mark.slow

BAROUFADA_OCT = "FAC-2026-0140"  # baroufada, October, 624.44 in the demo
BAROUFADA_NOV = "FAC-2026-0153"  # its November invoice, once November is run
FEE_1DLAB = "FAC-2026-0001"  # 1dlab's 2026 fee, dated 1 January
OCT_LINE = "2026-10-02,cmartin,1dlab,comptabilite,1.50,tableau de bord"


def _stub_pdf(inv: object, xml: bytes, template_dir: Path | None = None) -> bytes:
    return b"%PDF-stub " + hashlib.sha256(xml).hexdigest().encode()


def _stub_payslip(*_args: object, **_kwargs: object) -> bytes:
    return b"%PDF-stub payslip"


@pytest.fixture(autouse=True)
def fast_pdfs() -> Iterator[None]:
    """Stubbed PDF layout (invoices and payslips); the Factur-X XML is still built and validated."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("eage.invoicing.pdf.render_invoice_pdf", _stub_pdf)
        mp.setattr("eage.payroll.pdf.render_payslip_pdf", _stub_payslip)
        yield


def run(*args: str, root: Path) -> int:
    return main([*args, "--root", str(root)])


def docs(root: Path) -> list[IssuedDocument]:
    return load_ledger(root)[0].issued_documents()


def assert_rerun_is_a_no_op(root: Path, month: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The dry run and the real run of ``month`` both find nothing to do and write nothing."""
    capsys.readouterr()
    before = tree_digest(root)
    numbers = sorted(d.number for d in docs(root))
    assert run("run", month, "--dry-run", root=root) == 0, capsys.readouterr().err
    assert run("run", month, root=root) == 0, capsys.readouterr().err
    assert "nothing changed" in capsys.readouterr().out
    assert tree_digest(root) == before
    assert sorted(d.number for d in docs(root)) == numbers
    assert plan_for(root, month).status == "unchanged"


def move_hour(root: Path, month: str, line: str, to_member: str) -> None:
    """Give one timesheet line of ``month`` to another member (a genuine change of the inputs)."""
    path = root / f"ledger/timesheets/{month}.csv"
    text = path.read_text(encoding="utf-8")
    member = line.split(",")[2]
    assert line in text
    path.write_text(text.replace(line, line.replace(f",{member},", f",{to_member},"), 1), encoding="utf-8")


def billed_per_member(root: Path, month: str) -> dict[str, Decimal]:
    """Invoices minus credit notes of ``month``, per member (totals with VAT)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for doc in docs(root):
        if doc.period == month and doc.kind in ("invoice", "credit_note"):
            out[doc.member] += doc.total if doc.kind == "invoice" else -doc.total
    return {m: v for m, v in out.items() if v}


def shares(root: Path, month: str) -> dict[str, Decimal]:
    """Each member's total (with VAT) as the month's current inputs give it."""
    plan = plan_for(root, month)
    return {inv.member_id: inv.gross_total for inv in plan.invoices}


# --- a standalone credit note, then the re-run ----------------------------------------------------------


def test_the_issues_case_november_run_credited_then_rerun(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("run", "2026-11", root=demo) == 0
    assert run("credit-note", BAROUFADA_NOV, "--reason", "erreur", root=demo) == 0
    assert_rerun_is_a_no_op(demo, "2026-11", capsys)


def test_a_credited_monthly_invoice_then_its_rerun_is_a_no_op(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur de destinataire", root=demo) == 0
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)


def test_a_credited_fee_then_a_rerun_is_a_no_op(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("credit-note", FEE_1DLAB, "--reason", "cotisation à refaire", root=demo) == 0
    assert_rerun_is_a_no_op(demo, "2026-01", capsys)  # the month of the fee's date
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)


def test_after_a_correction_reruns_stay_no_ops_even_with_later_credit_notes(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    move_hour(demo, "2026-10", OCT_LINE, "casquette")
    assert run("run", "2026-10", "--correct", root=demo) == 0
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)
    # A standalone credit note of the replacement invoice, then of an original nobody corrected.
    replacement = next(
        d for d in docs(demo) if "correction" in d.file and d.member == "1dlab" and d.kind == "invoice"
    )
    assert run("credit-note", replacement.number, "--reason", "erreur", root=demo) == 0
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)
    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur", root=demo) == 0
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)


# --- a genuine change is still refused --------------------------------------------------------------------


def test_a_change_of_inputs_after_a_credit_note_is_refused_with_the_correct_hint(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur", root=demo) == 0
    move_hour(demo, "2026-10", OCT_LINE, "casquette")
    capsys.readouterr()
    before = tree_digest(demo)
    for dry in ([], ["--dry-run"]):
        assert run("run", "2026-10", *dry, root=demo) == 1
        err = capsys.readouterr().err
        assert "already invoiced and its inputs changed" in err and "--correct" in err
        # The change names the members whose amount moved, not the credited one (its hours did not move).
        assert "1dlab:" in err and "casquette:" in err and "baroufada" not in err
    assert tree_digest(demo) == before


# --- --correct after a standalone credit note ----------------------------------------------------------------


def test_correct_after_a_credit_note_rebills_the_credited_member_and_says_what_it_replaces(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur de destinataire", root=demo) == 0
    credit_number = next(d.number for d in docs(demo) if d.refers_to == BAROUFADA_OCT)
    assert run("run", "2026-10", "--correct", root=demo) == 0
    new = [d for d in docs(demo) if "correction" in d.file]
    assert [(d.kind, d.member, d.total) for d in new] == [("invoice", "baroufada", Decimal("687.63"))]
    text = (demo / new[0].file).read_text(encoding="utf-8")
    xml = (demo / str(new[0].pdf).removesuffix(".pdf")).with_suffix(".xml").read_text(encoding="utf-8")
    assert f"Remplace la facture {BAROUFADA_OCT}" in xml
    assert f"^{BAROUFADA_OCT}" in text and f"^{credit_number}" in text
    assert billed_per_member(demo, "2026-10") == shares(demo, "2026-10")
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)
    before = tree_digest(demo)
    assert run("run", "2026-10", "--correct", root=demo) == 0
    assert "nothing to correct" in capsys.readouterr().out
    assert tree_digest(demo) == before


def test_correct_after_a_credit_note_and_a_change_settles_every_member(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur", root=demo) == 0
    move_hour(demo, "2026-10", OCT_LINE, "casquette")
    assert run("run", "2026-10", "--correct", root=demo) == 0
    new = sorted((d.kind, d.member) for d in docs(demo) if "correction" in d.file)
    assert new == [
        ("credit_note", "1dlab"),
        ("credit_note", "casquette"),
        ("invoice", "1dlab"),
        ("invoice", "baroufada"),
        ("invoice", "casquette"),
    ]
    assert billed_per_member(demo, "2026-10") == shares(demo, "2026-10")
    assert_rerun_is_a_no_op(demo, "2026-10", capsys)


# --- the year-end close --------------------------------------------------------------------------------------


def test_close_refuses_a_credited_month_not_rebilled_then_closes_once_corrected(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for month in ("2026-11", "2026-12"):
        assert run("run", month, root=demo) == 0
    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur", root=demo) == 0
    capsys.readouterr()
    before = tree_digest(demo)
    assert run("close", "2026", root=demo) == 1
    err = capsys.readouterr().err
    assert f"2026-10: baroufada's invoice {BAROUFADA_OCT} was cancelled" in err
    assert "eage run 2026-10 --correct" in err
    assert tree_digest(demo) == before
    assert run("run", "2026-10", "--correct", root=demo) == 0
    assert run("close", "2026", root=demo) == 0


# --- what a credit note needs is in the invoice's entry (issue 13, item 1) ----------------------------------


def xml_facts(path: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(code, label, net unit price) of each line, and the VAT category, exemption reason and code."""
    from lxml import etree

    from eage.invoicing.facturx_xml import NSMAP

    tree = etree.fromstring(
        path.read_bytes(), parser=etree.XMLParser(resolve_entities=False, no_network=True)
    )
    lines = [
        (
            item.findtext("ram:SpecifiedTradeProduct/ram:SellerAssignedID", "", NSMAP),
            item.findtext("ram:SpecifiedTradeProduct/ram:Name", "", NSMAP),
            item.findtext(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", "", NSMAP),
        )
        for item in tree.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NSMAP)
    ]
    tax = tree.find(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NSMAP)
    assert tax is not None
    vat = [
        tax.findtext(f"ram:{name}", "", NSMAP)
        for name in ("CategoryCode", "ExemptionReason", "ExemptionReasonCode")
    ]
    return lines, vat


def credit_xml(root: Path, number: str) -> Path:
    doc = next(d for d in docs(root) if d.refers_to == number)
    return (root / str(doc.pdf)).with_suffix(".xml")


def test_a_new_invoice_records_its_lines_and_its_credit_note_reads_nothing_from_reports(demo: Path) -> None:
    assert run("run", "2026-11", root=demo) == 0
    ledger_text = (demo / "ledger/generated/2026/2026-11-allocation.beancount").read_text(encoding="utf-8")
    assert 'vat_category: "E"' in ledger_text and "label:" in ledger_text and "price:" in ledger_text

    assert run("credit-note", BAROUFADA_NOV, "--reason", "erreur", root=demo) == 0
    invoice = xml_facts(demo / "reports/invoices/2026/FAC-2026-0153-baroufada.xml")
    assert xml_facts(credit_xml(demo, BAROUFADA_NOV)) == invoice


def test_an_invoice_whose_entry_does_not_record_its_lines_is_refused_and_nothing_is_written(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invoice entry without its labels, prices and VAT category (hand-written, or by an older eage, its
    lock hash updated to match) is refused at its file and line: no credit note is guessed from reports/."""
    rel = "ledger/generated/2026/2026-10-allocation.beancount"
    october = demo / rel
    text = october.read_text(encoding="utf-8")
    head, sep, tail = text.partition(f'invoice: "{BAROUFADA_OCT}"')
    entry, rest = tail.split("\n\n", 1)
    stripped = "\n".join(
        line
        for line in entry.split("\n")
        if not line.strip().startswith(("label:", "price:", "vat_category:", "vat_rate:"))
    )
    october.write_text(head + sep + stripped + "\n\n" + rest, encoding="utf-8")
    ledger_dir = demo / "ledger"
    manifest = read_manifest(ledger_dir)
    manifest[rel] = hashlib.sha256(october.read_bytes()).hexdigest()
    (ledger_dir / "generated/manifest.json").write_bytes(manifest_bytes(manifest))
    header = (head + sep).count("\n") - 1  # the transaction's first line, two above ``invoice:``
    capsys.readouterr()
    before = tree_digest(demo)

    assert run("credit-note", BAROUFADA_OCT, "--reason", "erreur", root=demo) == 1
    err = capsys.readouterr().err
    assert f"{rel}:{header}" in err
    assert f"{BAROUFADA_OCT} does not record what its credit note repeats" in err
    assert "vat_category" in err and "label" in err and "price" in err
    assert tree_digest(demo) == before
    assert not [d for d in docs(demo) if d.refers_to == BAROUFADA_OCT]
