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
from reports/. An entry without them (written by hand, or by an eage older than this record) is refused,
located at its file and line: a credit note is never guessed from amounts.

Date: a document carries no clock, so the same ledger and the same command give the same bytes. The
operator passes ``--date`` (the real day of issue); without it the credit note is dated the latest of the
invoice's date and the last credit note of that year, i.e. the earliest date that keeps the sequence
chronological. One file per credit note: ``ledger/generated/YYYY/AV-YYYY-NNNN.beancount``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from eage.errors import InputError
from eage.invoicing.build import DraftLine, make_invoice
from eage.invoicing.issue import Issued, issued_entry
from eage.invoicing.model import VatInfo
from eage.invoicing.numbering import parse_number
from eage.invoicing.pdf import date_fr
from eage.ledger.view import DocumentLine, IssuedDocument
from eage.money import NBSP
from eage.month import Month
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
    month = Month.parse(period)
    return month.first_day, month.last_day


VAT_CATEGORIES: dict[str, Literal["S", "E", "O"]] = {"S": "S", "E": "E", "O": "O"}


def _revenue_lines(rules: Rules, doc: IssuedDocument) -> list[DocumentLine]:
    return [
        line for line in doc.lines if line.account in (rules.accounts.revenue, rules.accounts.fees_revenue)
    ]


def unrecorded_problem(rules: Rules, doc: IssuedDocument) -> InputError | None:
    """The refusal for an invoice whose entry does not record what its credit note repeats, or None.

    Its lines' labels and unit prices (``label``, ``price`` on each revenue posting) and its VAT treatment
    (``vat_category``, ``vat_rate``) are what eage writes on every invoice it issues; without them the
    credit note would have to guess, so it is refused at the entry's file and line.
    """
    missing = []
    if doc.vat_category is None:
        missing.append("vat_category")
    elif doc.vat_category not in VAT_CATEGORIES:
        missing.append("vat_category (S, E or O)")
    if doc.vat_rate is None:
        missing.append("vat_rate")
    revenue = _revenue_lines(rules, doc)
    if any(line.label is None for line in revenue):
        missing.append("label")
    if any(line.price is None for line in revenue):
        missing.append("price")
    if not missing:
        return None
    return InputError.at(
        f"{doc.number} does not record what its credit note repeats (missing metadata: {', '.join(missing)})",
        file=doc.file,
        line=doc.line,
        fix="restore the invoice's entry as eage wrote it (from version control); "
        "an entry without this record cannot be credited by eage",
    )


def original_lines(rules: Rules, doc: IssuedDocument) -> tuple[str, list[DraftLine]]:
    """The revenue account and the lines of the invoice ``doc`` (amounts as invoiced)."""
    revenue = _revenue_lines(rules, doc)
    if not revenue:
        raise InputError.at(f"{doc.number} has no revenue posting", file=doc.file, line=doc.line)
    refused = unrecorded_problem(rules, doc)
    if refused is not None:
        raise refused
    lines = []
    for line in revenue:
        code = line.service or "fee"
        label, price = str(line.label), line.price if line.price is not None else line.amount
        if line.hours is not None and line.hours != 0:
            lines.append(DraftLine(code, label, line.hours, price, line.amount))
        else:
            lines.append(DraftLine(code, label, Decimal(1), line.amount, line.amount, "C62"))
    return revenue[0].account, lines


def original_vat(doc: IssuedDocument) -> VatInfo:
    """The VAT treatment the invoice had, as its entry records it (checked by :func:`original_lines`)."""
    return VatInfo(
        category=VAT_CATEGORIES[str(doc.vat_category)],
        rate=doc.vat_rate if doc.vat_rate is not None else Decimal(0),
        exemption_reason=doc.vat_exemption,
        exemption_code=doc.vat_exemption_code,
    )


def credit_note_of(
    rules: Rules,
    doc: IssuedDocument,
    *,
    number: str,
    day: dt.date,
    reason: str,
    links: Sequence[str | None] = (),
) -> Issued:
    """The full credit note ``number`` of the invoice ``doc``, and its ledger transaction."""
    revenue_account, lines = original_lines(rules, doc)
    start, end = period_bounds(doc.period)
    inv = make_invoice(
        rules,
        number=number,
        kind="credit_note",
        member_id=doc.member,
        issue_date=day,
        period_start=start,
        period_end=end,
        lines=lines,
        purpose=doc.purpose,
        refers_to=doc.number,
        refers_to_date=doc.date,
        reason=reason,
        vat=original_vat(doc),
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
