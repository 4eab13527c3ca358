"""Which month of payroll charges a bank debit settles (``settles: "YYYY-MM"``), so the schedule of
``eage charges`` and Fava's overdue list clear that month.

A debit matched by a rule (rules/bank.yaml ``debit_rules``) to a payroll liability (431 URSSAF, 4372
Agirc-Arrco, 4373 prévoyance, 4421 withholding, 447 taxe sur les salaires, 421 net pay) is tagged with the
month whose remaining due equals its amount to the cent, the oldest when several do (FIFO, as the schedule
clears). The remaining dues are the ledger's (the payroll journal's credits less the payments already
booked, :func:`eage.payroll.charges.remaining_by_month`) and the statement's earlier lines. A debit that
equals no month's remaining due is left untagged: the schedule clears it oldest month first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from eage.bank.matching import Match
from eage.ledger.model import MetaValue
from eage.payroll.charges import Movement, movements_from, remaining_by_month


def settled_months(matches: Sequence[Match], movements: Sequence[Movement]) -> list[Match]:
    """``matches`` with the ``settles`` tag on each rule-matched debit equal to a month's remaining due."""
    known = list(movements)
    out: list[Match] = []
    for match in matches:
        target = _rule_account(match)
        if target is None:
            out.append(match)
            continue
        amount = -match.line.amount  # a debit: negative on the bank, positive on the liability
        remaining = remaining_by_month(known, target, before=match.line.date)
        equal = [m for m, left in remaining.items() if left == amount]
        tagged = match
        if equal:
            month = min(equal)
            meta: list[tuple[str, MetaValue]] = []
            for key, value in match.txn.meta:
                meta.append((key, value))
                if key == "match":
                    meta.append(("settles", str(month)))
            tagged = dataclasses.replace(match, txn=dataclasses.replace(match.txn, meta=tuple(meta)))
        known.append(
            Movement(
                date=match.line.date,
                account=target,
                amount=amount,
                kind="bank",
                settles=min(equal) if equal else None,
            )
        )
        out.append(tagged)
    return out


def _rule_account(match: Match) -> str | None:
    if match.how != "règle" or match.line.amount >= 0 or len(match.txn.postings) != 2:
        return None
    return match.txn.postings[1].account


def ledger_movements(ledger: Any, accounts: Iterable[str]) -> list[Movement]:
    """The movements on ``accounts`` of a loaded ledger (:class:`eage.ledger.load.Ledger`); none for a
    view that does not hold its transactions."""
    transactions = getattr(ledger, "transactions", None)
    if transactions is None:
        return []
    return movements_from(transactions(), accounts)
