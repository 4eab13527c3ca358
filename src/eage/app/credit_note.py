"""``eage credit-note INVOICE --reason TEXT``: the credit note of an issued invoice, planned then issued.

The credit note itself (its lines, VAT treatment and date rules) is :mod:`eage.invoicing.credit`: it is
made from the invoice's ledger entry alone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from eage.app.inputs import Inputs, load_inputs, refuse_tampered
from eage.app.issue import execute
from eage.errors import InputError
from eage.invoicing.credit import check_issue_date, credit_note_of, find_invoice
from eage.invoicing.issue import IssuePlan, latest_date
from eage.invoicing.numbering import sequence
from eage.ledger.model import GeneratedFile
from eage.ledger.render import render_file


def plan_credit_note(inputs: Inputs, number: str, reason: str, day: dt.date | None = None) -> IssuePlan:
    """The credit note of invoice ``number``, planned in memory (pure)."""
    rules = inputs.rules
    reason = clean_reason(reason)
    documents = inputs.books.issued_documents()
    prefix = rules.group.invoicing.credit_note_prefix
    doc = find_invoice(documents, number, prefix)
    if day is None:
        day = max(doc.date, latest_date(documents, [prefix], doc.date.year) or doc.date)
    else:
        check_issue_date(day, doc, rules.group.invoicing.payment_terms_days)
    credit_number = sequence(documents, prefix, day.year).take(day)
    issued = credit_note_of(rules, doc, number=credit_number, day=day, reason=reason)
    rel = f"generated/{day.year}/{credit_number}.beancount"
    text = render_file(GeneratedFile(rel, f"Credit note {credit_number} of {doc.number}", issued.entries))
    return IssuePlan("credit-note", number, [issued], {rel: text})


def clean_reason(reason: str) -> str:
    """The reason on one line, its spaces collapsed; refused when nothing is left."""
    reason = " ".join(reason.split())
    if not reason:
        raise InputError.at(
            "a credit note needs a reason", key="--reason", fix='pass --reason "why the invoice is cancelled"'
        )
    return reason


def issue_credit_note(
    root: Path, number: str, reason: str, *, day: dt.date | None = None, dry_run: bool = False
) -> IssuePlan:
    """Load, plan, then check, render and commit the credit note (``dry_run``: check only)."""
    inputs = load_inputs(root, check_lock=False)
    reason = clean_reason(reason)
    refuse_tampered(root)
    return execute(inputs, plan_credit_note(inputs, number, reason, day), dry_run=dry_run)
