"""``eage close YYYY``: the year-end true-up (:mod:`eage.invoicing.trueup`), planned then issued.

The months closed are those of the year with a timesheet; each must have been run. In ``actual`` mode
every month is recomputed and must still match what was billed (for a pool billed at the year-to-date
rate, rules/allocation.yaml ``rate_method``: its hours, not its amounts, which the true-up settles); then
the year-to-date pools have their year's cost split over the year's hours and the difference with what
was billed is issued (nothing to issue with monthly pools only). In
``standard_rate`` mode the year's cost is split over the year's hours and the difference with what was
billed is issued.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from eage.allocation.core import FEE, OVERHEAD, ToDate, add_to_date, member_hours_by_pool, month_to_date
from eage.allocation.rules import allocation_rules
from eage.app.inputs import Inputs, load_inputs, with_months
from eage.app.issue import add_issued_file, execute
from eage.app.run import compute_month
from eage.errors import InputError, Problem, raise_if
from eage.invoicing.build import DraftLine, make_invoice
from eage.invoicing.issue import IssuePlan, issued_entry
from eage.invoicing.monthly import generated_path
from eage.invoicing.numbering import sequence
from eage.invoicing.trueup import (
    billed_in_month,
    billed_in_year,
    credited_months,
    last_standing_invoice,
    trueup_differences,
    year_targets,
    year_to_date_mismatches,
    year_to_date_targets,
)
from eage.ledger.view import LedgerView
from eage.money import ZERO
from eage.month import Month, year_months


def closed_months(inputs: Inputs, year: int) -> list[Month]:
    """The months of ``year`` that have a timesheet; each must have been run."""
    months = [m for m in year_months(year) if m in inputs.timesheet_months]
    missing = [m for m in months if generated_path(m, "allocation") not in inputs.included]
    if missing:
        raise InputError(
            [
                Problem(
                    f"{m} has a timesheet but was not run",
                    file=f"ledger/timesheets/{m}.csv",
                    fix=f"run `eage run {m}` before the close",
                )
                for m in missing
            ]
        )
    if not months:
        raise InputError.at(f"no timesheet in {year}: nothing to close", file="ledger/timesheets/")
    return months


def _actual_mode_check(inputs: Inputs, months: Sequence[Month]) -> None:
    """In actual mode each month's billing must still be what its inputs give: refuse a month that no
    longer matches them (see :func:`_year_to_date_check` for a group with year-to-date pools)."""
    if allocation_rules(inputs.rules, dt.date(months[0].year, 12, 31)).year_to_date:
        _year_to_date_check(inputs, months)
        return
    problems = []
    documents = inputs.books.issued_documents()
    for month in months:
        result = compute_month(inputs, month).result
        month_billed: dict[str, Decimal] = defaultdict(Decimal)
        for (member, _), amount in billed_in_month(
            documents, inputs.rules.accounts.revenue, str(month)
        ).items():
            month_billed[member] += amount
        for member in sorted(set(result.members()) | set(month_billed)):
            if result.member_total(member) != month_billed.get(member, ZERO):
                problems.append(
                    Problem(
                        f"{month}: {member} was billed {month_billed.get(member, ZERO)} EUR, its share is now "
                        f"{result.member_total(member)} EUR",
                        file=f"ledger/timesheets/{month}.csv",
                        fix=f"correct the month first: `eage run {month} --correct`",
                    )
                )
    if problems:
        raise InputError(problems)


def _year_to_date_check(inputs: Inputs, months: Sequence[Month]) -> None:
    """The monthly check of a group with year-to-date pools (:func:`year_to_date_mismatches`): the
    monthly pools' amounts and the year-to-date pools' hours, not the amounts billed at a rate to date,
    which moves when an earlier month is corrected and which the close settles."""
    problems = []
    documents = inputs.books.issued_documents()
    revenue = inputs.rules.accounts.revenue
    for month in months:
        result = compute_month(inputs, month).result
        year_to_date = allocation_rules(inputs.rules, month.last_day).year_to_date
        problems += [
            Problem(
                f"{month}: {mismatch}",
                file=f"ledger/timesheets/{month}.csv",
                fix=f"correct the month first: `eage run {month} --correct`",
            )
            for mismatch in year_to_date_mismatches(result, documents, revenue, year_to_date)
        ]
    if problems:
        raise InputError(problems)


def plan_close(inputs: Inputs, year: int) -> IssuePlan:
    """The true-up invoices and credit notes of ``year`` (pure: ``inputs`` holds the closed months, see
    :func:`load_close`)."""
    rules, ledger = inputs.rules, inputs.books
    months = closed_months(inputs, year)
    documents = ledger.issued_documents()
    raise_if(credited_months(documents, [str(m) for m in months]))
    billed = billed_in_year(documents, rules.accounts.revenue, year)
    plan = IssuePlan("close", str(year))
    close = dt.date(year, 12, 31)
    alloc_rules = allocation_rules(rules, close)
    lines = [line for month in months for line in inputs.timesheet(month)]
    actual = rules.allocation.billing_mode == "actual"
    if actual:
        _actual_mode_check(inputs, months)
        if not alloc_rules.year_to_date:
            plan.status = "nothing"
            plan.notes.append(
                f"billing mode 'actual': each month of {year} was billed at its actual cost; nothing is owed "
                "and nothing over-billed (difference 0 for every member)"
            )
            return plan
        year_cost = _year_to_date_costs(inputs.books, inputs, months)
        targets = year_to_date_targets(
            year,
            {pool: value.cost for pool, value in year_cost.items()},
            member_hours_by_pool(lines, alloc_rules.services),
            billed,
            alloc_rules.fee_rate,
        )
    else:
        costs = ledger.costs(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), ledger.settings.name_expenses)
        targets = year_targets(year, costs, lines, alloc_rules)
    differences = trueup_differences(targets, billed)
    labels = {**alloc_rules.services, OVERHEAD: alloc_rules.overhead_label, FEE: alloc_rules.fee_label}
    invoices = sequence(documents, rules.group.invoicing.prefix, year)
    credits = sequence(documents, rules.group.invoicing.credit_note_prefix, year)
    for member in sorted(differences):
        diffs = differences[member]
        total = sum(diffs.values(), ZERO)
        cost = sum((v for (m, _), v in targets.items() if m == member), ZERO)
        plan.notes.append(
            f"{member}: cost {cost:.2f}, billed {cost - total:.2f}, true-up {total:+.2f} EUR (net)"
        )
        if total == 0:
            continue  # billed its cost; only the split between pools differs: no document for nothing
        credit = total < 0
        sign = Decimal(-1) if credit else Decimal(1)
        draft = [
            DraftLine(
                pool,
                f"Régularisation {year} — {labels.get(pool, pool)}",
                Decimal(1),
                sign * diff,
                sign * diff,
                "C62",
            )
            for pool, diff in sorted(
                diffs.items(), key=lambda item: list(labels).index(item[0]) if item[0] in labels else 99
            )
        ]
        number = credits.take(close) if credit else invoices.take(close)
        # BR-FR-CO-05: a credit note names an earlier invoice (BT-25) and its date (BT-26): the member's
        # last invoice of the year that stands, which the true-up settles with the others.
        last = last_standing_invoice(documents, member, year) if credit else None
        inv = make_invoice(
            rules,
            number=number,
            kind="credit_note" if credit else "invoice",
            member_id=member,
            issue_date=close,
            period_start=dt.date(year, 1, 1),
            period_end=close,
            lines=draft,
            purpose=f"Régularisation annuelle {year} de la mise à disposition de personnel",
            reason=(
                f"Régularisation annuelle {year} : facturation au taux de l'année en cours supérieure au "
                "coût réel de l'année"
                if actual
                else f"Régularisation annuelle {year} : facturation au taux standard supérieure au coût réel"
            )
            if credit
            else None,
            refers_to=last.number if last else None,
            refers_to_date=last.date if last else None,
        )
        plan.issued.append(
            issued_entry(
                rules, inv, doc_kind="trueup", period=str(year), revenue_account=rules.accounts.revenue
            )
        )
    if not plan.issued:
        plan.status = "nothing"
        plan.notes.append(f"the billing of {year} already equals its cost for every member: nothing to issue")
        return plan
    add_issued_file(plan, inputs, f"generated/{year}/{year}-trueup", f"Year-end true-up {year}")
    return plan


def _year_to_date_costs(ledger: LedgerView, inputs: Inputs, months: Sequence[Month]) -> dict[str, ToDate]:
    """Each year-to-date pool's cost and hours over the closed months, the costs as posted (each month's
    billing was just checked against its inputs)."""
    total: dict[str, ToDate] = {}
    for month in months:
        costs = ledger.costs(month.first_day, month.end, ledger.settings.name_expenses)
        rules = allocation_rules(inputs.rules, month.last_day)
        total = add_to_date(total, month_to_date(costs, inputs.timesheet(month), rules))
    return total


def load_close(root: Path, year: int) -> Inputs:
    """The inputs of the close: the ledger (lock checked), then the hours of each closed month (and, in
    actual mode, their payroll variables, to recompute each month)."""
    inputs = load_inputs(root)
    months = closed_months(inputs, year)
    raise_if(credited_months(inputs.books.issued_documents(), [str(m) for m in months]))
    return with_months(inputs, months, payroll=inputs.rules.allocation.billing_mode == "actual")


def close_year(root: Path, year: int, *, dry_run: bool = False) -> IssuePlan:
    """Load, plan, then check, render and commit the true-up (``dry_run``: check only)."""
    inputs = load_close(root, year)
    return execute(inputs, plan_close(inputs, year), dry_run=dry_run)
