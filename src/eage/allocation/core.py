"""The monthly split of the mutualised costs across members, pro rata to hours, exact to the cent.

Pure functions from plain values (cost lines read from the ledger, timesheet lines, the rules) to an
:class:`AllocationResult`.

How a pool is billed (``rate_method`` of rules/allocation.yaml, per kind of pool, in ``actual`` mode):
- ``monthly``: the month's cost split by largest remainder over the members' billable hours, so what is
  billed for the pool equals its cost to the cent every month;
- ``year_to_date``: the rate of the month is the pool's cost from 1 January to the end of the month over
  its billable hours in the same months (4 decimals), each member billed cents(rate x hours). A holiday
  month then does not bill its fixed costs (rent, software) over few hours; what is billed differs from
  the cost by month, and ``eage close`` trues the year up so that billed = cost over the year to the cent
  (:mod:`eage.invoicing.trueup`). The rate of a month is a weighted mean of the monthly rates to date, so
  it lies between their smallest and largest. The year's first month with hours is billed its cost
  exactly, as a monthly pool (its rate to date is its own).

How a cost reaches a pool (first match wins):
1. an account listed in ``excluded_accounts``: not re-invoiced (shown as excluded);
2. a posting (or transaction) with ``service`` metadata: that service's pool;
3. a staff account with ``employee`` metadata: the employee's cost, spread over the services they
   worked for in the month pro rata to all their hours, internal time included (so internal time is
   borne by the billable hours of its service: full-cost recovery);
4. an overhead account (or a staff cost with no employee): the overhead pool, split by its key;
5. any other expense account: an error, so nothing is silently left out.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from eage.errors import InputError, Problem
from eage.ledger.load import CostLine
from eage.money import ZERO, cents, split_largest_remainder
from eage.timesheets import TimesheetLine

OVERHEAD = "overhead"
FEE = "management_fee"
MONTHLY = "monthly"
YEAR_TO_DATE = "year_to_date"
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class AllocationRules:
    mode: str  # "actual" | "standard_rate"
    services: Mapping[str, str]  # slug -> label
    staff_accounts: Sequence[str]
    overhead_accounts: Sequence[str]
    overhead_label: str
    overhead_key: str  # "billable_hours" | "equal"
    excluded_accounts: Sequence[str]
    primary_service: Mapping[str, str]  # employee -> service
    standard_rates: Mapping[str, Decimal]  # service -> hourly rate in force (standard_rate mode)
    fee_rate: Decimal = ZERO
    fee_label: str = "Frais de gestion"
    # The pools (service slugs, "overhead") billed at the year-to-date rate; the others monthly.
    year_to_date: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ToDate:
    """A pool's cost and billable hours over the year's earlier months (those before the one allocated)."""

    cost: Decimal = ZERO
    billable_hours: Decimal = ZERO


def hourly_rate(cost: Decimal, hours: Decimal) -> Decimal:
    """Cost per hour, 4 decimals (0 without hours)."""
    if hours == 0:
        return ZERO
    return (cost / hours).quantize(RATE_PLACES)


@dataclass(frozen=True)
class Pool:
    service: str  # a service slug or "overhead"
    label: str
    cost: Decimal
    billable_hours: Decimal
    internal_hours: Decimal
    # Year-to-date pools: the earlier months' cost and hours (the month's own are added to them).
    before: ToDate | None = None

    @property
    def method(self) -> str:
        return MONTHLY if self.before is None else YEAR_TO_DATE

    @property
    def month_rate(self) -> Decimal:
        """The month's own cost per billable hour (4 decimals)."""
        return hourly_rate(self.cost, self.billable_hours)

    @property
    def rate(self) -> Decimal:
        """The rate billed (4 decimals), shown on invoices: the month's for a monthly pool, the year to
        date's (cost to date / hours to date) for a year-to-date pool."""
        if self.before is None:
            return self.month_rate
        return hourly_rate(self.before.cost + self.cost, self.before.billable_hours + self.billable_hours)


@dataclass(frozen=True)
class Share:
    member: str
    service: str  # service slug, "overhead" or "management_fee"
    label: str
    hours: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class AllocationResult:
    month: str
    mode: str
    pools: tuple[Pool, ...]
    shares: tuple[Share, ...]  # sorted by member, then service order
    excluded_cost: Decimal

    def members(self) -> list[str]:
        return sorted(self._by_member)

    def member_shares(self, member: str) -> list[Share]:
        return list(self._by_member.get(member, ()))

    def member_total(self, member: str) -> Decimal:
        return sum((s.amount for s in self._by_member.get(member, ())), ZERO)

    @functools.cached_property
    def _by_member(self) -> dict[str, list[Share]]:
        # Indexed once: a run asks for each member's shares, which scanning all shares made quadratic.
        index: dict[str, list[Share]] = {}
        for share in self.shares:
            index.setdefault(share.member, []).append(share)
        return index

    @property
    def total_cost(self) -> Decimal:
        return sum((p.cost for p in self.pools), ZERO)

    @property
    def total_billed(self) -> Decimal:
        return sum((s.amount for s in self.shares), ZERO)


