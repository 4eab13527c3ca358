"""The hourly rate billed per month and pool, from a group's books: ``scripts/demo_rates.py ROOT [YEAR]``.

Per month with a timesheet and per pool (each service, the overheads): the billable hours (the
timesheet's), the month's cost (the posted costs, split into pools as the allocation does), the month's
own rate (cost / hours), what was billed on revenue (invoices minus credit notes of the month) and the
billed rate (billed / hours). Then per pool, over the months of January-November that were billed
(December carries the year-end bonuses and the close): the lowest and highest billed rate and their
ratio against the issue's target (highest <= 1.3 x lowest; the exit code says whether it is met), and
the same for the month's own rate (what ``rate_method: monthly`` would bill). Read only; the figures
are French-formatted for the note.

``--plan``: the months as ``eage run`` would compute them from the inputs today (the payroll with its
leave counters and provisions, the posted costs other than payroll), nothing written; "billed" is then
what each pool's ``rate_method`` would bill (the rate to date over the planned months, or the month's
own, x the month's hours): the figures of a rebuilt demo, before it is rebuilt.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from eage.allocation.core import OVERHEAD, member_hours_by_pool, pool_costs
from eage.allocation.rules import allocation_rules
from eage.app.inputs import Inputs, load_inputs, with_months
from eage.app.run import _payroll_cost_lines
from eage.invoicing.monthly import generated_path
from eage.invoicing.trueup import billed_in_month
from eage.ledger.model import Txn
from eage.ledger.view import CostLine
from eage.month import Month, year_months
from eage.payroll.month import compute_payslips, earlier_payslips, payroll_journal

TARGET = Decimal("1.3")
ZERO = Decimal(0)


def fr(value: Decimal, places: int = 2) -> str:
    text = f"{value:,.{places}f}"
    return text.replace(",", " ").replace(".", ",")


def planned_costs(inputs: Inputs, month: Month) -> list[CostLine]:
    """The month's costs as ``eage run`` would plan them: its payroll journal computed (with the leave
    counters and provisions), the other costs as posted."""
    rules, payroll, ledger = inputs.rules, inputs.payroll, inputs.books
    payslips = compute_payslips(rules, payroll, month, inputs.variables, inputs.leave_opening)
    earlier = earlier_payslips(rules, payroll, month, inputs.variables, inputs.leave_opening)
    rel = generated_path(month, "payroll")
    journal = payroll_journal(rules, payroll, month, payslips, earlier, rel)
    posted = ledger.costs(month.first_day, month.end, ledger.settings.name_expenses)
    costs = [c for c in posted if c.file != f"ledger/{rel}"]
    return costs + _payroll_cost_lines([e for e in journal.entries if isinstance(e, Txn)], rel)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("year", type=int, nargs="?", default=2026)
    parser.add_argument("--plan", action="store_true", help="compute the months from today's inputs")
    args = parser.parse_args(argv)
    inputs = load_inputs(args.root, check_lock=False)
    months = [m for m in year_months(args.year) if m in inputs.timesheet_months]
    if not months:
        print(f"no timesheet in {args.year}", file=sys.stderr)
        return 1
    inputs = with_months(inputs, months, payroll=args.plan)
    ledger, revenue = inputs.books, inputs.rules.accounts.revenue
    documents = ledger.issued_documents()
    rows: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # pool -> [(month, billed rate)]
    own: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)  # pool -> [(month, cost / hours)]
    to_date: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    print("| mois | pool | heures | coût | coût/h du mois | facturé | facturé/h |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for month in months:
        rules = allocation_rules(inputs.rules, month.last_day)
        lines = inputs.timesheet(month)
        posted = ledger.costs(month.first_day, month.end, ledger.settings.name_expenses)
        costs, _ = pool_costs(planned_costs(inputs, month) if args.plan else posted, lines, rules)
        hours = {p: sum(h.values(), ZERO) for p, h in member_hours_by_pool(lines, rules.services).items()}
        billed: dict[str, Decimal] = defaultdict(Decimal)
        if args.plan:
            for pool in [*rules.services, OVERHEAD]:
                cost_before, hours_before = to_date[pool]
                to_date[pool] = (cost_before + costs.get(pool, ZERO), hours_before + hours.get(pool, ZERO))
                basis = (
                    to_date[pool]
                    if pool in rules.year_to_date
                    else (costs.get(pool, ZERO), hours.get(pool, ZERO))
                )
                billed[pool] = basis[0] / basis[1] * hours.get(pool, ZERO) if basis[1] else ZERO
        else:
            for (_, pool), amount in billed_in_month(documents, revenue, str(month)).items():
                billed[pool] += amount
        if not any(billed.values()):
            print(f"| {month} | (pas encore facturé) | | | | | |")
            continue
        for pool in [*rules.services, OVERHEAD]:
            pool_hours, cost = hours.get(pool, ZERO), costs.get(pool, ZERO)
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
            ratio = high[1] / low[1] if low[1] else ZERO
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
