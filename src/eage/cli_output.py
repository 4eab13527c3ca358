"""Human output of the commands (rich tables). English for the operator; amounts in French format."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from eage.allocation.core import FEE, OVERHEAD
from eage.app.run import MonthPlan
from eage.errors import Problem
from eage.invoicing.issue import IssuePlan
from eage.money import ZERO, fr_eur, fr_hours
from eage.month import Month


def console(*, stderr: bool = False) -> Console:
    """A console for command output: a terminal's width, or 120 columns when piped (tables stay readable)."""
    out = Console(stderr=stderr)
    return out if out.is_terminal else Console(stderr=stderr, width=120)


def print_plan(console: Console, plan: MonthPlan, *, dry_run: bool) -> None:
    result = plan.result
    pools = Table(title=f"Cost pools — {plan.month}", title_justify="left")
    for col in ("pool", "cost", "billable h", "internal h", "rate / h"):
        pools.add_column(col, justify="left" if col == "pool" else "right")
    for pool in result.pools:
        pools.add_row(
            pool.label,
            fr_eur(pool.cost),
            fr_hours(pool.billable_hours),
            fr_hours(pool.internal_hours),
            fr_eur(pool.rate),
        )
    console.print(pools)

    table = Table(title=f"Re-invoicing — {plan.month}", title_justify="left")
    for col in ("member", "service", "hours", "rate / h", "amount", "invoice"):
        table.add_column(
            col, justify="right" if col in ("hours", "rate / h", "amount") else "left", no_wrap=True
        )
    by_member = {inv.member_id: inv for inv in plan.invoices}
    for member in result.members():
        inv = by_member.get(member)
        for index, share in enumerate(result.member_shares(member)):
            table.add_row(
                member if index == 0 else "",
                share.service,
                fr_hours(share.hours) if share.service not in (OVERHEAD, FEE) else "",
                fr_eur(share.rate) if share.rate else "",
                fr_eur(share.amount),
                (inv.number if inv else "") if index == 0 else "",
            )
        table.add_row("", "[bold]total[/]", "", "", f"[bold]{fr_eur(result.member_total(member))}[/]", "")
        table.add_section()
    billable = sum((p.billable_hours for p in result.pools if p.service != OVERHEAD), ZERO)
    table.add_row(
        "[bold]all members[/]", "", fr_hours(billable), "", f"[bold]{fr_eur(result.total_billed)}[/]", ""
    )
    console.print(table)
    if result.mode == "standard_rate":
        # Standard rates bill the budget, not the month's cost: the year-end close settles the difference.
        console.print(
            f"Billed {fr_eur(result.total_billed)} at standard rates; the month's cost is {fr_eur(result.total_cost)} "
            f"(settled at year end by `eage close {Month.parse(plan.month).year}`)."
        )
    else:
        balanced = "equals" if result.total_billed == result.total_cost else "DIFFERS FROM"
        console.print(
            f"Billed {fr_eur(result.total_billed)} {balanced} the cost {fr_eur(result.total_cost)}."
        )
    if dry_run:
        console.print("[bold]Dry run:[/] nothing was written, no invoice number was used.")
    elif plan.status == "unchanged":
        console.print(f"{plan.month} was already run with these inputs: nothing changed.")
    else:
        console.print(f"Wrote {len(plan.changed)} files; {len(plan.invoices)} invoices issued.")


def print_warnings(problems: Sequence[Problem]) -> None:
    """Warnings on stderr, one a line (a --json summary on stdout stays parseable)."""
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)


def print_issue(console: Console, plan: IssuePlan, *, dry_run: bool) -> None:
    """The documents a credit-note, correction, fees or close command issued (or would issue)."""
    for note in plan.notes:
        console.print(note)
    if plan.status == "nothing":
        console.print("Nothing to issue: nothing was written.")
        return
    table = Table(title=f"{plan.action} — {plan.label}", title_justify="left")
    for col in ("number", "kind", "member", "date", "total", "refers to"):
        table.add_column(
            col, justify="right" if col == "total" else "left", no_wrap=col in ("number", "total")
        )
    for item in plan.issued:
        inv = item.invoice
        sign = Decimal(-1) if inv.kind == "credit_note" else Decimal(1)
        table.add_row(
            inv.number,
            item.doc_kind,
            inv.member_id,
            inv.issue_date.isoformat(),
            fr_eur(sign * inv.gross_total),
            inv.refers_to or "",
        )
    console.print(table)
    if dry_run:
        console.print("[bold]Dry run:[/] nothing was written, no number was used.")
    else:
        console.print(f"Wrote {len(plan.changed)} files; {len(plan.issued)} documents issued.")
