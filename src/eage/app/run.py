"""``eage run YYYY-MM``: the month's payroll, allocation, re-invoicing entries and invoices, then one commit.

:func:`plan_month` computes everything in memory from the command's :class:`Inputs` (no file is read or
touched), :func:`run_month` checks, renders and commits it. A dry run plans, checks the new entries
against the ledger and builds and validates every invoice's Factur-X XML in memory (what the real run
checks before it renders a page), so a dry run that passes means the real run passes; it writes nothing
and uses no number. Re-running a month whose inputs are unchanged plans the same bytes and writes
nothing; a month already invoiced whose inputs changed is refused, naming what changed.

``eage run YYYY-MM --correct`` is :mod:`eage.app.correct`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from eage.allocation.core import (
    FEE,
    OVERHEAD,
    AllocationResult,
    ToDate,
    add_to_date,
    allocate,
    month_to_date,
)
from eage.allocation.rules import allocation_rules
from eage.app.commit import (
    MEMBERS_FILE,
    commit_plan,
    members_file,
    unopened_rule_accounts,
    validate_plan,
)
from eage.app.documents import (
    Progress,
    QueuedInvoices,
    check_before_rendering,
    invoice_xml_problems,
    no_progress,
    payslip_jobs,
    queue_invoice_documents,
)
from eage.app.inputs import Inputs, has_timesheet, load_inputs, with_months
from eage.app.placeholders import placeholder_problems
from eage.errors import InputError, Problem, raise_if
from eage.invoicing.build import invoice_entries
from eage.invoicing.model import Invoice
from eage.invoicing.monthly import (
    allocation_invoices,
    billed_by_runs,
    correction_stem,
    generated_path,
    invoices_csv,
    month_invoice,
)
from eage.invoicing.numbering import sequence
from eage.invoicing.trueup import year_to_date_mismatches
from eage.ledger.model import Entry, GeneratedFile, Txn
from eage.ledger.render import render_file
from eage.ledger.view import CostLine, IssuedDocument
from eage.money import ZERO
from eage.month import Month
from eage.payroll.engine import Payslip
from eage.payroll.month import Payslips, compute_payslips, earlier_payslips, payroll_journal
from eage.payroll.variables import MonthVariables, leave_timesheet_problems
from eage.render_pool import Pending, RenderPool, render_workers
from eage.rules.bundle import Rules


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
        """The contract's JSON summary; each pool with its cost, billable hours, rate method (monthly,
        year_to_date or standard_rate), the hourly rate billed and the amount billed."""
        by_member: dict[str, Invoice] = {inv.member_id: inv for inv in self.invoices}
        billed: dict[str, Decimal] = {}
        rates: dict[str, Decimal] = {}  # the rate a pool's shares were billed at
        for share in self.result.shares:
            billed[share.service] = billed.get(share.service, ZERO) + share.amount
            rates.setdefault(share.service, share.rate)
        standard = self.result.mode == "standard_rate"
        pools = [
            {
                "service": p.service,
                "cost": f"{p.cost:.2f}",
                "hours": f"{p.billable_hours:.2f}",
                "rate_method": "standard_rate" if standard else p.method,
                "rate": f"{rates.get(p.service, ZERO if standard else p.rate):.4f}",
                "billed": f"{billed.get(p.service, ZERO):.2f}",
            }
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


@dataclass
class MonthComputation:
    """A month's payroll and allocation as the current inputs give them (nothing numbered yet)."""

    month: str
    result: AllocationResult
    payslips: list[tuple[str, Payslip]]
    payroll_rel: str
    payroll_text: str


def _payroll_cost_lines(txns: Sequence[Txn], rel: str) -> list[CostLine]:
    """The cost lines of the month's payroll journal as planned (not as the ledger holds it)."""
    out = []
    for txn in txns:
        tmeta = dict(txn.meta)
        for posting in txn.postings:
            if not posting.account.startswith("Charges:"):
                continue
            pmeta = dict(posting.meta)
            service = pmeta.get("service")
            out.append(
                CostLine(
                    date=txn.date,
                    account=posting.account,
                    amount=posting.amount,
                    employee=str(pmeta.get("employee", tmeta.get("employee"))),
                    service=None if service is None else str(service),
                    kind="payroll",
                    file=f"ledger/{rel}",
                    line=0,
                )
            )
    return out


