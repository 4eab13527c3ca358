"""Credit notes, corrections, membership fees and the year-end true-up, end to end on demo copies.

One year is played once per module on a copy of the demo (the 2026 fees issued first, then January-October
2026 run): a credit note, a correction of October after hours moved between two members, two fees credited
and `eage fees 2026` re-issuing just those, November and December, the corrections of March and June, then
the close.
The tests read the resulting ledger. Invoice PDFs are stubbed where their looks do not matter (WeasyPrint
takes about a second a page); the documents checked for determinism are rendered for real.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import copy_demo, tree_digest
from eage.allocation.core import AllocationRules
from eage.allocation.rules import allocation_rules
from eage.app import close as app_close
from eage.app import credit_note as app_credit
from eage.app import fees as app_fees
from eage.app.correct import run_correction
from eage.app.inputs import load_inputs
from eage.app.run import compute_month as compute_month_of
from eage.app.run import load_month, run_month
from eage.cli import main
from eage.csvsafe import safe_cell
from eage.errors import InputError
from eage.invoicing import credit, fees, issue, trueup
from eage.invoicing.facturx_xml import build_cii_xml
from eage.invoicing.numbering import parse_number
from eage.invoicing.pdf import render_invoice_pdf
from eage.invoicing.validate import validate_facturx_xml
from eage.ledger.load import CostLine, IssuedDocument, load_ledger
from eage.month import Month
from eage.rules.models import FeeBand, FeeFormula, Member
from eage.timesheets import TimesheetLine, read_timesheet

pytestmark = pytest.mark.slow

D = Decimal
RECEIVABLE = "Actif:41-Clients:411-"
REVENUE = "Produits:70-Ventes:7084-Mise-a-disposition-personnel"
EVIL_REASON = '=HYPERLINK("http://x") heures comptées deux fois'


def bean_errors(root: Path) -> list[object]:
    _, errors, _ = loader.load_file(str(root / "ledger/main.beancount"))
    return list(errors)


def stub_pdf(inv: object, xml: bytes, template_dir: Path | None = None) -> bytes:
    return b"%PDF-stub " + hashlib.sha256(xml).hexdigest().encode()


def _no_payslip(*_args: object, **_kwargs: object) -> bytes:
    return b"%PDF-stub payslip"


@pytest.fixture(scope="module")
def fast() -> Iterator[pytest.MonkeyPatch]:
    """Stubbed PDFs (invoices and payslips) for the whole module; XML validation stays real."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("eage.invoicing.pdf.render_invoice_pdf", stub_pdf)
        mp.setattr("eage.payroll.pdf.render_payslip_pdf", _no_payslip)
        yield mp


def _skip_validation(mp: pytest.MonkeyPatch) -> None:
    # Monthly runs and big corrections go through the same code as the validated ones below.
    mp.setattr("eage.invoicing.validate.validate_facturx_xml", lambda _xml: [])


def move_one_hour(root: Path, month: str, line_text: str, new_member: str) -> None:
    path = root / f"ledger/timesheets/{month}.csv"
    text = path.read_text(encoding="utf-8")
    member = line_text.split(",")[2]
    assert line_text in text
    path.write_text(
        text.replace(line_text, line_text.replace(f",{member},", f",{new_member},"), 1), encoding="utf-8"
    )


