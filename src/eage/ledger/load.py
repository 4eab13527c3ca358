"""Loading the ledger once per command, and reading what the core needs from it as plain values.

This module and its siblings are the only code that imports beancount. The core receives
:class:`CostLine` and :class:`IssuedDocument` values, never Beancount's types.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount import loader
from beancount.core import data
from beancount.ops import validation
from beancount.parser import booking, parser

from eage.errors import InputError, Problem

os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")

DOC_KINDS = ("invoice", "credit_note", "fee", "trueup")


@dataclass(frozen=True)
class CostLine:
    """One expense posting: what feeds the cost pools."""

    date: dt.date
    account: str
    amount: Decimal
    employee: str | None
    service: str | None
    kind: str | None
    file: str
    line: int


@dataclass(frozen=True)
class IssuedDocument:
    """An invoice or credit note already in the ledger, read from its transaction's metadata."""

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


def _relative(filename: str | None, root: Path) -> str:
    if not filename:
        return "?"
    try:
        return str(Path(filename).resolve().relative_to(root.resolve()))
    except ValueError:
        return filename


def format_errors(errors: Iterable[Any], root: Path) -> list[Problem]:
    problems = []
    for err in errors:
        source = getattr(err, "source", None) or {}
        problems.append(
            Problem(
                str(getattr(err, "message", err)).strip(),
                file=_relative(source.get("filename"), root),
                line=source.get("lineno"),
                fix="correct this entry, then run `eage check`",
            )
        )
    return problems


class Ledger:
    """The loaded ledger: entries, options and the plain values derived from them."""

    def __init__(self, root: Path, entries: list[Any], options: dict[str, Any]) -> None:
        self.root = root
        self.entries = entries
        self.options = options
        self._txns = [e for e in entries if isinstance(e, data.Transaction)]

    @property
    def main_path(self) -> Path:
        return self.root / "ledger" / "main.beancount"

    def open_accounts(self) -> set[str]:
        return {e.account for e in self.entries if isinstance(e, data.Open)}

    def account_names(self) -> dict[str, str]:
        """Account -> its `name` metadata (the French label) where given."""
        return {
            e.account: str(e.meta["name"])
            for e in self.entries
            if isinstance(e, data.Open) and "name" in e.meta
        }

    def transactions(self) -> list[Any]:
        return self._txns

    def costs(self, start: dt.date, end: dt.date, prefix: str) -> list[CostLine]:
        """Postings on accounts under ``prefix`` (e.g. "Charges") dated in [start, end)."""
        out = []
        for txn in self._txns:
            if not (start <= txn.date < end):
                continue
            for posting in txn.postings:
                if not posting.account.startswith(prefix + ":"):
                    continue
                units = posting.units
                if units is None or units.number is None:
                    continue
                if units.currency != "EUR":
                    raise InputError.at(
                        f"cost in {units.currency}: eage keeps its books in EUR",
                        file=_relative(txn.meta.get("filename"), self.root),
                        line=txn.meta.get("lineno"),
                        fix="convert the amount to EUR",
                    )
                pmeta = posting.meta or {}
                out.append(
                    CostLine(
                        date=txn.date,
                        account=posting.account,
                        amount=Decimal(units.number),
                        employee=_str_or_none(pmeta.get("employee", txn.meta.get("employee"))),
                        service=_str_or_none(pmeta.get("service", txn.meta.get("cost_service"))),
                        kind=_str_or_none(txn.meta.get("kind")),
                        file=_relative(txn.meta.get("filename"), self.root),
                        line=int(txn.meta.get("lineno", 0)),
                    )
                )
        return out

    def issued_documents(self) -> list[IssuedDocument]:
        """Invoices and credit notes recorded in the ledger, in ledger order."""
        out = []
        for txn in self._txns:
            kind = txn.meta.get("kind")
            if kind not in DOC_KINDS or "invoice" not in txn.meta:
                continue
            out.append(
                IssuedDocument(
                    number=str(txn.meta["invoice"]),
                    kind=str(kind),
                    member=str(txn.meta.get("member", "")),
                    date=txn.date,
                    period=str(txn.meta.get("period", "")),
                    net=Decimal(str(txn.meta.get("net", "0"))),
                    vat=Decimal(str(txn.meta.get("vat", "0"))),
                    total=Decimal(str(txn.meta.get("total", "0"))),
                    refers_to=_str_or_none(txn.meta.get("refers_to")),
                    pdf=_str_or_none(txn.meta.get("pdf")),
                    file=_relative(txn.meta.get("filename"), self.root),
                    line=int(txn.meta.get("lineno", 0)),
                )
            )
        return out

    def balance(self, account_prefix: str, end: dt.date | None = None) -> Decimal:
        total = Decimal(0)
        for txn in self._txns:
            if end is not None and txn.date >= end:
                continue
            for posting in txn.postings:
                if posting.units is None or posting.units.number is None:
                    continue
                if posting.account == account_prefix or posting.account.startswith(account_prefix + ":"):
                    total += Decimal(posting.units.number)
        return total


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def load_ledger(root: Path, *, allow_errors: bool = False) -> tuple[Ledger, list[Problem]]:
    """Load ledger/main.beancount under ``root``; raise InputError on any error unless allowed."""
    main = root / "ledger" / "main.beancount"
    if not main.exists():
        raise InputError.at("the ledger is missing", file="ledger/main.beancount", fix="run `eage init DIR`")
    entries, errors, options = loader.load_file(str(main))
    problems = format_errors(errors, root)
    if problems and not allow_errors:
        raise InputError(problems)
    return Ledger(root, entries, options), problems


def validate_additions(ledger: Ledger, texts: dict[str, str]) -> list[Problem]:
    """Errors the ledger would have with these new generated files (path relative to ledger/ -> text).

    The new text is parsed and booked on its own, then validated together with the entries already
    loaded, so a run checks its output without parsing the whole ledger a second time.
    """
    new_entries: list[Any] = []
    errors: list[Any] = []
    for rel, text in sorted(texts.items()):
        filename = str(ledger.root / "ledger" / rel)
        parsed, parse_errors, _ = parser.parse_string(text, report_filename=filename)
        errors.extend(parse_errors)
        new_entries.extend(e for e in parsed if not isinstance(e, data.Document))
    booked, booking_errors = booking.book(new_entries, ledger.options)  # type: ignore[no-untyped-call]
    errors.extend(booking_errors)
    if not errors:
        combined = data.sorted(list(ledger.entries) + list(booked))
        errors.extend(validation.validate(combined, ledger.options))  # type: ignore[no-untyped-call]
    return format_errors(errors, ledger.root)