def compute_payroll(inputs: Inputs, month: Month) -> tuple[Payslips, str, GeneratedFile]:
    """The month's payslips, its payroll journal's path (relative to ledger/) and the journal, as the run
    posts them: the one payroll computation that ``eage run``, ``--correct`` and ``eage dsn`` share."""
    rules, payroll = inputs.rules, inputs.payroll
    payslips = compute_payslips(
        rules, payroll, month, inputs.variables, inputs.leave_opening, inputs.contracts
    )
    payroll_rel = generated_path(month, "payroll")
    earlier = earlier_payslips(
        rules, payroll, month, inputs.variables, inputs.leave_opening, inputs.contracts
    )
    return payslips, payroll_rel, payroll_journal(rules, payroll, month, payslips, earlier, payroll_rel)


def compute_month(inputs: Inputs, month: Month) -> MonthComputation:
    """Payroll then allocation of ``month`` from the rules, the month's timesheet and payroll variables
    and the ledger's other costs (pure: ``inputs`` holds the month's files, see :func:`with_months`)."""
    rules, ledger = inputs.rules, inputs.books
    lines = inputs.timesheet(month)
    # Paid leave and billed hours on one day contradict each other: refused before anything is computed.
    raise_if(leave_timesheet_problems(month, inputs.variables.get(month, MonthVariables()), lines))
    payslips, payroll_rel, journal = compute_payroll(inputs, month)
    # The month's costs, with this month's payroll as planned (not as previously posted).
    costs = [
        c
        for c in ledger.costs(month.first_day, month.end, ledger.settings.name_expenses)
        if c.file != f"ledger/{payroll_rel}"
    ]
    costs += _payroll_cost_lines([e for e in journal.entries if isinstance(e, Txn)], payroll_rel)
    alloc_rules = allocation_rules(rules, month.last_day)
    to_date = pools_before(inputs, month) if alloc_rules.year_to_date else {}
    result = allocate(str(month), costs, lines, alloc_rules, to_date)
    return MonthComputation(str(month), result, payslips, payroll_rel, render_file(journal))


def year_to_date_months(inputs: Inputs, month: Month) -> list[Month]:
    """The year's months before ``month`` that a year-to-date pool counts: those with a timesheet (the
    months billed, since months are billed in order)."""
    return [m for m in month.earlier_in_year() if m in inputs.timesheet_months]


def with_year_to_date(inputs: Inputs, month: Month) -> Inputs:
    """``inputs`` with the hours of the year's earlier months when a pool is billed at the year-to-date
    rate (rules/allocation.yaml ``rate_method``), else as they are."""
    if not allocation_rules(inputs.rules, month.last_day).year_to_date:
        return inputs
    return with_months(inputs, year_to_date_months(inputs, month), payroll=False)


def pools_before(inputs: Inputs, month: Month) -> dict[str, ToDate]:
    """Each year-to-date pool's cost and billable hours over the year's months before ``month``: the
    costs as the ledger holds them (those months are posted), the hours of their timesheets (read here if
    the caller did not load them, see :func:`with_year_to_date`)."""
    months = year_to_date_months(inputs, month)
    if any(m not in inputs.timesheets for m in months):
        inputs = with_months(inputs, months, payroll=False)
    if not months:
        return {}
    ledger = inputs.books
    by_month: dict[Month, list[CostLine]] = {m: [] for m in months}
    # One pass over the year's earlier costs (not one per month): a month of a large group is long.
    for cost in ledger.costs(months[0].first_day, month.first_day, ledger.settings.name_expenses):
        by_month.setdefault(Month(cost.date.year, cost.date.month), []).append(cost)
    total: dict[str, ToDate] = {}
    for earlier in months:
        rules = allocation_rules(inputs.rules, earlier.last_day)
        total = add_to_date(total, month_to_date(by_month[earlier], inputs.timesheet(earlier), rules))
    return total


