"""Monthly invoicing (pure): a member's invoice from the month's allocation, and what the ledger says the
month's runs already billed.

The month's files: ``generated/YYYY/YYYY-MM-payroll.beancount`` (the payroll journal),
``YYYY-MM-allocation.beancount`` (the month's first billing, never rewritten) and, after each
``eage run YYYY-MM --correct``, ``YYYY-MM-correction-N.beancount``. Whether a month was billed, by which
invoices, and for how much is read from the issued documents of the ledger, never from a side file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from eage.allocation.core import FEE, AllocationResult
from eage.csvsafe import safe_row
from eage.invoicing.build import DraftLine, make_invoice, month_label_fr
from eage.invoicing.model import Invoice
from eage.ledger.view import IssuedDocument
from eage.money import ZERO
from eage.month import Month
from eage.rules.bundle import Rules

#: The metadata key that says an entry records its lines and VAT treatment (see eage.invoicing.build).
RECORDED = "vat_category"


def generated_path(month: Month | str, name: str) -> str:
    """A month's generated file, relative to ledger/: ``generated/2026/2026-11-<name>.beancount``."""
    if isinstance(month, str):
        month = Month.parse(month)
    return f"generated/{month.year}/{month}-{name}.beancount"


def correction_stem(month: Month) -> str:
    """The stem of a month's correction files (``…-correction-N.beancount``), relative to ledger/."""
    return f"generated/{month.year}/{month}-correction"


def member_draft_lines(result: AllocationResult, member: str) -> list[DraftLine]:
    """The invoice lines of ``member``'s shares: hours x rate per service, lump sums otherwise."""
    draft = [
        DraftLine(
            code=s.service,
            label=s.label,
            quantity=s.hours,
            unit_price=s.rate if s.service != FEE else s.amount,
            amount=s.amount,
            unit="HUR" if s.service != FEE else "C62",
        )
        for s in result.member_shares(member)
    ]
    if any(d.unit == "C62" for d in draft):
        # A lump sum (the management fee) is one unit at its amount, whatever hours it was computed on.
        draft = [
            d if d.unit == "HUR" else DraftLine(d.code, d.label, Decimal(1), d.amount, d.amount, "C62")
            for d in draft
        ]
    return draft


def month_invoice(
    rules: Rules,
    result: AllocationResult,
    member: str,
    *,
    number: str,
    issue_date: dt.date,
    notes: Sequence[str] = (),
) -> Invoice:
    """``member``'s invoice for the month of ``result``."""
    month = Month.parse(result.month)
    return make_invoice(
        rules,
        number=number,
        kind="invoice",
        member_id=member,
        issue_date=issue_date,
        period_start=month.first_day,
        period_end=month.last_day,
        lines=member_draft_lines(result, member),
        purpose=f"Mise à disposition de personnel — {month_label_fr(result.month)}",
        notes=notes,
    )


def current_invoices(documents: Sequence[IssuedDocument], month: str) -> dict[str, IssuedDocument]:
    """Each member's invoice of ``month`` that stands: the latest one no credit note cancels.

    After ``eage run --correct`` a member has the original (credited) and its replacement; after a bare
    ``eage credit-note`` on a monthly invoice, none (until the month is corrected).
    """
    credited = {d.refers_to for d in documents if d.kind == "credit_note" and d.refers_to}
    out: dict[str, IssuedDocument] = {}
    for doc in documents:
        if doc.kind != "invoice" or doc.period != month or doc.number in credited:
            continue
        known = out.get(doc.member)
        if known is None or _number_key(doc) > _number_key(known):
            out[doc.member] = doc
    return out


def _number_key(doc: IssuedDocument) -> tuple[dt.date, str]:
    return doc.date, doc.number


def allocation_invoices(documents: Sequence[IssuedDocument], month: str) -> dict[str, IssuedDocument]:
    """Each member's invoice in ``month``'s allocation file, credited or not: the month's first billing.

    The allocation file is never rewritten, so a re-run gives these invoices their own numbers again and
    plans the same bytes, whatever credit notes or corrections came after.
    """
    name = Path(generated_path(month, "allocation")).name
    return {
        d.member: d
        for d in documents
        if d.kind == "invoice" and d.period == month and Path(d.file).name == name
    }


_CORRECTION_FILE = re.compile(r"(\d{4}-\d{2})-correction-(\d+)\.beancount")


def billed_by_runs(documents: Sequence[IssuedDocument], month: str) -> dict[str, Decimal]:
    """Each member's total for ``month`` as the month's own runs last billed it from the inputs.

    The monthly run (the allocation file), then each ``eage run --correct`` in its order (the
    ``YYYY-MM-correction-N`` files): a member's replacement invoice sets its amount; a credit note without
    a replacement in the same correction sets it to 0 (its share went to nothing). A standalone credit note
    (``eage credit-note``, its own ``AV-….beancount`` file) is left out on purpose: it cancels a document,
    it does not say that the inputs changed, so the month's re-run stays a no-op after it.
    """
    allocation = Path(generated_path(month, "allocation")).name
    steps: dict[int, list[IssuedDocument]] = {}
    for doc in documents:
        if doc.period != month or doc.kind not in ("invoice", "credit_note"):
            continue
        name = Path(doc.file).name
        match = _CORRECTION_FILE.fullmatch(name)
        if name == allocation and doc.kind == "invoice":
            steps.setdefault(0, []).append(doc)
        elif match is not None and match.group(1) == month:
            steps.setdefault(int(match.group(2)), []).append(doc)
    out: dict[str, Decimal] = {}
    for step in sorted(steps):
        replaced = {d.member: d.total for d in steps[step] if d.kind == "invoice"}
        cancelled = {d.member: ZERO for d in steps[step] if d.kind == "credit_note"}
        out.update({**cancelled, **replaced})
    return {member: total for member, total in out.items() if total}


def credited_invoices(
    documents: Sequence[IssuedDocument], month: str
) -> dict[str, tuple[IssuedDocument, IssuedDocument]]:
    """Each member's latest invoice of ``month`` that a credit note cancels, with that credit note."""
    credits = {d.refers_to: d for d in documents if d.kind == "credit_note" and d.refers_to}
    out: dict[str, tuple[IssuedDocument, IssuedDocument]] = {}
    for doc in documents:
        if doc.kind != "invoice" or doc.period != month or doc.number not in credits:
            continue
        known = out.get(doc.member)
        if known is None or _number_key(doc) > _number_key(known[0]):
            out[doc.member] = (doc, credits[doc.number])
    return out


def invoices_csv(invoices: Sequence[Invoice]) -> str:
    """The month's invoice register (reports/YYYY-MM/invoices.csv): cells safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "member", "net", "vat", "total", "due_date"])
    for inv in invoices:
        writer.writerow(
            safe_row(
                [
                    inv.number,
                    inv.member_id,
                    f"{inv.net_total:.2f}",
                    f"{inv.vat_total:.2f}",
                    f"{inv.gross_total:.2f}",
                    inv.due_date,
                ]
            )
        )
    return out.getvalue()
