"""Payroll journal entries: one balanced transaction per employee and month.

Dr 6411 salary (base, overtime, minus unpaid absence) and 6413 bonus, Dr the employer charges by nature
(645x, 63xx) before the reduction; the reduction (RGDU) is a separate credit on the charge it reduces
(6451 URSSAF, 6453 retraite) with ``reduction`` metadata, so that the gross charge and the relief both
stay visible to an auditor. Cr 421 net to pay, Cr 431 / 437x / 447 each organisation's due (employee and
employer shares, net of the reduction imputed on it), Cr 4421 withholding tax. Accounts come from
rules/payroll/accounts.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from eage.ledger.model import Posting, Txn, meta
from eage.money import ZERO, cents
from eage.payroll.engine import EMPLOYEUR, RGDU_CODE, Payslip
from eage.payroll.params import PayrollAccounts

PayrollEntry = tuple[str, str, str, Payslip]  # employee id, employee name, service, payslip


def payslip_id(payslip: Payslip, employee_id: str) -> str:
    """The payslip's reference, e.g. ``PAY-2026-11-alice``."""
    return f"PAY-{payslip.month:%Y-%m}-{employee_id}"


def payroll_transactions(entries: list[PayrollEntry], accounts: PayrollAccounts, day: dt.date) -> list[Txn]:
    """One balanced Txn per employee, in the order given."""
    return [_transaction(entry, accounts, day) for entry in entries]


def _transaction(entry: PayrollEntry, accounts: PayrollAccounts, day: dt.date) -> Txn:
    employee_id, name, service, slip = entry
    debits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    debits[accounts.salaries] += slip.salary
    debits[accounts.bonuses] += slip.bonus
    for line in slip.lines:
        if line.code == RGDU_CODE:
            continue  # posted below, split by organisation
        if line.side == EMPLOYEUR:
            debits[accounts.charges[line.charge]] += line.amount
        credits[accounts.organisations[line.organisation]] += line.amount
    reduction_postings: list[Posting] = []
    for organisation, amount in slip.rgdu_split:
        if not amount:
            continue
        credits[accounts.organisations[organisation]] -= amount
        reduction_postings.append(
            Posting(
                accounts.reduction_charges[organisation],
                -cents(amount),
                meta=meta(reduction="rgdu", coefficient=slip.rgdu_coefficient),
            )
        )
    credits[accounts.net_pay] += slip.net_paid
    credits[accounts.pas] += slip.pas

    postings = [Posting(account, cents(amount)) for account, amount in debits.items() if amount]
    postings += reduction_postings
    postings += [Posting(account, -cents(amount)) for account, amount in credits.items() if amount]
    txn = Txn(
        date=day,
        narration=f"Paie {slip.month:%Y-%m} {name}",
        postings=tuple(postings),
        links=(payslip_id(slip, employee_id),),
        meta=meta(
            kind="payroll", employee=employee_id, payslip=payslip_id(slip, employee_id), service=service
        ),
    )
    if txn.balance() != 0:
        # Cannot happen with a payslip from compute_payslip (every total is a sum of cent lines).
        raise AssertionError(f"payroll entry of {employee_id} does not balance: {txn.balance()}")
    return txn
