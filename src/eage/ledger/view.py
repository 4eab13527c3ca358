"""The typed read model of the books: what every command and every Fava page reads from the ledger.

:class:`LedgerView` is the one way in: small frozen values (cost lines, issued documents with what a
credit note repeats, payments, account postings, open accounts, the options eage needs), built once per
load of the ledger by :class:`eage.ledger.load.Ledger`, which implements it. No Beancount object and no
``Any`` crosses it, so the core (allocation, invoicing, bank matching, budget, the Fava pages) can be
tested on plain values and never depends on how Beancount represents an entry.

This module imports nothing from Beancount: the core may import it freely (the values and the Protocol),
and only :mod:`eage.ledger.load` builds them from the loaded entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, Protocol

#: The kinds of transaction that record an issued document (``kind`` metadata with an ``invoice`` number).
DOC_KINDS = ("invoice", "credit_note", "fee", "trueup")


def receivable_account(receivable_parent: str, member: str) -> str:
    """A member's receivable account: ``<parent>:411-<member id>`` (PCG 411, one auxiliary per member).

    The one place the name is built: invoices post to it, payments credit it, receivables read it.
    """
    return f"{receivable_parent}:411-{member}"


@dataclass(frozen=True)
class CostLine:
    """One expense posting in EUR: what feeds the cost pools."""

    date: dt.date
    account: str
    amount: Decimal
    employee: str | None
    service: str | None
    kind: str | None
    file: str
    line: int


class DocumentLine(NamedTuple):
    """One posting of an issued document's transaction, with what its credit note repeats.

    Every posting is kept (receivable, revenue, VAT): a reader picks the accounts it needs. ``amount`` is
    the ledger's amount negated, so a revenue line bills a positive amount on an invoice and a negative one
    on a credit note. ``label`` and ``price`` are the printed label and the net unit price eage records on
    each revenue line of an invoice it issues; None where not recorded.
    """

    account: str
    service: str | None
    amount: Decimal
    hours: Decimal | None
    label: str | None
    price: Decimal | None


@dataclass(frozen=True)
class IssuedDocument:
    """An invoice or credit note already in the ledger, read from its transaction's metadata.

    ``links`` are the transaction's links (its own number among them; a correction's replacement invoice
    also links the invoice it replaces). The VAT fields are the treatment the entry records
    (``vat_category``, ``vat_rate``, the exemption's reason and code), None when not recorded.
    """

    number: str
    kind: str  # invoice | credit_note | fee | trueup
    member: str
    date: dt.date
    period: str  # YYYY-MM, or YYYY for fees and true-ups
    net: Decimal
    vat: Decimal
    total: Decimal
    refers_to: str | None
    pdf: str | None
    file: str
    line: int
    links: tuple[str, ...] = ()
    due: dt.date | None = None
    narration: str = ""
    reason: str | None = None
    lines: tuple[DocumentLine, ...] = ()  # every posting, in the entry's order
    vat_category: str | None = None
    vat_rate: Decimal | None = None
    vat_exemption: str | None = None
    vat_exemption_code: str | None = None

    @property
    def purpose(self) -> str:
        """What the document bills, from its narration ("Facture FAC-… — <purpose>")."""
        return self.narration.split(" — ", 1)[-1]


class PaymentPosting(NamedTuple):
    """One posting of a payment: its account, amount (ledger sign) and the ``invoice`` it names, if any."""

    account: str
    amount: Decimal
    invoice: str | None


@dataclass(frozen=True)
class Payment:
    """A transaction that carries the link of a document other than its own: a payment, a credit note
    settling the invoice it cancels, a replacement invoice naming the one it replaces.

    ``own`` is the number of the document the transaction itself records, if it records one.
    """

    date: dt.date
    own: str | None
    links: tuple[str, ...]
    postings: tuple[PaymentPosting, ...]
    file: str
    line: int


class PostingLine(NamedTuple):
    """One posting with its transaction's date, narration and ``source`` (where a bank line came from)."""

    date: dt.date
    account: str
    amount: Decimal
    currency: str
    narration: str
    source: str | None
    file: str
    line: int


@dataclass(frozen=True)
class LedgerOptions:
    """The Beancount options eage reads: the root names (French), the title, the main file, the plugins."""

    title: str
    filename: str
    operating_currency: tuple[str, ...]
    name_assets: str
    name_liabilities: str
    name_equity: str
    name_income: str
    name_expenses: str
    plugins: tuple[tuple[str, str | None], ...] = ()

    def plugin_config(self, name: str) -> tuple[bool, str | None]:
        """(declared, its configuration string) of the plugin ``name``."""
        for plugin, config in self.plugins:
            if plugin == name:
                return True, config
        return False, None


@dataclass(frozen=True, order=True)
class ActualFigure:
    """The total of one account's postings in one month, section and funder (the budget's actuals)."""

    account: str
    month: int
    section: str
    funder: str | None
    amount: Decimal


@dataclass(frozen=True, order=True)
class BilledFigure:
    """What was billed to one member for one service in one month (revenue account postings)."""

    member: str
    service: str
    month: int
    hours: Decimal
    amount: Decimal  # positive: billed (the ledger's credit, negated)


class LedgerView(Protocol):
    """What commands and Fava read from one load of the books, as plain values (see the module docstring).

    Every method returns values computed once per load; callers must not mutate what they receive.
    """

    @property
    def root(self) -> Path:
        """The group's folder (holding rules/, ledger/ and reports/)."""
        ...

    @property
    def settings(self) -> LedgerOptions:
        """The options eage needs."""
        ...

    def open_accounts(self) -> AbstractSet[str]:
        """Every account with an ``open`` directive."""
        ...

    def account_names(self) -> Mapping[str, str]:
        """Account -> its ``name`` metadata (the French label) where given."""
        ...

    def account_dates(self) -> Mapping[str, tuple[dt.date | None, dt.date | None]]:
        """Account -> (the date of its first ``open``, the date of its ``close``), None where there is none."""
        ...

    def entry_count(self) -> int:
        """How many entries the load holds (every directive)."""
        ...

    def costs(self, start: dt.date, end: dt.date, prefix: str) -> list[CostLine]:
        """Postings on accounts under ``prefix`` dated in [start, end), checked to be in EUR (a cost in
        another currency is an :class:`eage.errors.InputError` at its file and line)."""
        ...

    def issued_documents(self) -> Sequence[IssuedDocument]:
        """Invoices, credit notes, fees and true-ups, in ledger order."""
        ...

    def credit_notes_of(self) -> Mapping[str, tuple[IssuedDocument, ...]]:
        """Invoice number -> the credit notes (``kind: credit_note``) that cancel it, in ledger order."""
        ...

    def payments(self) -> Sequence[Payment]:
        """Transactions that carry the link of a document other than their own, in ledger order."""
        ...

    def postings(self, accept: Callable[[str], bool]) -> list[PostingLine]:
        """Every posting on an account ``accept`` takes, in ledger order."""
        ...

    def posting_dates(self, prefix: str) -> frozenset[dt.date]:
        """The dates of the transactions with a posting on an account under ``prefix``."""
        ...

    def bank_refs(self) -> frozenset[str]:
        """The ``bank_ref`` of every bank line already booked."""
        ...

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        """The dates of the first and the last transaction; None when there is none."""
        ...

    def balance(self, account_prefix: str, end: dt.date | None = None) -> Decimal:
        """The sum of the postings on the account or under it, dated before ``end`` (all when None)."""
        ...

    def actual_figures(self, year: int, through: int) -> list[ActualFigure]:
        """Charges and produits of ``year``, months 1 to ``through``, by account, month, section and funder
        (:func:`eage.ledger.actuals.account_month_totals`, what ``eage budget`` reads)."""
        ...