def _under(account: str, prefixes: Iterable[str]) -> bool:
    return any(account == p or account.startswith(p + ":") for p in prefixes)


def pool_costs(
    costs: Sequence[CostLine], lines: Sequence[TimesheetLine], rules: AllocationRules
) -> tuple[dict[str, Decimal], Decimal]:
    """Cost per pool (services and overhead) and the excluded cost, from the month's expense lines."""
    pools: dict[str, Decimal] = dict.fromkeys(rules.services, ZERO)
    pools[OVERHEAD] = ZERO
    excluded = ZERO
    employee_cost: dict[str, Decimal] = defaultdict(Decimal)
    problems: list[Problem] = []
    for cost in costs:
        if _under(cost.account, rules.excluded_accounts):
            excluded += cost.amount
        elif cost.service is not None:
            if cost.service not in rules.services:
                problems.append(
                    Problem(
                        f"service {cost.service!r} is not a service of rules/allocation.yaml",
                        file=cost.file,
                        line=cost.line,
                        key="service",
                        fix=f"use one of {sorted(rules.services)}",
                    )
                )
                continue
            pools[cost.service] += cost.amount
        elif _under(cost.account, rules.staff_accounts) and cost.employee is not None:
            if cost.employee not in rules.primary_service:
                problems.append(
                    Problem(
                        f"employee {cost.employee!r} is not in rules/staff.yaml",
                        file=cost.file,
                        line=cost.line,
                        key="employee",
                        fix="correct the employee metadata or add the employee",
                    )
                )
                continue
            employee_cost[cost.employee] += cost.amount
        elif _under(cost.account, rules.overhead_accounts) or _under(cost.account, rules.staff_accounts):
            pools[OVERHEAD] += cost.amount
        else:
            problems.append(
                Problem(
                    f"expense account {cost.account} feeds no cost pool",
                    file=cost.file,
                    line=cost.line,
                    fix="add it (or a parent) to overhead.accounts or excluded_accounts in rules/allocation.yaml",
                )
            )
    if problems:
        raise InputError(problems)
    hours_by_service: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in lines:
        hours_by_service[line.employee][line.service] += line.hours
    for employee in sorted(employee_cost):
        amount = cents(employee_cost[employee])
        worked = {s: h for s, h in hours_by_service.get(employee, {}).items() if h > 0}
        if not worked:
            worked = {rules.primary_service[employee]: Decimal(1)}
        for service, part in split_largest_remainder(amount, worked).items():
            pools[service] += part
    return {k: cents(v) for k, v in pools.items()}, cents(excluded)


def member_hours_by_pool(
    lines: Sequence[TimesheetLine], services: Iterable[str]
) -> dict[str, dict[str, Decimal]]:
    """Pool -> member -> the billable hours :func:`allocate` weighs the member's share by (each service's
    hours; for the overhead pool, the member's hours of every service), members without hours left out."""
    per_service: dict[str, dict[str, Decimal]] = {s: defaultdict(Decimal) for s in services}
    for line in lines:
        if line.member is not None:
            per_service.setdefault(line.service, defaultdict(Decimal))[line.member] += line.hours
    overhead: dict[str, Decimal] = defaultdict(Decimal)
    out: dict[str, dict[str, Decimal]] = {}
    for service, members in per_service.items():
        for member, hours in members.items():
            overhead[member] += hours
        out[service] = {m: h for m, h in members.items() if h > 0}
    out[OVERHEAD] = {m: h for m, h in overhead.items() if h > 0}
    return out


def month_to_date(
    costs: Sequence[CostLine], lines: Sequence[TimesheetLine], rules: AllocationRules
) -> dict[str, ToDate]:
    """One month's cost and billable hours of each year-to-date pool (what the next months add it to)."""
    pools, _ = pool_costs(costs, lines, rules)
    hours = member_hours_by_pool(lines, rules.services)
    return {
        pool: ToDate(pools.get(pool, ZERO), sum(hours.get(pool, {}).values(), ZERO))
        for pool in sorted(rules.year_to_date)
    }


def add_to_date(total: Mapping[str, ToDate], month: Mapping[str, ToDate]) -> dict[str, ToDate]:
    """Two stretches of months added, pool by pool."""
    out = dict(total)
    for pool, value in month.items():
        before = out.get(pool, ToDate())
        out[pool] = ToDate(before.cost + value.cost, before.billable_hours + value.billable_hours)
    return out


