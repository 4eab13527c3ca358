"""Invoice documents: the Factur-X XML (XSD + EN 16931 + BR-FR schematrons) and the PDF/A-3 a member receives.

Three invoices of the group: a member liable to VAT (a SCOP, 20 %), an association exempt under article
261 B of the CGI, and a credit note on the first one. Then broken invoices that a plateforme agréée would
reject, each with the rule that catches it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import facturx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from eage.invoicing.facturx_xml import NSMAP, build_cii_xml, net_price
from eage.invoicing.model import Invoice, InvoiceLine, Party, VatInfo
from eage.invoicing.pdf import date_fr, period_fr, render_invoice_html, render_invoice_pdf
from eage.invoicing.validate import check_facturx_xml, validate_facturx_xml, warm_up
from eage.money import cents

D = Decimal

SELLER = Party(
    name="L'équipe associée (EAGE)",
    legal_form="Association loi 1901",
    siren="512345678",
    siret="51234567800021",
    vat_number="FR40512345678",
    address_line1="12 rue de la Richelandière",
    address_line2="Bâtiment B",
    postcode="42100",
    city="Saint-Étienne",
    email="compta@eage.example",
)
SCOP = Party(
    name="Yes High Tech",
    legal_form="SCOP SARL",
    siren="498765432",
    siret="49876543200015",
    vat_number="FR12498765432",
    address_line1="3 place Jean Jaurès",
    address_line2=None,
    postcode="42000",
    city="Saint-Étienne",
)
ASSOCIATION = Party(
    name="Le Remue-méninges",
    legal_form="Association loi 1901",
    siren="443322110",
    siret=None,
    vat_number=None,
    address_line1="5 rue des Martyrs de Vingré",
    address_line2="Maison des associations",
    postcode="42000",
    city="Saint-Étienne",
)
EXEMPT = VatInfo("E", D("0"), "Exonération de TVA – article 261 B du CGI", "VATEX-EU-132-1F")
LIABLE = VatInfo("S", D("0.20"))

LEGAL = {
    "iban": "FR76 3000 4000 0312 3456 7890 143",
    "bic": "BNPAFRPPXXX",
    "bank_name": "BNP Paribas Saint-Étienne",
    "payment_terms": "Paiement à 30 jours par virement",
    "late_payment_text": "Pénalités de retard : trois fois le taux d'intérêt légal, exigibles dès le "
    "lendemain de l'échéance.",
    "discount_terms": "Pas d'escompte pour paiement anticipé.",
}


def make_invoice(
    lines: tuple[InvoiceLine, ...],
    *,
    buyer: Party = SCOP,
    vat: VatInfo = LIABLE,
    number: str = "FAC-2026-0042",
    kind: str = "invoice",
    **extra: object,
) -> Invoice:
    """An invoice of September 2026 with totals computed as the core does: VAT rounded once on the net."""
    net = sum((line.amount for line in lines), D(0))
    vat_total = cents(net * vat.rate)
    fields: dict[str, object] = {
        "number": number,
        "kind": kind,
        "issue_date": dt.date(2026, 10, 5),
        "due_date": dt.date(2026, 11, 4),
        "period_start": dt.date(2026, 9, 1),
        "period_end": dt.date(2026, 9, 30),
        "seller": SELLER,
        "buyer": buyer,
        "member_id": "member",
        "lines": lines,
        "vat": vat,
        "net_total": net,
        "vat_total": vat_total,
        "gross_total": net + vat_total,
        **LEGAL,
        **extra,
    }
    return Invoice(**fields)  # type: ignore[arg-type]


LIABLE_LINES = (
    # 37.5 h x 31.4567 = 1179.63: the rate gives the amount.
    InvoiceLine("compta", "Responsable comptable", D("37.50"), "HUR", D("31.4567"), D("1179.63")),
    # 12.25 h x 28.10 = 344.23 but the exact share is 344.22: the XML needs a finer price.
    InvoiceLine("social", "Chargée d'administration sociale", D("12.25"), "HUR", D("28.10"), D("344.22")),
    InvoiceLine("overhead", "Frais de gestion", D("1"), "C62", D("85.00"), D("85.00")),
)
EXEMPT_LINES = (
    InvoiceLine("paie", "Assistante comptable et paie", D("21.00"), "HUR", D("26.3810"), D("554.00")),
    InvoiceLine("reseau", "Administration réseau", D("4.50"), "HUR", D("33.00"), D("148.50")),
    InvoiceLine("overhead", "Frais de gestion", D("1"), "C62", D("42.00"), D("42.00")),
)


@pytest.fixture(scope="module", autouse=True)
def _compiled_schematrons() -> None:
    """Compile the XSD and the two schematron XSLTs once (about a second), not in the first test."""
    warm_up()


@pytest.fixture(scope="module")
def liable() -> Invoice:
    return make_invoice(LIABLE_LINES, vat_on_debits=True)


@pytest.fixture(scope="module")
def exempt() -> Invoice:
    return make_invoice(EXEMPT_LINES, buyer=ASSOCIATION, vat=EXEMPT, number="FAC-2026-0043")


@pytest.fixture(scope="module")
def credit_note() -> Invoice:
    lines = (
        InvoiceLine("social", "Chargée d'administration sociale", D("2.00"), "HUR", D("28.10"), D("56.20")),
    )
    return make_invoice(
        lines,
        number="AV-2026-0003",
        kind="credit_note",
        refers_to="FAC-2026-0042",
        refers_to_date=dt.date(2026, 10, 5),
        reason="2 heures comptées deux fois sur la feuille de temps de septembre",
        vat_on_debits=True,
    )


def xpath_text(xml: bytes, path: str) -> list[str]:
    found: Any = etree.fromstring(xml).xpath(path + "/text()", namespaces=NSMAP)
    return [str(v) for v in found]


def failed_rules(inv: Invoice) -> set[str]:
    return {f.rule for f in check_facturx_xml(build_cii_xml(inv)) if f.severity == "error"}


# --- Valid invoices ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["liable", "exempt", "credit_note"])
def test_good_invoices_pass_xsd_en16931_and_br_fr(name: str, request: pytest.FixtureRequest) -> None:
    inv: Invoice = request.getfixturevalue(name)
    findings = check_facturx_xml(build_cii_xml(inv))
    assert findings == []  # no error and no warning either


def test_liable_invoice_xml_content(liable: Invoice) -> None:
    xml = build_cii_xml(liable)
    assert xpath_text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert xpath_text(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017"
    ]
    assert xpath_text(
        xml, "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']"
    ) == ["498765432"]
    assert xpath_text(
        xml, "//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']"
    ) == ["498765432"]
    assert xpath_text(xml, "//ram:SellerTradeParty/ram:GlobalID[@schemeID='0009']") == ["51234567800021"]
    assert xpath_text(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
    ) == ["20.00"]
    assert xpath_text(xml, "//ram:TaxTotalAmount[@currencyID='EUR']") == ["321.77"]
    assert xpath_text(xml, "//ram:GrandTotalAmount") == ["1930.62"]
    assert xpath_text(xml, "//ram:IBANID") == ["FR7630004000031234567890143"]
    subjects = xpath_text(xml, "//ram:IncludedNote/ram:SubjectCode")
    assert {"PMT", "PMD", "AAB", "TXD", "BAR"} <= set(subjects)
    # The net price of the second line carries enough decimals to give back the exact share.
    assert xpath_text(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == [
        "31.4567",
        "28.0996",
        "85.00",
    ]
    units: Any = etree.fromstring(xml).xpath("//ram:BilledQuantity/@unitCode", namespaces=NSMAP)
    assert units == ["HUR", "HUR", "C62"]


def test_exempt_invoice_states_category_e_and_261_b(exempt: Invoice) -> None:
    xml = build_cii_xml(exempt)
    header_tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath_text(xml, f"{header_tax}/ram:CategoryCode") == ["E"]
    assert xpath_text(xml, f"{header_tax}/ram:ExemptionReasonCode") == ["VATEX-EU-132-1F"]
    assert xpath_text(xml, f"{header_tax}/ram:ExemptionReason") == [
        "Exonération de TVA – article 261 B du CGI"
    ]
    assert xpath_text(xml, "//ram:TaxTotalAmount") == ["0.00"]


def test_credit_note_refers_to_the_invoice(credit_note: Invoice) -> None:
    xml = build_cii_xml(credit_note)
    assert xpath_text(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert xpath_text(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["FAC-2026-0042"]
    assert xpath_text(
        xml, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString"
    ) == ["20261005"]


# --- Broken invoices are rejected, by the right rule --------------------------------------------------------


def test_wrong_grand_total_fails_br_co_15(liable: Invoice) -> None:
    broken = dataclasses.replace(liable, gross_total=liable.gross_total + D("0.01"))
    assert "BR-CO-15" in failed_rules(broken)


def test_exempt_without_reason_fails_br_e_10(exempt: Invoice) -> None:
    broken = dataclasses.replace(exempt, vat=VatInfo("E", D("0")))
    assert "BR-E-10" in failed_rules(broken)


def test_missing_buyer_siren_fails_br_fr(liable: Invoice) -> None:
    broken = dataclasses.replace(liable, buyer=dataclasses.replace(SCOP, siren="", siret=None))
    assert {"BR-FR-11_BT-47", "BR-FR-12_BT-49"} <= failed_rules(broken)


def test_siret_not_starting_with_siren_fails_br_fr_09(liable: Invoice) -> None:
    broken = dataclasses.replace(liable, buyer=dataclasses.replace(SCOP, siret="11111111100015"))
    assert failed_rules(broken) == {"BR-FR-09_BT-46"}


def test_liable_seller_without_vat_number_fails_br_s_02(liable: Invoice) -> None:
    broken = dataclasses.replace(liable, seller=dataclasses.replace(SELLER, vat_number=None))
    assert "BR-S-02" in failed_rules(broken)


def test_lines_not_summing_to_net_total_fail_br_co_10(liable: Invoice) -> None:
    # The header states what the invoice says; the lines sum to one cent more.
    lines = (*liable.lines[:-1], dataclasses.replace(liable.lines[-1], amount=D("85.01")))
    broken = dataclasses.replace(liable, lines=lines)
    assert "BR-S-08" in failed_rules(broken)


def test_validate_returns_readable_messages_and_xsd_errors() -> None:
    messages = validate_facturx_xml(b"<rsm:CrossIndustryInvoice xmlns:rsm='" + NSMAP["rsm"].encode() + b"'/>")
    assert messages and messages[0].startswith("XSD: ")
    assert validate_facturx_xml(b"<not xml")[0].startswith("XML: not well-formed XML")


# --- Quantity x price against the exact line amount ---------------------------------------------------------


@given(
    quantity=st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2),
    amount=st.decimals(min_value=D("-999999.99"), max_value=D("9999999.99"), places=2),
    price=st.decimals(min_value=D("0"), max_value=D("999.9999"), places=4),
)
@settings(max_examples=300)
def test_net_price_times_quantity_gives_the_line_amount(
    quantity: Decimal, amount: Decimal, price: Decimal
) -> None:
    line = InvoiceLine("x", "x", quantity, "HUR", price, amount)
    result = net_price(line)
    basis = result.basis_quantity or D(1)
    assert result.price >= 0  # BR-27
    assert cents(result.quantity * result.price / basis) == amount
    assert -result.price.as_tuple().exponent <= 6  # type: ignore[operator]  # BR-FR-DEC-03


# --- Property: totals equal the sum of line amounts and the XML validates -----------------------------------


line_strategy = st.builds(
    lambda hours, rate, delta, code: InvoiceLine(
        code, f"Service {code}", hours, "HUR", rate, max(cents(hours * rate) + delta, D("0.01"))
    ),
    hours=st.decimals(min_value=D("0.25"), max_value=D("400"), places=2),
    rate=st.decimals(min_value=D("10"), max_value=D("80"), places=4),
    delta=st.sampled_from([D("-0.03"), D("-0.01"), D("0"), D("0.01"), D("0.02")]),
    code=st.sampled_from(["compta", "social", "paie", "reseau"]),
)


@given(lines=st.lists(line_strategy, min_size=1, max_size=6), exempt=st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_invoices_total_their_lines_and_validate(lines: list[InvoiceLine], exempt: bool) -> None:
    inv = make_invoice(tuple(lines), buyer=ASSOCIATION if exempt else SCOP, vat=EXEMPT if exempt else LIABLE)
    xml = build_cii_xml(inv)
    total = sum((line.amount for line in lines), D(0))
    assert (
        D(xpath_text(xml, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount")[0])
        == total
    )
    assert D(xpath_text(xml, "//ram:TaxBasisTotalAmount")[0]) == total
    assert validate_facturx_xml(xml) == []


# --- The PDF ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def liable_pdf(liable: Invoice) -> bytes:
    return render_invoice_pdf(liable, build_cii_xml(liable))


def test_xml_and_pdf_are_deterministic(liable: Invoice, liable_pdf: bytes) -> None:
    assert build_cii_xml(liable) == build_cii_xml(dataclasses.replace(liable))
    assert render_invoice_pdf(liable, build_cii_xml(liable)) == liable_pdf


def test_pdf_embeds_the_xml_at_level_en16931(liable: Invoice, liable_pdf: bytes) -> None:
    filename, embedded = facturx.get_facturx_xml_from_pdf(liable_pdf)
    assert filename == "factur-x.xml"
    assert embedded == build_cii_xml(liable)
    assert facturx.get_level(etree.fromstring(embedded)) == "en16931"
    catalog: Any = PdfReader(io.BytesIO(liable_pdf)).trailer["/Root"]
    (filespec,) = [ref.get_object() for ref in catalog["/AF"]]  # listed once
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert xmp.count("<rdf:RDF") == 1
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp


def test_pdf_dates_are_the_issue_date(liable_pdf: bytes) -> None:
    # PDF dates come from the issue date (5 October 2026), never from the time the test runs.
    reader = PdfReader(io.BytesIO(liable_pdf))
    info: Any = reader.metadata
    catalog: Any = reader.trailer["/Root"]
    assert str(info["/CreationDate"]).startswith("D:20261005000000")
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert "<xmp:CreateDate>2026-10-05T00:00:00Z</xmp:CreateDate>" in xmp


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    # French formats use no-break and narrow no-break spaces; compare words, not the kind of space.
    return " ".join(out.replace("\u202f", " ").replace("\u00a0", " ").split())


@needs_poppler
def test_liable_pdf_reads_as_a_french_invoice(liable_pdf: bytes, tmp_path: Path) -> None:
    text = pdf_text(liable_pdf, tmp_path)
    for expected in [
        "FACTURE",
        "FAC-2026-0042",
        "5 octobre 2026",
        "du 1er au 30 septembre 2026",
        "Échéance",
        "SIREN 498765432",
        "SIRET 51234567800021",
        "Groupement d'employeurs (art. L1253-1 du Code du travail)",
        "Prestations de services — mise à disposition de personnel",
        "Taux horaire HT",
        "1 179,63 €",
        "TVA 20 %",
        "1 930,62 €",
        "Net à payer",
        "FR76 3000 4000 0312 3456 7890 143",
        "BNPAFRPPXXX",
        "indemnité forfaitaire pour frais de recouvrement de 40 €",
        "TVA acquittée d'après les débits",
    ]:
        assert expected in text, expected
    assert pdfinfo_pages(liable_pdf, tmp_path) == 1


def pdfinfo_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


@needs_poppler
def test_exempt_pdf_prints_the_261_b_mention(exempt: Invoice, tmp_path: Path) -> None:
    text = pdf_text(render_invoice_pdf(exempt, build_cii_xml(exempt)), tmp_path)
    assert "Exonération de TVA – article 261 B du CGI" in text
    assert "TVA 20" not in text
    assert "d'après les débits" not in text


def test_credit_note_html_names_the_invoice_and_reason(credit_note: Invoice) -> None:
    html = render_invoice_html(credit_note)
    assert ">AVOIR<" in html
    assert "AVOIR n° AV-2026-0003" in html
    assert (
        "annule et remplace / se rapporte à la facture n° FAC-2026-0042 du 5\u00a0octobre\u00a02026" in html
    )
    assert "Échéance" not in html  # a credit note has nothing to pay by a date
    assert "2 heures comptées deux fois" in html


def test_buyer_name_is_escaped() -> None:
    evil = dataclasses.replace(SCOP, name='<b>Foo & "Bar"</b>')
    html = render_invoice_html(make_invoice(LIABLE_LINES, buyer=evil))
    assert "<b>Foo" not in html
    assert "&lt;b&gt;Foo &amp; &#34;Bar&#34;&lt;/b&gt;" in html


def test_accent_colour_cannot_inject_css(liable: Invoice) -> None:
    html = render_invoice_html(dataclasses.replace(liable, accent_color="red; } body { display: none"))
    assert "display: none" not in html
    assert "--accent: #1f4e79;" in html
    assert "--accent: #8a1538;" in render_invoice_html(dataclasses.replace(liable, accent_color="#8a1538"))


def test_template_dir_overrides_only_what_it_holds(liable: Invoice, tmp_path: Path) -> None:
    (tmp_path / "invoice.css").write_text("body { font-size: 10pt; } /* group style */\n", encoding="utf-8")
    html = render_invoice_html(liable, template_dir=tmp_path)
    assert "/* group style */" in html
    assert "FAC-2026-0042" in html  # the shipped invoice.html.j2 is still used


@needs_poppler
def test_a_group_stylesheet_lays_out_the_pdf(liable: Invoice, liable_pdf: bytes, tmp_path: Path) -> None:
    """The PDF applies the group's invoice.css (parsed per invoice), and the shipped one otherwise."""
    xml = build_cii_xml(liable)
    folder = tmp_path / "templates"
    folder.mkdir()
    assert render_invoice_pdf(liable, xml, template_dir=folder) == liable_pdf  # no override: same page
    (folder / "invoice.css").write_text("@page { size: A5; }\n", encoding="utf-8")
    path = tmp_path / "a5.pdf"
    path.write_bytes(render_invoice_pdf(liable, xml, template_dir=folder))
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert "419.528 x 595.276 pts" in info  # A5 (A4 is 595.276 x 841.89)


