"""The monthly run: one ledger load, payroll, allocation, invoices, then one atomic commit.

:func:`plan_month` computes everything in memory (no file is touched), :func:`commit_plan` writes it.
A dry run plans, checks the new entries against the ledger and builds and validates every invoice's
Factur-X XML in memory (what the real run checks before it renders a page), so a dry run that passes
means the real run passes; it writes nothing and uses no number. Re-running a month whose inputs are
unchanged plans the same bytes and writes nothing; a month already invoiced whose inputs changed is
refused, naming what changed.

A folder made by ``eage init`` carries placeholder identities, marked « À COMPLÉTER » in
rules/group.yaml, members.yaml and staff.yaml (:func:`placeholder_problems`): a dry run and
``eage check`` warn about them, and no real document is issued while one is left.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import yaml

from eage.allocation.core import FEE, OVERHEAD, AllocationResult, AllocationRules, allocate
from eage.csvsafe import safe_row
from eage.errors import InputError, Problem, raise_if
from eage.invoicing.build import (
    DraftLine,
    invoice_entries,
    make_invoice,
    month_end,
    month_label_fr,
    pdf_relpath,
)
from eage.invoicing.model import Invoice
from eage.invoicing.numbering import sequence
from eage.ledger.load import CostLine, IssuedDocument, Ledger, load_ledger, validate_additions
from eage.ledger.model import Entry, GeneratedFile, Open, Txn, meta
from eage.ledger.render import render_file
from eage.ledger.store import (
    commit_generated,
    lock_problems,
    read_includes,
    relocate_include_errors,
    tampered,
)
from eage.money import ZERO
from eage.payroll.engine import TSS_CODE_PREFIX, Payslip, PayslipInput, compute_payslip
from eage.payroll.journal import payroll_transactions, payslip_id, tss_relief_transaction
from eage.payroll.params import TAXE_SALAIRES_FILE, PayrollRules, load_payroll_rules
from eage.payroll.variables import EmployeeVariables, load_variables
from eage.render_pool import Pending, RenderPool
from eage.rules.bundle import Rules, load_rules
from eage.rules.dated import NotInForce, in_force
from eage.timesheets import month_bounds, read_timesheet, timesheet_path

Progress = Callable[[str, int, int], None]


def _no_progress(_label: str, _done: int, _total: int) -> None:
    return None


@dataclass
class Context:
    """What every command loads once: the rules and the ledger."""

    root: Path
    rules: Rules
    ledger: Ledger
    payroll: PayrollRules


def load_context(root: Path) -> Context:
    rules = load_rules(root)
    payroll = load_payroll_rules(root / "rules" / "payroll")
    try:
        ledger, _ = load_ledger(root)
    except InputError as exc:
        # A deleted generated file breaks the load: name it from the lock manifest, before Beancount's words.
        raise InputError(lock_problems(root) + relocate_include_errors(exc.problems)) from None
    return Context(root, rules, ledger, payroll)


@dataclass
class MonthPlan:
    month: str
    result: AllocationResult
    invoices: list[Invoice]
    payslips: list[tuple[str, Payslip]]
    files: dict[str, str]  # ledger-relative path -> text of generated beancount files
    status: str  # "new" | "unchanged"
    documents: dict[str, bytes] = field(default_factory=dict)  # root-relative path -> bytes
    changed: list[Path] = field(default_factory=list)
    # What a dry run found that the real run refuses or the user should see (placeholder identities).
    warnings: list[Problem] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """The contract's JSON summary."""
        by_member: dict[str, Invoice] = {inv.member_id: inv for inv in self.invoices}
        pools = [
            {"service": p.service, "cost": f"{p.cost:.2f}", "hours": f"{p.billable_hours:.2f}"}
            for p in self.result.pools
        ]
        members = []
        for member in self.result.members():
            hours = sum(
                (s.hours for s in self.result.member_shares(member) if s.service not in (OVERHEAD, FEE)), ZERO
            )
            inv = by_member.get(member)
            members.append(
                {
                    "member": member,
                    "hours": f"{hours:.2f}",
                    "amount": f"{self.result.member_total(member):.2f}",
                    "invoice": inv.number if inv else None,
                }
            )
        return {
            "month": self.month,
            "pools": pools,
            "members": members,
            "total_cost": f"{self.result.total_cost:.2f}",
            "total_billed": f"{self.result.total_billed:.2f}",
        }


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def generated_path(month: str, name: str) -> str:
    return f"generated/{month[:4]}/{month}-{name}.beancount"


