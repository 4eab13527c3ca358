"""Plain values for the entries eage generates, independent of Beancount's types.

The pure core (payroll, allocation, invoicing) builds these; ``eage.ledger.render`` prints them as
Beancount text. Amounts are Decimal rounded to the cent; metadata values are str, Decimal, int, bool or
date, the types Beancount round-trips.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


class AccountName(str):
    """An account as a directive value: printed bare, not as a quoted string."""

    __slots__ = ()


MetaValue = str | Decimal | int | bool | dt.date
Meta = tuple[tuple[str, MetaValue], ...]


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal  # positive = debit, negative = credit
    currency: str = "EUR"
    meta: Meta = ()


@dataclass(frozen=True)
class Txn:
    date: dt.date
    narration: str
    postings: tuple[Posting, ...]
    payee: str | None = None
    flag: str = "*"
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    meta: Meta = ()

    def balance(self) -> Decimal:
        return sum((p.amount for p in self.postings), Decimal(0))


@dataclass(frozen=True)
class Document:
    """A ``document`` directive: attaches a file (path relative to the .beancount file) to an account."""

    date: dt.date
    account: str
    path: str
    links: tuple[str, ...] = ()
    meta: Meta = ()


@dataclass(frozen=True)
class Custom:
    """A ``custom`` directive, e.g. ``custom "budget" Account "monthly" 100.00 EUR``."""

    date: dt.date
    type: str
    values: tuple[MetaValue | tuple[Decimal, str], ...] = ()
    meta: Meta = ()


@dataclass(frozen=True)
class Open:
    date: dt.date
    account: str
    currencies: tuple[str, ...] = ("EUR",)
    meta: Meta = ()


Entry = Txn | Document | Custom | Open


def meta(**items: MetaValue | None) -> Meta:
    """Metadata from keyword arguments, dropping None, in the order given."""
    return tuple((k, v) for k, v in items.items() if v is not None)


@dataclass(frozen=True)
class GeneratedFile:
    """A generated ledger file: a path under ledger/ and its entries, in order."""

    path: str  # relative to ledger/, e.g. "generated/2026/2026-11-allocation.beancount"
    title: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)
