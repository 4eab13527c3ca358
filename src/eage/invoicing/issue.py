"""Issuing documents outside the monthly run: credit notes, corrections, fees and year-end true-ups (pure).

Each command plans an :class:`IssuePlan` in memory (numbers taken from the ledger, nothing written),
then :func:`eage.app.issue.execute` checks the ledger with the new files, renders each document's
Factur-X XML (validated against the XSD, EN 16931 and BR-FR) and PDF, and commits everything atomically
(main.beancount last). A dry or failed run writes nothing, so it uses no number: numbers are derived
from the ledger.

A generated ledger file, once written, is never rewritten: each command adds a new file (one per credit
note, ``YYYY-MM-correction-N``, ``YYYY-fees-N``, ``YYYY-trueup-N``). The only exception is a corrected
month's payroll journal, which is not an invoice and must say what the payroll now is.

The year's register of documents, ``reports/YYYY/documents.csv``, lists every invoice and credit note of
the year (monthly, replacements, fees, true-ups) from the ledger; it is rebuilt by each of these commands.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from eage.csvsafe import safe_cell
from eage.errors import Problem
from eage.invoicing.build import invoice_entries
from eage.invoicing.model import Invoice, VatInfo
from eage.invoicing.numbering import parse_number
from eage.ledger.model import Document, Txn
from eage.ledger.view import IssuedDocument
from eage.rules.bundle import Rules

#: EN 16931 category O: a membership fee is not the consideration of an individual service
#: (BOI-TVA-CHAMP-10-10-10, §§ 30-50), so it is outside the scope of VAT. VATEX-EU-O is the code list's
#: "not subject to VAT" reason.
OUTSIDE_SCOPE = VatInfo(
    "O",
    Decimal(0),
    "TVA non applicable : cotisation sans contrepartie individualisée, hors du champ de la TVA",
    "VATEX-EU-O",
)


@dataclass(frozen=True)
class Issued:
    """One document a command issues, with the ledger kind and period it is recorded under."""

    invoice: Invoice
    doc_kind: str  # invoice | credit_note | fee | trueup
    period: str  # YYYY-MM, or YYYY for fees and true-ups
    txn: Txn
    document: Document

    @property
    def entries(self) -> tuple[Txn, Document]:
        return self.txn, self.document


@dataclass
class IssuePlan:
    """What a credit-note, correction, fees or close command would write."""

    action: str  # "credit-note" | "correction" | "fees" | "close"
    label: str  # what it is about: an invoice number, a month, a year
    issued: list[Issued] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # ledger-relative path -> text
    documents: dict[str, bytes] = field(default_factory=dict)  # root-relative path -> bytes
    replaced: list[str] = field(default_factory=list)  # included files rewritten (a corrected payroll)
    notes: list[str] = field(default_factory=list)  # what the operator should know (English)
    changed: list[Path] = field(default_factory=list)
    status: str = "new"  # "new" | "nothing"
    # What a dry run found that the real run refuses (placeholder identities), for the command to print.
    warnings: list[Problem] = field(default_factory=list)

    @property
    def invoices(self) -> list[Invoice]:
        return [item.invoice for item in self.issued]

    def summary(self) -> dict[str, object]:
        """JSON summary: amounts as strings with two decimals."""
        return {
            "action": self.action,
            "subject": self.label,
            "status": self.status,
            "documents": [
                {
                    "number": item.invoice.number,
                    "kind": item.doc_kind,
                    "type": item.invoice.kind,
                    "member": item.invoice.member_id,
                    "date": item.invoice.issue_date.isoformat(),
                    "period": item.period,
                    "net": f"{item.invoice.net_total:.2f}",
                    "vat": f"{item.invoice.vat_total:.2f}",
                    "total": f"{item.invoice.gross_total:.2f}",
                    "refers_to": item.invoice.refers_to,
                }
                for item in self.issued
            ],
            "notes": list(self.notes),
        }


def documents_csv(rows: Iterable[Sequence[object]]) -> str:
    """The year's register: number, date, kind, member, period, net, vat, total, refers_to, reason."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["number", "date", "kind", "member", "period", "net", "vat", "total", "refers_to", "reason"]
    )
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def register_rows(
    documents: Sequence[IssuedDocument],
    reasons: dict[str, str],
    new: Sequence[Issued],
    year: int,
    credit_prefix: str,
) -> list[list[object]]:
    """Rows of :func:`documents_csv` for every document dated in ``year``, sorted by number.

    Credit notes' amounts are negative, so that a column's sum is what was billed.
    """
    rows: dict[str, list[object]] = {}
    for doc in documents:
        parsed = parse_number(doc.number)
        sign = -1 if parsed is not None and parsed[0] == credit_prefix else 1
        if doc.date.year == year:
            rows[doc.number] = [
                doc.number,
                doc.date.isoformat(),
                doc.kind,
                safe_cell(doc.member),
                safe_cell(doc.period),
                f"{sign * doc.net:.2f}",
                f"{sign * doc.vat:.2f}",
                f"{sign * doc.total:.2f}",
                safe_cell(doc.refers_to),
                safe_cell(reasons.get(doc.number)),
            ]
    for item in new:
        inv = item.invoice
        sign = -1 if inv.kind == "credit_note" else 1
        if inv.issue_date.year == year:
            rows[inv.number] = [
                inv.number,
                inv.issue_date.isoformat(),
                item.doc_kind,
                safe_cell(inv.member_id),
                safe_cell(item.period),
                f"{sign * inv.net_total:.2f}",
                f"{sign * inv.vat_total:.2f}",
                f"{sign * inv.gross_total:.2f}",
                safe_cell(inv.refers_to),
                safe_cell(inv.reason),
            ]
    return [rows[number] for number in sorted(rows)]


def latest_date(documents: Iterable[IssuedDocument], prefixes: Iterable[str], year: int) -> dt.date | None:
    """The date of the last document of the ``prefixes`` sequences of ``year`` (None if there is none)."""
    wanted = set(prefixes)
    dates = [
        d.date
        for d in documents
        if (p := parse_number(d.number)) is not None and p[0] in wanted and p[1] == year
    ]
    return max(dates, default=None)


def issued_entry(
    rules: Rules,
    inv: Invoice,
    *,
    doc_kind: str,
    period: str,
    revenue_account: str,
    links: Sequence[str | None] = (),
) -> Issued:
    """``inv`` with its ledger transaction (plus ``links``) and the document directive of its PDF."""
    txn, document = invoice_entries(
        rules, inv, period=period, revenue_account=revenue_account, doc_kind=doc_kind
    )
    extra = tuple(link for link in links if link and link not in txn.links)
    return Issued(inv, doc_kind, period, dataclasses.replace(txn, links=txn.links + extra), document)
