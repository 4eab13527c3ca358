"""The figures behind the eage pages in Fava, as plain values: no HTTP, no Flask, no templates.

Each function takes the entries it works on (Beancount directives as Fava loaded them, read through
``fava.beans.abc``), the group's rules and the as-of date, and returns frozen dataclasses that the
templates only lay out. The web layer (``eage.fava_ext``) decides which entries: the period and filters
chosen in Fava select *what is listed*, while statuses and balances are computed on the whole ledger up to
the as-of date, because a payment or a cost does not stop existing outside the period on screen.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fava.beans.abc import Custom, Open, Transaction

from eage.allocation.core import FEE, OVERHEAD, pool_costs
from eage.bank.receivables import BUCKETS, AgedBalance, InvoiceStatus, aged_receivables, invoice_statuses
from eage.errors import InputError
from eage.ledger.load import CostLine
from eage.ledger.store import read_manifest, tampered
from eage.money import ZERO, fr_month
from eage.rules.bundle import Rules
from eage.timesheets import TimesheetLine, month_bounds, read_timesheet, timesheet_path

# Payroll liabilities checked for settlement, by the PCG number that leads the account's last component.
PAYROLL_LIABILITIES = ("421", "431", "437", "4421")


month_label = fr_month  # "2026-03" -> "mars 2026"


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def transactions(entries: Iterable[Any]) -> list[Any]:
    return [e for e in entries if isinstance(e, Transaction)]


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return ZERO


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

    @property
    def difference(self) -> Decimal:
        return self.billed - self.cost


@dataclass(frozen=True)
class MonthCheck:
    month: str
    cost: Decimal
    billed: Decimal
    fee: Decimal  # management fee billed on top of cost (not part of the check)

    @property
    def difference(self) -> Decimal:
        return self.billed - self.cost


@dataclass(frozen=True)
class Repartition:
    month: str
    columns: list[tuple[str, str]]  # (service, label), services then overhead then fee
    rows: list[MemberRow]
    column_totals: dict[str, Cell]
    pools: list[PoolRow]
    check: MonthCheck
    excluded_cost: Decimal
    standard_rate: bool
    notes: list[str] = field(default_factory=list)


def billed_by_month(
    entries: Iterable[Any], revenue: str
) -> dict[str, list[tuple[str, str, Decimal, Decimal]]]:
    """Revenue postings of invoices and credit notes by the month they bill: (member, service, hours, amount)."""
    out: dict[str, list[tuple[str, str, Decimal, Decimal]]] = defaultdict(list)
    for txn in transactions(entries):
        if txn.meta.get("kind") not in ("invoice", "credit_note"):
            continue
        period = str(txn.meta.get("period", month_of(txn.date)))
        member = str(txn.meta.get("member", ""))
        for posting in txn.postings:
            if posting.account != revenue:
                continue
            amount = -Decimal(posting.units.number)
            meta = posting.meta or {}
            hours = abs(_dec(meta.get("hours", "0")))
            out[period].append(
                (member, str(meta.get("service", OVERHEAD)), hours if amount >= 0 else -hours, amount)
            )
    return out


def cost_lines(entries: Iterable[Any], month: str, expenses_root: str) -> list[CostLine]:
    """The month's expense postings as the allocation core reads them (as eage.ledger.load does)."""
    start, end = month_bounds(month)
    out = []
    for txn in transactions(entries):
        if not start <= txn.date < end:
            continue
        for posting in txn.postings:
            if not posting.account.startswith(expenses_root + ":"):
                continue
            pmeta = posting.meta or {}
            employee = pmeta.get("employee", txn.meta.get("employee"))
            service = pmeta.get("service", txn.meta.get("cost_service"))
            out.append(
                CostLine(
                    date=txn.date,
                    account=posting.account,
                    amount=Decimal(posting.units.number),
                    employee=None if employee is None else str(employee),
                    service=None if service is None else str(service),
                    kind=None if txn.meta.get("kind") is None else str(txn.meta["kind"]),
                    file=str(txn.meta.get("filename", "?")),
                    line=int(txn.meta.get("lineno", 0)),
                )
            )
    return out