OCT_LINE = "2026-10-02,cmartin,baroufada,comptabilite,1.00,tableau de bord"
# The demo issues the 2026 fees first (FAC-2026-0001..0014, 1 January), then the months from FAC-2026-0015.
LA_FABRIQUE_JAN = "FAC-2026-0021"  # la-fabrique, January, 692.12
LA_FABRIQUE_FEB = "FAC-2026-0034"
BAROUFADA_OCT = "FAC-2026-0140"
LAST_DEMO_INVOICE = "FAC-2026-0151"
FEE_1DLAB, FEE_EQUI_LIBRE = "FAC-2026-0001", "FAC-2026-0005"
CREDITED_FEES = (FEE_1DLAB, FEE_EQUI_LIBRE)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory, fast: pytest.MonkeyPatch) -> dict[str, object]:
    """The demo played to the close of 2026 (actual mode); what each step returned or left behind."""
    root = copy_demo(tmp_path_factory.mktemp("year") / "group")
    state: dict[str, object] = {"root": root}
    october = root / "ledger/generated/2026/2026-10-allocation.beancount"
    originals = {p: p.read_bytes() for p in (root / "reports/invoices/2026").iterdir()}
    originals[october] = october.read_bytes()
    state["originals"] = originals
    errors: dict[str, list[object]] = {}

    state["credit"] = app_credit.issue_credit_note(
        root, LA_FABRIQUE_JAN, EVIL_REASON, day=dt.date(2026, 11, 2)
    )
    errors["credit-note"] = bean_errors(root)
    move_one_hour(root, "2026-10", OCT_LINE, "casquette")
    state["october"] = run_correction(root, "2026-10")
    errors["correct 2026-10"] = bean_errors(root)
    state["fees before"] = app_fees.issue_fees(root, 2026)  # the demo's fees stand: nothing to issue
    for number in CREDITED_FEES:
        app_credit.issue_credit_note(root, number, "Cotisation à refaire")
    state["fees"] = app_fees.issue_fees(root, 2026)
    errors["fees"] = bean_errors(root)
    with pytest.MonkeyPatch.context() as mp:
        _skip_validation(mp)
        for month in ("2026-11", "2026-12"):
            run_month(root, month)
            errors[f"run {month}"] = bean_errors(root)
        for month in ("2026-01", "2026-03", "2026-06"):
            state[f"correct {month}"] = run_correction(root, month)
            errors[f"correct {month}"] = bean_errors(root)
    state["close"] = app_close.close_year(root, 2026)
    errors["close"] = bean_errors(root)
    state["errors"] = errors
    return state


def documents(root: Path) -> list[IssuedDocument]:
    return load_ledger(root)[0].issued_documents()


def test_the_ledger_loads_with_zero_errors_after_every_command(year: dict[str, object]) -> None:
    assert year["errors"] == {k: [] for k in year["errors"]}  # type: ignore[attr-defined]


def test_numbers_have_no_gap_no_reuse_and_follow_the_dates(year: dict[str, object]) -> None:
    docs = documents(year["root"])  # type: ignore[arg-type]
    for prefix in ("FAC", "AV"):
        mine = sorted(
            (parse_number(d.number), d.date, d.kind) for d in docs if d.number.startswith(prefix + "-2026-")
        )
        numbers = [n[2] for n, _, _ in mine if n]
        assert numbers == list(range(1, len(numbers) + 1)), prefix
        dates = [day for _, day, _ in mine]
        assert dates == sorted(dates), f"{prefix} numbers are not chronological"
    kinds = {d.kind for d in docs}
    assert {"invoice", "credit_note", "fee"} <= kinds
    assert len({d.number for d in docs}) == len(docs)


def test_issued_files_are_never_rewritten(year: dict[str, object]) -> None:
    originals: dict[Path, bytes] = year["originals"]  # type: ignore[assignment]
    changed = [p.name for p, data in originals.items() if p.read_bytes() != data]
    assert changed == []


def test_a_credit_note_reverses_the_invoice_and_names_it(year: dict[str, object]) -> None:
    root: Path = year["root"]  # type: ignore[assignment]
    plan: issue.IssuePlan = year["credit"]  # type: ignore[assignment]
    (item,) = plan.issued
    inv = item.invoice
    assert (inv.number, inv.kind, inv.refers_to, inv.issue_date) == (
        "AV-2026-0001",
        "credit_note",
        LA_FABRIQUE_JAN,
        dt.date(2026, 11, 2),
    )
    text = (root / "ledger/generated/2026/AV-2026-0001.beancount").read_text(encoding="utf-8")
    assert f"^AV-2026-0001 ^{LA_FABRIQUE_JAN}" in text and 'kind: "credit_note"' in text
    original = next(d for d in documents(root) if d.number == LA_FABRIQUE_JAN)
    assert (original.kind, original.member, original.period) == ("invoice", "la-fabrique", "2026-01")
    assert inv.gross_total == original.total and inv.net_total == original.net
    xml = (root / "reports/invoices/2026/AV-2026-0001-la-fabrique.xml").read_bytes()
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and LA_FABRIQUE_JAN.encode() in xml
    assert validate_facturx_xml(xml) == []


