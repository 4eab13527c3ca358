"""Loading the ledger once per command, and reading what the core needs from it as plain values.

This module and its siblings are the only code that imports beancount. The core receives
:class:`CostLine` and :class:`IssuedDocument` values, never Beancount's types.
"""

from __future__ import annotations

import datetime as dt
import functools
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
    return _relative_cached(filename, root)


@functools.lru_cache(maxsize=4096)
def _relative_cached(filename: str, root: Path) -> str:
    # Cached: every entry of a file shares its filename, and resolving a path costs system calls
    # (tens of thousands of entries per command on a ten-year ledger).
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
    """The loaded ledger: entries, options and the plain values derived from them.

    ``clean`` is True when the entries are known to load with zero errors (as :func:`load_ledger`
    leaves them): :func:`validate_additions` then only re-checks what new entries can break.
    The entries are not changed after construction: derived values are computed once.
    """

    def __init__(
        self, root: Path, entries: list[Any], options: dict[str, Any], *, clean: bool = False
    ) -> None:
        self.root = root
        self.entries = entries
        self.options = options
        self.clean = clean
        self._txns = [e for e in entries if isinstance(e, data.Transaction)]
        self._documents: tuple[IssuedDocument, ...] | None = None

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
        """Invoices and credit notes recorded in the ledger, in ledger order (read once, then kept)."""
        if self._documents is None:
            self._documents = tuple(self._read_documents())
        return list(self._documents)

    def _read_documents(self) -> list[IssuedDocument]:
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
    return Ledger(root, entries, options, clean=not problems), problems


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
        combined = data.sorted(_validation_context(ledger, booked) + list(booked))
        errors.extend(validation.validate(combined, ledger.options))  # type: ignore[no-untyped-call]
    return format_errors(errors, ledger.root)


# What Beancount's validations of a new entry look at among the other entries: account openings and
# closings, commodities and balance assertions (duplicates), never other transactions.
_CONTEXT_TYPES = (data.Open, data.Close, data.Commodity, data.Balance)


def _validation_context(ledger: Ledger, new: list[Any]) -> list[Any]:
    """The loaded entries the new ones must be validated with.

    A clean ledger (zero errors) has no error of its own to find again, and new entries that close no
    account cannot make an old entry invalid: the old openings, closings, commodities and balance
    assertions are enough, and validating them with the new entries finds exactly the errors that
    validating the whole ledger would (without walking every transaction of every past year). Otherwise
    (a ledger with errors or entries removed, a new ``close``), everything is validated again.
    """
    if not ledger.clean or any(isinstance(e, data.Close) for e in new):
        return list(ledger.entries)
    return [e for e in ledger.entries if isinstance(e, _CONTEXT_TYPES)]