def month_pools(
    entries: Sequence[Any], month: str, rules: Rules, expenses_root: str
) -> tuple[dict[str, Decimal], Decimal, list[str]]:
    """Cost per pool for the month, the excluded cost, and notes; the same classification as `eage run`."""
    from eage.batch import allocation_rules  # the batch's own reading of rules/allocation.yaml

    notes: list[str] = []
    lines: list[TimesheetLine] = []
    if timesheet_path(rules.root, month).exists():
        try:
            lines = read_timesheet(rules.root, month, rules)
        except InputError as exc:
            notes.append(
                f"Feuille de temps illisible ({exc}) : coûts de personnel affectés au service principal."
            )
    else:
        notes.append(
            "Pas de feuille de temps pour ce mois : coûts de personnel affectés au service principal."
        )
    _start, end = month_bounds(month)
    try:
        pools, excluded = pool_costs(
            cost_lines(entries, month, expenses_root),
            lines,
            allocation_rules(rules, end - dt.timedelta(days=1)),
        )
    except InputError as exc:
        notes.extend(str(p) for p in exc.problems)
        return {}, ZERO, notes
    return pools, excluded, notes


def month_check(
    entries: Sequence[Any], month: str, rules: Rules, expenses_root: str, billed: dict[str, list[Any]]
) -> tuple[MonthCheck, dict[str, Decimal], Decimal, list[str]]:
    pools, excluded, notes = month_pools(entries, month, rules, expenses_root)
    lines = billed.get(month, [])
    fee = sum((a for _, s, _, a in lines if s == FEE), ZERO)
    total = sum((a for _, s, _, a in lines if s != FEE), ZERO)
    return MonthCheck(month, sum(pools.values(), ZERO), total, fee), pools, excluded, notes


def months_in(entries: Iterable[Any], revenue: str, expenses_root: str) -> list[str]:
    """Months that have billing or costs among these entries, oldest first."""
    months: set[str] = set()
    for txn in transactions(entries):
        if txn.meta.get("kind") in ("invoice", "credit_note") and any(
            p.account == revenue for p in txn.postings
        ):
            months.add(str(txn.meta.get("period", month_of(txn.date))))
        elif any(p.account.startswith(expenses_root + ":") for p in txn.postings):
            months.add(month_of(txn.date))
    return sorted(m for m in months if len(m) == 7)


def repartition(all_entries: Sequence[Any], month: str, rules: Rules, expenses_root: str) -> Repartition:
    revenue = rules.accounts.revenue
    billed = billed_by_month(all_entries, revenue)
    check, pools, excluded, notes = month_check(all_entries, month, rules, expenses_root, billed)
    alloc = rules.allocation
    columns = [(slug, svc.label) for slug, svc in alloc.services.items()]
    columns.append((OVERHEAD, alloc.overhead.label))
    lines = billed.get(month, [])
    if any(s == FEE for _, s, _, _ in lines):
        columns.append((FEE, alloc.management_fee.label if alloc.management_fee else "Frais de gestion"))
    known = {slug for slug, _ in columns}
    for service in sorted({s for _, s, _, _ in lines} - known):
        columns.append((service, service))
    names = {m.id: m.identity.name for m in rules.members.members}
    cells: dict[str, dict[str, Cell]] = defaultdict(dict)
    for member, service, hours, amount in lines:
        old = cells[member].get(service, Cell(ZERO, ZERO))
        cells[member][service] = Cell(old.hours + hours, old.amount + amount)
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
    pool_rows = [
        PoolRow(slug, label, pools.get(slug, ZERO), totals[slug].amount)
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
        standard_rate=alloc.billing_mode == "standard_rate",
        notes=notes,
    )


# --- Factures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRow:
    status: InvoiceStatus
    member_name: str
    days_overdue: int
    pdf_ok: bool  # the PDF is a file eage generated (listed in the lock manifest)


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