def allocation_rules(rules: Rules, day: dt.date) -> AllocationRules:
    alloc = rules.allocation
    rates: dict[str, Decimal] = {}
    if alloc.billing_mode == "standard_rate":
        try:
            rates = dict(in_force(alloc.standard_rates, day))
        except NotInForce as exc:
            raise InputError.at(str(exc), file="rules/allocation.yaml", key="standard_rates") from None
    fee_rate = ZERO
    fee_label = "Frais de gestion"
    if alloc.management_fee is not None:
        fee_label = alloc.management_fee.label
        try:
            fee_rate = in_force(alloc.management_fee.rate, day)
        except NotInForce:
            fee_rate = ZERO
    return AllocationRules(
        mode=alloc.billing_mode,
        services={k: v.label for k, v in alloc.services.items()},
        staff_accounts=alloc.staff_accounts,
        overhead_accounts=alloc.overhead.accounts,
        overhead_label=alloc.overhead.label,
        overhead_key=alloc.overhead.key,
        excluded_accounts=alloc.excluded_accounts,
        primary_service={e.id: e.service for e in rules.staff.employees},
        standard_rates=rates,
        fee_rate=fee_rate,
        fee_label=fee_label,
    )


def compute_payslips(ctx: Context, month: str) -> list[tuple[str, Payslip]]:
    """Payslips of every employee under contract during the month (pure given the context)."""
    start, end = month_bounds(month)
    last = end - dt.timedelta(days=1)
    employer = ctx.rules.group.employer
    variables = load_variables(ctx.root, month, set(ctx.rules.staff.by_id()))
    out = []
    for emp in ctx.rules.staff.employees:
        contract = emp.contract
        if contract.start > last or (contract.end is not None and contract.end < start):
            continue
        try:
            gross = emp.gross_on(last)
            atmp = in_force(employer.atmp_rate, last)
        except NotInForce as exc:
            raise InputError.at(
                f"{exc}", file="rules/staff.yaml", key=f"{emp.id}.gross_salary", fix="add a dated value"
            ) from None
        vm = in_force(employer.vm_rate, last) if employer.vm_rate and min(employer.vm_rate) <= last else ZERO
        pas = (
            in_force(emp.pas_rate, last)
            if emp.pas_rate and min(emp.pas_rate) <= last
            else employer.pas_default_rate
        )
        extra = variables.employees.get(emp.id, EmployeeVariables())
        slip = compute_payslip(
            ctx.payroll,
            PayslipInput(
                month=start,
                base_gross=gross,
                overtime_25_hours=extra.overtime_25_hours,
                overtime_50_hours=extra.overtime_50_hours,
                bonus=extra.bonus,
                unpaid_absence_hours=extra.unpaid_absence_hours,
                weekly_hours=contract.weekly_hours,
                cadre=contract.cadre,
                pas_rate=pas * 100,
                employer_profile=employer.profile,
                headcount=employer.headcount,
                atmp_rate=atmp * 100,
                vm_rate=vm * 100,
                contract_kind=contract.kind,
            ),
        )
        out.append((emp.id, slip))
    return out