def plan_month(inputs: Inputs, month: Month) -> MonthPlan:
    """Everything the month's run would write, computed in memory from ``inputs`` (the month loaded)."""
    rules, ledger = inputs.rules, inputs.books
    issue_date = month.last_day
    computed = compute_month(inputs, month)
    result = computed.result

    # Invoices: the numbers of the month's allocation file are kept (credited or not: that file is never
    # rewritten, so a re-run must plan its bytes again); new ones continue the sequence.
    documents = ledger.issued_documents()
    existing = allocation_invoices(documents, str(month))
    # An invoice issued before entries recorded their lines is planned as it was.
    recorded = {d.number for d in documents if d.period == str(month) and d.vat_category is not None}
    prefix = rules.group.invoicing.prefix
    seq = sequence(documents, prefix, issue_date.year)
    invoices: list[Invoice] = []
    entries: list[Entry] = []
    for member in result.members():
        if result.member_total(member) <= 0:
            continue
        number = existing[member].number if member in existing else seq.take(issue_date)
        inv = month_invoice(
            rules,
            result,
            member,
            number=number,
            issue_date=issue_date,
            notes=year_to_date_notes(result, member),
        )
        txn, doc = invoice_entries(
            rules,
            inv,
            period=str(month),
            revenue_account=rules.accounts.revenue,
            doc_kind="invoice",
            record_lines=member not in existing or number in recorded,
        )
        invoices.append(inv)
        entries += [txn, doc]
    allocation_rel = generated_path(month, "allocation")
    allocation_file = GeneratedFile(allocation_rel, f"Re-invoicing of {month} (allocation)", tuple(entries))

    members = members_file(rules)
    files = {
        members.path: render_file(members),
        computed.payroll_rel: computed.payroll_text,
        allocation_rel: render_file(allocation_file),
    }
    plan = MonthPlan(str(month), result, invoices, computed.payslips, files, "new")
    plan.status = month_status(inputs, plan, existing, billed_by_runs(documents, str(month)))
    return plan


#: The note of an invoice billed at year-to-date rates (rules/allocation.yaml ``rate_method``).
YEAR_TO_DATE_NOTE = (
    "Taux horaire de l'année à date ({pools}) : coût du 1er janvier à la fin du mois divisé par les heures "
    "facturables de la même période ; l'écart avec le coût réel de l'année est régularisé à la clôture "
    "annuelle."
)


def year_to_date_notes(result: AllocationResult, member: str) -> tuple[str, ...]:
    """The invoice's note saying how a year-to-date rate is set, when the member is billed one."""
    to_date = {p.service: p.label for p in result.pools if p.before is not None}
    labels = [to_date[s.service] for s in result.member_shares(member) if s.service in to_date]
    if not labels:
        return ()
    return (YEAR_TO_DATE_NOTE.format(pools=", ".join(dict.fromkeys(labels))),)


