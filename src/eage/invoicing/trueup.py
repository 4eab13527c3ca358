"""``eage close YYYY``: the year-end true-up, so that the year's billing equals the year's cost exactly.

In ``standard_rate`` mode members are billed each month at the budgeted hourly rate of each service
(rules/allocation.yaml ``standard_rates``). At the close, the year's allocable cost is split as a month
is in ``actual`` mode, but over the whole year: the year's pool costs (payroll posted by the monthly
runs, overheads), spread pro rata to the year's billable hours by largest remainder, with the same pool
rules (:func:`eage.allocation.core.allocate`). Per member and pool, the difference with what was billed
for the year (net 7084: invoices minus credit notes, whose period is in the year) is the true-up:

- a member who owes (positive total) receives a true-up invoice (FAC sequence);
- a member who was over-billed receives a true-up credit note (AV sequence);

both ``kind: "trueup"``, one lump-sum line per pool, dated the close date (31 December), so that after
the close the year's 7084 per member equals its share of the year's cost, and their sum the cost.

In ``actual`` mode a pool billed ``monthly`` (rules/allocation.yaml ``rate_method``) is billed at its
actual cost each month: nothing is owed on it. A pool billed at the ``year_to_date`` rate was billed
cents(rate of the month x hours), the rate moving as the year's cost and hours add up: at the close its
year's cost (the sum of its monthly costs, as posted) is split over the members pro rata to their
billable hours of the year, by largest remainder, and the difference with what was billed is trued up
as above (:func:`year_to_date_targets`), so that after the close the pool's billing of the year equals
its cost to the cent. The management fee, a rate on what is billed, follows the true-up it is charged on.
With monthly pools only, the close says so and writes nothing. If a month's billing no longer matches
its inputs, the close refuses and names the month to correct.

A monthly invoice cancelled by a standalone credit note (``eage credit-note``) and not re-billed leaves
its month short: in either mode the close refuses and names ``eage run YYYY-MM --correct``, which
re-bills it as a dated invoice of that month. Otherwise a standard-rate true-up would bill the cancelled
amount again, silently, inside a "Régularisation" line (:func:`credited_months`).

Accounts: the true-up documents are posted directly (Dr 411 / Cr 7084, or the reverse), not through
4181 factures à établir / 4198 avoirs à établir. They are computed once December is run and dated
31 December, inside the year they settle and in that year's sequences, so the year's accounts already
hold them; an accrual would only be needed if the documents were issued with a date in the next year.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal

from eage.allocation.core import FEE, OVERHEAD, AllocationResult, AllocationRules, allocate
from eage.errors import InputError, Problem
from eage.invoicing.monthly import billed_by_runs, credited_invoices, current_invoices
from eage.ledger.view import CostLine, IssuedDocument
from eage.money import ZERO, cents, split_largest_remainder
from eage.timesheets import TimesheetLine

Key = tuple[str, str]  # (member, pool)


def year_targets(
    year: int, costs: Sequence[CostLine], lines: Sequence[TimesheetLine], rules: AllocationRules
) -> dict[Key, Decimal]:
    """Each member's share of each pool of the year's cost, as the monthly split would give it in actual mode."""
    result = allocate(str(year), costs, lines, dataclasses.replace(rules, mode="actual"))
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for share in result.shares:
        out[(share.member, share.service)] += share.amount
    return dict(out)


def year_to_date_targets(
    year: int,
    pool_cost: Mapping[str, Decimal],
    hours: Mapping[str, Mapping[str, Decimal]],
    billed: Mapping[Key, Decimal],
    fee_rate: Decimal = ZERO,
) -> dict[Key, Decimal]:
    """What each member's billing of the year must be, in actual mode with year-to-date pools.

    ``pool_cost``: each year-to-date pool's cost of the year; ``hours``: pool -> member -> billable hours
    of the year; ``billed``: what the year's documents billed per member and pool. A year-to-date pool's
    cost is split over its members' hours by largest remainder (so the targets sum to the cost exactly);
    every other pool keeps what it billed (a monthly pool is billed its cost each month); the management
    fee grows by ``fee_rate`` x the member's true-up of the year-to-date pools.
    """
    targets: dict[Key, Decimal] = {
        key: amount for key, amount in billed.items() if key[1] not in pool_cost and key[1] != FEE
    }
    owed: dict[str, Decimal] = defaultdict(Decimal)
    problems = []
    for pool in sorted(pool_cost):
        weights = {m: h for m, h in hours.get(pool, {}).items() if h > 0}
        cost = pool_cost[pool]
        if not weights:
            if cost:
                problems.append(
                    Problem(
                        f"pool {pool!r} costs {cost} EUR in {year} but has no billable hours in the year",
                        file="ledger/timesheets/",
                        fix="record the hours worked for members on this service, or move the cost to "
                        "another pool",
                    )
                )
            continue
        for member, amount in split_largest_remainder(cost, weights).items():
            targets[(member, pool)] = amount
        for member in {m for m, p in billed if p == pool} | set(weights):
            owed[member] += targets.get((member, pool), ZERO) - billed.get((member, pool), ZERO)
    if problems:
        raise InputError(problems)
    for member in sorted({m for m, p in billed if p == FEE} | set(owed)):
        fee = billed.get((member, FEE), ZERO) + cents(owed.get(member, ZERO) * fee_rate)
        if fee or (member, FEE) in billed:
            targets[(member, FEE)] = fee
    return targets


def trueup_differences(
    targets: Mapping[Key, Decimal], billed: Mapping[Key, Decimal]
) -> dict[str, dict[str, Decimal]]:
    """Per member, per pool: what is still owed (positive) or was over-billed (negative); zeros left out."""
    out: dict[str, dict[str, Decimal]] = {}
    for key in sorted(set(targets) | set(billed)):
        diff = targets.get(key, ZERO) - billed.get(key, ZERO)
        if diff:
            out.setdefault(key[0], {})[key[1]] = diff
    return out


def billed_in_year(documents: Sequence[IssuedDocument], revenue: str, year: int) -> dict[Key, Decimal]:
    """Net 7084 per member and pool for documents whose period is in ``year`` (invoices - credit notes)."""
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for doc in documents:
        if doc.kind not in ("invoice", "credit_note", "trueup") or not doc.period.startswith(str(year)):
            continue
        for line in doc.lines:
            if line.account == revenue:
                out[(doc.member, line.service or OVERHEAD)] += line.amount
    return dict(out)


def billed_in_month(documents: Sequence[IssuedDocument], revenue: str, month: str) -> dict[Key, Decimal]:
    """Net 7084 per member and pool of ``month``'s invoices and credit notes."""
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for doc in documents:
        if doc.kind in ("invoice", "credit_note") and doc.period == month:
            for line in doc.lines:
                if line.account == revenue:
                    out[(doc.member, line.service or OVERHEAD)] += line.amount
    return dict(out)


