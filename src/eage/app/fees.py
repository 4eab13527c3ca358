"""``eage fees YYYY``: the year's membership fee invoices (:mod:`eage.invoicing.fees`), planned then issued."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from eage.app.inputs import Inputs, load_inputs
from eage.app.issue import add_issued_file, execute
from eage.invoicing.fees import fee_invoices
from eage.invoicing.issue import IssuePlan


def plan_fees(inputs: Inputs, year: int, day: dt.date | None = None) -> IssuePlan:
    """The fee invoices of ``year`` not issued yet, with their file (pure)."""
    plan, day = fee_invoices(inputs.rules, inputs.books.issued_documents(), year, day)
    if plan.issued:
        add_issued_file(
            plan, inputs, f"generated/{day.year}/{year}-fees", f"Membership fees {year} (rules/fees.yaml)"
        )
    return plan


def issue_fees(root: Path, year: int, *, day: dt.date | None = None, dry_run: bool = False) -> IssuePlan:
    """Load, plan, then check, render and commit the fees (``dry_run``: check only)."""
    inputs = load_inputs(root)
    return execute(inputs, plan_fees(inputs, year, day), dry_run=dry_run)