def month_status(
    inputs: Inputs, plan: MonthPlan, existing: Mapping[str, IssuedDocument], billed: Mapping[str, Decimal]
) -> str:
    """ "unchanged" for a re-run of unchanged inputs, "new" for a month to bill; refused when the month is
    already invoiced and its inputs changed, or when it would be billed out of order.

    ``existing``: the month's allocation-file invoices; ``billed``: each member's total as the month's runs
    last billed it (:func:`billed_by_runs`). Credit notes issued on their own change neither, so a
    credit note followed by a re-run of its month is a no-op; ``--correct`` is what re-bills. A month
    whose year-to-date pools' rate moved, its monthly pools' amounts and its hours unchanged, is
    unchanged too: the close settles those pools.
    """
    month = Month.parse(plan.month)
    included = inputs.included
    documents = inputs.books.issued_documents()
    month_files = [p for p in plan.files if p != MEMBERS_FILE]
    if not existing and not any(p in included for p in month_files):
        later = [d for d in documents if d.kind == "invoice" and d.period > plan.month]
        if later:
            raise InputError.at(
                f"{later[0].period} is already invoiced ({later[0].number}); {plan.month} cannot be billed after it",
                file=later[0].file,
                line=later[0].line,
                fix="run the months in order; to change an invoiced month use `eage run YYYY-MM --correct`",
            )
        previous = month.previous()
        invoiced = {d.period for d in documents if d.kind == "invoice"}
        if has_timesheet(inputs, previous) and str(previous) not in invoiced:
            raise InputError.at(
                f"{previous} has a timesheet but was not run: months are billed in order",
                file=f"ledger/timesheets/{previous}.csv",
                fix=f"run `eage run {previous}` first",
            )
        return "new"
    stem = correction_stem(month) + "-"
    corrected = any(p.startswith(stem) for p in included)
    same = all(
        p in included and inputs.generated.get(p) == text
        for p, text in plan.files.items()
        if p in month_files
    )
    if same and not corrected:
        return "unchanged"
    changes = []
    new_by_member = {inv.member_id: inv.gross_total for inv in plan.invoices}
    for member in sorted(set(billed) | set(new_by_member)):
        old_total = billed.get(member, ZERO)
        new_total = new_by_member.get(member, ZERO)
        if old_total != new_total:
            changes.append(f"{member}: {old_total} -> {new_total} EUR")
    payroll_rel = generated_path(month, "payroll")
    same_payroll = inputs.generated.get(payroll_rel) == plan.files.get(payroll_rel)
    if not changes and corrected and same_payroll:
        # The allocation file keeps the original invoices; the correction files hold the rest. What the
        # month's runs last billed per member is what the inputs give: nothing to do.
        return "unchanged"
    year_to_date = frozenset(p.service for p in plan.result.pools if p.before is not None)
    if year_to_date and same_payroll:
        # Only the rate to date moved (an earlier month was corrected): the month's own inputs are those
        # it was billed on, and the close settles the year-to-date pools on the year's cost and hours.
        revenue = inputs.rules.accounts.revenue
        if not year_to_date_mismatches(plan.result, documents, revenue, year_to_date):
            return "unchanged"
    detail = "; ".join(changes) if changes else "the generated entries differ (payroll or hours)"
    raise InputError.at(
        f"{plan.month} is already invoiced and its inputs changed ({detail})",
        file=f"ledger/timesheets/{plan.month}.csv",
        fix=f"issue credit notes and replacement invoices with `eage run {plan.month} --correct`",
    )


def render_documents(
    inputs: Inputs, plan: MonthPlan, progress: Progress = no_progress, *, pool: RenderPool | None = None
) -> None:
    """Render the month's invoice PDFs (with Factur-X XML) and payslip PDFs into ``plan.documents``.

    ``pool``: where they are laid out (see :mod:`eage.render_pool`); by default a pool sized for the
    month, from :func:`render_pool_for`.
    """
    if pool is None:
        check_before_rendering(inputs, plan.invoices)  # before any worker is started
        with render_pool_for(plan) as own:
            queue_documents(inputs, plan, own, checked=True).collect(progress)
        return
    queue_documents(inputs, plan, pool).collect(progress)


@dataclass
class QueuedMonth:
    """A month's documents queued in a render pool (:func:`queue_documents`)."""

    plan: MonthPlan
    payslips: list[tuple[str, Pending[bytes]]]
    invoices: QueuedInvoices

    def collect(self, progress: Progress = no_progress) -> None:
        """Read every document, in order, into ``plan.documents`` (the first invalid invoice stops)."""
        plan = self.plan
        plan.documents.update(self.invoices.collect(progress))
        plan.documents.update({rel: job.result() for rel, job in self.payslips})
        plan.documents[f"reports/{plan.month}/invoices.csv"] = invoices_csv(plan.invoices).encode("utf-8")


def queue_documents(
    inputs: Inputs, plan: MonthPlan, pool: RenderPool, *, checked: bool = False
) -> QueuedMonth:
    """Queue every document of the month in ``pool``; ``checked``: :func:`check_before_rendering` was made.

    Every job is queued before the first result is read: the payslips (the longest jobs) first, then
    the invoices, so the two workers finish together. In process, each renders when it is read.
    """
    if not checked:
        check_before_rendering(inputs, plan.invoices)
    payslips = payslip_jobs(inputs, Month.parse(plan.month), plan.payslips, pool)
    return QueuedMonth(plan, payslips, queue_invoice_documents(inputs, plan.invoices, pool, checked=True))


