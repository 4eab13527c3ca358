"""Human output of the commands (rich tables). English for the operator; amounts in French format.

A month's tables are drawn by :func:`_fast_table`, in rich's default table style, line by line: rich's
``Table`` measured and laid out each of the month's 1 500 cells one by one (1.7 s for 300 members).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

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


#: A cell: its text, and whether it is bold (as rich markup ``[bold]…[/]`` would print it).
Cell = tuple[str, bool]


def _fast_table(
    console: Console,
    title: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Cell] | None],
    *,
    no_wrap: bool = True,
) -> None:
    """Print a table exactly as rich's default ``Table`` (box ``HEAVY_HEAD``, title in italic on the left,
    header in bold) prints it when it fits the console, in one write. ``columns``: (header, "left" or
    "right"); ``rows``: cells, or None for a section line (``Table.add_section``).

    A table wider than the console is handed to rich's ``Table`` itself, which shrinks its columns
    (``no_wrap``: its cells are cut with an ellipsis, not wrapped).
    """
    widths = [cell_len(header) for header, _ in columns]
    for row in rows:
        for index, (text, _) in enumerate(row or ()):
            widths[index] = max(widths[index], cell_len(text))
    total = sum(widths) + 3 * len(widths) + 1
    if total > console.width:
        table = Table(title=title, title_justify="left")
        for header, justify in columns:
            table.add_column(header, justify="right" if justify == "right" else "left", no_wrap=no_wrap)
        for row in rows:
            if row is None:
                table.add_section()
            else:
                table.add_row(*(f"[bold]{text}[/]" if bold else Text(text) for text, bold in row))
        console.print(table)
        return

    def rule(left: str, fill: str, cross: str, right: str) -> str:
        return left + cross.join(fill * (w + 2) for w in widths) + right + "\n"

    def line(out: Text, cells: Sequence[Cell], edge: str, header: bool = False) -> None:
        out.append(edge)
        for (text, bold), width, (_, justify) in zip(cells, widths, columns, strict=True):
            pad = " " * (width - cell_len(text))
            out.append(" " + pad if justify == "right" else " ")
            out.append(text, style="bold" if bold or header else None)
            out.append(" " + edge if justify == "right" else pad + " " + edge)
        out.append("\n")

    out = Text(no_wrap=True, overflow="ignore", end="")
    out.append(title, style="italic")
    out.append(" " * max(total - cell_len(title), 0) + "\n")
    out.append(rule("┏", "━", "┳", "┓"))
    line(out, [(header, True) for header, _ in columns], "┃", header=True)
    out.append(rule("┡", "━", "╇", "┩"))
    for row in rows:
        if row is None:
            out.append(rule("├", "─", "┼", "┤"))
        else:
            line(out, row, "│")
    out.append(rule("└", "─", "┴", "┘")[:-1])  # console.print ends the last line
    console.print(out, soft_wrap=True, highlight=False)


def print_plan(console: Console, plan: MonthPlan, *, dry_run: bool) -> None:
    result = plan.result
    pool_rows: list[Sequence[Cell] | None] = [
        [
            (pool.label, False),
            (fr_eur(pool.cost), False),
            (fr_hours(pool.billable_hours), False),
            (fr_hours(pool.internal_hours), False),
            (fr_eur(pool.rate), False),
        ]
        for pool in result.pools
    ]
    _fast_table(
        console,
        f"Cost pools — {plan.month}",
        [
            (col, "left" if col == "pool" else "right")
            for col in ("pool", "cost", "billable h", "internal h", "rate / h")
        ],
        pool_rows,
        no_wrap=False,
    )

    by_member = {inv.member_id: inv for inv in plan.invoices}
    rows: list[Sequence[Cell] | None] = []
    for member in result.members():
        inv = by_member.get(member)
        for index, share in enumerate(result.member_shares(member)):
            rows.append(
                [
                    (member if index == 0 else "", False),
                    (share.service, False),
                    (fr_hours(share.hours) if share.service not in (OVERHEAD, FEE) else "", False),
                    (fr_eur(share.rate) if share.rate else "", False),
                    (fr_eur(share.amount), False),
                    ((inv.number if inv else "") if index == 0 else "", False),
                ]
            )
        rows.append(
            [
                ("", False),
                ("total", True),
                ("", False),
                ("", False),
                (fr_eur(result.member_total(member)), True),
                ("", False),
            ]
        )
        rows.append(None)
    billable = sum((p.billable_hours for p in result.pools if p.service != OVERHEAD), ZERO)
    rows.append(
        [
            ("all members", True),
            ("", False),
            (fr_hours(billable), False),
            ("", False),
            (fr_eur(result.total_billed), True),
            ("", False),
        ]
    )
    _fast_table(
        console,
        f"Re-invoicing — {plan.month}",
        [
            (col, "right" if col in ("hours", "rate / h", "amount") else "left")
            for col in ("member", "service", "hours", "rate / h", "amount", "invoice")
        ],
        rows,
    )
    if result.mode == "standard_rate":
        # Standard rates bill the budget, not the month's cost: the year-end close settles the difference.
        console.print(
            f"Billed {fr_eur(result.total_billed)} at standard rates; the month's cost is {fr_eur(result.total_cost)} "
            f"(settled at year end by `eage close {Month.parse(plan.month).year}`)."
        )
    elif any(pool.before is not None for pool in result.pools):
        # Year-to-date pools bill the rate of the year to date: the close settles the year to the cent.
        console.print(
            f"Billed {fr_eur(result.total_billed)} at the year-to-date rates; the month's cost is "
            f"{fr_eur(result.total_cost)} (the year is settled to the cent by "
            f"`eage close {Month.parse(plan.month).year}`)."
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
