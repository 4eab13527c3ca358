"""Loading the ledger once per command, and reading what the core needs from it as plain values.

This module and its siblings are the only code that imports beancount. The core receives
:class:`CostLine` and :class:`IssuedDocument` values, never Beancount's types.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
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
        message = str(getattr(err, "message", err)).strip()
        plugin = _PLUGIN_FAILURE.match(message)
        if plugin is not None:
            problems.append(_plugin_problem(root, plugin.group(1), plugin.group(2), message))
            continue
        problems.append(
            Problem(
                message,
                file=_relative(source.get("filename"), root),
                line=source.get("lineno"),
                fix="correct this entry, then run `eage check`",
            )
        )
    return problems


# Beancount reports a plugin it cannot import or run with the whole Python traceback in the message,
# attributed to "<load>": the user gets the plugin's line of main.beancount and the last line instead.
_PLUGIN_FAILURE = re.compile(r'Error (importing|applying plugin) "([^"]*)": Traceback', re.DOTALL)
_DIRECTIVE = re.compile(r'^[ \t]*(include|plugin)[ \t]+"([^"]*)"', re.MULTILINE)


def _plugin_problem(root: Path, action: str, name: str, message: str) -> Problem:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reason = lines[-1] if len(lines) > 1 else message
    main = root / "ledger" / "main.beancount"
    line = next((ln for kind, target, ln in _directives(main) if kind == "plugin" and target == name), None)
    if action == "importing":
        return Problem(
            f'plugin "{name}" cannot be imported ({reason})',
            file="ledger/main.beancount",
            line=line,
            fix="correct the module name (e.g. beancount.plugins.auto_accounts) or remove the plugin line",
        )
    return Problem(
        f'plugin "{name}" failed ({reason})',
        file="ledger/main.beancount",
        line=line,
        fix="correct the plugin's configuration string or remove the plugin line",
    )


def _directives(path: Path) -> list[tuple[str, str, int]]:
    """(``include`` or ``plugin``, its quoted argument, its line) of every such line of a ledger file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _DIRECTIVE.finditer(text)]


def _io_problem(exc: OSError, root: Path) -> InputError:
    """The located error for a ledger file Beancount could not open: the include line that names it."""
    target = Path(exc.filename) if exc.filename else None
    reason = "is a directory" if isinstance(exc, IsADirectoryError) else (exc.strerror or str(exc))
    shown = _relative(str(target), root) if target is not None else "?"
    if target is not None:
        seen: set[Path] = set()
        pending = [root / "ledger" / "main.beancount"]
        while pending:
            current = pending.pop()
            if current in seen or not current.is_file():
                continue
            seen.add(current)
            for kind, name, line in _directives(current):
                if kind != "include":
                    continue
                included = current.parent / name
                if included.resolve() == target.resolve():
                    return InputError.at(
                        f'include "{name}" names {shown}, which {reason}'
                        if reason == "is a directory"
                        else f'include "{name}": {shown} cannot be read ({reason})',
                        file=_relative(str(current), root),
                        line=line,
                        fix='include a .beancount file (for a folder: a pattern such as "bank/*.beancount"), '
                        "or check its permissions",
                    )
                pending.append(included)
    return InputError.at(
        f"cannot be read ({reason})",
        file=shown,
        fix="check the file and its permissions, then run `eage check`",
    )


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
    """Load ledger/main.beancount under ``root``; raise InputError on any error unless allowed.

    The eage plugin's billing errors (a month whose billing differs from its cost, e.g. a cost posted after
    the month was invoiced) do not stop a command: the fix is a command (``eage run YYYY-MM --correct``),
    which must be able to load the ledger. They are returned with the other problems, and ``eage check``
    reports them.
    """
    from eage.plugins.invariants import BillingError

    main = root / "ledger" / "main.beancount"
    if not main.exists():
        raise InputError.at("the ledger is missing", file="ledger/main.beancount", fix="run `eage init DIR`")
    try:
        entries, errors, options = loader.load_file(str(main))
    except OSError as exc:
        raise _io_problem(exc, root) from None
    fatal = [e for e in errors if not isinstance(e, BillingError)]
    fatal_problems = format_errors(fatal, root)
    if fatal_problems and not allow_errors:
        raise InputError(fatal_problems)
    problems = format_errors(errors, root) if len(fatal) != len(errors) else fatal_problems
    return Ledger(root, entries, options, clean=not fatal_problems), problems


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
