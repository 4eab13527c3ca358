"""Building invoices and their ledger entries from allocated amounts (pure).

The invoice is made first, then its transaction from it, so the receivable posted always equals the
invoice's total. VAT is computed once on the invoice's net total and rounded to the cent.

The entry records what a credit note needs to reproduce the document from the ledger alone: each revenue
posting's printed ``label`` and net unit ``price``, and the document's VAT treatment (``vat_category``,
``vat_rate``, ``vat_exemption``, ``vat_exemption_code``). Entries written before eage recorded these do
not have them: a re-run renders those entries as they were (``record_lines=False``), so no issued file
changes, and ``eage credit-note`` refuses them (nothing is read back from reports/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from eage.invoicing.model import Invoice, InvoiceLine, Party, VatInfo
from eage.ledger.model import Document, Posting, Txn, meta
from eage.money import ZERO, cents, fr_month
from eage.rules.bundle import Rules
from eage.rules.dated import in_force
from eage.rules.models import Identity

month_label_fr = fr_month


def party(identity: Identity, email: str | None = None) -> Party:
    addr = identity.address
    return Party(
        name=identity.name,
        legal_form=identity.legal_form,
        siren=identity.siren,
        siret=identity.siret,
        vat_number=identity.vat_number,
        address_line1=addr.line1,
        address_line2=addr.line2,
        postcode=addr.postcode,
        city=addr.city,
        country=addr.country,
        email=email,
    )


def vat_info(rules: Rules, regime: str, day: dt.date) -> VatInfo:
    spec = rules.vat.regimes[regime]  # type: ignore[index]
    return VatInfo(
        category=spec.category,
        rate=in_force(spec.rate, day),
        exemption_reason=spec.mention,
        exemption_code=spec.exemption_code,
    )


@dataclass(frozen=True)
class DraftLine:
    code: str
    label: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    unit: str = "HUR"


def make_invoice(
    rules: Rules,
    *,
    number: str,
    kind: str,
    member_id: str,
    issue_date: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    lines: Sequence[DraftLine],
    purpose: str,
    refers_to: str | None = None,
    refers_to_date: dt.date | None = None,
    reason: str | None = None,
    vat_regime: str | None = None,
    vat: VatInfo | None = None,
    notes: Sequence[str] = (),
) -> Invoice:
    """An invoice (or credit note) of ``member_id``; ``vat`` overrides the member's VAT regime (fees)."""
    member = rules.members.by_id()[member_id]
    inv_rules = rules.group.invoicing
    if vat is None:
        vat = vat_info(rules, vat_regime or member.vat_regime, issue_date)
    net = sum((line.amount for line in lines), ZERO)
    vat_total = cents(net * vat.rate)
    due = issue_date + dt.timedelta(days=inv_rules.payment_terms_days)
    return Invoice(
        number=number,
        kind=kind,  # type: ignore[arg-type]
        issue_date=issue_date,
        due_date=due,
        period_start=period_start,
        period_end=period_end,
        seller=party(rules.group.identity, inv_rules.email),
        buyer=party(member.identity, member.email),
        member_id=member_id,
        lines=tuple(
            InvoiceLine(
                code=line.code,
                label=line.label,
                quantity=line.quantity,
                unit=line.unit,  # type: ignore[arg-type]
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for line in lines
        ),
        vat=vat,
        net_total=net,
        vat_total=vat_total,
        gross_total=net + vat_total,
        iban=inv_rules.iban,
        bic=inv_rules.bic,
        bank_name=inv_rules.bank_name,
        payment_terms=f"Paiement à {inv_rules.payment_terms_days} jours, par virement.",
        late_payment_text=f"Pénalités de retard : {inv_rules.late_payment_rate}.",
        recovery_indemnity=inv_rules.recovery_indemnity,
        discount_terms=inv_rules.discount_terms,
        vat_on_debits=inv_rules.vat_on_debits,
        refers_to=refers_to,
        refers_to_date=refers_to_date,
        reason=reason,
        purpose=purpose,
        notes=tuple(notes),
        seller_logo=inv_rules.logo,
        accent_color=inv_rules.accent_color,
    )


def pdf_relpath(inv: Invoice) -> str:
    """Where the PDF goes, relative to the group's root."""
    return f"reports/invoices/{inv.issue_date.year}/{inv.number}-{inv.member_id}.pdf"


def invoice_entries(
    rules: Rules,
    inv: Invoice,
    *,
    period: str,
    revenue_account: str,
    doc_kind: str,
    record_lines: bool = True,
) -> tuple[Txn, Document]:
    """The transaction recording ``inv`` and the document directive attaching its PDF.

    An invoice debits the member's receivable; a credit note credits it (amounts reversed).
    ``record_lines``: also record each line's label and unit price and the VAT treatment (every document
    issued from now on); False only to plan again, byte for byte, an entry issued before they were.
    """
    accounts = rules.accounts
    sign = Decimal(1) if inv.kind == "invoice" else Decimal(-1)
    receivable = accounts.receivable(inv.member_id)
    postings = [Posting(receivable, sign * inv.gross_total)]
    for line in inv.lines:
        postings.append(
            Posting(
                revenue_account,
                -sign * line.amount,
                meta=meta(
                    service=line.code,
                    hours=f"{line.quantity:.2f}" if line.unit == "HUR" else None,
                    label=line.label if record_lines else None,
                    price=str(line.unit_price) if record_lines else None,
                ),
            )
        )
    if inv.vat_total:
        postings.append(Posting(accounts.vat_collected, -sign * inv.vat_total))
    title = "Facture" if inv.kind == "invoice" else "Avoir"
    pdf = pdf_relpath(inv)
    txn = Txn(
        date=inv.issue_date,
        payee=rules.members.by_id()[inv.member_id].identity.name,
        narration=f"{title} {inv.number} — {inv.purpose}",
        postings=tuple(postings),
        links=tuple(x for x in (inv.number, inv.refers_to) if x),
        meta=meta(
            kind=doc_kind,
            invoice=inv.number,
            member=inv.member_id,
            period=period,
            net=f"{inv.net_total:.2f}",
            vat=f"{inv.vat_total:.2f}",
            total=f"{inv.gross_total:.2f}",
            due=inv.due_date,
            refers_to=inv.refers_to,
            reason=inv.reason,
            pdf=pdf,
            vat_category=inv.vat.category if record_lines else None,
            vat_rate=str(inv.vat.rate) if record_lines else None,
            vat_exemption=inv.vat.exemption_reason if record_lines else None,
            vat_exemption_code=inv.vat.exemption_code if record_lines else None,
        ),
    )
    doc = Document(date=inv.issue_date, account=receivable, path=f"../../../{pdf}", links=(inv.number,))
    return txn, doc
