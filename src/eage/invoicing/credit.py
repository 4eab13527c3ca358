"""Credit notes (avoirs): the full credit of an issued invoice, ``eage credit-note FAC-2026-0007``.

An issued invoice is never changed (CGI art. 289; the domain brief): it is cancelled by a credit note that
names it (BT-25/BT-26 in the Factur-X XML, ``refers_to`` and a shared link in the ledger). A credit note
here always credits the whole invoice, every line, so that "credited" is a yes/no fact the ledger shows;
a partial change is a full credit plus a new invoice (``eage run YYYY-MM --correct`` does both).

The ledger entry reverses the invoice's: Cr 411-<member> total, Dr the invoice's revenue account (7084,
or 756 for a fee) per line, Dr 44571 its VAT. Credit notes have their own continuous yearly sequence
(``group.invoicing.credit_note_prefix``, AV-YYYY-NNNN), chronological, derived from the ledger.

What the credit note repeats of the invoice (its lines' labels and unit prices, its VAT treatment) is read
from the invoice's ledger entry, which records them (:mod:`eage.invoicing.build`); nothing is read back
from reports/. An invoice issued before entries recorded them (the demo's January to October) falls back
to the issued Factur-X XML for labels and prices and to its postings for the VAT treatment (VAT posted:
standard rate; a fee outside the scope; else 261 B).

Date: a document carries no clock, so the same ledger and the same command give the same bytes. The
operator passes ``--date`` (the real day of issue); without it the credit note is dated the latest of the
invoice's date and the last credit note of that year, i.e. the earliest date that keeps the sequence
chronological. One file per credit note: ``ledger/generated/YYYY/AV-YYYY-NNNN.beancount``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from eage.allocation.core import FEE, OVERHEAD
from eage.batch import RECORDED, Context, load_context, refuse_tampered
from eage.errors import InputError
from eage.invoicing.build import DraftLine, make_invoice, month_end, vat_info
from eage.invoicing.facturx_xml import NSMAP
from eage.invoicing.issue import OUTSIDE_SCOPE, Issued, IssuePlan, execute, issued_entry, latest_date
from eage.invoicing.model import VatInfo
from eage.invoicing.numbering import parse_number, sequence
from eage.invoicing.pdf import date_fr
from eage.ledger.load import IssuedDocument
from eage.ledger.model import GeneratedFile
from eage.ledger.render import render_file
from eage.money import NBSP
from eage.rules.bundle import Rules

FIX_NUMBER = "give the number of an issued invoice, as printed on it (see reports/YYYY/documents.csv)"


def find_invoice(documents: Sequence[IssuedDocument], number: str, credit_prefix: str) -> IssuedDocument:
    """The invoice ``number``, if it exists, is an invoice and is not already credited."""
    found = [d for d in documents if d.number == number]
    parsed = parse_number(number)
    if not found:
        raise InputError.at(f"no invoice {number} in the ledger", key="INVOICE", fix=FIX_NUMBER)
    doc = found[0]
    if parsed is not None and parsed[0] == credit_prefix:
        raise InputError.at(
            f"{number} is a credit note; only an invoice can be credited",
            file=doc.file,
            line=doc.line,
            fix="issue a new invoice instead (for a month: `eage run YYYY-MM --correct`)",
        )
    credit = credited_by(documents, number)
    if credit is not None:
        raise InputError.at(
            f"{number} is already fully credited by {credit.number} of {credit.date}",
            file=credit.file,
            line=credit.line,
            fix="nothing to do: an invoice is credited once, in full",
        )
    return doc


#: The last due date a French e-invoice can carry: BR-FR-03 wants every date's year in 2000..2099.
LAST_DUE_DATE = dt.date(2099, 12, 31)


def check_issue_date(day: dt.date, doc: IssuedDocument, payment_terms_days: int) -> None:
    """A credit note's ``--date``: not before the invoice it cancels, and early enough that its due date
    (the date plus the payment terms of rules/group.yaml) stays within the years an e-invoice allows."""
    latest = LAST_DUE_DATE - dt.timedelta(days=payment_terms_days)
    if doc.date <= day <= latest:
        return
    why = (
        f"before the invoice it cancels ({doc.date})"
        if day < doc.date
        else f"its due date ({payment_terms_days} days later) would be after {LAST_DUE_DATE}, "
        "the last date a Factur-X invoice can carry (BR-FR-03)"
    )
    raise InputError.at(
        f"a credit note of {doc.number} cannot be dated {day}: {why}",
        key="--date",
        fix=f"give --date from {doc.date} to {latest}",
    )


def credited_by(documents: Sequence[IssuedDocument], number: str) -> IssuedDocument | None:
    return next((d for d in documents if d.kind == "credit_note" and d.refers_to == number), None)


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a document's period: ``2026-10`` (a month) or ``2026`` (a year)."""
    if len(period) == 4:
        return dt.date(int(period), 1, 1), dt.date(int(period), 12, 31)
    return dt.date(int(period[:4]), int(period[5:7]), 1), month_end(period)