def allocate(
    month: str,
    costs: Sequence[CostLine],
    lines: Sequence[TimesheetLine],
    rules: AllocationRules,
    earlier: Mapping[str, ToDate] | None = None,
) -> AllocationResult:
    """Split the month's pools across members pro rata to their billable hours.

    ``earlier``: per year-to-date pool (``rules.year_to_date``), its cost and billable hours over the
    year's earlier months (none: the month is the year's first).
    """
    earlier = earlier or {}
    costs_by_pool, excluded = pool_costs(costs, lines, rules)
    billable: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    internal: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.member is None:
            internal[line.service] += line.hours
        else:
            billable[line.service][line.member] += line.hours
    member_hours: dict[str, Decimal] = defaultdict(Decimal)
    for per_member in billable.values():
        for member, worked_hours in per_member.items():
            member_hours[member] += worked_hours

    pools: list[Pool] = []
    shares: list[Share] = []
    problems: list[Problem] = []
    for service, label in rules.services.items():
        cost = costs_by_pool[service]
        hours: dict[str, Decimal] = {m: h for m, h in billable.get(service, {}).items() if h > 0}
        total_hours = sum(hours.values(), ZERO)
        before = _before(service, rules, earlier)
        pool = Pool(service, label, cost, total_hours, internal.get(service, ZERO), before)
        if before is not None:
            pools.append(pool)
            shares += _at_rate(pool, label, hours)
            continue
        if rules.mode == "standard_rate":
            rate = rules.standard_rates.get(service, ZERO)
            for member in sorted(hours):
                shares.append(Share(member, service, label, hours[member], rate, cents(hours[member] * rate)))
            pools.append(pool)
            continue
        if cost != 0 and total_hours == 0:
            problems.append(
                Problem(
                    f"pool {service!r} costs {cost} EUR in {month} but has no billable hours",
                    file=f"ledger/timesheets/{month}.csv",
                    fix="record the hours worked for members on this service, or move the cost to another pool",
                )
            )
            pools.append(pool)
            continue
        pools.append(pool)
        if total_hours == 0:
            continue
        split = split_largest_remainder(cost, hours)
        for member in sorted(hours):
            shares.append(Share(member, service, label, hours[member], pool.rate, split[member]))

    overhead_cost = costs_by_pool[OVERHEAD]
    total_member_hours = sum(member_hours.values(), ZERO)
    overhead = Pool(
        OVERHEAD,
        rules.overhead_label,
        overhead_cost,
        total_member_hours,
        sum(internal.values(), ZERO),
        _before(OVERHEAD, rules, earlier),
    )
    pools.append(overhead)
    if overhead.before is not None:
        member_weights = {m: h for m, h in member_hours.items() if h > 0}
        shares += _at_rate(overhead, rules.overhead_label, member_weights)
    elif rules.mode == "actual" and overhead_cost != 0:
        if total_member_hours == 0:
            problems.append(
                Problem(
                    f"overhead costs {overhead_cost} EUR in {month} but no member has billable hours",
                    file=f"ledger/timesheets/{month}.csv",
                    fix="record the month's hours before running it",
                )
            )
        else:
            weights = (
                {m: h for m, h in member_hours.items() if h > 0}
                if rules.overhead_key == "billable_hours"
                else {m: Decimal(1) for m, h in member_hours.items() if h > 0}
            )
            split = split_largest_remainder(overhead_cost, weights)
            for member in sorted(weights):
                shares.append(
                    Share(
                        member,
                        OVERHEAD,
                        rules.overhead_label,
                        member_hours[member],
                        overhead.rate,
                        split[member],
                    )
                )
    if problems:
        raise InputError(problems)
    if rules.fee_rate:
        for member in sorted(member_hours):
            base = sum((s.amount for s in shares if s.member == member), ZERO)
            fee = cents(base * rules.fee_rate)
            if fee:
                shares.append(Share(member, FEE, rules.fee_label, member_hours[member], ZERO, fee))
    order = {name: i for i, name in enumerate([*rules.services, OVERHEAD, FEE])}
    shares.sort(key=lambda s: (s.member, order[s.service]))
    return AllocationResult(month, rules.mode, tuple(pools), tuple(shares), excluded)


def _before(pool: str, rules: AllocationRules, earlier: Mapping[str, ToDate]) -> ToDate | None:
    """The earlier months of a year-to-date pool (None for a monthly pool)."""
    if rules.mode != "actual" or pool not in rules.year_to_date:
        return None
    return earlier.get(pool, ToDate())


def _at_rate(pool: Pool, label: str, hours: Mapping[str, Decimal]) -> list[Share]:
    """A year-to-date pool's shares: each member billed cents(rate to date x hours).

    The year's first month with hours has no earlier hours: its rate to date is its own, and its cost to
    date (with any cost of earlier months without hours) is split by largest remainder as a monthly
    pool's, so that month bills its cost exactly. A rate of 0 (no cost, or no hours yet this year) bills
    nothing: a cost before the year's first hours waits for them, and the close refuses a year without.
    """
    rate = pool.rate
    if rate == 0 or not hours:
        return []
    assert pool.before is not None
    if pool.before.billable_hours == 0:
        split = split_largest_remainder(pool.before.cost + pool.cost, dict(hours))
        return [
            Share(member, pool.service, label, hours[member], rate, split[member]) for member in sorted(hours)
        ]
    return [
        Share(member, pool.service, label, hours[member], rate, cents(hours[member] * rate))
        for member in sorted(hours)
    ]