def _cost_lines(txns: Sequence[Txn], rel: str) -> list[CostLine]:
    out = []
    for txn in txns:
        tmeta = dict(txn.meta)
        for posting in txn.postings:
            if not posting.account.startswith("Charges:"):
                continue
            pmeta = dict(posting.meta)
            out.append(
                CostLine(
                    date=txn.date,
                    account=posting.account,
                    amount=posting.amount,
                    employee=str(pmeta.get("employee", tmeta.get("employee"))),
                    service=_opt(pmeta.get("service")),
                    kind="payroll",
                    file=f"ledger/{rel}",
                    line=0,
                )
            )
    return out


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def members_file(rules: Rules) -> GeneratedFile:
    """Open directives of every member's receivable account, from rules/members.yaml."""
    entries: list[Entry] = []
    for member in sorted(rules.members.members, key=lambda m: m.id):
        entries.append(
            Open(
                date=min(member.joined, dt.date(2012, 1, 1)),
                account=rules.accounts.receivable(member.id),
                meta=meta(name=f"Clients — {member.identity.name}", member=member.id),
            )
        )
    return GeneratedFile(
        "generated/members.beancount", "Member receivable accounts (rules/members.yaml)", tuple(entries)
    )


def unopened_rule_accounts(rules: Rules, payroll: PayrollRules | None, ledger: Ledger) -> list[Problem]:
    """Accounts the rules post to that the ledger does not open, named in their rules file.

    Checked before the new entries: Beancount would otherwise blame a generated file never written.
    """
    opened = ledger.open_accounts()
    needed = {
        "rules/accounts.yaml": [
            v
            for k, v in rules.accounts.model_dump().items()
            if isinstance(v, str) and k != "receivable_parent"
        ],
    }
    if payroll is not None:
        acc = payroll.accounts
        needed["rules/payroll/accounts.yaml"] = [
            acc.salaries,
            acc.bonuses,
            acc.net_pay,
            acc.pas,
            *acc.organisations.values(),
            *acc.charges.values(),
            *acc.reduction_charges.values(),
        ]
    problems = []
    for file, accounts in needed.items():
        for account in sorted(set(accounts)):
            if account not in opened:
                problems.append(
                    Problem(
                        f"account {account} is not opened in the ledger",
                        file=file,
                        fix="add an `open` directive for it in ledger/accounts.beancount",
                    )
                )
    return problems


def refuse_tampered(ctx: Context) -> None:
    """Refuse to plan anything while the lock is broken: a generated file or an issued document differs
    from the manifest or is missing, or the manifest itself is missing or corrupt (see ``lock_problems``)."""
    problems = lock_problems(ctx.root, find_tampered=tampered)
    if problems:
        raise InputError(problems)


@dataclass
class MonthComputation:
    """A month's payroll and allocation as the current inputs give them (nothing numbered yet)."""

    month: str
    result: AllocationResult
    payslips: list[tuple[str, Payslip]]
    payroll_rel: str
    payroll_text: str


def compute_month(ctx: Context, month: str) -> MonthComputation:
    """Payroll then allocation of ``month`` from the rules, the timesheet and the ledger's other costs."""
    rules, ledger = ctx.rules, ctx.ledger
    start, end = month_bounds(month)
    issue_date = month_end(month)
    lines = read_timesheet(ctx.root, month, rules)
    payslips = compute_payslips(ctx, month)
    names = {e.id: e for e in rules.staff.employees}
    payroll_rel = generated_path(month, "payroll")
    payroll_txns = payroll_transactions(
        [(emp_id, names[emp_id].name, names[emp_id].service, slip) for emp_id, slip in payslips],
        ctx.payroll.accounts,
        issue_date,
    )
    relief = _tss_relief(ctx, month, payslips, issue_date)
    if relief is not None:
        payroll_txns.append(relief)
    payroll_file = GeneratedFile(payroll_rel, f"Payroll journal {month}", tuple(payroll_txns))
    # The month's costs, with this month's payroll as planned (not as previously posted).
    costs = [
        c
        for c in ledger.costs(start, end, ledger.options["name_expenses"])
        if c.file != f"ledger/{payroll_rel}"
    ]
    costs += _cost_lines(payroll_txns, payroll_rel)
    result = allocate(month, costs, lines, allocation_rules(rules, issue_date))
    return MonthComputation(month, result, payslips, payroll_rel, render_file(payroll_file))


def _tss_tax(payslips: Sequence[tuple[str, Payslip]]) -> dict[str, Decimal]:
    """Each employee's taxe sur les salaires provisioned on the month's payslip."""
    return {
        emp: sum((line.amount for line in slip.lines if line.code.startswith(TSS_CODE_PREFIX)), ZERO)
        for emp, slip in payslips
    }


