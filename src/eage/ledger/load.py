"""Loading the ledger once per command, and reading what the core needs from it as plain values.

The one loader (:func:`load_ledger`; the FEC and Fava go through it or its :class:`Ledger`), and the one
implementation of the read model :class:`eage.ledger.view.LedgerView`: cost lines (EUR checked), issued
documents, payments, postings, accounts and options, each built once per load. This package and the
plugin are the only code that imports beancount; the core receives the view's values, never Beancount's
types. :func:`validate_additions` checks a plan's new files against the loaded entries, the eage plugin
included, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from beancount import loader
from beancount.core import data
from beancount.ops import validation
from beancount.parser import booking, parser

from eage.errors import InputError, Problem
from eage.ledger.paths import relative as _relative
from eage.ledger.view import (
    DOC_KINDS,
    ActualFigure,
    CostLine,
    DocumentLine,
    IssuedDocument,
    LedgerOptions,
    LedgerView,
    Payment,
    PaymentPosting,
    PostingLine,
)
from eage.plugins.invariants import collector_paused

__all__ = [
    "DOC_KINDS",
    "CostLine",
    "IssuedDocument",
    "Ledger",
    "LedgerView",
    "load_ledger",
    "validate_additions",
]

os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")


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
    """The loaded ledger: entries, options and the typed values derived from them (:class:`LedgerView`).

    ``clean`` is True when the entries are known to load with zero errors (as :func:`load_ledger`
    leaves them): :func:`validate_additions` then only re-checks what new entries can break.
    The entries are not changed after construction: each derived value is computed once, the first time
    it is asked for, then kept for the life of the load.

    ``entries``, ``options`` and :meth:`transactions` are Beancount's own types, for the modules of
    :mod:`eage.ledger` (and the plugin); everything else reads the view's values.
    """

    def __init__(
        self,
        root: Path,
        entries: list[Any],
        options: dict[str, Any],
        *,
        clean: bool = False,
        load_errors: Sequence[Any] | None = None,
    ) -> None:
        self._root = root
        # The errors Beancount reported for these entries (None: not known, e.g. entries taken out of a
        # load): what validate_additions must not blame on new entries.
        self._load_errors = None if load_errors is None else tuple(load_errors)
        self.entries = entries
        self.options = options
        self.clean = clean
        self._txns = [e for e in entries if isinstance(e, data.Transaction)]
        self._documents: tuple[IssuedDocument, ...] | None = None
        self._credit_notes: dict[str, tuple[IssuedDocument, ...]] | None = None
        self._payments: tuple[Payment, ...] | None = None
        self._settings: LedgerOptions | None = None
        self._open: frozenset[str] | None = None
        self._names: dict[str, str] | None = None
        self._files: dict[str, str] = {}

    @property
    def root(self) -> Path:
        return self._root

    def plugin_errors(self) -> frozenset[tuple[str, str, int, str]]:
        """The eage plugin's errors on these entries, as (kind, file, line, message): those of the load,
        or, for entries that were not loaded as they are, the plugin's run over them (once)."""
        if self._load_errors is None:
            self._load_errors = tuple(_run_eage_plugin(self.entries, self.options))
        return frozenset(_error_key(e) for e in self._load_errors if _is_plugin_error(e))

    @property
    def main_path(self) -> Path:
        return self.root / "ledger" / "main.beancount"

    @property
    def settings(self) -> LedgerOptions:
        if self._settings is None:
            opts = self.options
            self._settings = LedgerOptions(
                title=str(opts.get("title", "")),
                filename=str(opts.get("filename", "")),
                operating_currency=tuple(str(c) for c in opts.get("operating_currency", ()) or ()),
                name_assets=str(opts.get("name_assets", "Assets")),
                name_liabilities=str(opts.get("name_liabilities", "Liabilities")),
                name_equity=str(opts.get("name_equity", "Equity")),
                name_income=str(opts.get("name_income", "Income")),
                name_expenses=str(opts.get("name_expenses", "Expenses")),
                plugins=tuple(
                    (str(name), None if config is None else str(config))
                    for name, config in opts.get("plugin", ()) or ()
                ),
            )
        return self._settings

    def open_accounts(self) -> set[str]:
        if self._open is None:
            self._open = frozenset(e.account for e in self.entries if isinstance(e, data.Open))
        return set(self._open)

    def account_names(self) -> dict[str, str]:
        """Account -> its `name` metadata (the French label) where given."""
        if self._names is None:
            self._names = {
                e.account: str(e.meta["name"])
                for e in self.entries
                if isinstance(e, data.Open) and "name" in e.meta
            }
        return dict(self._names)

    def account_dates(self) -> dict[str, tuple[dt.date | None, dt.date | None]]:
        opened: dict[str, dt.date] = {}
        closed: dict[str, dt.date] = {}
        for entry in self.entries:
            if isinstance(entry, data.Open):
                opened[entry.account] = min(entry.date, opened.get(entry.account, entry.date))
            elif isinstance(entry, data.Close):
                closed[entry.account] = entry.date
        return {a: (opened.get(a), closed.get(a)) for a in sorted(set(opened) | set(closed))}

    def entry_count(self) -> int:
        return len(self.entries)

    def without_files(self, paths: Iterable[Path]) -> Ledger:
        """This ledger without the entries of these files (a plan that rewrites an included file checks
        its new text instead of the old one). Paths are compared resolved: ``--root`` may be relative."""
        gone = {os.path.realpath(p) for p in paths}
        names = {str(e.meta.get("filename")) for e in self.entries if getattr(e, "meta", None) is not None}
        dropped = {name for name in names if os.path.realpath(name) in gone}
        kept = [
            e
            for e in self.entries
            if getattr(e, "meta", None) is None or str(e.meta.get("filename")) not in dropped
        ]
        return Ledger(self.root, kept, self.options)

    def transactions(self) -> list[Any]:
        return self._txns

    def _file(self, filename: object) -> str:
        """An entry's file relative to the group's folder; one dictionary look-up per entry (hashing the
        root Path on every call, as a cache keyed on it does, cost a second on ten years of costs)."""
        key = filename if isinstance(filename, str) else ""
        shown = self._files.get(key)
        if shown is None:
            shown = self._files[key] = _relative(key or None, self.root)
        return shown

    def _where(self, txn: Any) -> tuple[str, int]:
        return self._file(txn.meta.get("filename")), int(txn.meta.get("lineno", 0) or 0)

    def costs(self, start: dt.date, end: dt.date, prefix: str) -> list[CostLine]:
        """Postings on accounts under ``prefix`` (e.g. "Charges") dated in [start, end), in EUR.

        The one reader of costs (``eage run``, close, Fava's pages): a cost in another currency is an
        input error at its entry, never a figure added to euros.
        """
        out = []
        under = prefix + ":"
        for txn in self._txns:
            if not (start <= txn.date < end):
                continue
            for posting in txn.postings:
                if not posting.account.startswith(under):
                    continue
                units = posting.units
                if units is None or units.number is None:
                    continue
                if units.currency != "EUR":
                    raise InputError.at(
                        f"cost in {units.currency}: eage keeps its books in EUR",
                        file=self._file(txn.meta.get("filename")),
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
                        file=self._file(txn.meta.get("filename")),
                        line=int(txn.meta.get("lineno", 0)),
                    )
                )
        return out

    def issued_documents(self) -> list[IssuedDocument]:
        """Invoices and credit notes recorded in the ledger, in ledger order (read once, then kept)."""
        if self._documents is None:
            with collector_paused():
                self._documents = tuple(self._read_documents())
        return list(self._documents)

    def _read_documents(self) -> list[IssuedDocument]:
        out = []
        for txn in self._txns:
            meta = txn.meta
            kind = meta.get("kind")
            if kind not in DOC_KINDS or "invoice" not in meta:
                continue
            file, line = self._where(txn)
            lines = []
            for posting in txn.postings:
                pmeta = posting.meta or {}
                if posting.units is None or posting.units.number is None:
                    continue
                lines.append(
                    DocumentLine(
                        account=posting.account,
                        service=_str_or_none(pmeta.get("service")),
                        amount=-Decimal(posting.units.number),
                        hours=_amount_or_none(pmeta.get("hours")),
                        label=_str_or_none(pmeta.get("label")),
                        price=_amount_or_none(pmeta.get("price")),
                    )
                )
            out.append(
                IssuedDocument(
                    number=str(meta["invoice"]),
                    kind=str(kind),
                    member=str(meta.get("member", "")),
                    date=txn.date,
                    period=str(meta.get("period", "")),
                    net=_amount(meta.get("net", "0")),
                    vat=_amount(meta.get("vat", "0")),
                    total=_amount(meta.get("total", "0")),
                    refers_to=_str_or_none(meta.get("refers_to")),
                    pdf=_str_or_none(meta.get("pdf")),
                    file=file,
                    line=line,
                    links=tuple(sorted(txn.links or ())),
                    due=_date_or_none(meta.get("due")),
                    narration=str(txn.narration or ""),
                    reason=_str_or_none(meta.get("reason")),
                    lines=tuple(lines),
                    vat_category=_str_or_none(meta.get("vat_category")),
                    vat_rate=_amount_or_none(meta.get("vat_rate")),
                    vat_exemption=_str_or_none(meta.get("vat_exemption")),
                    vat_exemption_code=_str_or_none(meta.get("vat_exemption_code")),
                )
            )
        return out

    def credit_notes_of(self) -> dict[str, tuple[IssuedDocument, ...]]:
        """Invoice number -> the credit notes that cancel it (``refers_to``), in ledger order."""
        if self._credit_notes is None:
            found: dict[str, list[IssuedDocument]] = {}
            for doc in self.issued_documents():
                if doc.kind == "credit_note" and doc.refers_to is not None:
                    found.setdefault(doc.refers_to, []).append(doc)
            self._credit_notes = {number: tuple(docs) for number, docs in found.items()}
        return dict(self._credit_notes)

    def payments(self) -> list[Payment]:
        """Transactions carrying the link of a document other than their own (see :class:`Payment`)."""
        if self._payments is None:
            with collector_paused():
                self._payments = self._read_payments()
        return list(self._payments)

    def _read_payments(self) -> tuple[Payment, ...]:
        out = []
        for txn in self._txns:
            links = txn.links
            if not links:
                continue
            meta = txn.meta
            own = str(meta["invoice"]) if meta.get("kind") in DOC_KINDS and "invoice" in meta else None
            others = tuple(sorted(link for link in links if link != own))
            if not others:
                continue
            file, line = self._where(txn)
            out.append(
                Payment(
                    date=txn.date,
                    own=own,
                    links=others,
                    postings=tuple(
                        PaymentPosting(
                            p.account,
                            Decimal(p.units.number),
                            _str_or_none((p.meta or {}).get("invoice")),
                        )
                        for p in txn.postings
                        if p.units is not None and p.units.number is not None
                    ),
                    file=file,
                    line=line,
                )
            )
        return tuple(out)

    def postings(self, accept: Callable[[str], bool]) -> list[PostingLine]:
        """Every posting on an account ``accept`` takes (asked once per account), in ledger order."""
        taken: dict[str, bool] = {}
        out = []
        for txn in self._txns:
            for posting in txn.postings:
                account = posting.account
                ok = taken.get(account)
                if ok is None:
                    ok = taken[account] = accept(account)
                if not ok or posting.units is None or posting.units.number is None:
                    continue
                file, line = self._where(txn)
                out.append(
                    PostingLine(
                        date=txn.date,
                        account=account,
                        amount=Decimal(posting.units.number),
                        currency=str(posting.units.currency),
                        narration=str(txn.narration or ""),
                        source=_str_or_none(txn.meta.get("source")),
                        file=file,
                        line=line,
                    )
                )
        return out

    def posting_dates(self, prefix: str) -> frozenset[dt.date]:
        under = prefix + ":"
        return frozenset(
            txn.date for txn in self._txns if any(p.account.startswith(under) for p in txn.postings)
        )

    def bank_refs(self) -> frozenset[str]:
        return frozenset(str(t.meta["bank_ref"]) for t in self._txns if "bank_ref" in t.meta)

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        if not self._txns:
            return None
        return self._txns[0].date, self._txns[-1].date

    def actual_figures(self, year: int, through: int) -> list[ActualFigure]:
        from eage.ledger.actuals import account_month_totals  # actuals reads this module's Ledger

        return account_month_totals(self, year, through)

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