def factures(
    listed_entries: Iterable[Any],
    all_entries: Sequence[Any],
    rules: Rules,
    as_of: dt.date,
    manifest: dict[str, str],
) -> Factures:
    names = {m.id: m.identity.name for m in rules.members.members}
    statuses = invoice_statuses(all_entries, rules.accounts.receivable_parent, as_of)
    listed = {
        str(t.meta["invoice"])
        for t in transactions(listed_entries)
        if "invoice" in t.meta and t.date <= as_of
    }
    rows = [
        InvoiceRow(
            s, names.get(s.member, s.member), s.days_overdue(as_of), s.pdf is not None and s.pdf in manifest
        )
        for s in statuses
        if s.number in listed
    ]
    aged = aged_receivables(statuses, as_of)
    totals = tuple(sum((a.buckets[i] for a in aged), ZERO) for i in range(len(BUCKETS)))
    return Factures(as_of, rows, [(names.get(a.member, a.member), a) for a in aged], totals)


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
class ErrorRow:
    message: str
    where: str


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

    @property
    def billing_gaps(self) -> list[MonthCheck]:
        return [c for c in self.month_checks if c.difference != 0]


def unsettled_payroll(all_entries: Iterable[Any], as_of: dt.date) -> list[UnsettledPayroll]:
    """What each payroll liability still owes, by the month it arose, for months before the as-of month.

    Payments settle the oldest amounts first (FIFO), as social bodies and employees are paid in order.
    """
    arisen: dict[str, list[list[Any]]] = defaultdict(list)  # account -> [[month, amount owed]]
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for txn in transactions(all_entries):
        if txn.date > as_of:
            continue
        for posting in txn.postings:
            number = posting.account.rsplit(":", 1)[-1].split("-", 1)[0]
            if not any(number.startswith(n) for n in PAYROLL_LIABILITIES):
                continue
            amount = Decimal(posting.units.number)
            if amount < 0:
                arisen[posting.account].append([month_of(txn.date), -amount])
            else:
                paid[posting.account] += amount
    current = month_of(as_of)
    out = []
    for account in sorted(arisen):
        left = paid.get(account, ZERO)
        owed: dict[str, Decimal] = defaultdict(Decimal)
        for month, amount in sorted(arisen[account], key=lambda x: str(x[0])):
            settled = min(left, amount)
            left -= settled
            if amount - settled > 0:
                owed[month] += amount - settled
        out += [UnsettledPayroll(account, m, a) for m, a in sorted(owed.items()) if m < current]
    return out


def suspense(all_entries: Iterable[Any], account: str, as_of: dt.date) -> tuple[Decimal, list[SuspenseLine]]:
    balance = ZERO
    lines = []
    for txn in transactions(all_entries):
        if txn.date > as_of:
            continue
        for posting in txn.postings:
            if posting.account == account:
                balance += Decimal(posting.units.number)
                lines.append(
                    SuspenseLine(
                        txn.date,
                        txn.narration,
                        -Decimal(posting.units.number),
                        str(txn.meta.get("source", "")),
                    )
                )
    return balance, (lines if balance != 0 else [])


def controles(
    listed_entries: Sequence[Any],
    all_entries: Sequence[Any],
    rules: Rules,
    as_of: dt.date,
    expenses_root: str,
    errors: Iterable[Any],
) -> Controles:
    billed = billed_by_month(all_entries, rules.accounts.revenue)
    notes: list[str] = []
    checks = []
    for month in months_in(listed_entries, rules.accounts.revenue, expenses_root):
        check, _, _, month_notes = month_check(all_entries, month, rules, expenses_root, billed)
        checks.append(check)
        notes += [f"{month_label(month)} : {n}" for n in month_notes if not n.startswith("Pas de feuille")]
    balance, lines = suspense(all_entries, rules.accounts.suspense, as_of)
    manifest = read_manifest(rules.root / "ledger")
    bill = factures(listed_entries, all_entries, rules, as_of, manifest)
    overdue = sorted(
        (r for r in bill.rows if r.days_overdue > 0), key=lambda r: (-r.days_overdue, r.status.number)
    )
    return Controles(
        as_of=as_of,
        month_checks=checks,
        standard_rate=rules.allocation.billing_mode == "standard_rate",
        unsettled_payroll=unsettled_payroll(all_entries, as_of),
        suspense_balance=balance,
        suspense_lines=lines,
        overdue=overdue,
        tampered=tampered(rules.root, manifest),
        errors=[_error_row(e, rules.root) for e in errors],
        notes=notes,
    )


