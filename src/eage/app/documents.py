"""The documents a command issues: invoice PDFs with their Factur-X XML, payslip PDFs.

Rendering is the shell's: it reads the group's own templates (rules/templates/), lays out pages in the
render pool (:mod:`eage.render_pool`, warmed up with :func:`eage.invoicing.pdf.warm_up_documents`), and
refuses real documents while an identity is still a placeholder. What a dry run and ``eage check`` do
instead, :func:`invoice_xml_problems`, builds and validates each XML in memory and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eage.app.inputs import Inputs
from eage.app.placeholders import refuse_placeholders
from eage.errors import InputError, Problem, raise_if
from eage.invoicing.build import pdf_relpath
from eage.invoicing.model import Invoice
from eage.invoicing.validate import invalid_xml_problems, xml_failures
from eage.invoicing.validate import warm_up as warm_up_validation
from eage.month import Month
from eage.payroll.engine import Payslip
from eage.payroll.journal import payslip_id
from eage.render_pool import Pending, RenderPool

if TYPE_CHECKING:
    from eage.invoicing.pdf import RenderedInvoice

Progress = Callable[[str, int, int], None]


def no_progress(_label: str, _done: int, _total: int) -> None:
    return None


def render_invoice_documents(
    ctx: Inputs,
    invoices: Sequence[Invoice],
    progress: Progress = no_progress,
    *,
    pool: RenderPool | None = None,
) -> dict[str, bytes]:
    """Each invoice's Factur-X XML, validated (XSD, EN 16931, BR-FR), and its PDF/A-3 carrying it.

    These are real documents: refused while an identity is still a placeholder (see
    :func:`refuse_placeholders`), for every command that issues invoices or credit notes.
    """
    from eage.invoicing.pdf import warm_up_documents

    if pool is None:
        check_before_rendering(ctx, invoices)  # before any worker is started
        with RenderPool(len(invoices), warm_up=warm_up_documents) as own:
            return queue_invoice_documents(ctx, invoices, own, checked=True).collect(progress)
    return queue_invoice_documents(ctx, invoices, pool).collect(progress)


@dataclass
class QueuedInvoices:
    """Invoices queued in a render pool (:func:`queue_invoice_documents`); :meth:`collect` reads them."""

    invoices: Sequence[Invoice]
    jobs: list[Pending[RenderedInvoice]]

    def collect(self, progress: Progress = no_progress) -> dict[str, bytes]:
        """Each invoice's PDF and XML by root-relative path, read in order; the first invalid invoice stops
        the rest (in process, nothing after it is rendered)."""
        documents: dict[str, bytes] = {}
        total = len(self.invoices)
        for index, (inv, job) in enumerate(zip(self.invoices, self.jobs, strict=True)):
            xml, failed, pdf = job.result()
            if failed or pdf is None:
                raise InputError(invalid_xml_problems(inv, failed))
            pdf_rel = pdf_relpath(inv)
            documents[pdf_rel] = pdf
            documents[pdf_rel[:-4] + ".xml"] = xml
            progress("invoices", index + 1, total)
        return documents


def queue_invoice_documents(
    ctx: Inputs, invoices: Sequence[Invoice], pool: RenderPool, *, checked: bool = False
) -> QueuedInvoices:
    """Queue each invoice's XML, validation and PDF in ``pool`` (see :func:`render_invoice_documents`),
    after :func:`check_before_rendering` (``checked``: the caller has just made it). Rendered in order, in
    a pool of processes for a large month: the same bytes.
    """
    from eage.invoicing.pdf import queue_invoices

    if not checked:
        check_before_rendering(ctx, invoices)
    return QueuedInvoices(invoices, queue_invoices(invoices, template_dir_of(ctx), pool))


def check_before_rendering(ctx: Inputs, invoices: Sequence[Invoice]) -> None:
    """What stops invoices before any page is laid out: an identity still a placeholder
    (:func:`refuse_placeholders`), or a group's template that does not render (named in its file)."""
    refuse_placeholders(ctx.root)
    template_dir = template_dir_of(ctx)
    if template_dir is not None and invoices:
        # A group's template that does not render is the group's input: say where, before any page.
        raise_if(template_problems(template_dir, invoices[0]))


def invoice_xml_problems(ctx: Inputs, invoices: Sequence[Invoice]) -> list[Problem]:
    """What the real run checks of each invoice before laying out a page, done in memory: its Factur-X
    XML built and validated (XSD, EN 16931, BR-FR), and, for a group with its own templates
    (rules/templates/), its HTML rendered. Every invoice is checked; nothing is written or numbered.

    A large month is validated in the render pool's processes (no PDF is laid out): same findings.
    """
    problems: list[Problem] = []
    with RenderPool(len(invoices), warm_up=warm_up_validation) as pool:
        jobs = [pool.submit(xml_failures, inv) for inv in invoices]
        for inv, job in zip(invoices, jobs, strict=True):
            failed = job.result()
            for problem in invalid_xml_problems(inv, failed) if failed else []:
                if problem not in problems:
                    problems.append(problem)
    template_dir = template_dir_of(ctx)
    if template_dir is not None and invoices:
        problems += template_problems(template_dir, invoices[0])
    return problems


def template_problems(template_dir: Path, inv: Invoice) -> list[Problem]:
    """A group's invoice template that does not render (syntax, an unknown name), located in its file."""
    import jinja2

    from eage.invoicing.pdf import render_invoice_html

    try:
        render_invoice_html(inv, template_dir=template_dir)
    except jinja2.TemplateSyntaxError as exc:
        return [
            Problem(
                f"the invoice template does not compile: {exc.message}",
                file=f"rules/templates/{exc.name or Path(exc.filename or '').name}",
                line=exc.lineno,
                fix="fix the Jinja syntax (or remove the file to use the shipped template)",
            )
        ]
    except jinja2.TemplateError as exc:
        return [
            Problem(
                f"the invoice template fails to render: {exc}",
                file="rules/templates",
                fix="use only the names the shipped template uses (or remove the file to use it)",
            )
        ]
    return []


def template_dir_of(ctx: Inputs) -> Path | None:
    """The group's own invoice templates (rules/templates/), if it has them; else the shipped ones."""
    custom = ctx.root / "rules" / "templates"
    return custom if custom.is_dir() else None


def payslip_jobs(
    ctx: Inputs, month: Month, payslips: Sequence[tuple[str, Payslip]], pool: RenderPool
) -> list[tuple[str, Pending[bytes]]]:
    """Each payslip's PDF path and its rendering job, queued in ``pool``.

    The parties' blocks come from :func:`eage.payroll.pdf.employer_info` and
    :func:`~eage.payroll.pdf.employee_info` (group.yaml, staff.yaml and the agreement of
    rules/payroll/contracts.yaml), plain values a worker process can receive.
    """
    try:
        from eage.payroll import pdf as payslip_pdf
    except ImportError:
        return []
    staff = ctx.rules.staff.by_id()
    agreement, grid = payslip_pdf.agreement_of(ctx.root, month.first_day)
    employer = payslip_pdf.employer_info(ctx.rules.group, month.first_day, agreement)
    jobs: list[tuple[str, Pending[bytes]]] = []
    for emp_id, slip in payslips:
        emp = staff[emp_id]
        code = emp.classification
        info = payslip_pdf.employee_info(emp, grid.get(code) if code else None)
        rel = f"reports/payslips/{month.year}/{payslip_id(slip, emp_id)}.pdf"
        jobs.append((rel, pool.submit(payslip_pdf.render_payslip_pdf, slip, info, employer)))
    return jobs