def _tss_relief(
    ctx: Context, month: str, payslips: Sequence[tuple[str, Payslip]], day: dt.date
) -> Txn | None:
    """For an association, the month's share of the annual abattement on the taxe sur les salaires."""
    if ctx.rules.group.employer.profile != "association":
        return None
    month_tax = _tss_tax(payslips)
    if not any(month_tax.values()):
        return None
    rules = ctx.payroll
    tss = rules.value(
        TAXE_SALAIRES_FILE, "taxe_sur_salaires", rules.taxe_salaires.taxe_sur_salaires.values, day
    )
    year = int(month[:4])
    before = ZERO
    for mon in range(1, int(month[5:7])):  # the year's tax to date, recomputed from the same rules
        before += sum(_tss_tax(compute_payslips(ctx, f"{year}-{mon:02d}")).values(), ZERO)
    return tss_relief_transaction(
        month,
        month_tax,
        before,
        tss.abattement_annuel,
        rules.accounts.charges[tss.charge],
        rules.accounts.organisations[tss.organisation],
        day,
    )


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
    start, end = month_bounds(result.month)
    return make_invoice(
        rules,
        number=number,
        kind="invoice",
        member_id=member,
        issue_date=issue_date,
        period_start=start,
        period_end=end - dt.timedelta(days=1),
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


#: The metadata key that says an entry records its lines and VAT treatment (see eage.invoicing.build).
RECORDED = "vat_category"


def plan_month(ctx: Context, month: str, *, lock_checked: bool = False) -> MonthPlan:
    """Everything the month's run would write, computed in memory.

    ``lock_checked``: the caller has just found ``lock_problems`` empty (``eage check``), so the locked
    files are not hashed a second time.
    """
    rules, ledger = ctx.rules, ctx.ledger
    issue_date = month_end(month)
    if not lock_checked:
        refuse_tampered(ctx)
    computed = compute_month(ctx, month)
    result = computed.result

    # Invoices: the numbers of the month's allocation file are kept (credited or not: that file is never
    # rewritten, so a re-run must plan its bytes again); new ones continue the sequence.
    documents = ledger.issued_documents()
    existing = allocation_invoices(documents, month)
    # An invoice issued before entries recorded their lines (the demo's months) is planned as it was.
    recorded = {
        str(t.meta["invoice"])
        for t in ledger.transactions()
        if t.meta.get("period") == month and RECORDED in t.meta
    }
    prefix = rules.group.invoicing.prefix
    seq = sequence(documents, prefix, issue_date.year)
    invoices: list[Invoice] = []
    entries: list[Entry] = []
    for member in result.members():
        if result.member_total(member) <= 0:
            continue
        number = existing[member].number if member in existing else seq.take(issue_date)
        inv = month_invoice(rules, result, member, number=number, issue_date=issue_date)
        txn, doc = invoice_entries(
            rules,
            inv,
            period=month,
            revenue_account=rules.accounts.revenue,
            doc_kind="invoice",
            record_lines=member not in existing or number in recorded,
        )
        invoices.append(inv)
        entries += [txn, doc]
    allocation_rel = generated_path(month, "allocation")
    allocation_file = GeneratedFile(allocation_rel, f"Re-invoicing of {month} (allocation)", tuple(entries))

    files = {
        members_file(rules).path: render_file(members_file(rules)),
        computed.payroll_rel: computed.payroll_text,
        allocation_rel: render_file(allocation_file),
    }
    plan = MonthPlan(month, result, invoices, computed.payslips, files, "new")
    _check_against_ledger(ctx, plan, existing, billed_by_runs(documents, month))
    return plan


def _check_against_ledger(
    ctx: Context, plan: MonthPlan, existing: dict[str, IssuedDocument], billed: dict[str, Decimal]
) -> None:
    """Unchanged re-run -> status "unchanged"; changed inputs on an invoiced month -> refused.

    ``existing``: the month's allocation-file invoices; ``billed``: each member's total as the month's runs
    last billed it (:func:`billed_by_runs`). Credit notes issued on their own change neither, so a
    credit note followed by a re-run of its month is a no-op; ``--correct`` is what re-bills.
    """
    ledger_dir = ctx.root / "ledger"
    main_text = ctx.ledger.main_path.read_text(encoding="utf-8")
    included = set(read_includes(main_text, ctx.ledger.main_path))
    month_files = [p for p in plan.files if p != "generated/members.beancount"]
    if not existing and not any(p in included for p in month_files):
        later = [d for d in ctx.ledger.issued_documents() if d.kind == "invoice" and d.period > plan.month]
        if later:
            raise InputError.at(
                f"{later[0].period} is already invoiced ({later[0].number}); {plan.month} cannot be billed after it",
                file=later[0].file,
                line=later[0].line,
                fix="run the months in order; to change an invoiced month use `eage run YYYY-MM --correct`",
            )
        previous = previous_month(plan.month)
        invoiced = {d.period for d in ctx.ledger.issued_documents() if d.kind == "invoice"}
        if timesheet_path(ctx.root, previous).exists() and previous not in invoiced:
            raise InputError.at(
                f"{previous} has a timesheet but was not run: months are billed in order",
                file=f"ledger/timesheets/{previous}.csv",
                fix=f"run `eage run {previous}` first",
            )
        return
    corrected = _corrected(plan.month, included)
    same = all(
        p in included and (ledger_dir / p).exists() and (ledger_dir / p).read_text(encoding="utf-8") == text
        for p, text in plan.files.items()
        if p in month_files
    )
    if same and not corrected:
        plan.status = "unchanged"
        return
    changes = []
    new_by_member = {inv.member_id: inv.gross_total for inv in plan.invoices}
    for member in sorted(set(billed) | set(new_by_member)):
        old_total = billed.get(member, ZERO)
        new_total = new_by_member.get(member, ZERO)
        if old_total != new_total:
            changes.append(f"{member}: {old_total} -> {new_total} EUR")
    if not changes and corrected and _same_file(ctx, plan, generated_path(plan.month, "payroll")):
        # The allocation file keeps the original invoices; the correction files hold the rest. What the
        # month's runs last billed per member is what the inputs give: nothing to do.
        plan.status = "unchanged"
        return
    detail = "; ".join(changes) if changes else "the generated entries differ (payroll or hours)"
    raise InputError.at(
        f"{plan.month} is already invoiced and its inputs changed ({detail})",
        file=f"ledger/timesheets/{plan.month}.csv",
        fix=f"issue credit notes and replacement invoices with `eage run {plan.month} --correct`",
    )


def _corrected(month: str, included: set[str]) -> bool:
    return any(p.startswith(f"generated/{month[:4]}/{month}-correction-") for p in included)


def _same_file(ctx: Context, plan: MonthPlan, rel: str) -> bool:
    path = ctx.root / "ledger" / rel
    return path.exists() and path.read_text(encoding="utf-8") == plan.files.get(rel)


def render_documents(
    ctx: Context, plan: MonthPlan, progress: Progress = _no_progress, *, pool: RenderPool | None = None
) -> None:
    """Render the month's invoice PDFs (with Factur-X XML) and payslip PDFs into ``plan.documents``.

    ``pool``: where they are laid out (see :mod:`eage.render_pool`); by default a pool sized for the
    month, from :func:`render_pool_for`.
    """
    if pool is None:
        with render_pool_for(plan) as own:
            render_documents(ctx, plan, progress, pool=own)
        return
    # Every job is queued before the first result is read: the payslips (the longest jobs) first, then
    # the invoices, so the two workers finish together. In process, each renders when it is read.
    payslips = _payslip_jobs(ctx, plan, pool)
    plan.documents.update(render_invoice_documents(ctx, plan.invoices, progress, pool=pool))
    plan.documents.update({rel: job.result() for rel, job in payslips})
    plan.documents[f"reports/{plan.month}/invoices.csv"] = invoices_csv(plan.invoices).encode("utf-8")


def render_pool_for(plan: MonthPlan) -> RenderPool:
    """A pool sized for the month's documents: its invoices and its payslips."""
    return RenderPool(len(plan.invoices) + len(plan.payslips))


def render_invoice_documents(
    ctx: Context,
    invoices: Sequence[Invoice],
    progress: Progress = _no_progress,
    *,
    pool: RenderPool | None = None,
) -> dict[str, bytes]:
    """Each invoice's Factur-X XML, validated (XSD, EN 16931, BR-FR), and its PDF/A-3 carrying it.

    These are real documents: refused while an identity is still a placeholder (see
    :func:`refuse_placeholders`), for every command that issues invoices or credit notes.
    """
    from eage.invoicing.pdf import render_invoices

    refuse_placeholders(ctx.root)
    template_dir = _template_dir(ctx)
    if template_dir is not None and invoices:
        # A group's template that does not render is the group's input: say where, before any page.
        raise_if(_template_problems(template_dir, invoices[0]))
    documents: dict[str, bytes] = {}
    total = len(invoices)
    # Rendered in order, in a pool of processes for a large month (see render_invoices): same bytes.
    rendered = render_invoices(invoices, template_dir=template_dir, pool=pool)
    for index, (inv, (xml, failed, pdf)) in enumerate(zip(invoices, rendered, strict=True)):
        if failed or pdf is None:
            raise InputError(invalid_xml_problems(inv, failed))
        pdf_rel = pdf_relpath(inv)
        documents[pdf_rel] = pdf
        documents[pdf_rel[:-4] + ".xml"] = xml
        progress("invoices", index + 1, total)
    return documents


def invalid_xml_problems(inv: Invoice, failed: Sequence[str]) -> list[Problem]:
    """The located problems of an invoice whose Factur-X XML breaks EN 16931 / BR-FR rules.

    A rule about the seller (the group: BR-E-02, BR-S-02 want its VAT number) names rules/group.yaml and no
    invoice, so that the same cause on every invoice of a month is one problem; any other names the member.
    """
    seller = [f for f in failed if "Seller" in f]
    others = [f for f in failed if "Seller" not in f]
    problems = []
    if seller:
        problems.append(
            Problem(
                "the group's identity breaks EN 16931 / BR-FR rules in the invoices' Factur-X XML: "
                + "; ".join(seller[:3]),
                file="rules/group.yaml",
                key="identity.vat_number" if any("VAT Identifier" in f for f in seller) else "identity",
                fix="complete the group's identity (a VAT-liable group needs its vat_number, FR + key + SIREN)",
            )
        )
    if others or not seller:
        problems.append(
            Problem(
                f"the Factur-X XML of {inv.number} ({inv.member_id}) breaks EN 16931 / BR-FR rules: "
                + "; ".join(others[:5]),
                file="rules/members.yaml",
                key=inv.member_id,
                fix="complete the identities in rules/group.yaml and rules/members.yaml (SIREN, VAT number, address)",
            )
        )
    return problems


def invoice_xml_problems(ctx: Context, invoices: Sequence[Invoice]) -> list[Problem]:
    """What the real run checks of each invoice before laying out a page, done in memory: its Factur-X
    XML built and validated (XSD, EN 16931, BR-FR), and, for a group with its own templates
    (rules/templates/), its HTML rendered. Every invoice is checked; nothing is written or numbered.

    A large month is validated in the render pool's processes (no PDF is laid out): same findings.
    """
    from eage.invoicing.validate import warm_up

    problems: list[Problem] = []
    with RenderPool(len(invoices), warm_up=warm_up) as pool:
        jobs = [pool.submit(xml_failures, inv) for inv in invoices]
        for inv, job in zip(invoices, jobs, strict=True):
            failed = job.result()
            for problem in invalid_xml_problems(inv, failed) if failed else []:
                if problem not in problems:
                    problems.append(problem)
    template_dir = _template_dir(ctx)
    if template_dir is not None and invoices:
        problems += _template_problems(template_dir, invoices[0])
    return problems


def xml_failures(inv: Invoice) -> list[str]:
    """The EN 16931 / BR-FR errors of ``inv``'s Factur-X XML, built in memory ([] when valid)."""
    from eage.invoicing.facturx_xml import build_cii_xml
    from eage.invoicing.validate import validate_facturx_xml

    return validate_facturx_xml(build_cii_xml(inv))


def _template_problems(template_dir: Path, inv: Invoice) -> list[Problem]:
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


# --- placeholder identities (a folder made by `eage init`) ------------------------------------------------

PLACEHOLDER = "À COMPLÉTER"
#: The mark, with or without accents, in any case: a value or a comment on the key's line.
_PLACEHOLDER_MARK = re.compile(r"[AÀ] +COMPL[EÉ]TER", re.IGNORECASE)
PLACEHOLDER_FILES = ("group.yaml", "members.yaml", "staff.yaml")
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def placeholder_problems(root: Path) -> list[Problem]:
    """Every identity value still marked « À COMPLÉTER » in rules/group.yaml, members.yaml, staff.yaml.

    The mark is read from the raw YAML (the models know nothing of it): in a value, or in a comment on
    the line of its key (``siren: "123456782"  # À COMPLÉTER``), so a placeholder that has to pass the
    models (a Luhn-valid SIREN, an IBAN) is marked too. Comment lines of their own are not read. A file
    that cannot be read or parsed is skipped: loading the rules reports it.
    """
    problems: list[Problem] = []
    for name in PLACEHOLDER_FILES:
        rel = f"rules/{name}"
        try:
            text = (root / rel).read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=_SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        lines = text.splitlines()
        for key_path, key_node, value_node in _keyed_nodes(node, ()):
            line = key_node.start_mark.line
            if isinstance(value_node, yaml.ScalarNode) and value_node.end_mark.line == line:
                tail = lines[line][value_node.end_mark.column :] if line < len(lines) else ""
            else:
                tail = lines[line][key_node.end_mark.column :] if line < len(lines) else ""
            comment = tail.partition("#")[2] if "#" in tail else ""
            value = value_node.value if isinstance(value_node, yaml.ScalarNode) else ""
            if _PLACEHOLDER_MARK.search(str(value)) or _PLACEHOLDER_MARK.search(comment):
                problems.append(
                    Problem(
                        f"placeholder value (marked « {PLACEHOLDER} »)",
                        file=rel,
                        line=line + 1,
                        key=key_path,
                        fix="write the real value and remove the mark",
                    )
                )
    return problems


def _keyed_nodes(node: yaml.Node | None, path: tuple[str, ...]) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key path, key node, value node) of every mapping entry under ``node``, in file order.

    A node shared through YAML aliases is walked once: a file of nested aliases stays linear.
    """
    out: list[tuple[str, yaml.Node, yaml.Node]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node | None, tuple[str, ...]]] = [(node, path)]
    while stack:
        current, here = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        children: list[tuple[yaml.Node | None, tuple[str, ...]]] = []
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                part = str(key_node.value)
                below = (*here, f".{part}" if here else part)
                out.append(("".join(below), key_node, value_node))
                children.append((value_node, below))
        elif isinstance(current, yaml.SequenceNode):
            children = [(item, (*here, f"[{index}]")) for index, item in enumerate(current.value)]
        stack += reversed(children)
    out.sort(key=lambda item: (item[1].start_mark.line, item[1].start_mark.column))
    return out


def refuse_placeholders(root: Path) -> None:
    """Refuse to issue real documents while an identity is still a placeholder, naming each value."""
    problems = placeholder_problems(root)
    if problems:
        head = Problem(
            f"{len(problems)} identity value(s) are still placeholders: no invoice or payslip is issued "
            "until they are replaced",
            fix="fill in the values below (the folder's README.md says what to edit first)",
        )
        raise InputError([head, *problems])


def _template_dir(ctx: Context) -> Path | None:
    custom = ctx.root / "rules" / "templates"
    return custom if custom.is_dir() else None


def _payslip_jobs(ctx: Context, plan: MonthPlan, pool: RenderPool) -> list[tuple[str, Pending[bytes]]]:
    try:
        from eage.payroll import pdf as payslip_pdf
    except ImportError:
        return []
    staff = ctx.rules.staff.by_id()
    ident = ctx.rules.group.identity
    employer = {
        "name": ident.name,
        "siret": ident.siret or ident.siren,
        "address": f"{ident.address.line1}, {ident.address.postcode} {ident.address.city}",
    }
    jobs: list[tuple[str, Pending[bytes]]] = []
    for emp_id, slip in plan.payslips:
        emp = staff[emp_id]
        info = {"id": emp_id, "name": emp.name, "post": emp.post, "contract": emp.contract.kind}
        rel = f"reports/payslips/{plan.month[:4]}/{payslip_id(slip, emp_id)}.pdf"
        jobs.append((rel, pool.submit(payslip_pdf.render_payslip_pdf, slip, info, employer)))
    return jobs


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


class WritePlan(Protocol):
    """What :func:`validate_plan` and :func:`commit_plan` need: a month's run, or a credit note, fees, …"""

    files: dict[str, str]
    documents: dict[str, bytes]
    changed: list[Path]


