"""The shell of every command that issues documents outside the monthly run (credit notes, corrections,
fees, true-ups): the next free file name, then check, render and commit an :class:`IssuePlan`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from eage.app.commit import commit_plan, validate_plan, with_members_file
from eage.app.documents import invoice_xml_problems, render_invoice_documents
from eage.app.inputs import Inputs
from eage.app.placeholders import placeholder_problems
from eage.errors import raise_if
from eage.invoicing.issue import IssuePlan, documents_csv, register_rows
from eage.ledger.model import Entry, GeneratedFile
from eage.ledger.render import render_file


def next_numbered_file(included: Iterable[str], on_disk: Iterable[str], stem: str) -> str:
    """``<stem>-N.beancount`` with N one more than any such file included or on disk (paths relative to
    ledger/): a file left on disk by hand is never overwritten."""
    pattern = re.compile(re.escape(stem) + r"-(\d+)\.beancount$")
    used = [int(m.group(1)) for p in (*included, *on_disk) if (m := pattern.fullmatch(p))]
    return f"{stem}-{max(used, default=0) + 1}.beancount"


def add_issued_file(plan: IssuePlan, ctx: Inputs, stem: str, title: str) -> None:
    """Render the plan's issued entries into the next ``<stem>-N.beancount`` (path relative to ledger/)."""
    rel = next_numbered_file(ctx.included, ctx.generated_names, stem)
    entries: list[Entry] = [entry for item in plan.issued for entry in item.entries]
    plan.files[rel] = render_file(GeneratedFile(rel, title, tuple(entries)))


def execute(ctx: Inputs, plan: IssuePlan, *, dry_run: bool) -> IssuePlan:
    """Check, render and commit ``plan`` (nothing when there is nothing to issue).

    A dry run checks what the real one checks before laying out a page (the new entries against the ledger,
    every document's Factur-X XML in memory) and warns about placeholders, then stops: a dry run that passes
    means the real run passes.
    """
    if plan.status == "nothing":
        return plan
    with_members_file(ctx.rules, plan)
    if dry_run:
        validate_plan(ctx, plan, replaced=plan.replaced)
        raise_if(invoice_xml_problems(ctx, plan.invoices))
        plan.warnings = placeholder_problems(ctx.root)
        return plan
    validate_plan(ctx, plan, replaced=plan.replaced)
    plan.documents.update(render_invoice_documents(ctx, plan.invoices))
    documents = ctx.books.issued_documents()
    reasons = {d.number: d.reason for d in documents if d.reason is not None}
    for year in sorted({item.invoice.issue_date.year for item in plan.issued}):
        text = documents_csv(
            register_rows(documents, reasons, plan.issued, year, ctx.rules.group.invoicing.credit_note_prefix)
        )
        plan.documents[f"reports/{year}/documents.csv"] = text.encode("utf-8")
    commit_plan(ctx, plan)
    return plan