def _as_view(ledger: Ledger) -> LedgerView:
    """mypy proves here that :class:`Ledger` implements :class:`LedgerView`."""
    return ledger


def _amount(value: object) -> Decimal:
    """A metadata amount; what does not read as one counts as zero (the plugin reports such entries)."""
    read = _amount_or_none(value)
    return Decimal(0) if read is None else read


def _amount_or_none(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        read = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return read if read.is_finite() else None


def _date_or_none(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


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
        # Beancount's loader.load_file would read (and write) ``ledger/.main.beancount.picklecache``: a
        # pickle in the group's folder is code run by whoever loads it, and a copied folder's cache holds
        # the original's paths. eage loads uncached, as Fava does (fava.beans.load.load_uncached).
        # abspath as load_file does (normalised, symlinks kept: entries name files as the user reached them).
        entries, errors, options = loader._load([(os.path.abspath(main), True)], None, None, None)  # noqa: PTH100
    except OSError as exc:
        raise _io_problem(exc, root) from None
    fatal = [e for e in errors if not isinstance(e, BillingError)]
    fatal_problems = format_errors(fatal, root)
    if fatal_problems and not allow_errors:
        raise InputError(fatal_problems)
    problems = format_errors(errors, root) if len(fatal) != len(errors) else fatal_problems
    return Ledger(root, entries, options, clean=not fatal_problems, load_errors=errors), problems


def validate_additions(ledger: Ledger, texts: dict[str, str]) -> list[Problem]:
    """Errors the ledger would have with these new generated files (path relative to ledger/ -> text).

    The new text is parsed and booked on its own, then validated together with the entries already
    loaded, so a run checks its output without parsing the whole ledger a second time. The eage plugin,
    when main.beancount declares it, then runs over the old and the new entries together (one pass, as on
    every load): a numbering, document, credit-note or billing error that the ledger did not have before is
    refused here, with the plugin's located message, before anything is written.
    """
    new_entries: list[Any] = []
    documents: list[Any] = []
    errors: list[Any] = []
    for rel, text in sorted(texts.items()):
        filename = str(ledger.root / "ledger" / rel)
        parsed, parse_errors, _ = parser.parse_string(text, report_filename=filename)
        errors.extend(parse_errors)
        for entry in parsed:
            # A new document's PDF is not on disk until the commit: Beancount's check that the file exists
            # would fail, so document directives go to the plugin only (which checks the link and the path).
            (documents if isinstance(entry, data.Document) else new_entries).append(entry)
    booked, booking_errors = booking.book(new_entries, ledger.options)  # type: ignore[no-untyped-call]
    errors.extend(booking_errors)
    if not errors:
        combined = data.sorted(_validation_context(ledger, booked) + list(booked))
        errors.extend(validation.validate(combined, ledger.options))  # type: ignore[no-untyped-call]
    if not errors:
        before = ledger.plugin_errors()
        after = _run_eage_plugin([*ledger.entries, *booked, *documents], ledger.options)
        errors.extend(e for e in after if _error_key(e) not in before)
    return format_errors(errors, ledger.root)


PLUGIN = "eage.plugins.invariants"


def _run_eage_plugin(entries: list[Any], options: dict[str, Any]) -> list[Any]:
    """The eage plugin's errors on ``entries``, with each configuration main.beancount declares it with
    (none when it does not declare it: a ledger without the plugin is allowed)."""
    from eage.plugins.invariants import invariants

    out: list[Any] = []
    for name, config in options.get("plugin", ()) or ():
        if name == PLUGIN:
            _, errors = invariants(entries, options, config)
            out.extend(errors)
    return out


def _is_plugin_error(error: Any) -> bool:
    return type(error).__module__ == "eage.plugins.invariants"


def _error_key(error: Any) -> tuple[str, str, int, str]:
    source = getattr(error, "source", None) or {}
    return (
        type(error).__name__,
        str(source.get("filename", "")),
        int(source.get("lineno", 0) or 0),
        str(getattr(error, "message", error)),
    )


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
