"""What the eage pages derive from one load of the ledger, computed at most once per reload.

Fava reloads the ledger when one of its files changes and then calls every extension's
``after_load_file()``; the extension drops its :class:`LedgerState` there and builds a new one from the
new entries. A state computes each figure the first time a page asks for it and keeps it until the next
reload: the entries walked once (cost lines by month, billing by month, documents), each month's
timesheet read once, the lock manifest read and every locked file hashed once, receivables once per
as-of date, each budget year loaded once. No request re-reads a timesheet or re-hashes a file.

Fava watches the ledger's files only, not rules/ or the timesheets: the extension also builds a new state
when the stamp of those files (their sizes and modification times, :func:`input_stamp`) changes, which
costs a few ``stat`` calls per request.

The figures are those of the command line: costs through :meth:`eage.ledger.load.Ledger.costs` (the
reader of ``eage run``, EUR check included), pools through :func:`eage.allocation.core.pool_costs`,
budgets through :func:`eage.budget.model.load_budget`, :func:`eage.ledger.actuals.account_month_totals`
and :func:`eage.budget.statements.consolidated` (the calls of ``eage budget``).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from eage.allocation.core import FEE, OVERHEAD, pool_costs
from eage.bank.receivables import InvoiceStatus, invoice_statuses
from eage.budget.model import Budget, load_budget
from eage.budget.statements import Consolidated, consolidated
from eage.errors import InputError
from eage.ledger.store import read_manifest, tampered
from eage.ledger.view import ActualFigure, CostLine, LedgerView
from eage.money import ZERO
from eage.plugins.invariants import collector_paused
from eage.rules.bundle import Rules
from eage.timesheets import TimesheetLine, month_bounds, read_timesheet, timesheet_path

T = TypeVar("T")

#: The files of a correction (``eage run YYYY-MM --correct``); a credit note elsewhere is standalone.
CORRECTION_FILE = re.compile(r"(\d{4}-\d{2})-correction-(\d+)\.beancount")

Stamp = tuple[tuple[str, int, int], ...]


def input_stamp(root: Path) -> Stamp:
    """Path, size and mtime of what the pages read beside the ledger: rules, timesheets, the manifest."""
    paths = [
        *sorted((root / "rules").rglob("*.yaml")),
        *sorted((root / "ledger" / "timesheets").glob("*.csv")),
    ]
    paths.append(root / "ledger" / "generated" / "manifest.json")
    out = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            continue
        out.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(out)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class BilledLine(NamedTuple):
    """One revenue posting (7084) of an invoice or credit note, by the month it bills (a NamedTuple:
    ten years of a large group are a hundred thousand of them, built at every reload)."""

    member: str
    service: str
    hours: Decimal  # negative on a credit note
    amount: Decimal  # billed: positive on an invoice, negative on a credit note
    number: str
    kind: str  # invoice | credit_note
    standalone: bool  # a credit note of `eage credit-note`, not part of a correction


class Document(NamedTuple):
    """An issued document as the pages need it (from its transaction's metadata)."""

    number: str
    kind: str
    member: str
    date: dt.date
    period: str
    total: Decimal
    refers_to: str | None
    standalone: bool


@dataclass(frozen=True)
class MonthPools:
    """A month's cost per pool, its excluded cost, and why the figures may be partial."""

    pools: dict[str, Decimal]
    excluded: Decimal
    notes: list[str]


@dataclass
class Index:
    """One walk over the entries: what every page starts from."""

    billed: dict[str, list[BilledLine]] = field(default_factory=lambda: defaultdict(list))
    documents: dict[str, Document] = field(default_factory=dict)
    credit_notes_of: dict[str, list[Document]] = field(default_factory=lambda: defaultdict(list))
    activity: set[tuple[str, dt.date]] = field(default_factory=set)  # (month, date of an entry of it)
    last_invoiced: str | None = None  # the latest YYYY-MM billed by a monthly invoice

    def months(self, begin: dt.date | None = None, end: dt.date | None = None) -> list[str]:
        """Months with billing or costs dated in [begin, end), oldest first (every month when no range)."""
        return sorted(
            {m for m, d in self.activity if (begin is None or d >= begin) and (end is None or d < end)}
        )


def build_index(view: LedgerView, revenue: str, expenses_root: str) -> Index:
    """Billing by month, documents and active months, from the view's documents and cost dates."""
    index = Index()
    for issued in view.issued_documents():
        # The file's name only (a string split: a Path per document costs seconds on a large ledger).
        name = issued.file.replace("\\", "/").rpartition("/")[2]
        standalone = issued.kind == "credit_note" and CORRECTION_FILE.fullmatch(name) is None
        period = issued.period or month_of(issued.date)
        doc = Document(
            number=issued.number,
            kind=issued.kind,
            member=issued.member,
            date=issued.date,
            period=period,
            total=issued.total,
            refers_to=issued.refers_to,
            standalone=standalone,
        )
        index.documents[doc.number] = doc
        if doc.kind == "credit_note" and doc.refers_to is not None:
            index.credit_notes_of[doc.refers_to].append(doc)
        if doc.kind not in ("invoice", "credit_note"):
            continue
        billed = False
        for line in issued.lines:
            if line.account != revenue:
                continue
            billed = True
            hours = abs(line.hours or ZERO)
            index.billed[period].append(
                BilledLine(
                    doc.member,
                    line.service or OVERHEAD,
                    hours if line.amount >= 0 else -hours,
                    line.amount,
                    doc.number,
                    doc.kind,
                    standalone,
                )
            )
        if billed:
            index.activity.add((period, doc.date))
            if doc.kind == "invoice" and len(period) == 7 and (index.last_invoiced or "") < period:
                index.last_invoiced = period
    # Documents post no cost: the months with a cost are those of the dates with an expense posting.
    index.activity.update((month_of(day), day) for day in view.posting_dates(expenses_root))
    index.activity = {(m, d) for m, d in index.activity if len(m) == 7}
    return index


@dataclass(frozen=True)
class BudgetInputs:
    """A year's budget as ``eage budget`` loads it, or why it cannot be (and then no budget line)."""

    budget: Budget
    source: str | None  # "rules/budget/2026.yaml", None when there is no budget file
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorRow:
    """An error of the load (Beancount's, or the eage plugin's), as Contrôles lists it."""

    message: str
    where: str  # "ledger/entries.beancount:12", "" when not located


class LedgerState:
    """The derived state of one load of the ledger (see the module docstring).

    ``ledger`` is the load's read model (:class:`~eage.ledger.view.LedgerView`, built from Fava's entries
    by the extension) and ``errors`` the load's errors as rows; nothing here depends on a request, on
    Flask or on Fava's filters: a page passes the dates it shows.
    """

    def __init__(
        self,
        root: Path,
        ledger: LedgerView,
        errors: Sequence[ErrorRow],
        rules: Rules,
        stamp: Stamp = (),
    ) -> None:
        self.root = root
        self.errors = list(errors)
        self.rules = rules
        self.stamp = stamp
        # The one read model of this load: every figure below comes from its values, built once.
        self.ledger = ledger
        self.expenses_root = ledger.settings.name_expenses
        self.income_root = ledger.settings.name_income
        with collector_paused():
            self.index = build_index(ledger, rules.accounts.revenue, self.expenses_root)
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.RLock()  # Fava serves requests from several threads

    def _once(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._memo:
                with collector_paused():  # see collector_paused: Fava's heap is the whole ledger
                    self._memo[key] = compute()
            value: T = self._memo[key]
            return value

    # --- costs and pools -------------------------------------------------------------------------------

    def costs_by_month(self) -> dict[str, list[CostLine]] | None:
        """Every expense posting by month, read once; None when one is not in EUR (then each month is
        read on its own, so only the months with such a cost report it)."""
        return self._once(("costs",), self._costs_by_month)

    def _costs_by_month(self) -> dict[str, list[CostLine]] | None:
        out: dict[str, list[CostLine]] = defaultdict(list)
        dates = self.ledger.date_range()
        if dates is None:
            return out
        start, end = dates[0], dates[1] + dt.timedelta(days=1)
        try:
            lines = self.ledger.costs(start, end, self.expenses_root)
        except InputError:
            return None
        for line in lines:
            out[month_of(line.date)].append(line)
        return out

    def month_pools(self, month: str, *, split: bool = True) -> MonthPools:
        """Cost per pool for the month, as ``eage run`` classifies it (its timesheet read once).

        With ``split=False`` the timesheet is not read: each employee's cost goes to their main
        service. The pools then differ from the month's split, but not their sum, which is what the
        month's check compares with its billing (every share is a largest-remainder split of a cost in
        cents, so the pools add up to the allocable cost whatever the hours): Contrôles checks ten
        years of months without reading ten years of timesheets.
        """
        return self._once(("pools", month, split), lambda: self._month_pools(month, split))

    def _month_pools(self, month: str, split: bool) -> MonthPools:
        from eage.allocation.rules import allocation_rules  # the run's own reading of rules/allocation.yaml

        notes: list[str] = []
        lines: list[TimesheetLine] = []
        if not split:
            pass
        elif timesheet_path(self.root, month).exists():
            try:
                lines = read_timesheet(self.root, month, self.rules)
            except InputError as exc:
                notes.append(
                    f"Feuille de temps illisible ({exc}) : coûts de personnel affectés au service principal."
                )
        else:
            notes.append(
                "Pas de feuille de temps pour ce mois : coûts de personnel affectés au service principal."
            )
        start, end = month_bounds(month)
        try:
            # The costs of every month are read in one walk when a page needs many months (Contrôles);
            # one month alone (Répartition) reads its own.
            by_month = self._memo.get(("costs",)) if split else self.costs_by_month()
            if by_month is None:
                costs = self.ledger.costs(start, end, self.expenses_root)  # raises on a cost not in EUR
            else:
                costs = by_month.get(month, [])
            pools, excluded = pool_costs(
                costs, lines, allocation_rules(self.rules, end - dt.timedelta(days=1))
            )
        except InputError as exc:
            notes.extend(str(p) for p in exc.problems)
            return MonthPools({}, ZERO, notes)
        return MonthPools(pools, excluded, notes)

    def billed(self, month: str) -> list[BilledLine]:
        return self.index.billed.get(month, [])

    # --- receivables -----------------------------------------------------------------------------------

    def statuses(self, as_of: dt.date) -> list[InvoiceStatus]:
        """Every document dated up to ``as_of`` with what it received by then (bank.receivables)."""
        return self._once(
            ("statuses", as_of),
            lambda: invoice_statuses(self.ledger, self.rules.accounts.receivable_parent, as_of),
        )

    def manifest(self) -> dict[str, str]:
        """The lock manifest; a corrupt one serves no PDF (Contrôles and `eage check` report it)."""

        def read() -> dict[str, str]:
            try:
                return read_manifest(self.root / "ledger")
            except InputError:
                return {}

        return self._once(("manifest",), read)

    def tampered(self) -> list[tuple[str, str]]:
        """Locked files missing or changed since eage wrote them: every file hashed once per reload."""
        return self._once(("tampered",), lambda: tampered(self.root, self.manifest()))

    def memo(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """A figure of this load computed once (for the pages' own derived values)."""
        return self._once(("page", *key), compute)

    # --- budget ----------------------------------------------------------------------------------------

    def budget_inputs(self, year: int) -> BudgetInputs:
        return self._once(("budget", year), lambda: self._budget_inputs(year))

    def _budget_inputs(self, year: int) -> BudgetInputs:
        empty = Budget(year=year, title=f"Budget {year}", charges={}, produits={})
        rules = self.rules
        try:
            loaded = load_budget(
                self.root,
                year,
                members=[m.id for m in rules.members.members],
                services=list(rules.allocation.services),
                open_accounts=self.ledger.open_accounts(),
                revenue_account=rules.accounts.revenue,
            )
        except InputError as exc:
            if not (self.root / "rules" / "budget" / f"{year}.yaml").exists():
                return BudgetInputs(empty, None)
            return BudgetInputs(empty, f"rules/budget/{year}.yaml", tuple(str(p) for p in exc.problems))
        return BudgetInputs(loaded.budget, loaded.file)

    def actuals(self, year: int) -> list[ActualFigure]:
        """Class 6 and 7 postings of the year by account, month, section and funder (as ``eage budget``)."""
        return self._once(("actuals", year), lambda: self.ledger.actual_figures(year, 12))

    def statement(self, year: int, first: int, through: int) -> tuple[BudgetInputs, Consolidated]:
        """``eage budget``'s consolidated statement of months ``first`` to ``through`` of ``year``.

        Raises :class:`InputError` when the actual figures cannot be read (a section that is neither
        fonctionnement nor projets, an amount not in EUR), as ``eage budget`` does.
        """

        def build() -> tuple[BudgetInputs, Consolidated]:
            inputs = self.budget_inputs(year)
            return inputs, consolidated(
                inputs.budget,
                self.actuals(year),
                through=through,
                first=first,
                expenses_root=self.expenses_root,
                income_root=self.income_root,
                account_names=self.ledger.account_names(),
            )

        return self._once(("statement", year, first, through), build)


def fee_and_total(lines: Iterable[BilledLine]) -> tuple[Decimal, Decimal, Decimal]:
    """(management fee billed, billed for the pools, standalone credit notes) of a month's lines.

    A standalone credit note (``eage credit-note``) is a deliberate act, not a change of the month's
    inputs: it is counted apart, and the month's billing is checked against its cost without it. A
    correction's credit note (``eage run --correct``) is part of the month's billing: with its
    replacement invoice it nets to the recomputed share.
    """
    fee = billed = credits = ZERO
    for line in lines:
        if line.standalone:
            credits += line.amount
        elif line.service == FEE:
            fee += line.amount
        else:
            billed += line.amount
    return fee, billed, credits
