"""What each invoice has received, derived from the ledger's links (the ledger is the source of truth).

A payment is any transaction that carries the invoice's link (``^FAC-2026-0001``) and credits the
member's receivable account (411-<member>); a credit note carries the link of the invoice it corrects
and settles it the same way. When one transaction links several invoices, a posting's ``invoice``
metadata says which one it pays; otherwise the credit goes to the oldest first.

Works on the ledger's typed read model (:class:`eage.ledger.view.LedgerView`: its issued documents and
payments), the same for ``eage import-bank`` and the Fava pages, so they agree on every status.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from eage.ledger.view import DOC_KINDS, IssuedDocument, LedgerView, receivable_account
from eage.money import ZERO

PAYABLE = ("invoice", "fee", "trueup")
DOCUMENTS = DOC_KINDS
BUCKETS = ("non échu", "0-30 j", "31-60 j", "61-90 j", "> 90 j")


@dataclass(frozen=True)
class InvoiceStatus:
    """An issued document and what it has received up to the as-of date."""

    number: str
    kind: str
    member: str
    date: dt.date
    period: str
    net: Decimal
    vat: Decimal
    total: Decimal
    due: dt.date | None
    pdf: str | None
    refers_to: str | None
    paid: Decimal

    @property
    def payable(self) -> bool:
        return self.kind in PAYABLE and self.total > 0

    @property
    def open(self) -> Decimal:
        return max(self.total - self.paid, ZERO) if self.payable else ZERO

    @property
    def status(self) -> str:
        if not self.payable:
            return "avoir"
        if self.open == 0:
            return "payée"
        return "partiellement payée" if self.paid > 0 else "impayée"

    def days_overdue(self, as_of: dt.date) -> int:
        if self.open == 0 or self.due is None:
            return 0
        return max((as_of - self.due).days, 0)


def _view(source: LedgerView | Iterable[Any]) -> LedgerView:
    """The read model of ``source``: a view as it is; loaded entries (Beancount's or Fava's) wrapped in
    one, for callers that still hold entries."""
    if hasattr(source, "issued_documents") and hasattr(source, "payments"):
        return cast("LedgerView", source)
    from eage.ledger.load import Ledger  # the ledger package reads Beancount's types, never this module

    return Ledger(Path(), list(source), {})


def invoice_statuses(
    source: LedgerView | Iterable[Any], receivable_parent: str, as_of: dt.date | None = None
) -> list[InvoiceStatus]:
    """Every issued document dated up to ``as_of`` (all when None), with what it received by then.

    ``source`` is the ledger's :class:`~eage.ledger.view.LedgerView` (loaded entries are accepted and
    wrapped in one).
    """
    view = _view(source)
    docs: dict[str, IssuedDocument] = {}
    for doc in view.issued_documents():
        if as_of is None or doc.date <= as_of:
            docs[doc.number] = doc
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in view.payments():
        if as_of is not None and payment.date > as_of:
            continue
        targets = [link for link in payment.links if link in docs and docs[link].kind in PAYABLE]
        if not targets:
            continue
        remaining: dict[str, Decimal] = {}
        for posting in payment.postings:
            for number in targets:
                member = docs[number].member
                if posting.account != receivable_account(receivable_parent, member):
                    continue
                credit = -posting.amount
                if posting.invoice in targets:
                    paid[str(posting.invoice)] += credit
                else:
                    remaining[member] = remaining.get(member, ZERO) + credit
                break
        # Credits not attributed by metadata: oldest linked invoice first, the rest on the last one.
        for member, credit in remaining.items():
            mine = [n for n in targets if docs[n].member == member]
            for index, number in enumerate(mine):
                due = docs[number].total - paid[number]
                part = credit if index == len(mine) - 1 else min(credit, max(due, ZERO))
                paid[number] += part
                credit -= part
    out = [
        InvoiceStatus(
            number=number,
            kind=doc.kind,
            member=doc.member,
            date=doc.date,
            period=doc.period,
            net=doc.net,
            vat=doc.vat,
            total=doc.total,
            due=doc.due,
            pdf=doc.pdf,
            refers_to=doc.refers_to,
            paid=paid.get(number, ZERO),
        )
        for number, doc in docs.items()
    ]
    out.sort(key=lambda s: (s.date, s.number))
    return out


@dataclass(frozen=True)
class AgedBalance:
    """A member's open receivables by days past due (non échu, 0-30, 31-60, 61-90, > 90)."""

    member: str
    buckets: tuple[Decimal, Decimal, Decimal, Decimal, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


def bucket_of(days_overdue: int, due: dt.date | None, as_of: dt.date) -> int:
    if due is None or as_of <= due:
        return 0
    if days_overdue <= 30:
        return 1
    if days_overdue <= 60:
        return 2
    return 3 if days_overdue <= 90 else 4


def aged_receivables(statuses: Sequence[InvoiceStatus], as_of: dt.date) -> list[AgedBalance]:
    """Open amounts per member and age bucket, members in id order; members with nothing open omitted."""
    table: dict[str, list[Decimal]] = {}
    for st in statuses:
        if st.open == 0:
            continue
        row = table.setdefault(st.member, [ZERO] * len(BUCKETS))
        row[bucket_of(st.days_overdue(as_of), st.due, as_of)] += st.open
    return [AgedBalance(m, (r[0], r[1], r[2], r[3], r[4])) for m, r in sorted(table.items())]