def _error_row(error: Any, root: Path) -> ErrorRow:
    source = getattr(error, "source", None) or {}
    filename = str(source.get("filename", "") or "")
    with contextlib.suppress(ValueError):
        filename = str(Path(filename).resolve().relative_to(root.resolve()))
    where = f"{filename}:{source.get('lineno')}" if filename else ""
    return ErrorRow(str(getattr(error, "message", error)).strip(), where)


# --- Budget --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    account: str
    name: str
    budget: Decimal
    actual: Decimal
    parent: str | None = None  # the nearest budgeted ancestor: this row's figures are already in its row

    @property
    def difference(self) -> Decimal:
        return self.actual - self.budget

    @property
    def ratio(self) -> Decimal | None:
        return None if self.budget == 0 else self.actual / self.budget


@dataclass(frozen=True)
class BudgetSection:
    title: str
    rows: list[BudgetRow]

    @property
    def top_rows(self) -> list[BudgetRow]:
        """Rows without a budgeted ancestor: a parent's row already includes its sub-accounts."""
        return [r for r in self.rows if r.parent is None]

    @property
    def budget(self) -> Decimal:
        return sum((r.budget for r in self.top_rows), ZERO)

    @property
    def actual(self) -> Decimal:
        return sum((r.actual for r in self.top_rows), ZERO)

    @property
    def difference(self) -> Decimal:
        return self.actual - self.budget


@dataclass(frozen=True)
class Budget:
    begin: dt.date | None
    end: dt.date | None  # exclusive
    sections: list[BudgetSection]

    @property
    def last(self) -> dt.date | None:
        return None if self.end is None else self.end - dt.timedelta(days=1)


def budgeted_accounts(all_entries: Iterable[Any]) -> list[str]:
    out = set()
    for entry in all_entries:
        if isinstance(entry, Custom) and entry.type == "budget" and entry.values:
            out.add(str(entry.values[0].value))
    return sorted(out)


def budget(
    listed_entries: Iterable[Any],
    all_entries: Iterable[Any],
    begin: dt.date | None,
    end: dt.date | None,
    calculate: Any,
    roots: tuple[str, str],
    currency: str = "EUR",
) -> Budget:
    """Budget (Fava's ``custom "budget"`` directives, pro rata to the days of the period) vs actual.

    ``calculate(account, begin, end)`` is Fava's budget module (children included); actual amounts are the
    listed entries' postings on the account and its sub-accounts. Income is shown positive. When an
    account and one of its sub-accounts both have a budget, the sub-account's row names its parent and the
    section totals count the parent's row only (it already includes the sub-account).
    """
    all_entries = list(all_entries)
    accounts = budgeted_accounts(all_entries)
    if begin is None or end is None or not accounts:
        return Budget(begin, end, [])
    names = {e.account: str(e.meta["name"]) for e in all_entries if isinstance(e, Open) and "name" in e.meta}
    actual: dict[str, Decimal] = defaultdict(Decimal)
    for txn in transactions(listed_entries):
        if not begin <= txn.date < end:
            continue
        for posting in txn.postings:
            if posting.units.currency == currency:
                actual[posting.account] += Decimal(posting.units.number)
    expenses, income = roots
    sections = []
    for title, root, sign in (("Charges", expenses, 1), ("Produits", income, -1)):
        rows = []
        for account in accounts:
            if not account.startswith(root + ":") and account != root:
                continue
            planned = Decimal(calculate(account, begin, end).get(currency, ZERO))
            done = sum((v for a, v in actual.items() if a == account or a.startswith(account + ":")), ZERO)
            if sign < 0:
                planned = abs(planned)  # income budgets are written either sign; shown as amounts to earn
            parents = [a for a in accounts if account.startswith(a + ":")]
            parent = max(parents, key=len) if parents else None
            rows.append(BudgetRow(account, names.get(account, account), planned, sign * done, parent))
        if rows:
            sections.append(BudgetSection(title, rows))
    return Budget(begin, end, sections)


def last_day(month: str) -> dt.date:
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])