def test_the_year_register_lists_every_document_and_defuses_formulas(year: dict[str, object]) -> None:
    root: Path = year["root"]  # type: ignore[assignment]
    text = (root / "reports/2026/documents.csv").read_text(encoding="utf-8")
    assert "AV-2026-0001" in text
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert safe_cell("+A1") == "'+A1" and safe_cell("@x") == "'@x" and safe_cell("ok") == "ok"


def test_correction_credits_and_replaces_only_the_affected_members(year: dict[str, object]) -> None:
    root: Path = year["root"]  # type: ignore[assignment]
    plan: issue.IssuePlan = year["october"]  # type: ignore[assignment]
    members = {item.invoice.member_id for item in plan.issued}
    assert {"baroufada", "casquette"} <= members
    assert len(members) < 13, "unchanged members get nothing"
    assert (root / "ledger/generated/2026/2026-10-correction-1.beancount").exists()
    for item in plan.issued:
        xml = (
            root / f"reports/invoices/2026/{item.invoice.number}-{item.invoice.member_id}.xml"
        ).read_bytes()
        assert validate_facturx_xml(xml) == []
    replacement = next(
        i.invoice for i in plan.issued if i.invoice.kind == "invoice" and i.invoice.member_id == "baroufada"
    )
    assert (
        replacement.number > LAST_DEMO_INVOICE
        and f"Annule et remplace la facture {BAROUFADA_OCT}" in replacement.notes[0]
    )


@pytest.mark.parametrize("month", ["2026-03", "2026-06", "2026-10", "2026-11"])
def test_after_corrections_each_members_billing_equals_its_share(year: dict[str, object], month: str) -> None:
    root: Path = year["root"]  # type: ignore[assignment]
    ledger = load_ledger(root)[0]
    receivable: dict[str, Decimal] = defaultdict(Decimal)
    net: dict[str, Decimal] = defaultdict(Decimal)
    for txn in ledger.transactions():
        if txn.meta.get("period") != month or txn.meta.get("kind") not in ("invoice", "credit_note"):
            continue
        member = str(txn.meta["member"])
        for posting in txn.postings:
            if posting.account.startswith(RECEIVABLE):
                receivable[member] += posting.units.number
            if posting.account == REVENUE:
                net[member] -= posting.units.number
        sign = 1 if txn.meta["kind"] == "invoice" else -1
        assert sum(
            (p.units.number for p in txn.postings if p.account.startswith(RECEIVABLE)), D(0)
        ) == sign * D(txn.meta["total"])
    result = compute_month_of(load_month(root, Month.parse(month)), Month.parse(month)).result
    assert {m: v for m, v in net.items() if v} == {m: result.member_total(m) for m in result.members()}
    # The demo bills its pools at the year-to-date rate: a month's billing is what the allocation bills
    # (rate x hours), its difference with the month's cost is settled by the close.
    assert sum(net.values(), D(0)) == result.total_billed
    assert all(v >= 0 for v in receivable.values())