def validate_plan(ctx: Context, plan: WritePlan, *, replaced: Sequence[str] = ()) -> None:
    """The ledger with the plan's new files must load with zero errors; checked before anything is written.

    ``replaced``: already included files the plan rewrites (a corrected month's payroll journal); their
    current entries are left out of the check and their new text is checked instead.
    """
    # Every writing command keeps the members' receivable accounts open (a member may be new): the file is
    # rewritten from rules/members.yaml, so its new text is what the new entries are checked against.
    members = members_file(ctx.rules)
    plan.files.setdefault(members.path, render_file(members))
    replaced = (*replaced, members.path)
    main_path = ctx.ledger.main_path
    included = set(read_includes(main_path.read_text(encoding="utf-8"), main_path))
    new_texts = {p: t for p, t in plan.files.items() if p not in included or p in replaced}
    ledger = ctx.ledger
    if replaced:
        # Beancount's filenames are absolute; --root may be relative ("."): compare absolute, resolved paths.
        gone = {os.path.realpath(ctx.root / "ledger" / p) for p in replaced}
        names = {str(e.meta.get("filename")) for e in ledger.entries if getattr(e, "meta", None) is not None}
        dropped = {name for name in names if os.path.realpath(name) in gone}
        kept = [
            e
            for e in ledger.entries
            if getattr(e, "meta", None) is None or str(e.meta.get("filename")) not in dropped
        ]
        ledger = Ledger(ctx.root, kept, ledger.options)
    problems = validate_additions(ledger, new_texts)
    if problems:
        raise InputError(problems)


