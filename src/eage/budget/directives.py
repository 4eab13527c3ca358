"""The budget as Fava ``custom "budget"`` directives, in ledger/generated/budget-YYYY.beancount.

Fava budgets a concrete account, not a rubric. Each budget line is attached to one representative
account: its ``fava_account`` if the line names one, else the first opened account (alphabetical) under
its first prefix, e.g. "Rémunérations" (``Charges:64-Personnel:641``) -> ``...:6411-Salaires``. Lines
landing on the same account are added up, both sections together (Fava knows no sections).

One directive per account and month, dated the 1st with the period ``"monthly"``: Fava applies the
latest directive in force, so uneven phasing (and the cents of an even split) are exact month by month.
Produits are budgeted with the ledger's sign (negative), so Fava compares them with the account balances
as they are booked.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from eage.budget.model import SECTIONS, Budget, BudgetLine
from eage.ledger.model import AccountName, Custom, GeneratedFile, meta


def generated_path(year: int) -> str:
    """The generated file's path, relative to ledger/."""
    return f"generated/budget-{year}.beancount"


def representative_account(line: BudgetLine, open_accounts: Iterable[str]) -> str:
    """The account a line's Fava budget is attached to (see the module docstring)."""
    if line.fava_account is not None:
        return line.fava_account
    opened = sorted(open_accounts)
    for prefix in line.accounts:
        for account in opened:
            if account.startswith(prefix):
                return account
    # The budget's cross-check refuses a prefix that covers no opened account; this is a bug if reached.
    raise ValueError(f"no opened account under {line.accounts}")


def budget_directives(budget: Budget, open_accounts: Iterable[str]) -> tuple[Custom, ...]:
    """``custom "budget"`` entries for every representative account and month, sorted."""
    opened = sorted(open_accounts)
    amounts: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for side, sign in (("charges", Decimal(1)), ("produits", Decimal(-1))):
        for _, _, _, line in budget.lines(side):
            account = representative_account(line, opened)
            for section in SECTIONS:
                for index, value in enumerate(line.monthly(section)):
                    amounts[(index + 1, account)] += sign * value
    budgeted = {account for (_, account), amount in amounts.items() if amount != 0}
    return tuple(
        Custom(
            date=dt.date(budget.year, month, 1),
            type="budget",
            values=(AccountName(account), "monthly", (amount, "EUR")),
            meta=meta(source=f"rules/budget/{budget.year}.yaml"),
        )
        for (month, account), amount in sorted(amounts.items())
        # A zero month is still written once the account has a budget: the previous month's directive
        # would otherwise stay in force in Fava.
        if account in budgeted
    )


def budget_file(budget: Budget, open_accounts: Iterable[str]) -> GeneratedFile:
    return GeneratedFile(
        generated_path(budget.year),
        f"Budget {budget.year} for Fava (rules/budget/{budget.year}.yaml), one directive per account and month",
        budget_directives(budget, open_accounts),
    )