def billed_hours_in_month(
    documents: Sequence[IssuedDocument], revenue: str, month: str
) -> dict[Key, Decimal]:
    """Net hours per member and pool billed by ``month``'s invoices and credit notes (a credit note takes
    its hours back); lines that record no hours count none."""
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for doc in documents:
        if doc.kind in ("invoice", "credit_note") and doc.period == month:
            sign = Decimal(-1) if doc.kind == "credit_note" else Decimal(1)
            for line in doc.lines:
                if line.account == revenue and line.hours is not None:
                    out[(doc.member, line.service or OVERHEAD)] += sign * line.hours
    return dict(out)


def year_to_date_mismatches(
    result: AllocationResult,
    documents: Sequence[IssuedDocument],
    revenue: str,
    year_to_date: AbstractSet[str],
) -> list[str]:
    """What a month's billing no longer matches of its recomputed allocation ``result``, in a group with
    year-to-date pools: each member's amount on the pools billed monthly, and its hours on each
    year-to-date pool. The amounts billed at a rate to date are not compared: that rate moves when an
    earlier month is corrected, and the close settles the year on its cost and hours (each later month
    would otherwise have to be corrected again after any correction)."""
    month = result.month
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for (member, pool), amount in billed_in_month(documents, revenue, month).items():
        if pool not in year_to_date and pool != FEE:
            amounts[member] += amount
    share_amounts: dict[str, Decimal] = defaultdict(Decimal)
    share_hours: dict[Key, Decimal] = defaultdict(Decimal)
    for share in result.shares:
        if share.service in year_to_date:
            share_hours[(share.member, share.service)] += share.hours
        elif share.service != FEE:
            share_amounts[share.member] += share.amount
    out = []
    for member in sorted(set(amounts) | set(share_amounts)):
        if amounts.get(member, ZERO) != share_amounts.get(member, ZERO):
            out.append(
                f"{member} was billed {amounts.get(member, ZERO)} EUR on the pools billed monthly, its share "
                f"is now {share_amounts.get(member, ZERO)} EUR"
            )
    hours = {
        k: v for k, v in billed_hours_in_month(documents, revenue, month).items() if k[1] in year_to_date
    }
    for member, pool in sorted(set(hours) | set(share_hours)):
        billed, now = hours.get((member, pool), ZERO), share_hours.get((member, pool), ZERO)
        if billed != now:
            out.append(f"{member} was billed {billed} h on {pool}, the timesheet now gives {now} h")
    return out


def credited_months(documents: Sequence[IssuedDocument], months: Sequence[str]) -> list[Problem]:
    """Months where a member's invoice was cancelled by a standalone credit note and not re-billed.

    For such a member, what stands (:func:`eage.invoicing.monthly.current_invoices`) is less than what
    the month's runs billed from its inputs (:func:`eage.invoicing.monthly.billed_by_runs`).
    """
    problems = []
    for month in months:
        runs = billed_by_runs(documents, month)
        standing = {m: d.total for m, d in current_invoices(documents, month).items()}
        cancelled = credited_invoices(documents, month)
        for member in sorted(set(runs) | set(standing)):
            if runs.get(member, ZERO) == standing.get(member, ZERO) or member not in cancelled:
                continue
            invoice, credit = cancelled[member]
            problems.append(
                Problem(
                    f"{month}: {member}'s invoice {invoice.number} was cancelled by {credit.number} and not "
                    "re-billed; the close would bill it again inside a true-up",
                    file=credit.file,
                    line=credit.line,
                    fix=f"re-bill the month first: `eage run {month} --correct`",
                )
            )
    return problems


def last_standing_invoice(
    documents: Sequence[IssuedDocument], member: str, year: int
) -> IssuedDocument | None:
    """The member's last invoice of ``year`` that no credit note cancels (a true-up credit note names it)."""
    credited = {d.refers_to for d in documents if d.kind == "credit_note"}
    standing = [
        d
        for d in documents
        if d.member == member
        and d.kind == "invoice"
        and d.period.startswith(str(year))
        and d.number not in credited
    ]
    return max(standing, key=lambda d: (d.date, d.number), default=None)
