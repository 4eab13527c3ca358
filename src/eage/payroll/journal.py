"""Payroll journal entries of a month: per employee the payslip and the paid-leave provision, then the
month's taxe sur les salaires.

**The payslip**, one balanced transaction per employee whose debits are the payslip's "total versé par
l'employeur" (``Payslip.employer_total``: gross + employer contributions after the reductions, without
the taxe sur les salaires). Dr 6411 salary (base, overtime, minus unpaid absence and the leave taken),
Dr 6412 the indemnité de congés payés of the leave taken (PCG 6412 "Congés payés"), Dr 6413 bonus, Dr
the employer charges by nature (645x, 63xx) before the reduction; the reduction (RGDU) is a separate
credit on the charge it reduces (6451 URSSAF, 6453 retraite) with ``reduction`` metadata, so that the
gross charge and the relief both stay visible to an auditor. Cr 421 net to pay, Cr 431 / 437x each
organisation's due (employee and employer shares, net of the reduction imputed on it), Cr 4421
withholding tax.

**The taxe sur les salaires** (CGI art. 231: a tax, not a contribution, so not in the payslip's total):
one transaction for the month, Dr 6311 one posting per employee (``employee`` metadata: the allocation
charges it to the services the employee worked for) / Cr 447; the associations' abattement takes it
back in its own entry (:func:`tss_relief_transaction`).

**The paid-leave provision** (docs/research/issue-14-law.md § 6, Accounting): the leave earned and not
taken is a debt, valued at each month end (``Payslip.leave``, part of the year's payroll). Per employee
and month, the change of the valued balance: Dr 6412 / Cr 4282 "Dettes provisionnées pour congés à
payer" for the gross, Dr 6458x / Cr 4382 "Charges sociales sur congés à payer" for its employer
contributions. Leave taken is paid in the payslip (Dr 6412) and releases the provision for the days used
(a negative change, the sides reversed: a reprise), so over a period 6412 holds the leave earned and
each month's staff cost holds the hours worked plus the leave earned that month.

Accounts come from rules/payroll/accounts.yaml (the leave accounts under ``charges`` and
``organisations``, see that file).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from eage.errors import InputError
from eage.ledger.model import Posting, Txn, meta
from eage.money import ZERO, cents, split_largest_remainder
from eage.payroll.engine import EMPLOYEUR, RGDU_CODE, TSS_CODE_PREFIX, Payslip
from eage.payroll.params import ACCOUNTS_FILE, PayrollAccounts

PayrollEntry = tuple[str, str, str, Payslip]  # employee id, employee name, service, payslip

#: The keys of rules/payroll/accounts.yaml that hold the paid-leave accounts.
LEAVE_CHARGE = "conges_payes"  # charges: 6412 Congés payés
LEAVE_CHARGES_CHARGE = "charges_conges_payes"  # charges: 6458x, the employer contributions on the provision
LEAVE_DEBT = "conges_a_payer"  # organisations: 4282 Dettes provisionnées pour congés à payer
LEAVE_CHARGES_DEBT = "charges_conges_a_payer"  # organisations: 4382 Charges sociales sur congés à payer


def payslip_id(payslip: Payslip, employee_id: str) -> str:
    """The payslip's reference, e.g. ``PAY-2026-11-alice``."""
    return f"PAY-{payslip.month:%Y-%m}-{employee_id}"


def payroll_transactions(
    entries: Sequence[PayrollEntry], accounts: PayrollAccounts, day: dt.date
) -> list[Txn]:
    """The month's payroll entries: each employee's payslip (in the order given), then the month's taxe
    sur les salaires (if any), then each employee's change of paid-leave provision (if any)."""
    txns = [_transaction(entry, accounts, day) for entry in entries]
    tss = tss_transaction(entries, accounts, day)
    if tss is not None:
        txns.append(tss)
    for entry in entries:
        provision = leave_provision_transaction(entry, accounts, day)
        if provision is not None:
            txns.append(provision)
    return txns


def _leave_account(accounts: PayrollAccounts, group: str, key: str) -> str:
    table = accounts.charges if group == "charges" else accounts.organisations
    if key not in table:
        raise InputError.at(
            f"no {group} account {key!r} for paid leave",
            file=f"rules/payroll/{ACCOUNTS_FILE}",
            key=f"{group}.{key}",
            fix="add it (see the comments of the shipped rules/payroll/accounts.yaml) and open it in "
            "ledger/accounts.beancount",
        )
    return table[key]


