"""``eage run YYYY-MM --correct``: after an invoiced month's timesheet or payroll changed.

The month is recomputed (payroll, then allocation) from the current inputs. For each member whose new
total differs from the invoice that stands for the month (the latest one no credit note cancels), the
standing invoice is credited in full and a replacement invoice with a new number is issued; a member
whose total is unchanged gets nothing. After the correction, each member's billing for the month (its
invoices minus its credit notes) equals its recomputed share, so the month's billing equals its cost.

Nothing issued is rewritten: the original invoices stay in ``YYYY-MM-allocation.beancount``; the credit
notes and replacements go to a new file, ``ledger/generated/YYYY/YYYY-MM-correction-N.beancount``. The
month's payroll journal, which is not an invoice, is rewritten when the payroll changed, so the ledger's
costs are the ones billed. A plain ``eage run YYYY-MM`` afterwards finds nothing to do
(:func:`eage.invoicing.monthly.billed_by_runs`).

After a standalone credit note (``eage credit-note`` of a monthly invoice, with no replacement), nothing
stands for that member: the month's billing is short of its cost by the credited amount. A plain re-run
leaves it so (a run never issues a document for an invoiced month whose inputs did not change), and
``--correct`` is the one command that re-bills: the member's share per the current inputs differs from
what stands after the credit note (nothing), so it receives a new invoice of its current share, which says
which invoice and credit note it replaces (``Remplace la facture … annulée par l'avoir …``). A member whose
share is now nil gets nothing. This is chosen so that the month's billing equals its cost once corrected,
which ``eage close`` and the ledger's invariants require (an actual-mode close refuses a month billed short
and names ``--correct`` as the fix); it is also the way to re-issue an invoice cancelled for a wrong
identity (credit it, fix rules/members.yaml, correct the month). The other members are corrected only if
their own amount changed.

Date: no clock. ``--date`` gives the day of issue; by default the documents are dated the latest of the
month's last day and the last invoice or credit note of that year, the earliest date that keeps both
sequences chronological (same ledger, same command, same bytes).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from eage.app.commit import validate_plan, with_members_file
from eage.app.documents import invoice_xml_problems
from eage.app.inputs import Inputs, load_inputs, with_months
from eage.app.issue import add_issued_file, execute
from eage.app.run import compute_month
from eage.errors import InputError, raise_if
from eage.invoicing.build import month_label_fr
from eage.invoicing.credit import credit_note_of, date_fr_plain
from eage.invoicing.issue import IssuePlan, issued_entry, latest_date
from eage.invoicing.monthly import (
    correction_stem,
    credited_invoices,
    current_invoices,
    generated_path,
    month_invoice,
)
from eage.invoicing.numbering import sequence
from eage.money import ZERO
from eage.month import Month


def refuse_uninvoiced(inputs: Inputs, month: Month) -> None:
    """A month is corrected only once it was run: its allocation file is included."""
    if generated_path(month, "allocation") not in inputs.included:
        raise InputError.at(
            f"{month} has not been invoiced yet: there is nothing to correct",
            file=f"ledger/timesheets/{month}.csv",
            fix=f"run the month first: `eage run {month}`",
        )


def load_correction(root: Path, month: Month) -> Inputs:
    """The inputs of a correction: the ledger (lock checked), then, once the month is known to be
    invoiced, its timesheet and payroll variables."""
    inputs = load_inputs(root)
    refuse_uninvoiced(inputs, month)
    return with_months(inputs, [month])


def plan_correction(inputs: Inputs, month: Month, day: dt.date | None = None) -> IssuePlan:
    """Credit notes and replacement invoices that bring ``month``'s billing to its recomputed allocation
    (pure: ``inputs`` holds the month, see :func:`load_correction`)."""
    rules, ledger = inputs.rules, inputs.books
    refuse_uninvoiced(inputs, month)
    computed = compute_month(inputs, month)
    result = computed.result
    documents = ledger.issued_documents()
    current = current_invoices(documents, str(month))
    cancelled = credited_invoices(documents, str(month))
    fac, av = rules.group.invoicing.prefix, rules.group.invoicing.credit_note_prefix
    last_day = month.last_day
    if day is None:
        day = max(last_day, latest_date(documents, [fac, av], last_day.year) or last_day)
    elif day < last_day:
        raise InputError.at(
            f"a correction of {month} cannot be dated {day}, before the month ends",
            key="--date",
            fix=f"use {last_day} or later",
        )

    plan = IssuePlan("correction", str(month))
    members = sorted(set(current) | {m for m in result.members() if result.member_total(m) > 0})
    affected = []
    for member in members:
        old = current[member].total if member in current else ZERO
        new = ZERO
        if result.member_total(member) > 0:
            new = month_invoice(rules, result, member, number="DRAFT", issue_date=day).gross_total
        if old != new:
            affected.append(member)
            plan.notes.append(f"{member}: {old:.2f} -> {new:.2f} EUR")

    invoices_seq = sequence(documents, fac, day.year)
    credits_seq = sequence(documents, av, day.year)
    label = month_label_fr(str(month))
    for member in affected:
        original = current.get(member)
        replaces = result.member_total(member) > 0
        credit_number = credits_seq.take(day) if original else None
        invoice_number = invoices_seq.take(day) if replaces else None
        if original is not None and credit_number is not None:
            reason = f"Correction de la facturation de {label} (heures ou paie modifiées)"
            if invoice_number:
                reason += f", remplacée par la facture {invoice_number}"
            plan.issued.append(
                credit_note_of(
                    rules, original, number=credit_number, day=day, reason=reason, links=[invoice_number]
                )
            )
        if invoice_number is not None:
            notes = []
            links: list[str | None] = []
            if original is not None:
                notes.append(
                    f"Annule et remplace la facture {original.number} du {date_fr_plain(original.date)}, "
                    f"annulée par l'avoir {credit_number}."
                )
                links = [original.number, credit_number]
            elif member in cancelled:
                # Re-billed after a standalone credit note: say which cancelled invoice this one replaces.
                earlier, its_credit = cancelled[member]
                notes.append(
                    f"Remplace la facture {earlier.number} du {date_fr_plain(earlier.date)}, "
                    f"annulée par l'avoir {its_credit.number} du {date_fr_plain(its_credit.date)}."
                )
                links = [earlier.number, its_credit.number]
            inv = month_invoice(rules, result, member, number=invoice_number, issue_date=day, notes=notes)
            plan.issued.append(
                issued_entry(
                    rules,
                    inv,
                    doc_kind="invoice",
                    period=str(month),
                    revenue_account=rules.accounts.revenue,
                    links=links,
                )
            )

    if inputs.generated.get(computed.payroll_rel) != computed.payroll_text:
        plan.files[computed.payroll_rel] = computed.payroll_text
        plan.replaced.append(computed.payroll_rel)
        plan.notes.append(f"the payroll journal of {month} changed: {computed.payroll_rel} is rewritten")
    if plan.issued:
        add_issued_file(
            plan,
            inputs,
            correction_stem(month),
            f"Correction of {month}: credit notes and replacements",
        )
    if not plan.files:
        plan.status = "nothing"
        plan.notes.append(f"{month}: every member's invoice matches the current inputs; nothing to correct")
    return plan


def run_correction(
    root: Path, month: Month | str, *, day: dt.date | None = None, dry_run: bool = False
) -> IssuePlan:
    """Load, plan, then check, render and commit the correction (``dry_run``: check only)."""
    if isinstance(month, str):
        month = Month.parse(month)
    inputs = load_correction(root, month)
    return execute(inputs, plan_correction(inputs, month, day), dry_run=dry_run)


def check_correction(root: Path, month: Month, *, day: dt.date | None = None) -> IssuePlan:
    """What the real correction checks before it renders, done in memory: the new entries against the
    ledger and each credit note's and invoice's Factur-X XML; nothing written, no number used."""
    inputs = load_correction(root, month)
    correction = plan_correction(inputs, month, day)
    if correction.status != "nothing":
        with_members_file(inputs.rules, correction)
        validate_plan(inputs, correction, replaced=correction.replaced)
        raise_if(invoice_xml_problems(inputs, correction.invoices))
    return correction