def test_logo_is_embedded_and_a_missing_logo_is_ignored(liable: Invoice, tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" '
        'fill="#1f4e79"/></svg>',
        encoding="utf-8",
    )
    with_logo = dataclasses.replace(liable, seller_logo=str(logo))
    assert logo.resolve().as_uri() in render_invoice_html(with_logo)
    assert render_invoice_pdf(with_logo, build_cii_xml(with_logo)) != render_invoice_pdf(
        liable, build_cii_xml(liable)
    )
    assert 'class="logo"' not in render_invoice_html(
        dataclasses.replace(liable, seller_logo=str(tmp_path / "no.png"))
    )


def test_french_dates() -> None:
    def plain(text: str) -> str:
        return text.replace("\u00a0", " ")

    assert plain(date_fr(dt.date(2026, 9, 1))) == "1er septembre 2026"
    assert plain(date_fr(dt.date(2026, 8, 15))) == "15 août 2026"
    assert plain(period_fr(dt.date(2026, 9, 1), dt.date(2026, 9, 30))) == "du 1er au 30 septembre 2026"
    assert plain(period_fr(dt.date(2026, 1, 1), dt.date(2026, 12, 31))) == (
        "du 1er janvier 2026 au 31 décembre 2026"
    )


def test_empty_mentions_get_the_same_default_in_pdf_and_xml(liable: Invoice) -> None:
    bare = dataclasses.replace(liable, late_payment_text="", discount_terms="")
    xml = build_cii_xml(bare)
    html = render_invoice_html(bare)
    for subject in ("PMD", "AAB"):
        (note,) = xpath_text(xml, f"//ram:IncludedNote[ram:SubjectCode='{subject}']/ram:Content")
        assert note.replace("'", "&#39;") in html
    assert validate_facturx_xml(xml) == []
