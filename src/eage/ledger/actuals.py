"""Actual figures for the budget statements, read from the loaded ledger as plain values.

Two ways to the same numbers: :func:`account_month_totals` and :func:`billed_by_member` walk the loaded
entries (what ``eage budget`` uses: one load, no query parsing), and the ``query_*`` functions ask
beanquery. The tests prove the two agree on the demo ledger, so every figure of a statement is one a
bookkeeper can reproduce with a BQL query in Fava.

Section rule (documented for the board): a posting belongs to *Projets* when the posting's metadata, or
else its transaction's metadata, says ``section: "projets"``; it belongs to *Fonctionnement* otherwise
(no ``section`` key, or ``section: "fonctionnement"``). Any other value is an input error, not a silent
default. The subsidy funder is read the same way from a ``funder`` key.

Amounts keep the ledger's sign (charges positive, produits negative); the statements turn produits
positive for the reader.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from beancount.core import data

from eage.errors import InputError
from eage.ledger.paths import relative as _relative
from eage.ledger.view import ActualFigure, BilledFigure
from eage.month import Month

__all__ = ["ActualFigure", "BilledFigure", "account_month_totals", "billed_by_member", "class_totals"]


class Ledger(Protocol):
    """What these functions read of a loaded ledger (:class:`eage.ledger.load.Ledger`), declared rather
    than imported: the loader calls them (``Ledger.actual_figures``) without an import circle."""

    entries: list[Any]
    options: dict[str, Any]

    @property
    def root(self) -> Path: ...

    def transactions(self) -> list[Any]: ...


SECTIONS = ("fonctionnement", "projets")
OVERHEAD = "overhead"


def _bounds(year: int, through: int) -> tuple[dt.date, dt.date]:
    end = dt.date(year + 1, 1, 1) if through == 12 else dt.date(year, through + 1, 1)
    return dt.date(year, 1, 1), end


def _roots(ledger: Ledger) -> tuple[str, str]:
    return str(ledger.options["name_expenses"]), str(ledger.options["name_income"])


def _section(txn: Any, posting: Any, ledger: Ledger) -> str:
    pmeta = posting.meta or {}
    value = pmeta.get("section", txn.meta.get("section"))
    if value is None:
        return "fonctionnement"
    if value not in SECTIONS:
        raise InputError.at(
            f'section {value!r} is neither "fonctionnement" nor "projets"',
            file=_relative(txn.meta.get("filename"), ledger.root),
            line=txn.meta.get("lineno"),
            fix='write section: "projets" (or leave the key out for fonctionnement)',
        )
    return str(value)


def _eur(txn: Any, posting: Any, ledger: Ledger) -> Decimal:
    if posting.units.currency != "EUR":
        raise InputError.at(
            f"amount in {posting.units.currency}: eage keeps its books in EUR",
            file=_relative(txn.meta.get("filename"), ledger.root),
            line=txn.meta.get("lineno"),
            fix="convert the amount to EUR",
        )
    return Decimal(posting.units.number)


def account_month_totals(ledger: Ledger, year: int, through: int) -> list[ActualFigure]:
    """Charges and produits postings of ``year``, months 1 to ``through``, summed by account, month,
    section and funder (sorted)."""
    start, end = _bounds(year, through)
    roots = tuple(f"{r}:" for r in _roots(ledger))
    sums: dict[tuple[str, int, str, str | None], Decimal] = defaultdict(Decimal)
    for txn in ledger.transactions():
        if not (start <= txn.date < end):
            continue
        for posting in txn.postings:
            if not posting.account.startswith(roots):
                continue
            funder = (posting.meta or {}).get("funder", txn.meta.get("funder"))
            key = (
                posting.account,
                txn.date.month,
                _section(txn, posting, ledger),
                None if funder is None else str(funder),
            )
            sums[key] += _eur(txn, posting, ledger)
    return sorted(ActualFigure(a, m, s, f, v) for (a, m, s, f), v in sums.items())


def billed_by_member(ledger: Ledger, revenue_account: str, year: int, through: int) -> list[BilledFigure]:
    """Postings on the revenue account (7084) summed by member (transaction ``member``), service (posting
    ``service``) and month, with the ``hours`` they carry. Credit notes count with their own sign."""
    start, end = _bounds(year, through)
    sums: dict[tuple[str, str, int], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for txn in ledger.transactions():
        if not (start <= txn.date < end):
            continue
        for posting in txn.postings:
            if posting.account != revenue_account:
                continue
            pmeta = posting.meta or {}
            member = str(txn.meta.get("member", ""))
            service = str(pmeta.get("service", txn.meta.get("service", "")))
            cell = sums[(member, service, txn.date.month)]
            cell[0] += Decimal(str(pmeta.get("hours", "0")))
            cell[1] -= _eur(txn, posting, ledger)
    return sorted(BilledFigure(m, s, mo, h, a) for (m, s, mo), (h, a) in sums.items())


def class_totals(ledger: Ledger, year: int, through: int) -> tuple[Decimal, Decimal]:
    """Ledger totals of class 6 (charges) and class 7 (produits, ledger sign) for the period."""
    expenses, income = _roots(ledger)
    totals = {expenses: Decimal(0), income: Decimal(0)}
    for fig in account_month_totals(ledger, year, through):
        totals[fig.account.split(":", 1)[0]] += fig.amount
    return totals[expenses], totals[income]


# --- the same figures through beanquery ------------------------------------------------------------


def _run(ledger: Ledger, bql: str) -> list[tuple[Any, ...]]:
    from beanquery import query  # imported here: only the tests and checks need the query engine

    _, rows = query.run_query(ledger.entries, ledger.options, bql)
    return [tuple(row) for row in rows]


def _where(year: int, through: int) -> str:
    start, end = _bounds(year, through)
    return f"date >= {start.isoformat()} AND date < {end.isoformat()}"


def query_account_month_totals(ledger: Ledger, year: int, through: int) -> list[ActualFigure]:
    """:func:`account_month_totals`, computed by a beanquery query."""
    expenses, income = _roots(ledger)
    rows = _run(
        ledger,
        "SELECT account, month(date) AS mo,"
        " str(coalesce(meta('section'), entry_meta('section'))) AS sec,"
        " str(coalesce(meta('funder'), entry_meta('funder'))) AS fun, sum(number) AS amount"
        f" WHERE {_where(year, through)} AND account ~ '^({expenses}|{income}):'"
        " GROUP BY account, mo, sec, fun",
    )
    return sorted(
        ActualFigure(str(a), int(m), str(s or "fonctionnement"), None if f is None else str(f), Decimal(v))
        for a, m, s, f, v in rows
    )


def query_billed_by_member(
    ledger: Ledger, revenue_account: str, year: int, through: int
) -> list[BilledFigure]:
    """:func:`billed_by_member`, computed by a beanquery query."""
    rows = _run(
        ledger,
        "SELECT str(entry_meta('member')) AS mem, str(any_meta('service')) AS svc, month(date) AS mo,"
        " sum(decimal(coalesce(str(meta('hours')), '0'))) AS hours, sum(number) AS amount"
        f" WHERE {_where(year, through)} AND account = '{revenue_account}' GROUP BY mem, svc, mo",
    )
    return sorted(
        BilledFigure(str(m or ""), str(s or ""), int(mo), Decimal(h), -Decimal(v)) for m, s, mo, h, v in rows
    )


def query_class_totals(ledger: Ledger, year: int, through: int) -> tuple[Decimal, Decimal]:
    """Class 6 and class 7 totals of the period, by beanquery."""
    expenses, income = _roots(ledger)
    totals = {}
    for root in (expenses, income):
        rows = _run(ledger, f"SELECT sum(number) WHERE {_where(year, through)} AND account ~ '^{root}:'")
        totals[root] = Decimal(rows[0][0] or 0) if rows else Decimal(0)
    return totals[expenses], totals[income]


def last_invoiced_month(ledger: Ledger, year: int) -> int | None:
    """The latest month of ``year`` with a member invoice: the default end of the statements' period."""
    months = [
        month.number
        for t in ledger.transactions()
        if isinstance(t, data.Transaction) and t.meta.get("kind") == "invoice"
        for month in _month_of(t.meta.get("period"))
        if month.year == year
    ]
    return max(months) if months else None


def _month_of(period: object) -> list[Month]:
    """The monthly invoice's period as a Month, or nothing (a fee's period is a year)."""
    try:
        return [Month.parse(str(period))]
    except ValueError:
        return []
