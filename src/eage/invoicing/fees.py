"""``eage fees YYYY``: each member's yearly membership fee (cotisation), from rules/fees.yaml.

The formula is a rule of the year (``formula: {2026: …}``), never code:

- ``percent_of_payroll``: rate x the member's gross payroll of the previous year
  (``previous_year_gross_payroll`` in rules/members.yaml), capped at ``cap``, at least ``floor``;
- ``headcount_band``: the amount of the first band whose ``up_to`` is at least the member's ``headcount``
  (a band without ``up_to`` takes every larger headcount);
- ``flat``: ``amount``.

Members who join or leave during the year pay pro rata to their months of membership in the year (the
month of joining and the month of leaving count in full), rounded to the cent: the fee is the price of a
year of membership, and a member who joins in March has nine months less of it. A member who is added to
rules/members.yaml later in the year is invoiced by the next ``eage fees YYYY``; a member with a fee
invoice of the year that stands (not credited) gets nothing new, so re-running issues nothing.

Posting: Dr 411-<member> / Cr 756 (cotisations). VAT: by default (``vat_regime: outside_scope``) a fee
is outside the scope of VAT, as a membership fee without an individual counterpart (BOI-TVA-CHAMP-10-10-10):
EN 16931 category O with reason code VATEX-EU-O, no VAT rate, and, as BR-O-02 requires, no VAT number of
either party in the XML. ``as_member`` applies the member's own regime instead.

Numbers: the same FAC sequence as the monthly invoices, so the date must keep it chronological. Fees are
dated ``--date`` or, by default, the latest of 1 January of the year and the date of the last invoice
already issued in that year: on a fresh year that is 1 January; later in the year, the day of the last
invoice, which can never break the sequence. One file per run: ``generated/YYYY/YYYY-fees-N.beancount``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from eage.errors import InputError
from eage.invoicing.build import DraftLine, make_invoice
from eage.invoicing.issue import OUTSIDE_SCOPE, IssuePlan, issued_entry, latest_date
from eage.invoicing.numbering import sequence
from eage.ledger.view import IssuedDocument
from eage.money import ZERO, cents
from eage.rules.bundle import Rules
from eage.rules.models import FeeFormula, Member

MONTHS_IN_YEAR = 12


def yearly_fee(formula: FeeFormula, member: Member, year: int) -> Decimal:
    """The full-year fee of ``member`` for ``year`` (pure; raises InputError when data is missing)."""
    if formula.kind == "flat":
        return cents(formula.amount or ZERO)
    if formula.kind == "headcount_band":
        if member.headcount is None:
            raise InputError.at(
                f"the fee of {year} is by headcount band but {member.id} has no headcount",
                file="rules/members.yaml",
                key=f"{member.id}.headcount",
                fix="add the member's headcount (number of employees)",
            )
        for band in formula.bands:
            if band.up_to is None or member.headcount <= band.up_to:
                return cents(band.amount)
        raise InputError.at(
            f"no fee band takes a headcount of {member.headcount} ({member.id})",
            file="rules/fees.yaml",
            key=f"formula.{year}.bands",
            fix="add a last band without up_to",
        )
    payroll = member.previous_year_gross_payroll.get(year - 1)
    if payroll is None:
        raise InputError.at(
            f"the fee of {year} is a percentage of the {year - 1} payroll, unknown for {member.id}",
            file="rules/members.yaml",
            key=f"{member.id}.previous_year_gross_payroll.{year - 1}",
            fix=f"add the member's gross payroll of {year - 1}",
        )
    amount = cents(payroll * (formula.rate or ZERO))
    if formula.cap is not None:
        amount = min(amount, formula.cap)
    if formula.floor is not None:
        amount = max(amount, formula.floor)
    return cents(amount)


def membership_months(member: Member, year: int) -> int:
    """Months of ``year`` during which ``member`` belongs to the group (started months count)."""
    first = max(member.joined, dt.date(year, 1, 1))
    last = min(member.left or dt.date(year, 12, 31), dt.date(year, 12, 31))
    if last < first:
        return 0
    return (last.year - first.year) * MONTHS_IN_YEAR + last.month - first.month + 1


def member_fee(formula: FeeFormula, member: Member, year: int) -> tuple[Decimal, int]:
    """The fee invoiced for ``year`` and the months it covers (12, or fewer pro rata)."""
    months = membership_months(member, year)
    if months == 0:
        return ZERO, 0
    full = yearly_fee(formula, member, year)
    if months == MONTHS_IN_YEAR:
        return full, months
    return cents(full * months / MONTHS_IN_YEAR), months


def fee_invoices(
    rules: Rules, documents: Sequence[IssuedDocument], year: int, day: dt.date | None = None
) -> tuple[IssuePlan, dt.date]:
    """The fee invoices of ``year`` not issued yet (without their file), and their date."""
    formula = rules.fees.formula.get(year)
    if formula is None:
        raise InputError.at(
            f"no membership fee formula for {year}",
            file="rules/fees.yaml",
            key=f"formula.{year}",
            fix=f"add the formula voted for {year} (percent_of_payroll, headcount_band or flat)",
        )
    prefix = rules.group.invoicing.prefix
    credited = {d.refers_to for d in documents if d.kind == "credit_note"}
    invoiced = {
        d.member for d in documents if d.kind == "fee" and d.period == str(year) and d.number not in credited
    }
    if day is None:
        day = max(dt.date(year, 1, 1), latest_date(documents, [prefix], year) or dt.date(year, 1, 1))
    plan = IssuePlan("fees", str(year))
    seq = sequence(documents, prefix, day.year)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    for member in sorted(rules.members.members, key=lambda m: m.id):
        if member.id in invoiced:
            continue
        amount, months = member_fee(formula, member, year)
        if amount <= 0:
            continue
        label = formula.label
        if months < MONTHS_IN_YEAR:
            label += f" — prorata {months}/12 (adhésion {_membership_fr(member, year)})"
        vat = OUTSIDE_SCOPE if rules.fees.vat_regime == "outside_scope" else None
        inv = make_invoice(
            rules,
            number=seq.take(day),
            kind="invoice",
            member_id=member.id,
            issue_date=day,
            period_start=max(start, member.joined),
            period_end=min(end, member.left or end),
            lines=[DraftLine("fee", label, Decimal(1), amount, amount, "C62")],
            purpose=f"Cotisation annuelle {year}",
            vat=vat,
        )
        plan.issued.append(
            issued_entry(
                rules, inv, doc_kind="fee", period=str(year), revenue_account=rules.accounts.fees_revenue
            )
        )
    if not plan.issued:
        plan.status = "nothing"
        plan.notes.append(f"every member's {year} fee is already invoiced (or nil): nothing to issue")
    return plan, day


def _membership_fr(member: Member, year: int) -> str:
    parts = []
    if member.joined.year == year:
        parts.append(f"depuis le {member.joined.strftime('%d/%m/%Y')}")
    if member.left is not None and member.left.year == year:
        parts.append(f"jusqu'au {member.left.strftime('%d/%m/%Y')}")
    return " ".join(parts)