def render_pool_for(plan: MonthPlan) -> RenderPool:
    """A pool sized for the month's documents: its invoices and its payslips."""
    return _documents_pool(len(plan.invoices) + len(plan.payslips))


def _documents_pool(count: int) -> RenderPool:
    from eage.invoicing.pdf import warm_up_documents

    return RenderPool(count, warm_up=warm_up_documents)


def load_month(root: Path, month: Month, *, after_rules: Callable[[Rules], None] | None = None) -> Inputs:
    """The inputs of ``month``'s run: rules, ledger (lock checked), the month's timesheet and variables,
    the year's earlier hours for a year-to-date pool (``after_rules``: see :func:`load_inputs`)."""
    return with_year_to_date(with_months(load_inputs(root, after_rules=after_rules), [month]), month)


class _EarlyPool:
    """The render pool of a real run, started as soon as the rules say how large the month can be (one
    invoice per member, one payslip per employee), so that the workers warm up while the ledger loads.

    :meth:`for_plan` keeps it when it has the number of workers the planned month needs, else replaces it
    (a month with fewer documents than the estimate renders in process, as it always did).
    """

    def __init__(self) -> None:
        self.pool: RenderPool | None = None

    def start(self, rules: Rules) -> None:
        estimate = len(rules.members.members) + len(rules.staff.employees)
        if render_workers(estimate) > 1:
            self.pool = _documents_pool(estimate)

    def for_plan(self, plan: MonthPlan) -> RenderPool:
        count = len(plan.invoices) + len(plan.payslips)
        if self.pool is not None and self.pool.workers == render_workers(count):
            pool, self.pool = self.pool, None
            return pool
        self.close()
        return _documents_pool(count)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close(wait=False)  # nothing was queued: its workers exit once warmed up
            self.pool = None


def run_month(
    root: Path, month: Month | str, *, dry_run: bool = False, progress: Progress = no_progress
) -> MonthPlan:
    """The month's run; ``dry_run``: every check the real run makes, in memory, and nothing written."""
    if isinstance(month, str):
        month = Month.parse(month)
    with _fewer_collections():
        return _run_month(root, month, dry_run=dry_run, progress=progress)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector less often while a run loads and plans: the ledger's load
    allocates millions of objects that live as long as the command, and the collections they triggered
    (every 700 allocations, each generation walked again and again) cost a fifth of the load."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run_month(root: Path, month: Month, *, dry_run: bool, progress: Progress) -> MonthPlan:
    if dry_run:
        inputs = load_month(root, month)
        plan = plan_month(inputs, month)
        if plan.status == "unchanged":
            return plan
        raise_if(unopened_rule_accounts(inputs.rules, inputs.payroll, inputs.ledger))
        validate_plan(inputs, plan)
        raise_if(invoice_xml_problems(inputs, plan.invoices))
        plan.warnings = placeholder_problems(root)
        return plan
    early = _EarlyPool()
    try:
        inputs = load_month(root, month, after_rules=early.start)
        plan = plan_month(inputs, month)
        if plan.status == "unchanged":
            return plan
        raise_if(unopened_rule_accounts(inputs.rules, inputs.payroll, inputs.ledger))
        # Placeholders and a group's own template are refused before any document is queued.
        check_before_rendering(inputs, plan.invoices)
        pool = early.for_plan(plan)
    finally:
        early.close()
    with pool:
        # Every document is queued before the new entries are checked against the ledger, so the workers
        # render while this process checks. A failed check leaves the pool (the jobs not started are
        # dropped): the documents are bytes in memory until the commit, so nothing is written.
        queued = queue_documents(inputs, plan, pool, checked=True)
        validate_plan(inputs, plan)
        queued.collect(progress)
    commit_plan(inputs, plan)
    return plan


def plan_for(root: Path, month: Month | str) -> MonthPlan:
    """Load ``month``'s inputs and plan it (what a dry run computes before its checks), for tools and tests."""
    if isinstance(month, str):
        month = Month.parse(month)
    return plan_month(load_month(root, month), month)
