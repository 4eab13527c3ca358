"""The figures behind the eage pages in Fava, as plain values: no HTTP, no Flask, no templates.

Each function takes the ledger's derived state (:class:`eage.fava_ext.state.LedgerState`, computed once
per reload), what the page lists (numbers or dates chosen by Fava's filters) and the as-of date, and
returns frozen dataclasses that the templates only lay out. The web layer (``eage.fava_ext``) decides
which: the period and filters chosen in Fava select *what is listed*, while statuses and balances are
computed on the whole ledger up to the as-of date, because a payment or a cost does not stop existing
outside the period on screen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from eage.allocation.core import FEE, OVERHEAD, YEAR_TO_DATE
from eage.bank.receivables import BUCKETS, AgedBalance, InvoiceStatus, aged_receivables
from eage.budget.statements import Consolidated, Figures, Row
from eage.errors import InputError
from eage.fava_ext.state import BilledLine, Document, ErrorRow, LedgerState, fee_and_total, month_of
from eage.ledger.view import LedgerView
from eage.money import ZERO, fr_month
from eage.month import Month
from eage.payroll.charges import Due
from eage.rules.models import Allocation

# Payroll liabilities checked for settlement, by the PCG number that leads the account's last component.
PAYROLL_LIABILITIES = ("421", "431", "437", "4421")


month_label = fr_month  # "2026-03" -> "mars 2026"


# --- Répartition ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    hours: Decimal
    amount: Decimal


@dataclass(frozen=True)
class MemberRow:
    member: str
    name: str
    cells: dict[str, Cell]
    hours: Decimal  # service hours (overhead and fee lines repeat them, so they are not added)
    total: Decimal


@dataclass(frozen=True)
class PoolRow:
    service: str
    label: str
    cost: Decimal
    billed: Decimal
    settled: bool = False  # billed at a rate (standard or year to date): its difference is the close's

    @property
    def difference(self) -> Decimal:
        return self.billed - self.cost


@dataclass(frozen=True)
class MonthCheck:
    """A month's billing against its cost; standalone credit notes are shown apart, never a gap.

    A pool billed at its month's cost (``rate_method`` monthly) must bill that cost; a pool billed at a
    rate (standard rates, or the year-to-date rate) bills rate x hours, and `eage close` settles its
    difference for the year: ``unsettled`` is the difference on the former only.
    """

    month: str
    cost: Decimal
    billed: Decimal  # the month's invoices and its corrections (credit notes with their replacements)
    fee: Decimal  # management fee billed on top of cost (not part of the check)
    credit_notes: Decimal = ZERO  # standalone credit notes (`eage credit-note`), negative
    unsettled: Decimal | None = None  # the difference on the pools billed at their month's cost
    cost_known: bool = True  # False: the month's costs could not be read into pools (see its notes)

    @property
    def difference(self) -> Decimal:
        return self.billed - self.cost

    @property
    def unbilled(self) -> bool:
        """A month with a cost and nothing billed yet (`eage run` not done)."""
        return self.billed == 0 and self.cost != 0

    @property
    def alert(self) -> bool:
        """A gap to correct: a cost that cannot be read, the month not billed yet, or a pool billed at its
        month's cost that is not (every pool when ``unsettled`` is not given); a rate's difference is no
        gap, the close settles it."""
        gap = self.difference if self.unsettled is None else self.unsettled
        return not self.cost_known or self.unbilled or gap != 0


@dataclass(frozen=True)
class CreditNoteRow:
    """A standalone credit note of a month: what it took back, and from which invoice."""

    number: str
    refers_to: str | None
    member_name: str
    date: dt.date
    amount: Decimal  # revenue credited (7084), negative


@dataclass(frozen=True)
class Repartition:
    month: str
    columns: list[tuple[str, str]]  # (service, label), services then overhead then fee
    rows: list[MemberRow]
    column_totals: dict[str, Cell]
    pools: list[PoolRow]
    check: MonthCheck
    excluded_cost: Decimal
    standard_rate: bool  # billed at a rate (standard or year to date): the close settles the year
    rate_kind: str = "taux standard"
    notes: list[str] = field(default_factory=list)
    credit_notes: list[CreditNoteRow] = field(default_factory=list)


def settled_at_year_end(alloc: Allocation) -> bool:
    """Whether a month may bill other than its cost by design: standard rates, or a pool billed at the
    year-to-date rate (rules/allocation.yaml ``rate_method``); `eage close` settles the year."""
    return bool(settled_pools(alloc))


def settled_pools(alloc: Allocation) -> frozenset[str]:
    """The pools billed at a rate, whose month's difference with its cost the close settles: every pool
    under standard rates, otherwise those billed at the year-to-date rate (``rate_method``)."""
    if alloc.billing_mode == "standard_rate":
        return frozenset((*alloc.services, OVERHEAD))
    pools: set[str] = set()
    if alloc.rate_method.services == YEAR_TO_DATE:
        pools |= set(alloc.services)
    if alloc.rate_method.overhead == YEAR_TO_DATE:
        pools.add(OVERHEAD)
    return frozenset(pools)


def rate_kind(alloc: Allocation) -> str:
    """How the page names the rate the members are billed at."""
    return "taux standard" if alloc.billing_mode == "standard_rate" else "taux de l'année à date"


def month_check(
    state: LedgerState, month: str, *, split: bool = True
) -> tuple[MonthCheck, dict[str, Decimal], Decimal, list[str]]:
    """The month's check, its pools, its excluded cost and notes (computed once per reload).

    ``split=False``: the pools without the month's timesheet (see ``LedgerState.month_pools``); the
    check is the same, the pools are not the month's split.
    """

    def compute() -> tuple[MonthCheck, dict[str, Decimal], Decimal, list[str]]:
        pools = state.month_pools(month, split=split)
        lines = state.billed(month)
        fee, billed, credits = fee_and_total(lines)
        # The pools billed at their month's cost, added up: the sum of the services' pools does not
        # depend on the timesheet's split (see LedgerState.month_pools), so split=False checks it too.
        settled = settled_pools(state.rules.allocation)
        at_cost = sum(
            (x.amount for x in lines if not x.standalone and x.service != FEE and x.service not in settled),
            ZERO,
        )
        unsettled = at_cost - sum((c for p, c in pools.pools.items() if p not in settled), ZERO)
        # No pool at all: the month's costs could not be read (the notes say why).
        cost = sum(pools.pools.values(), ZERO)
        check = MonthCheck(month, cost, billed, fee, credits, unsettled, cost_known=bool(pools.pools))
        return check, pools.pools, pools.excluded, pools.notes

    return state.memo(("month_check", month, split), compute)


def credit_note_rows(state: LedgerState, lines: Iterable[BilledLine]) -> list[CreditNoteRow]:
    names = member_names(state)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.standalone:
            amounts[line.number] += line.amount
    out = []
    for number, amount in amounts.items():
        doc = state.index.documents[number]
        out.append(CreditNoteRow(number, doc.refers_to, names.get(doc.member, doc.member), doc.date, amount))
    return sorted(out, key=lambda r: (r.date, r.number))


def member_names(state: LedgerState) -> dict[str, str]:
    return state.memo(("names",), lambda: {m.id: m.identity.name for m in state.rules.members.members})


def repartition(state: LedgerState, month: str) -> Repartition:
    return state.memo(("repartition", month), lambda: _repartition(state, month))


def _repartition(state: LedgerState, month: str) -> Repartition:
    rules = state.rules
    check, pools, excluded, notes = month_check(state, month)
    alloc = rules.allocation
    columns = [(slug, svc.label) for slug, svc in alloc.services.items()]
    columns.append((OVERHEAD, alloc.overhead.label))
    everything = state.billed(month)
    lines = [x for x in everything if not x.standalone]  # the matrix is the month's allocation
    if any(x.service == FEE for x in lines):
        columns.append((FEE, alloc.management_fee.label if alloc.management_fee else "Frais de gestion"))
    known = {slug for slug, _ in columns}
    for service in sorted({x.service for x in lines} - known):
        columns.append((service, service))
    names = member_names(state)
    cells: dict[str, dict[str, Cell]] = defaultdict(dict)
    for x in lines:
        old = cells[x.member].get(x.service, Cell(ZERO, ZERO))
        cells[x.member][x.service] = Cell(old.hours + x.hours, old.amount + x.amount)
    services = set(alloc.services)
    rows = [
        MemberRow(
            member=member,
            name=names.get(member, member),
            cells=row,
            hours=sum((c.hours for s, c in row.items() if s in services), ZERO),
            total=sum((c.amount for c in row.values()), ZERO),
        )
        for member, row in sorted(cells.items(), key=lambda kv: names.get(kv[0], kv[0]).casefold())
    ]
    totals = {
        slug: Cell(
            sum((r.cells[slug].hours for r in rows if slug in r.cells), ZERO),
            sum((r.cells[slug].amount for r in rows if slug in r.cells), ZERO),
        )
        for slug, _ in columns
    }
    settled = settled_pools(alloc)
    pool_rows = [
        PoolRow(slug, label, pools.get(slug, ZERO), totals[slug].amount, slug in settled)
        for slug, label in columns
        if slug != FEE
    ]
    return Repartition(
        month=month,
        columns=columns,
        rows=rows,
        column_totals=totals,
        pools=pool_rows,
        check=check,
        excluded_cost=excluded,
        standard_rate=settled_at_year_end(alloc),
        rate_kind=rate_kind(alloc),
        notes=notes,
        credit_notes=credit_note_rows(state, everything),
    )


# --- Factures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRow:
    status: InvoiceStatus
    member_name: str
    days_overdue: int
    pdf_ok: bool  # the PDF is a file eage generated (listed in the lock manifest)
    credited_by: tuple[str, ...] = ()  # credit notes dated up to the as-of date that cancel this invoice
    credited: Decimal = ZERO  # their total

    @property
    def label(self) -> str:
        """The status a reader sees: a credited invoice is "annulée par avoir", never "payée"."""
        s = self.status
        if not s.payable or not self.credited_by:
            return s.status
        numbers = ", ".join(self.credited_by)
        if self.credited >= s.total:
            return f"annulée par avoir {numbers}"
        paid = max(s.paid - self.credited, ZERO)  # what payments brought, beside the credit notes
        rest = s.total - self.credited
        base = "payée" if paid >= rest else ("partiellement payée" if paid > 0 else "impayée")
        return f"{base} (avoir partiel {numbers})"

    @property
    def badge(self) -> str:
        """The CSS class of the status badge."""
        if self.credited_by and self.credited >= self.status.total:
            return "avoir"
        base = self.label.split(" (", 1)[0]
        return base.replace(" ", "-").replace("é", "e")


@dataclass(frozen=True)
class Factures:
    as_of: dt.date
    rows: list[InvoiceRow]
    aged: list[tuple[str, AgedBalance]]  # (member name, balance)
    aged_totals: tuple[Decimal, ...]
    buckets: tuple[str, ...] = BUCKETS

    @property
    def open_total(self) -> Decimal:
        return sum(self.aged_totals, ZERO)


def invoice_rows(state: LedgerState, as_of: dt.date) -> list[InvoiceRow]:
    """Every document dated up to ``as_of`` as the Factures page shows it (once per reload and date)."""

    def compute() -> list[InvoiceRow]:
        names = member_names(state)
        manifest = state.manifest()
        rows = []
        for s in state.statuses(as_of):
            credits: Sequence[Document] = [
                c for c in state.index.credit_notes_of.get(s.number, []) if c.date <= as_of
            ]
            rows.append(
                InvoiceRow(
                    s,
                    names.get(s.member, s.member),
                    s.days_overdue(as_of),
                    s.pdf is not None and s.pdf in manifest,
                    tuple(c.number for c in credits),
                    sum((c.total for c in credits), ZERO),
                )
            )
        return rows

    return state.memo(("invoice_rows", as_of), compute)


def factures(state: LedgerState, listed: frozenset[str], as_of: dt.date) -> Factures:
    """The documents whose number is ``listed`` (those of Fava's filtered entries), with statuses as of
    ``as_of``, and the receivables aged on the whole ledger."""
    rows = [r for r in invoice_rows(state, as_of) if r.status.number in listed]

    def aging() -> tuple[list[tuple[str, AgedBalance]], tuple[Decimal, ...]]:
        names = member_names(state)
        aged = aged_receivables(state.statuses(as_of), as_of)
        totals = tuple(sum((a.buckets[i] for a in aged), ZERO) for i in range(len(BUCKETS)))
        return [(names.get(a.member, a.member), a) for a in aged], totals

    aged, totals = state.memo(("aging", as_of), aging)
    return Factures(as_of, rows, aged, totals)


# --- Contrôles -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnsettledPayroll:
    account: str
    month: str
    amount: Decimal


@dataclass(frozen=True)
class SuspenseLine:
    date: dt.date
    label: str
    amount: Decimal
    source: str


@dataclass(frozen=True)
class Controles:
    as_of: dt.date
    month_checks: list[MonthCheck]
    standard_rate: bool
    unsettled_payroll: list[UnsettledPayroll]
    suspense_balance: Decimal
    suspense_lines: list[SuspenseLine]
    overdue: list[InvoiceRow]
    tampered: list[tuple[str, str]]
    errors: list[ErrorRow]
    notes: list[str]
    credit_notes: list[tuple[str, CreditNoteRow]] = field(default_factory=list)  # (month, credit note)
    rate_kind: str = "taux standard"
    #: What the payroll owes past its due date (eage charges), and why it could not be read, if so.
    overdue_charges: list[Due] = field(default_factory=list)
    charges_problem: str | None = None

    @property
    def billing_gaps(self) -> list[MonthCheck]:
        """The months whose billing differs from their cost, or whose cost cannot be read."""
        return [c for c in self.month_checks if c.difference != 0 or c.alert]

    @property
    def alerts(self) -> list[MonthCheck]:
        """The months with a gap to correct (see MonthCheck.alert), not a rate's difference."""
        return [c for c in self.month_checks if c.alert]

    @property
    def years(self) -> list[str]:
        """The years of the months with a difference: those whose close settles it."""
        return sorted({c.month[:4] for c in self.billing_gaps})


def _payroll_liability(account: str) -> bool:
    number = account.rsplit(":", 1)[-1].split("-", 1)[0]
    return any(number.startswith(n) for n in PAYROLL_LIABILITIES)


def unsettled_payroll(view: LedgerView, as_of: dt.date) -> list[UnsettledPayroll]:
    """What each payroll liability still owes, by the month it arose, for months before the as-of month.

    Payments settle the oldest amounts first (FIFO), as social bodies and employees are paid in order.
    """
    arisen: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # account -> [(month, amount owed)]
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for posting in view.postings(_payroll_liability):
        if posting.date > as_of:
            continue
        if posting.amount < 0:
            arisen[posting.account].append((month_of(posting.date), -posting.amount))
        else:
            paid[posting.account] += posting.amount
    current = month_of(as_of)
    out = []
    for account in sorted(arisen):
        left = paid.get(account, ZERO)
        owed: dict[str, Decimal] = defaultdict(Decimal)
        for month, amount in sorted(arisen[account], key=lambda x: x[0]):
            settled = min(left, amount)
            left -= settled
            if amount - settled > 0:
                owed[month] += amount - settled
        out += [UnsettledPayroll(account, m, a) for m, a in sorted(owed.items()) if m < current]
    return out


def overdue_charges(state: LedgerState, as_of: dt.date) -> tuple[list[Due], str | None]:
    """The payroll's dues still owed after their due date as of ``as_of`` (:mod:`eage.payroll.charges`,
    the schedule ``eage charges`` prints), computed once per reload and as-of date; a rules file that
    cannot be read is said, not raised."""

    def compute() -> tuple[list[Due], str | None]:
        from eage.app.charges import overdue_as_of

        try:
            return overdue_as_of(state.root, state.ledger, state.rules, as_of), None
        except InputError as exc:
            return [], "; ".join(str(p.relative_to(state.root)) for p in exc.problems)

    return state.memo(("charges", as_of), compute)


def suspense(view: LedgerView, account: str, as_of: dt.date) -> tuple[Decimal, list[SuspenseLine]]:
    balance = ZERO
    lines = []
    for posting in view.postings(lambda name: name == account):
        if posting.date > as_of:
            continue
        balance += posting.amount
        lines.append(SuspenseLine(posting.date, posting.narration, -posting.amount, posting.source or ""))
    return balance, (lines if balance != 0 else [])


def controles(state: LedgerState, months: Sequence[str], listed: frozenset[str], as_of: dt.date) -> Controles:
    """The checks of ``months`` (those of the period on screen) and the balances as of ``as_of``."""
    rules = state.rules
    notes: list[str] = []
    checks = []
    credit_notes: list[tuple[str, CreditNoteRow]] = []
    for month in months:
        check, _, _, month_notes = month_check(state, month, split=False)
        checks.append(check)
        notes += [f"{month_label(month)} : {n}" for n in month_notes]
        credit_notes += [(month, row) for row in credit_note_rows(state, state.billed(month))]
    view = state.ledger
    balance, lines = state.memo(("suspense", as_of), lambda: suspense(view, rules.accounts.suspense, as_of))
    charges = overdue_charges(state, as_of)
    overdue = sorted(
        (r for r in factures(state, listed, as_of).rows if r.days_overdue > 0),
        key=lambda r: (-r.days_overdue, r.status.number),
    )
    return Controles(
        as_of=as_of,
        month_checks=checks,
        standard_rate=settled_at_year_end(rules.allocation),
        rate_kind=rate_kind(rules.allocation),
        unsettled_payroll=state.memo(("payroll", as_of), lambda: unsettled_payroll(view, as_of)),
        suspense_balance=balance,
        suspense_lines=lines,
        overdue=overdue,
        tampered=state.tampered(),
        errors=state.errors,
        notes=notes,
        credit_notes=credit_notes,
        overdue_charges=charges[0],
        charges_problem=charges[1],
    )


# --- Budget --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetYear:
    """``eage budget``'s consolidated statement of one year's months in the period on screen."""

    year: int
    first: int
    through: int
    statement: Consolidated | None  # None when the actual figures cannot be read (see problems)
    source: str | None  # the budget file, None when the year has none
    problems: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The months in words: "janvier à octobre 2026", "mars 2026"."""
        first = month_label(f"{self.year}-{self.first:02d}")
        if self.first == self.through:
            return first
        return f"{first.rsplit(' ', 1)[0]} à {month_label(f'{self.year}-{self.through:02d}')}"

    @property
    def from_january(self) -> bool:
        """A period from January: the statement is the board's, year-end forecast included."""
        return self.first == 1

    def sides(self) -> list[tuple[str, str, tuple[Row, ...], Figures]]:
        """(slug, title, rows, total) of charges then produits."""
        s = self.statement
        if s is None:
            return []
        return [
            ("charges", "Charges", s.charges, s.total_charges),
            ("produits", "Produits", s.produits, s.total_produits),
        ]


@dataclass(frozen=True)
class BudgetPage:
    years: list[BudgetYear]
    notes: list[str]


def budget_periods(
    begin: dt.date | None, end: dt.date | None, default_year: int, default_through: int
) -> tuple[list[tuple[int, int, int]], list[str]]:
    """(year, first month, last month) of each year the period covers, and what the reader must know.

    Without a time filter: ``default_year`` from January to ``default_through``, as ``eage budget YYYY``
    without ``--through``. A period that does not start or end with a month is taken in whole months (the
    budget is monthly): the page says so.
    """
    if begin is None or end is None:
        return [(default_year, 1, default_through)], [
            f"Sans filtre de période : l'exercice {default_year}, de janvier au dernier mois facturé, "
            f"comme « eage budget {default_year} »."
        ]
    last = end - dt.timedelta(days=1)
    if last < begin:
        return [], []
    notes = []
    if begin.day != 1 or end.day != 1:
        notes.append(
            "La période filtrée ne commence ou ne finit pas avec un mois : le budget étant mensuel, les "
            f"chiffres portent sur les mois entiers, de {month_label(month_of(begin))} à "
            f"{month_label(month_of(last))}."
        )
    periods = []
    for year in range(begin.year, last.year + 1):
        first = begin.month if year == begin.year else 1
        through = last.month if year == last.year else 12
        periods.append((year, first, through))
    return periods, notes


def budget(state: LedgerState, begin: dt.date | None, end: dt.date | None) -> BudgetPage:
    """The Budget page: ``eage budget``'s statement for each year of the period (see budget_periods)."""
    dates = state.ledger.date_range()
    if dates is not None:  # never a statement for years before the first entry or after the last one
        first_day, last_day_ = dates
        if begin is not None and end is not None:
            begin = max(begin, dt.date(first_day.year, 1, 1))
            end = min(end, dt.date(last_day_.year + 1, 1, 1))
    invoiced = state.index.last_invoiced
    if invoiced is not None:
        last = Month.parse(invoiced)
        default_year, default_through = last.year, last.number
    else:
        default_year = (dates[1] if dates is not None else dt.date.today()).year
        default_through = 12
    periods, notes = budget_periods(begin, end, default_year, default_through)
    years = []
    for year, first, through in periods:
        try:
            inputs, statement = state.statement(year, first, through)
        except InputError as exc:
            inputs = state.budget_inputs(year)
            problems = inputs.problems + tuple(str(p) for p in exc.problems)
            years.append(BudgetYear(year, first, through, None, inputs.source, problems))
            continue
        years.append(BudgetYear(year, first, through, statement, inputs.source, inputs.problems))
    return BudgetPage(years, notes)


def precompute(state: LedgerState, as_of: dt.date) -> None:
    """Every figure the pages show without a time filter (``as_of`` today), computed now: the lock
    manifest and the hash of every locked file, each month's check, receivables, the default budget."""
    state.manifest()
    state.tampered()
    state.costs_by_month()
    for month in state.index.months():
        month_check(state, month, split=False)
    invoice_rows(state, as_of)
    factures(state, frozenset(), as_of)
    view = state.ledger
    state.memo(("payroll", as_of), lambda: unsettled_payroll(view, as_of))
    state.memo(("suspense", as_of), lambda: suspense(view, state.rules.accounts.suspense, as_of))
    overdue_charges(state, as_of)
    with contextlib.suppress(InputError):
        budget(state, None, None)


def last_day(month: str) -> dt.date:
    return Month.parse(month).last_day