def ledger_transaction(ctx: Context, number: str) -> Any:
    """The beancount transaction recording document ``number``."""
    return next(t for t in ctx.ledger.transactions() if t.meta.get("invoice") == number)


def xml_lines(root: Path, pdf: str | None) -> list[tuple[str, str, Decimal]]:
    """(code, label, net price) of each line of the XML the member received, if it is still there.

    The credit note then prints the invoice's own labels and rates, not ones recomputed from amounts.
    """
    if not pdf:
        return []
    path = root / (pdf[:-4] + ".xml")
    if not path.is_file():
        return []
    tree = etree.fromstring(
        path.read_bytes(), parser=etree.XMLParser(resolve_entities=False, no_network=True)
    )
    out = []
    for item in tree.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NSMAP):
        out.append(
            (
                item.findtext("ram:SpecifiedTradeProduct/ram:SellerAssignedID", "", NSMAP),
                item.findtext("ram:SpecifiedTradeProduct/ram:Name", "", NSMAP),
                Decimal(item.findtext(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", "0", NSMAP)),
            )
        )
    return out


def original_lines(
    rules: Rules, txn: Any, printed: Sequence[tuple[str, str, Decimal]]
) -> tuple[str, list[DraftLine]]:
    """The revenue account and the lines of the invoice recorded by ``txn`` (amounts as invoiced)."""
    known = {slug: s.label for slug, s in rules.allocation.services.items()}
    known[OVERHEAD] = rules.allocation.overhead.label
    if rules.allocation.management_fee is not None:
        known[FEE] = rules.allocation.management_fee.label
    revenue = [p for p in txn.postings if p.account in (rules.accounts.revenue, rules.accounts.fees_revenue)]
    if not revenue:
        raise InputError.at(
            f"{txn.meta.get('invoice')} has no revenue posting",
            file=txn.meta.get("filename"),
            line=txn.meta.get("lineno"),
        )
    lines = []
    for index, posting in enumerate(revenue):
        pmeta = posting.meta or {}
        code = str(pmeta.get("service", "fee"))
        same = index < len(printed) and printed[index][0] == code
        label = printed[index][1] if same else known.get(code, code)
        if "label" in pmeta:
            label = str(pmeta["label"])
        amount = -Decimal(posting.units.number)
        hours = pmeta.get("hours")
        if hours is not None and Decimal(str(hours)) != 0:
            quantity = Decimal(str(hours))
            price = printed[index][2] if same else (amount / quantity).quantize(Decimal("0.0001"))
            if "price" in pmeta:
                price = Decimal(str(pmeta["price"]))
            lines.append(DraftLine(code, label, quantity, price, amount))
        else:
            lines.append(DraftLine(code, label, Decimal(1), amount, amount, "C62"))
    return revenue[0].account, lines


def records_lines(rules: Rules, txn: Any) -> bool:
    """Whether the entry records its lines' labels and prices (documents issued since eage records them)."""
    revenue = [p for p in txn.postings if p.account in (rules.accounts.revenue, rules.accounts.fees_revenue)]
    return bool(revenue) and all("label" in (p.meta or {}) and "price" in (p.meta or {}) for p in revenue)


def original_vat(rules: Rules, doc: IssuedDocument, txn: Any) -> VatInfo:
    """The VAT treatment the invoice had: as its entry records it, or, for an entry issued before eage
    recorded it, guessed from its postings (taxed if it posted VAT; a fee outside the scope; else 261 B)."""
    recorded = txn.meta.get(RECORDED)
    if recorded in ("S", "E", "O"):
        reason, code = txn.meta.get("vat_exemption"), txn.meta.get("vat_exemption_code")
        return VatInfo(
            category=recorded,
            rate=Decimal(str(txn.meta.get("vat_rate", "0"))),
            exemption_reason=None if reason is None else str(reason),
            exemption_code=None if code is None else str(code),
        )
    if any(p.account == rules.accounts.vat_collected for p in txn.postings):
        return vat_info(rules, "liable", doc.date)
    if doc.kind == "fee" and rules.fees.vat_regime == "outside_scope":
        return OUTSIDE_SCOPE
    return vat_info(rules, "exempt_261b", doc.date)


def credit_note_of(
    ctx: Context,
    doc: IssuedDocument,
    *,
    number: str,
    day: dt.date,
    reason: str,
    links: Sequence[str | None] = (),
) -> Issued:
    """The full credit note ``number`` of the invoice ``doc``, and its ledger transaction."""
    rules = ctx.rules
    txn = ledger_transaction(ctx, doc.number)
    printed = [] if records_lines(rules, txn) else xml_lines(ctx.root, doc.pdf)
    revenue_account, lines = original_lines(rules, txn, printed)
    start, end = period_bounds(doc.period)
    purpose = str(txn.narration).split(" — ", 1)[-1]
    inv = make_invoice(
        rules,
        number=number,
        kind="credit_note",
        member_id=doc.member,
        issue_date=day,
        period_start=start,
        period_end=end,
        lines=lines,
        purpose=purpose,
        refers_to=doc.number,
        refers_to_date=doc.date,
        reason=reason,
        vat=original_vat(rules, doc, txn),
    )
    if (inv.net_total, inv.vat_total) != (doc.net, doc.vat):
        raise InputError.at(
            f"the credit note of {doc.number} would not match it: net {inv.net_total} / VAT {inv.vat_total} "
            f"against {doc.net} / {doc.vat}",
            file=doc.file,
            line=doc.line,
            fix="the invoice's entry or its VAT rate was changed after issue; restore it from version control",
        )
    return issued_entry(
        rules,
        inv,
        doc_kind="credit_note",
        period=doc.period,
        revenue_account=revenue_account,
        links=links,
    )


def date_fr_plain(day: dt.date) -> str:
    """``1er septembre 2026`` with plain spaces, for a note's text."""
    return date_fr(day).replace(NBSP, " ")


def plan_credit_note(ctx: Context, number: str, reason: str, day: dt.date | None = None) -> IssuePlan:
    """The credit note of invoice ``number``, planned in memory."""
    rules = ctx.rules
    reason = " ".join(reason.split())
    if not reason:
        raise InputError.at(
            "a credit note needs a reason", key="--reason", fix='pass --reason "why the invoice is cancelled"'
        )
    refuse_tampered(ctx)
    documents = ctx.ledger.issued_documents()
    prefix = rules.group.invoicing.credit_note_prefix
    doc = find_invoice(documents, number, prefix)
    if day is None:
        day = max(doc.date, latest_date(documents, [prefix], doc.date.year) or doc.date)
    else:
        check_issue_date(day, doc, rules.group.invoicing.payment_terms_days)
    credit_number = sequence(documents, prefix, day.year).take(day)
    issued = credit_note_of(ctx, doc, number=credit_number, day=day, reason=reason)
    rel = f"generated/{day.year}/{credit_number}.beancount"
    text = render_file(GeneratedFile(rel, f"Credit note {credit_number} of {doc.number}", issued.entries))
    return IssuePlan("credit-note", number, [issued], {rel: text})


def issue_credit_note(
    root: Path, number: str, reason: str, *, day: dt.date | None = None, dry_run: bool = False
) -> IssuePlan:
    ctx = load_context(root)
    return execute(ctx, plan_credit_note(ctx, number, reason, day), dry_run=dry_run)