@pytest.mark.parametrize("month", ["2026-03", "2026-10"])
def test_a_corrected_month_reruns_and_recorrects_as_a_no_op(
    year: dict[str, object], month: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root: Path = year["root"]  # type: ignore[assignment]
    before = tree_digest(root)
    assert main(["run", month, "--root", str(root)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert main(["run", month, "--correct", "--root", str(root)]) == 0
    assert "nothing to correct" in capsys.readouterr().out
    assert tree_digest(root) == before


def test_fees_follow_the_formula_and_rerunning_issues_nothing(year: dict[str, object]) -> None:
    root: Path = year["root"]  # type: ignore[assignment]
    ctx = load_inputs(root)
    formula = ctx.rules.fees.formula[2026]
    members = {m.id: m for m in ctx.rules.members.members}
    docs = documents(root)
    # The demo's fees: one per member, numbered first, each the formula's amount (grinta, who left on
    # 30 September, pays 9/12; equi-libre, who joined on 1 March, 10/12).
    demo_fees = [d for d in docs if d.kind == "fee" and d.number <= "FAC-2026-0014"]
    assert [d.number for d in demo_fees] == [f"FAC-2026-{n:04d}" for n in range(1, 15)]
    assert {d.date for d in demo_fees} == {dt.date(2026, 1, 1)} and {d.period for d in demo_fees} == {"2026"}
    assert sorted(d.member for d in demo_fees) == sorted(members)
    for doc in demo_fees:
        assert (doc.total, doc.vat) == (fees.member_fee(formula, members[doc.member], 2026)[0], Decimal(0)), (
            doc.number
        )
    # The first run found every fee standing; after two were credited, it re-issued exactly those two.
    before_plan: issue.IssuePlan = year["fees before"]  # type: ignore[assignment]
    assert before_plan.status == "nothing" and before_plan.files == {}
    plan: issue.IssuePlan = year["fees"]  # type: ignore[assignment]
    amounts = {i.invoice.member_id: i.invoice.gross_total for i in plan.issued}
    assert amounts == {"1dlab": D("1820.00"), "equi-libre": D("233.33")}  # 1 % of 182,000; 10/12 of 280.00
    assert all(i.doc_kind == "fee" for i in plan.issued)
    for number in CREDITED_FEES:
        assert credit.credited_by(docs, number) is not None
    for fee in plan.issued:
        assert fee.invoice.number > LAST_DEMO_INVOICE
        assert fee.invoice.vat.category == "O" and fee.invoice.vat_total == 0
        assert any(p.account.endswith("756-Cotisations") for p in fee.txn.postings)
        xml = (root / f"reports/invoices/2026/{fee.invoice.number}-{fee.invoice.member_id}.xml").read_bytes()
        assert validate_facturx_xml(xml) == []
        assert b"VATEX-EU-O" in xml and b"FR33917535908" not in xml  # BR-O-02: no VAT number with category O
    before = tree_digest(root)
    again = app_fees.issue_fees(root, 2026)
    assert again.status == "nothing" and tree_digest(root) == before


# --- refusals, dry and failed runs --------------------------------------------------------------------


@pytest.fixture
def group(demo: Path, fast: pytest.MonkeyPatch) -> Path:
    return demo


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["FAC-2026-0999"], "no invoice FAC-2026-0999"),
        ([LA_FABRIQUE_JAN, "--date", "2026-01-15"], "before the invoice it cancels"),
        ([LA_FABRIQUE_JAN, "--reason", "  "], "needs a reason"),
    ],
)
def test_credit_note_refusals_write_nothing(
    group: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(group)
    argv = ["credit-note", *args, "--root", str(group)]
    if "--reason" not in args:
        argv += ["--reason", "erreur"]
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert tree_digest(group) == before


def test_a_dry_run_or_a_failed_run_uses_no_number(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(group)
    dry = app_credit.issue_credit_note(group, LA_FABRIQUE_JAN, "erreur", dry_run=True)
    assert tree_digest(group) == before
    # A credit note dated before the last one of its sequence would break chronology: refused.
    # (The first one cancels a fee, so that `eage fees 2026` has one to issue again.)
    first = app_credit.issue_credit_note(group, FEE_EQUI_LIBRE, "erreur", day=dt.date(2026, 6, 30))
    assert first.issued[0].invoice.number == dry.issued[0].invoice.number == "AV-2026-0001"
    middle = tree_digest(group)
    assert (
        main(["credit-note", LA_FABRIQUE_JAN, "--reason", "x", "--date", "2026-02-01", "--root", str(group)])
        == 1
    )
    assert "must follow the dates" in capsys.readouterr().err
    # Fees dated before the last invoice would break the FAC sequence: refused too.
    assert main(["fees", "2026", "--date", "2026-02-01", "--root", str(group)]) == 1
    assert "must follow the dates" in capsys.readouterr().err
    assert tree_digest(group) == middle
    second = app_credit.issue_credit_note(group, LA_FABRIQUE_JAN, "erreur")
    assert second.issued[0].invoice.number == "AV-2026-0002"
    assert second.issued[0].invoice.issue_date == dt.date(2026, 6, 30)  # default keeps the sequence in order
    assert main(["credit-note", LA_FABRIQUE_JAN, "--reason", "x", "--root", str(group)]) == 1
    assert "already fully credited by AV-2026-0002" in capsys.readouterr().err
    assert main(["credit-note", "AV-2026-0001", "--reason", "x", "--root", str(group)]) == 1
    assert "is a credit note" in capsys.readouterr().err
    assert bean_errors(group) == []


def test_correct_with_nothing_changed_says_so_and_writes_nothing(
    group: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(group)
    assert main(["run", "2026-10", "--correct", "--root", str(group)]) == 0
    assert "nothing to correct" in capsys.readouterr().out
    assert tree_digest(group) == before


def test_a_bare_credit_note_then_a_correction_reissues_the_invoice(group: Path) -> None:
    app_credit.issue_credit_note(group, BAROUFADA_OCT, "erreur de destinataire")
    # A credit note changes no input: the month's re-run is a no-op (issue 13); --correct re-bills.
    assert run_month(group, "2026-10").status == "unchanged"
    plan = run_correction(group, "2026-10")
    assert [(i.doc_kind, i.invoice.member_id) for i in plan.issued] == [("invoice", "baroufada")]
    assert run_month(group, "2026-10").status == "unchanged"


# --- documents: deterministic bytes -------------------------------------------------------------------


def test_credit_note_and_fee_documents_are_deterministic(demo: Path) -> None:
    root = demo
    app_credit.issue_credit_note(root, FEE_1DLAB, "Cotisation à refaire")  # so that one fee is due again
    ctx = load_inputs(root)
    note = app_credit.plan_credit_note(ctx, LA_FABRIQUE_JAN, "Heures comptées deux fois").issued[0].invoice
    (fee_item,) = app_fees.plan_fees(ctx, 2026).issued
    fee = fee_item.invoice
    assert (fee.member_id, fee.gross_total) == ("1dlab", D("1820.00"))
    for inv in (note, fee):
        xml = build_cii_xml(inv)
        assert xml == build_cii_xml(inv)
        assert render_invoice_pdf(inv, xml) == render_invoice_pdf(inv, build_cii_xml(inv))
    again = load_inputs(root)
    assert (
        app_credit.plan_credit_note(again, LA_FABRIQUE_JAN, "Heures comptées deux fois").files
        == app_credit.plan_credit_note(ctx, LA_FABRIQUE_JAN, "Heures comptées deux fois").files
    )
    assert app_fees.plan_fees(again, 2026).files == app_fees.plan_fees(ctx, 2026).files


# --- fees formulas --------------------------------------------------------------------------------------


def _member(**extra: object) -> Member:
    identity = {
        "name": "M",
        "legal_form": "Association",
        "siren": "989457148",
        "address": {"line1": "1 rue", "postcode": "42000", "city": "Saint-Étienne"},
    }
    return Member.model_validate(
        {"id": "m", "identity": identity, "vat_regime": "exempt_261b", "joined": dt.date(2012, 1, 1), **extra}
    )


def test_fee_formulas() -> None:
    percent = FeeFormula(kind="percent_of_payroll", rate=D("0.01"), cap=D("5000"), floor=D("300"))
    assert fees.yearly_fee(percent, _member(previous_year_gross_payroll={2025: D("900000")}), 2026) == D(
        "5000.00"
    )
    assert fees.yearly_fee(percent, _member(previous_year_gross_payroll={2025: D("12000")}), 2026) == D(
        "300.00"
    )
    bands = FeeFormula(
        kind="headcount_band",
        bands=[
            FeeBand(up_to=5, amount=D("300")),
            FeeBand(up_to=20, amount=D("1200")),
            FeeBand(up_to=None, amount=D("4000")),
        ],
    )
    assert [fees.yearly_fee(bands, _member(headcount=n), 2026) for n in (0, 5, 6, 20, 300)] == [
        D("300.00"),
        D("300.00"),
        D("1200.00"),
        D("1200.00"),
        D("4000.00"),
    ]
    left = _member(joined=dt.date(2026, 3, 15), left=dt.date(2026, 9, 30))
    assert fees.membership_months(left, 2026) == 7
    assert fees.member_fee(FeeFormula(kind="flat", amount=D("1200")), left, 2026) == (D("700.00"), 7)


def test_headcount_band_fees_on_a_copy(group: Path) -> None:
    # The demo's 2026 fees are issued: the group votes a headcount-band fee for 2027.
    fees_yaml = group / "rules/fees.yaml"
    fees_yaml.write_text(
        fees_yaml.read_text(encoding="utf-8").replace(
            "\nvat_regime:",
            "\n  2027:\n    kind: headcount_band\n    label: Cotisation 2027 par tranche d'effectif\n"
            "    bands:\n      - {up_to: 10, amount: 300}\n      - {up_to: null, amount: 4000}\nvat_regime:",
        ),
        encoding="utf-8",
    )
    members = group / "rules/members.yaml"
    text = members.read_text(encoding="utf-8")
    # Associations (exempt) employ 4 people; SCOP, SARL and SCIC members have no headcount yet.
    members.write_text(
        text.replace("    vat_regime: exempt_261b\n", "    vat_regime: exempt_261b\n    headcount: 4\n"),
        encoding="utf-8",
    )
    assert app_fees.issue_fees(group, 2026).status == "nothing"
    with pytest.raises(InputError, match=r"1dlab has no headcount"):
        app_fees.plan_fees(load_inputs(group), 2027)
    members.write_text(
        members.read_text(encoding="utf-8").replace(
            "    vat_regime: liable\n", "    vat_regime: liable\n    headcount: 25\n"
        ),
        encoding="utf-8",
    )
    plan = app_fees.issue_fees(group, 2027)
    amounts = {i.invoice.member_id: i.invoice.gross_total for i in plan.issued}
    assert amounts["1dlab"] == D("4000.00") and amounts["les-3c"] == D("300.00")
    assert "grinta" not in amounts and len(amounts) == 13  # grinta left in 2026
    assert plan.issued[0].invoice.number == "FAC-2027-0001"
    assert {i.invoice.issue_date for i in plan.issued} == {dt.date(2027, 1, 1)}
    assert bean_errors(group) == []


# --- standard rate and the year-end true-up ------------------------------------------------------------


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory, fast: pytest.MonkeyPatch) -> Path:
    """The demo switched to standard rates for November and December, then closed."""
    root = copy_demo(tmp_path_factory.mktemp("std") / "group")
    rules = root / "rules/allocation.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8")
        .replace("billing_mode: actual", "billing_mode: standard_rate")
        .replace(": year_to_date\n", ": monthly\n"),  # rate_method is for billing_mode actual only
        encoding="utf-8",
    )
    main_path = root / "ledger/main.beancount"  # the eage plugin's configuration follows the rules
    main_path.write_text(
        main_path.read_text(encoding="utf-8").replace(
            "'billing_mode': 'actual'", "'billing_mode': 'standard_rate'"
        ),
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        _skip_validation(mp)
        run_month(root, "2026-11")
        run_month(root, "2026-12")
    return root


def test_standard_rate_invoices_bill_hours_at_the_rate_without_overhead(standard: Path) -> None:
    text = (standard / "ledger/generated/2026/2026-11-allocation.beancount").read_text(encoding="utf-8")
    assert 'service: "overhead"' not in text
    ledger = load_ledger(standard)[0]
    for txn in ledger.transactions():
        if txn.meta.get("period") == "2026-11":
            for p in txn.postings:
                if p.account == REVENUE:
                    hours, service = D(p.meta["hours"]), p.meta["service"]
                    rate = {"comptabilite": D(42), "paie": D(38), "administration_sociale": D(40)}[service]
                    assert -p.units.number == (hours * rate).quantize(D("0.01"))


def test_close_makes_the_years_billing_equal_the_years_cost(standard: Path) -> None:
    plan = app_close.close_year(standard, 2026)
    assert plan.issued and {i.doc_kind for i in plan.issued} == {"trueup"}
    assert bean_errors(standard) == []
    for item in plan.issued[:2]:
        inv = item.invoice
        assert inv.issue_date == dt.date(2026, 12, 31)
        xml = (standard / f"reports/invoices/2026/{inv.number}-{inv.member_id}.xml").read_bytes()
        assert validate_facturx_xml(xml) == []
    ctx = load_inputs(standard)
    year_rules = allocation_rules(ctx.rules, dt.date(2026, 12, 31))
    lines = [line for m in range(1, 13) for line in read_timesheet(standard, f"2026-{m:02d}", ctx.rules)]
    costs = ctx.ledger.costs(dt.date(2026, 1, 1), dt.date(2027, 1, 1), "Charges")
    targets = trueup.year_targets(2026, costs, lines, year_rules)
    billed = trueup.billed_in_year(ctx.ledger.issued_documents(), ctx.rules.accounts.revenue, 2026)
    per_member: dict[str, Decimal] = defaultdict(Decimal)
    for (member, _), amount in billed.items():
        per_member[member] += amount
    target_member: dict[str, Decimal] = defaultdict(Decimal)
    for (member, _), amount in targets.items():
        target_member[member] += amount
    assert dict(per_member) == dict(target_member)
    excluded = sum(
        (c.amount for c in costs if c.account.startswith("Charges:67") or c.account.startswith("Charges:69")),
        D(0),
    )
    assert sum(per_member.values(), D(0)) == sum((c.amount for c in costs), D(0)) - excluded
    before = tree_digest(standard)
    assert app_close.close_year(standard, 2026).status == "nothing"
    assert tree_digest(standard) == before


def test_close_refuses_a_year_with_months_not_run(group: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["close", "2026", "--root", str(group)]) == 1
    assert "2026-11 has a timesheet but was not run" in capsys.readouterr().err


@st.composite
def year_inputs(
    draw: st.DrawFn,
) -> tuple[list[CostLine], list[TimesheetLine], dict[tuple[str, str], Decimal]]:
    members = ["a", "b", "c", "d"]
    services = ["s1", "s2"]
    costs = [
        CostLine(
            dt.date(2026, 6, 1), "Charges:64:x", D(draw(st.integers(0, 10**7))) / 100, None, s, None, "f", 0
        )
        for s in services
    ]
    costs.append(
        CostLine(
            dt.date(2026, 6, 1),
            "Charges:61:x",
            D(draw(st.integers(0, 10**6))) / 100,
            None,
            None,
            None,
            "f",
            0,
        )
    )
    lines = []
    for s in services:
        for m in members:
            hours = draw(st.integers(0, 2000))
            lines.append(TimesheetLine(dt.date(2026, 6, 1), "e", m, s, D(hours) / 4, "", 0))
        lines.append(TimesheetLine(dt.date(2026, 6, 1), "e", "a", s, D(1), "", 0))  # every pool has hours
    billed = {
        (m, s): D(draw(st.integers(-(10**6), 10**7))) / 100 for m in members for s in [*services, "overhead"]
    }
    return costs, lines, billed


@settings(max_examples=60, deadline=None)
@given(year_inputs())
def test_trueup_brings_each_member_to_its_exact_share_of_the_years_cost(
    inputs: tuple[list[CostLine], list[TimesheetLine], dict[tuple[str, str], Decimal]],
) -> None:
    costs, lines, billed = inputs
    rules = AllocationRules(
        mode="standard_rate",
        services={"s1": "S1", "s2": "S2"},
        staff_accounts=["Charges:64"],
        overhead_accounts=["Charges:61"],
        overhead_label="Frais",
        overhead_key="billable_hours",
        excluded_accounts=[],
        primary_service={"e": "s1"},
        standard_rates={"s1": D(40), "s2": D(38)},
    )
    targets = trueup.year_targets(2026, costs, lines, rules)
    assert sum(targets.values(), D(0)) == sum((c.amount for c in costs), D(0))
    diffs = trueup.trueup_differences(targets, billed)
    for key in set(targets) | set(billed):
        after = billed.get(key, D(0)) + diffs.get(key[0], {}).get(key[1], D(0))
        assert after == targets.get(key, D(0))
    total_after = sum(billed.values(), D(0)) + sum((v for d in diffs.values() for v in d.values()), D(0))
    assert total_after == sum((c.amount for c in costs), D(0))


def test_a_member_who_joins_is_billed_its_fee(demo: Path) -> None:
    """A member added to rules/members.yaml gets its receivable account in the same commit as its first
    document: the new entries are checked against the regenerated members file, not the old one."""
    from test_crash import NEW_MEMBER

    path = demo / "rules/members.yaml"
    path.write_text(path.read_text(encoding="utf-8") + NEW_MEMBER, encoding="utf-8")
    assert main(["fees", "2026", "--root", str(demo)]) == 0
    fees = [d for d in load_ledger(demo)[0].issued_documents() if d.member == "nouvelle-asso"]
    assert [(d.kind, d.number) for d in fees] == [("fee", "FAC-2026-0152")]