def commit_plan(ctx: Context, plan: WritePlan, *, crash_after: int | None = None) -> list[Path]:
    """Write every file of a validated, rendered plan atomically (main.beancount last).

    Issued documents (invoice and payslip PDFs, Factur-X XML) and generated ledger files are locked by the
    manifest; the members' accounts file is regenerated from the rules, so it is not.
    """
    plan.changed = commit_generated(
        ctx.root,
        plan.files,
        plan.documents,
        locked_documents=lambda rel: rel.startswith(("reports/invoices/", "reports/payslips/")),
        unlocked_ledger_files=("generated/members.beancount",),
        crash_after=crash_after,
    )
    return plan.changed


def run_month(
    root: Path, month: str, *, dry_run: bool = False, progress: Progress = _no_progress
) -> MonthPlan:
    """The month's run; ``dry_run``: every check the real run makes, in memory, and nothing written."""
    ctx = load_context(root)
    plan = plan_month(ctx, month)
    if plan.status == "unchanged":
        return plan
    raise_if(unopened_rule_accounts(ctx.rules, ctx.payroll, ctx.ledger))
    if dry_run:
        validate_plan(ctx, plan)
        problems = invoice_xml_problems(ctx, plan.invoices)
        if problems:
            raise InputError(problems)
        plan.warnings = placeholder_problems(root)
        return plan
    refuse_placeholders(root)
    # The workers start now and warm up while the new entries are checked against the ledger.
    with render_pool_for(plan) as pool:
        validate_plan(ctx, plan)
        render_documents(ctx, plan, progress, pool=pool)
    commit_plan(ctx, plan)
    return plan
