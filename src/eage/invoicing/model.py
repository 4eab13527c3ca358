"""The invoice as a value: everything the PDF, the Factur-X XML and the ledger entry are made from.

An invoice (or credit note) is built once by the core from validated inputs; the renderers only read it.
Amounts are Decimal cents. A credit note has ``kind == "credit_note"``, positive amounts (the document
itself says it is a credit) and ``refers_to`` the invoice it corrects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True)
class Party:
    """Seller or buyer, as printed on the invoice."""

    name: str
    legal_form: str
    siren: str
    siret: str | None
    vat_number: str | None
    address_line1: str
    address_line2: str | None
    postcode: str
    city: str
    country: str = "FR"
    email: str | None = None


@dataclass(frozen=True)
class InvoiceLine:
    """One line: a service (hours x hourly rate) or a fee (quantity 1)."""

    code: str  # service slug, "overhead", "fee", "trueup-<service>"
    label: str
    quantity: Decimal  # hours (2 decimals) or 1
    unit: Literal["HUR", "C62"]  # UN/ECE rec 20: hour, or "one"
    unit_price: Decimal  # net, up to 4 decimals
    amount: Decimal  # net line amount, cents (the exact share, not quantity x rounded price)


@dataclass(frozen=True)
class VatInfo:
    """The one VAT category of a document: S (standard rate), E (exempt, 261 B) or O (outside the scope).

    "O" is for membership fees (cotisations without an individual counterpart, BOI-TVA-CHAMP-10-10-10):
    EN 16931 then forbids any VAT rate and any VAT identifier of the parties (BR-O-02, BR-O-05, BR-O-09).
    """

    category: Literal["S", "E", "O"]
    rate: Decimal  # 0.20 or 0
    exemption_reason: str | None = None  # e.g. "Exonération de TVA – article 261 B du CGI"
    exemption_code: str | None = None  # e.g. "VATEX-EU-132-1F"


@dataclass(frozen=True)
class Invoice:
    number: str  # FAC-2026-0001 or AV-2026-0001
    kind: Literal["invoice", "credit_note"]
    issue_date: dt.date
    due_date: dt.date
    period_start: dt.date
    period_end: dt.date
    seller: Party
    buyer: Party
    member_id: str
    lines: tuple[InvoiceLine, ...]
    vat: VatInfo
    net_total: Decimal  # sum of line amounts
    vat_total: Decimal  # rounded once on the net total
    gross_total: Decimal  # net + VAT
    currency: str = "EUR"
    iban: str = ""
    bic: str = ""
    bank_name: str | None = None
    payment_terms: str = ""
    late_payment_text: str = ""
    recovery_indemnity: Decimal = Decimal("40.00")
    discount_terms: str = ""
    vat_on_debits: bool = False
    refers_to: str | None = None  # the invoice a credit note corrects
    refers_to_date: dt.date | None = None
    reason: str | None = None  # why a credit note was issued
    purpose: str = "Mise à disposition de personnel"  # nature of the operation: services
    notes: tuple[str, ...] = field(default_factory=tuple)
    seller_logo: str | None = None
    accent_color: str = "#1f4e79"
