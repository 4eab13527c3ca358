"""What each invoice has received, derived from the ledger's links (the ledger is the source of truth).

A payment is any transaction that carries the invoice's link (``^FAC-2026-0001``) and credits the
member's receivable account (411-<member>); a credit note carries the link of the invoice it corrects
and settles it the same way. When one transaction links several invoices, a posting's ``invoice``
metadata says which one it pays; otherwise the credit goes to the oldest first.

Works on Beancount transactions as loaded by eage or by Fava (read by attribute only), so the bank
matcher and the Fava pages agree on every status.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eage.money import ZERO

PAYABLE = ("invoice", "fee", "trueup")
DOCUMENTS = (*PAYABLE, "credit_note")
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


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return ZERO


def _is_txn(entry: Any) -> bool:
    return hasattr(entry, "postings") and hasattr(entry, "links") and hasattr(entry, "flag")


def invoice_statuses(
    entries: Iterable[Any], receivable_parent: str, as_of: dt.date | None = None
) -> list[InvoiceStatus]:
    """Every issued document dated up to ``as_of`` (all when None), with what it received by then."""
    txns = [e for e in entries if _is_txn(e) and (as_of is None or e.date <= as_of)]
    docs: dict[str, tuple[Any, str]] = {}
    for txn in txns:
        kind = txn.meta.get("kind")
        if kind in DOCUMENTS and "invoice" in txn.meta:
            docs[str(txn.meta["invoice"])] = (txn, str(kind))
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for txn in txns:
        own = str(txn.meta.get("invoice")) if txn.meta.get("kind") in DOCUMENTS else None
        targets = sorted(
            link for link in txn.links if link != own and link in docs and docs[link][1] in PAYABLE
        )
        if not targets:
            continue
        remaining: dict[str, Decimal] = {}
        for posting in txn.postings:
            for number in targets:
                member = str(docs[number][0].meta.get("member", ""))
                if posting.account != f"{receivable_parent}:411-{member}":
                    continue
                credit = -Decimal(posting.units.number)
                named = (posting.meta or {}).get("invoice")
                if named in targets:
                    paid[str(named)] += credit
                else:
                    remaining[member] = remaining.get(member, ZERO) + credit
                break
        # Credits not attributed by metadata: oldest linked invoice first, the rest on the last one.
        for member, credit in remaining.items():
            mine = [n for n in targets if str(docs[n][0].meta.get("member", "")) == member]
            for index, number in enumerate(mine):
                due = _dec(docs[number][0].meta.get("total")) - paid[number]
                part = credit if index == len(mine) - 1 else min(credit, max(due, ZERO))
                paid[number] += part
                credit -= part
    out = []
    for number, (txn, kind) in docs.items():
        meta = txn.meta
        out.append(
            InvoiceStatus(
                number=number,
                kind=kind,
                member=str(meta.get("member", "")),
                date=txn.date,
                period=str(meta.get("period", "")),
                net=_dec(meta.get("net")),
                vat=_dec(meta.get("vat")),
                total=_dec(meta.get("total")),
                due=_date(meta.get("due")),
                pdf=None if meta.get("pdf") is None else str(meta["pdf"]),
                refers_to=None if meta.get("refers_to") is None else str(meta["refers_to"]),
                paid=paid.get(number, ZERO),
            )
        )
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
