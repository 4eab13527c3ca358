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

In ``actual`` mode each month is already billed at its actual cost; the year's cost per member is then
the sum of its monthly shares, nothing is owed, and the close says so and writes nothing. If a month's
billing no longer matches its inputs, the close refuses and names the month to correct.

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
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from eage.allocation.core import FEE, OVERHEAD, AllocationRules, allocate
from eage.batch import (
    Context,
    allocation_rules,
    billed_by_runs,
    compute_month,
    credited_invoices,
    current_invoices,
    generated_path,
    load_context,
    refuse_tampered,
)
from eage.errors import InputError, Problem, raise_if
from eage.invoicing.build import DraftLine, make_invoice
from eage.invoicing.issue import IssuePlan, add_issued_file, execute, issued_entry
from eage.invoicing.numbering import sequence
from eage.ledger.load import CostLine, IssuedDocument
from eage.ledger.store import read_includes
from eage.money import ZERO
from eage.timesheets import TimesheetLine, read_timesheet, timesheet_path

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


def billed_in_year(ctx: Context, year: int) -> dict[Key, Decimal]:
    """Net 7084 per member and pool for documents whose period is in ``year`` (invoices - credit notes)."""
    revenue = ctx.rules.accounts.revenue
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for txn in ctx.ledger.transactions():
        if txn.meta.get("kind") not in ("invoice", "credit_note", "trueup"):
            continue
        if not str(txn.meta.get("period", "")).startswith(str(year)):
            continue
        member = str(txn.meta.get("member"))
        for posting in txn.postings:
            if posting.account == revenue:
                pool = str((posting.meta or {}).get("service", OVERHEAD))
                out[(member, pool)] -= Decimal(posting.units.number)
    return dict(out)


def _months(ctx: Context, year: int) -> list[str]:
    """The months of ``year`` that have a timesheet; each must have been run."""
    main = ctx.ledger.main_path
    included = set(read_includes(main.read_text(encoding="utf-8"), main))
    months = [f"{year}-{m:02d}" for m in range(1, 13) if timesheet_path(ctx.root, f"{year}-{m:02d}").exists()]
    missing = [m for m in months if generated_path(m, "allocation") not in included]
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


def _actual_mode_check(ctx: Context, months: Sequence[str]) -> None:
    """In actual mode the monthly billing is the cost: refuse if a month no longer matches its inputs."""
    problems = []
    for month in months:
        result = compute_month(ctx, month).result
        month_billed: dict[str, Decimal] = defaultdict(Decimal)
        for (member, _), amount in billed_in_month(ctx, month).items():
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


def billed_in_month(ctx: Context, month: str) -> dict[Key, Decimal]:
    revenue = ctx.rules.accounts.revenue
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for txn in ctx.ledger.transactions():
        if txn.meta.get("kind") in ("invoice", "credit_note") and txn.meta.get("period") == month:
            for posting in txn.postings:
                if posting.account == revenue:
                    out[
                        (str(txn.meta.get("member")), str((posting.meta or {}).get("service", OVERHEAD)))
                    ] -= Decimal(posting.units.number)
    return dict(out)


def credited_months(documents: Sequence[IssuedDocument], months: Sequence[str]) -> list[Problem]:
    """Months where a member's invoice was cancelled by a standalone credit note and not re-billed.

    For such a member, what stands (:func:`eage.batch.current_invoices`) is less than what the month's
    runs billed from its inputs (:func:`eage.batch.billed_by_runs`).
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


def plan_close(ctx: Context, year: int) -> IssuePlan:
    """The true-up invoices and credit notes of ``year``."""
    rules, ledger = ctx.rules, ctx.ledger
    refuse_tampered(ctx)
    months = _months(ctx, year)
    raise_if(credited_months(ledger.issued_documents(), months))
    billed = billed_in_year(ctx, year)
    plan = IssuePlan("close", str(year))
    if rules.allocation.billing_mode == "actual":
        _actual_mode_check(ctx, months)
        plan.status = "nothing"
        plan.notes.append(
            f"billing mode 'actual': each month of {year} was billed at its actual cost; nothing is owed "
            "and nothing over-billed (difference 0 for every member)"
        )
        return plan

    close = dt.date(year, 12, 31)
    lines = [line for month in months for line in read_timesheet(ctx.root, month, rules)]
    costs = ledger.costs(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), ledger.options["name_expenses"])
    alloc_rules = allocation_rules(rules, close)
    targets = year_targets(year, costs, lines, alloc_rules)
    differences = trueup_differences(targets, billed)
    labels = {**alloc_rules.services, OVERHEAD: alloc_rules.overhead_label, FEE: alloc_rules.fee_label}
    documents = ledger.issued_documents()
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
        last = _last_invoice(documents, member, year) if credit else None
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
            reason=f"Régularisation annuelle {year} : facturation au taux standard supérieure au coût réel"
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
    add_issued_file(plan, ctx, f"generated/{year}/{year}-trueup", f"Year-end true-up {year}")
    return plan


def _last_invoice(documents: Sequence[IssuedDocument], member: str, year: int) -> IssuedDocument | None:
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


def close_year(root: Path, year: int, *, dry_run: bool = False) -> IssuePlan:
    ctx = load_context(root)
    return execute(ctx, plan_close(ctx, year), dry_run=dry_run)
