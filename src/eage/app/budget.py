"""``eage budget YYYY``: the year's budget vs actual statements and Fava budget directives, built then committed.

Writes, atomically and in one commit:

- ``consolide.{html,pdf,csv,xlsx}``: the board's consolidated statement (charges and produits by rubric);
- ``membres.{html,pdf,csv,xlsx}``: hours and billing of every member (for the board);
- ``membres/<member>.{html,pdf,csv,xlsx}``: one statement per member, showing that member only;
- ``ledger/generated/budget-YYYY.beancount``: the budget as Fava ``custom "budget"`` directives, added
  to main.beancount's include block (main.beancount is written last).

The period runs from January to ``through`` (default: the latest month invoiced in the year, else
December). Same ledger and rules, same bytes: no clock is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eage.errors import InputError
from eage.ledger.load import Ledger
from eage.render_pool import RenderPool
from eage.rules.bundle import Rules


@dataclass(frozen=True)
class Output:
    """What a run would write: root-relative path -> bytes, plus the figures it printed."""

    files: dict[str, bytes]
    through: int
    ledger_file: str  # relative to ledger/
    summary: tuple[str, ...] = ()


def build(root: Path, year: int, through: int | None) -> Output:
    """Everything ``eage budget`` writes, computed in memory (nothing is touched)."""
    from eage.ledger.load import load_ledger
    from eage.render_pool import warm_up_weasyprint
    from eage.rules.bundle import load_rules

    rules = load_rules(root)
    # A PDF per member, plus the consolidated and the members' statements: for a large group the workers
    # start now and import WeasyPrint while the ledger loads.
    with RenderPool(len(rules.members.members) + 2, warm_up=warm_up_weasyprint) as pool:
        return _build(root, year, through, rules, load_ledger(root)[0], pool)


def _build(
    root: Path, year: int, through: int | None, rules: Rules, ledger: Ledger, pool: RenderPool
) -> Output:
    from eage.budget.directives import budget_file
    from eage.budget.model import load_budget
    from eage.budget.render import (
        CONSOLIDATED_HEADER,
        MEMBER_HEADER,
        consolidated_html,
        consolidated_rows,
        html_to_pdf,
        member_rows,
        members_html,
        period_end,
        period_label,
        to_csv,
        to_xlsx,
    )
    from eage.budget.statements import consolidated, member_statement
    from eage.ledger.actuals import account_month_totals, billed_by_member, last_invoiced_month
    from eage.ledger.render import render_file
    from eage.money import fr_eur
    from eage.render_pool import Pending

    revenue = rules.accounts.revenue
    loaded = load_budget(
        root,
        year,
        members=[m.id for m in rules.members.members],
        services=list(rules.allocation.services),
        open_accounts=ledger.open_accounts(),
        revenue_account=revenue,
    )
    budget = loaded.budget
    if through is None:
        through = last_invoiced_month(ledger, year) or 12
    names = ledger.account_names()
    statement = consolidated(
        budget,
        account_month_totals(ledger, year, through),
        through=through,
        expenses_root=str(ledger.options["name_expenses"]),
        income_root=str(ledger.options["name_income"]),
        account_names=names,
    )
    members = member_statement(
        budget,
        billed_by_member(ledger, revenue, year, through),
        through=through,
        revenue_account=revenue,
        services={k: v.label for k, v in rules.allocation.services.items()},
        member_names={m.id: m.identity.name for m in rules.members.members},
        overhead_label=rules.allocation.overhead.label,
    )
    group = rules.group.identity.name
    stamp = period_end(year, through)
    base = f"reports/budget/{year}"
    files: dict[str, bytes] = {}

    pdfs: dict[str, Pending[bytes]] = {}  # laid out in the pool, read back in order below
    text = consolidated_html(statement, group)
    files[f"{base}/consolide.html"] = text.encode("utf-8")
    pdfs[f"{base}/consolide.pdf"] = pool.submit(html_to_pdf, text)
    rows = consolidated_rows(statement)
    files[f"{base}/consolide.csv"] = to_csv(CONSOLIDATED_HEADER, rows)
    files[f"{base}/consolide.xlsx"] = to_xlsx(
        "Budget", f"{group} — {budget.title} — suivi {period_label(year, through)}", CONSOLIDATED_HEADER, rows,
        stamp=stamp, ratio_columns=(7, 13),
    )  # fmt: skip

    hour_columns = (3, 4, 5, 6, 7)
    for name, part, single in [("membres", members, False)] + [
        (f"membres/{b.member}", members.only(b.member), True) for b in members.blocks if b.member
    ]:
        text = members_html(part, group, single=single)
        files[f"{base}/{name}.html"] = text.encode("utf-8")
        pdfs[f"{base}/{name}.pdf"] = pool.submit(html_to_pdf, text)
        rows = member_rows(part)
        files[f"{base}/{name}.csv"] = to_csv(MEMBER_HEADER, rows)
        files[f"{base}/{name}.xlsx"] = to_xlsx(
            "Membres", f"Heures et facturation {year} — suivi {period_label(year, through)}", MEMBER_HEADER, rows,
            stamp=stamp, ratio_columns=(12,), hour_columns=hour_columns,
        )  # fmt: skip

    files.update({rel: job.result() for rel, job in pdfs.items()})
    generated = budget_file(budget, ledger.open_accounts())
    files[f"ledger/{generated.path}"] = render_file(generated).encode("utf-8")
    _validate(ledger, generated.path, files[f"ledger/{generated.path}"].decode("utf-8"))
    summary = tuple(
        f"{label}: réalisé {fr_eur(f.actual_total)}, budget à date {fr_eur(f.budget_total)}, "
        f"prévision fin d'année {fr_eur(f.forecast)}"
        for label, f in (("charges", statement.total_charges), ("produits", statement.total_produits))
    )
    return Output(files, through, generated.path, summary)


def _validate(ledger: Ledger, rel: str, text: str) -> None:
    """The ledger with the budget file must load with zero errors; checked before anything is written."""
    from eage.ledger.load import validate_additions

    problems = validate_additions(ledger, {rel: text})
    if problems:
        raise InputError(problems)


def write(root: Path, output: Output) -> list[Path]:
    """Commit every file atomically: reports, the budget ledger file (locked), the manifest, main.beancount last."""
    from eage.ledger.store import commit_generated

    ledger_rel = f"ledger/{output.ledger_file}"
    reports = {rel: data for rel, data in output.files.items() if rel != ledger_rel}
    return commit_generated(root, {output.ledger_file: output.files[ledger_rel].decode("utf-8")}, reports)