def _transaction(entry: PayrollEntry, accounts: PayrollAccounts, day: dt.date) -> Txn:
    employee_id, name, service, slip = entry
    debits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    debits[accounts.salaries] += slip.salary - slip.leave_indemnity
    if slip.leave_indemnity:
        debits[_leave_account(accounts, "charges", LEAVE_CHARGE)] += slip.leave_indemnity
    debits[accounts.bonuses] += slip.bonus
    for line in slip.lines:
        if line.code == RGDU_CODE:
            continue  # posted below, split by organisation
        if line.code.startswith(TSS_CODE_PREFIX):
            continue  # a tax, in the month's own entry (tss_transaction)
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
    booked = sum((p.amount for p in postings if p.account.startswith(_charges_root(accounts))), ZERO)
    if slip.employer_total and booked != slip.employer_total:
        # The payslip's "total versé par l'employeur" is what the books charge (R3243-1; the PDF prints it).
        raise AssertionError(
            f"payroll entry of {employee_id} charges {booked}, its payslip's employer total is {slip.employer_total}"
        )
    return txn


def _charges_root(accounts: PayrollAccounts) -> str:
    """The expense root of the payroll's charge accounts ("Charges:")."""
    return accounts.salaries.split(":", 1)[0] + ":"


def tss_transaction(entries: Sequence[PayrollEntry], accounts: PayrollAccounts, day: dt.date) -> Txn | None:
    """The month's taxe sur les salaires provisioned by the payslips (their ``tss_`` lines): Dr the tax's
    charge per employee (``employee`` metadata) / Cr the tax office; None when no payslip bears it."""
    debits: list[Posting] = []
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    month = ""
    for employee_id, _, _, slip in entries:
        month = f"{slip.month:%Y-%m}"
        charges: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in slip.lines:
            if line.code.startswith(TSS_CODE_PREFIX) and line.side == EMPLOYEUR:
                charges[accounts.charges[line.charge]] += line.amount
                credits[accounts.organisations[line.organisation]] += line.amount
        debits += [
            Posting(account, cents(amount), meta=meta(employee=employee_id))
            for account, amount in charges.items()
            if amount
        ]
    if not debits:
        return None
    postings = debits + [Posting(account, -cents(amount)) for account, amount in credits.items() if amount]
    txn = Txn(
        date=day,
        narration=f"Taxe sur les salaires {month} (CGI art. 231)",
        postings=tuple(postings),
        meta=meta(kind="payroll", payslip=f"TSS-{month}"),
    )
    if txn.balance() != 0:
        raise AssertionError(f"taxe sur les salaires entry of {month} does not balance: {txn.balance()}")
    return txn


def leave_provision_transaction(entry: PayrollEntry, accounts: PayrollAccounts, day: dt.date) -> Txn | None:
    """The change of the employee's paid-leave provision over the month (Dr 6412 / Cr 4282 for the gross,
    Dr 6458x / Cr 4382 for its charges; a decrease reverses the sides). None without leave counters or
    when neither changed."""
    employee_id, name, service, slip = entry
    if slip.leave is None:
        return None
    leave = slip.leave
    gross = cents(leave.provision - leave.provision_before)
    charges = cents(leave.provision_charges - leave.provision_charges_before)
    if not gross and not charges:
        return None
    postings: list[Posting] = []
    if gross:
        postings += [
            Posting(_leave_account(accounts, "charges", LEAVE_CHARGE), gross),
            Posting(_leave_account(accounts, "organisations", LEAVE_DEBT), -gross),
        ]
    if charges:
        postings += [
            Posting(_leave_account(accounts, "charges", LEAVE_CHARGES_CHARGE), charges),
            Posting(_leave_account(accounts, "organisations", LEAVE_CHARGES_DEBT), -charges),
        ]
    reprise = gross < 0 or (not gross and charges < 0)
    what = "reprise" if reprise else "dotation"
    reference = f"CP-{slip.month:%Y-%m}-{employee_id}"
    return Txn(
        date=day,
        narration=f"Congés payés {slip.month:%Y-%m} {name} — {what} de la provision",
        postings=tuple(postings),
        links=(payslip_id(slip, employee_id),),
        meta=meta(
            kind="payroll",
            employee=employee_id,
            payslip=reference,
            service=service,
            provision="conges-payes",
            provision_balance=cents(leave.provision),
        ),
    )


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
        meta=meta(kind="payroll", payslip=f"TSS-{month}-abattement", reduction="abattement-1679A"),
    )
