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
from eage.money import ZERO, cents, split_largest_remainder
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


def tss_relief_transaction(
    month: str,
    month_tax: dict[str, Decimal],
    tax_before: Decimal,
    abattement: Decimal,
    charge_account: str,
    liability_account: str,
    day: dt.date,
) -> Txn | None:
    """The month's share of the associations' annual abattement on the taxe sur les salaires.

    CGI art. 1679 A: an association owes max(0, the year's tax - abattement). Each payslip provisions the
    tax by the monthly brackets; this entry takes back what the abattement covers so that the tax booked
    to date is always max(0, tax to date - abattement): nothing until the abattement is used up, the
    exact annual figure at year end. The relief is spread over the employees pro rata to their tax (their
    cost, re-invoiced at cost, bears it).
    """
    month_total = sum(month_tax.values(), ZERO)
    due_before = max(ZERO, tax_before - abattement)
    due_after = max(ZERO, tax_before + month_total - abattement)
    relief = cents(month_total - (due_after - due_before))
    weights = {emp: amount for emp, amount in month_tax.items() if amount > 0}
    if relief <= 0 or not weights:
        return None
    shares = split_largest_remainder(relief, weights)
    postings = [Posting(charge_account, -shares[emp], meta=meta(employee=emp)) for emp in sorted(shares)]
    postings.append(Posting(liability_account, relief))
    return Txn(
        date=day,
        narration=f"Taxe sur les salaires {month} — abattement des associations (CGI art. 1679 A)",
        postings=tuple(postings),
        meta=meta(kind="payroll", payslip=f"TSS-{month}", reduction="abattement-1679A"),
    )
