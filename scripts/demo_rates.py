"""The hourly rate billed per month and pool, from a group's books: ``scripts/demo_rates.py ROOT [YEAR]``.

Per month with a timesheet and per pool (each service, the overheads): the billable hours (the
timesheet's), the month's cost (the posted costs, split into pools as the allocation does), the month's
own rate (cost / hours), what was billed on revenue (invoices minus credit notes of the month) and the
billed rate (billed / hours). Then per pool, over the months of January-November that were billed
(December carries the year-end bonuses and the close): the lowest and highest billed rate and their
ratio against the issue's target (highest <= 1.3 x lowest; the exit code says whether it is met), and
the same for the month's own rate (what ``rate_method: monthly`` would bill). Read only; the figures
are French-formatted for the note.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from eage.allocation.core import OVERHEAD, member_hours_by_pool, pool_costs
from eage.allocation.rules import allocation_rules
from eage.app.inputs import load_inputs, with_months
from eage.invoicing.trueup import billed_in_month
from eage.month import year_months

TARGET = Decimal("1.3")


def fr(value: Decimal, places: int = 2) -> str:
    text = f"{value:,.{places}f}"
    return text.replace(",", " ").replace(".", ",")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("year", type=int, nargs="?", default=2026)
    args = parser.parse_args(argv)
    inputs = load_inputs(args.root, check_lock=False)
    months = [m for m in year_months(args.year) if m in inputs.timesheet_months]
    if not months:
        print(f"no timesheet in {args.year}", file=sys.stderr)
        return 1
    inputs = with_months(inputs, months, payroll=False)
    ledger, revenue = inputs.books, inputs.rules.accounts.revenue
    documents = ledger.issued_documents()
    rows: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # pool -> [(month, billed rate)]
    own: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # pool -> [(month, cost / hours)]
    print("| mois | pool | heures | coût | coût/h du mois | facturé | facturé/h |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for month in months:
        rules = allocation_rules(inputs.rules, month.last_day)
        lines = inputs.timesheet(month)
        costs, _ = pool_costs(
            ledger.costs(month.first_day, month.end, ledger.settings.name_expenses), lines, rules
        )
        hours = {
            pool: sum(h.values(), Decimal(0))
            for pool, h in member_hours_by_pool(lines, rules.services).items()
        }
        billed: dict[str, Decimal] = defaultdict(Decimal)
        for (_, pool), amount in billed_in_month(documents, revenue, str(month)).items():
            billed[pool] += amount
        if not any(billed.values()):
            print(f"| {month} | (pas encore facturé) | | | | | |")
            continue
        for pool in [*rules.services, OVERHEAD]:
            pool_hours, cost = hours.get(pool, Decimal(0)), costs.get(pool, Decimal(0))
            if not pool_hours:
                print(f"| {month} | {pool} | 0 | {fr(cost)} | | {fr(billed[pool])} | |")
                continue
            rate = billed[pool] / pool_hours
            print(
                f"| {month} | {pool} | {fr(pool_hours)} | {fr(cost)} | {fr(cost / pool_hours)} | "
                f"{fr(billed[pool])} | {fr(rate)} |"
            )
            if month.number <= 11:
                rows[pool].append((str(month), rate))
                own[pool].append((str(month), cost / pool_hours))
    failed = False
    for title, table in (
        ("facturé/h", rows),
        ("coût/h du mois (ce que facturerait rate_method monthly)", own),
    ):
        print()
        print(f"| pool | {title} : min (mois) | max (mois) | max / min | cible <= 1,3 |")
        print("|---|---:|---:|---:|---|")
        for pool, rates in table.items():
            low = min(rates, key=lambda r: r[1])
            high = max(rates, key=lambda r: r[1])
            ratio = high[1] / low[1] if low[1] else Decimal(0)
            ok = bool(low[1]) and ratio <= TARGET
            if table is rows:
                failed |= not ok
            print(
                f"| {pool} | {fr(low[1])} ({low[0]}) | {fr(high[1])} ({high[0]}) | {fr(ratio, 3)} | "
                f"{'oui' if ok else 'NON'} |"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
