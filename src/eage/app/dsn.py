"""``eage dsn YYYY-MM [--test]``: the month's DSN in reports/dsn/YYYY-MM.dsn, from the posted payroll.

The declaration is built from the payslips :func:`eage.app.run.compute_payroll` gives, the very
computation ``eage run`` posted: the month's payroll journal as the inputs give it must be the one posted
in the ledger (else the month is run or corrected first), and the DSN's amounts per body are checked
against that journal to the cent before anything is written. The file is checked against the norm's
structure (:func:`eage.payroll.dsn.norm.structure_problems`); a fault there is eage's bug, not the user's.

A real DSN once written is the declaration as issued: ``eage dsn`` never rewrites it with other figures.
When an issued month's payroll changes (``eage run YYYY-MM --correct``), the differences are declared in
the next month's DSN, as the norm asks (regularisation blocks dated with the earlier period); the issued
months are read back from reports/dsn/ for that. A test file (``--test``) is not a declaration: it can be
written again. Same inputs, same bytes: the file's constitution date is the month's pay date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from eage.app.inputs import Inputs
from eage.errors import InputError, Problem, raise_if
from eage.month import Month
from eage.payroll.dsn.build import DsnInput, DsnSummary
from eage.payroll.dsn.model import DsnIdentifiers, Rubric
from eage.payroll.month import Payslips
from eage.rules.bundle import Rules

DSN_DIR = "reports/dsn"
#: S10.G00.00.005: "01" essai (test), "02" réel.
TEST_CODE = "01"


@dataclass(frozen=True)
class DsnDone:
    """What ``eage dsn`` wrote (or found already written), and the figures it prints."""

    month: str
    path: Path  # relative to the group's folder
    test: bool
    written: bool  # False: the same bytes were already there
    rubrics: int
    employees: int
    summary: DsnSummary
    #: The keys of rules/payroll/dsn.yaml in force whose codes no text read confirmed (checked before filing).
    unconfirmed: tuple[str, ...] = ()


def dsn_path(root: Path, month: Month) -> Path:
    return root / DSN_DIR / f"{month}.dsn"


def is_test_file(data: bytes) -> bool:
    """Whether an issued file is a test file (S10.G00.00.005 = 01)."""
    return f"S10.G00.00.005,'{TEST_CODE}'".encode("latin-1") in data


def _issued_before(root: Path, month: Month) -> dict[Month, list[Rubric]]:
    """The real DSNs already issued for the months of ``month``'s year before it, read back."""
    from eage.payroll.dsn.lines import parse

    issued: dict[Month, list[Rubric]] = {}
    for earlier in month.earlier_in_year():
        path = dsn_path(root, earlier)
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError.at(
                f"cannot read the issued DSN: {exc.strerror}", file=path, fix="check the file's permissions"
            ) from None
        if is_test_file(data):
            continue
        issued[earlier] = list(parse(data, str(path.relative_to(root))))
    return issued


def dsn_input(
    root: Path,
    inputs: Inputs,
    month: Month,
    payslips: Payslips,
    *,
    identifiers: DsnIdentifiers,
    test: bool,
    created: dt.date,
    issued: Mapping[Month, Sequence[Rubric]] | None = None,
    earlier: Mapping[Month, Payslips] | None = None,
) -> DsnInput:
    """What the builder takes for ``month``: the loaded inputs and payslips, rules/payroll/dsn.yaml's
    codes, each body's payment date (:func:`_due_dates`), the issued months and their payslips now."""
    from eage.payroll.dsn.mapping import load_dsn_mapping
    from eage.payroll.variables import MonthVariables

    return DsnInput(
        month=month,
        rules=inputs.rules,
        payroll=inputs.payroll,
        identifiers=identifiers,
        mapping=load_dsn_mapping(root),
        payslips=payslips,
        timesheet=inputs.timesheet(month),
        variables=inputs.variables.get(month, MonthVariables()),
        test=test,
        created=created,
        software_version=_version(),
        issued=issued or {},
        earlier_payslips=earlier or {},
        due_dates=_due_dates(root, inputs.rules, identifiers, month),
    )


def build_month(root: Path, month: Month, *, test: bool) -> tuple[bytes, DsnDone]:
    """The month's DSN, checked (nothing written)."""
    from eage.app.inputs import load_inputs, with_months
    from eage.app.run import compute_payroll
    from eage.ledger.model import Txn
    from eage.ledger.render import render_file
    from eage.payroll.dsn.build import build_dsn, dsn_summary, reconcile
    from eage.payroll.dsn.identifiers import load_dsn_identifiers
    from eage.payroll.dsn.lines import render
    from eage.payroll.dsn.mapping import unconfirmed_codes
    from eage.payroll.dsn.norm import structure_problems
    from eage.payroll.month import earlier_payslips

    inputs = with_months(load_inputs(root), [month])
    rules, payroll = inputs.rules, inputs.payroll
    if not rules.staff.employees:
        raise InputError.at(
            "the group has no staff: there is no DSN to build",
            file="rules/staff.yaml",
            fix="a month without employees is declared 'néant' by the group's payroll provider",
        )
    identifiers = load_dsn_identifiers(root, rules, payroll)
    payslips, payroll_rel, journal = compute_payroll(inputs, month)
    posted = inputs.generated.get(payroll_rel)
    if posted is None or payroll_rel not in inputs.included:
        raise InputError.at(
            f"the payroll of {month} is not posted",
            file=f"ledger/{payroll_rel}",
            fix=f"run `eage run {month}` first: the DSN declares the payroll the ledger holds",
        )
    if posted != render_file(journal):
        raise InputError.at(
            f"the payroll posted for {month} differs from what its inputs give",
            file=f"ledger/{payroll_rel}",
            fix=f"post the payroll the inputs give with `eage run {month} --correct`, then build the DSN",
        )
    pay_date = rules.group.employer.payment.date_for(month.year, month.number)
    issued = _issued_before(root, month)
    earlier: dict[Month, Payslips] = {}
    if issued:
        # The year's earlier months as the inputs give them now: what differs from their issued DSN is
        # declared in this month's (the norm's correction), from the same sequence as the month's payroll.
        sequence = earlier_payslips(
            rules, payroll, month, inputs.variables, inputs.leave_opening, inputs.contracts
        )
        months = list(month.earlier_in_year())[len(list(month.earlier_in_year())) - len(sequence) :]
        earlier = dict(zip(months, sequence, strict=True))
    inp = dsn_input(
        root,
        inputs,
        month,
        payslips,
        identifiers=identifiers,
        test=test,
        created=pay_date,
        issued=issued,
        earlier=earlier,
    )
    lines = build_dsn(inp)
    target = dsn_path(root, month)
    shown = str(target.relative_to(root))
    faults = structure_problems(lines, source=shown)
    if faults:
        # eage's own output failing the norm is a bug, not bad input: keep the traceback.
        raise RuntimeError("generated DSN fails the norm's structure:\n" + "\n".join(map(str, faults)))
    summary = dsn_summary(lines)
    mismatches = reconcile(summary, [e for e in journal.entries if isinstance(e, Txn)], payroll.accounts)
    if mismatches:
        raise RuntimeError(
            "generated DSN differs from the payroll journal:\n" + "\n".join(map(str, mismatches))
        )
    data = render(lines)
    done = DsnDone(
        month=str(month),
        path=Path(shown),
        test=test,
        written=False,
        rubrics=len(lines),
        employees=len(payslips),
        summary=summary,
        unconfirmed=tuple(unconfirmed_codes(inp.mapping, month.last_day)),
    )
    return data, done


def write_month(root: Path, month: Month | str, *, test: bool = False) -> DsnDone:
    """Build the month's DSN and write it to reports/dsn/YYYY-MM.dsn (atomically), unless the same bytes
    are already there; a real DSN already issued with other figures is never rewritten."""
    from eage.ledger.store import atomic_write

    if isinstance(month, str):
        month = Month.parse(month)
    data, done = build_month(root, month, test=test)
    target = dsn_path(root, month)
    try:
        existing = target.read_bytes() if target.is_file() else None
    except OSError as exc:
        raise InputError.at(
            f"cannot read the DSN already there: {exc.strerror}", file=done.path, fix="check its permissions"
        ) from None
    if existing == data:
        return done
    if existing is not None and not is_test_file(existing):
        nxt = month.next()
        raise_if([_issued_problem(done.path, month, nxt, "test" if test else "real")])
    atomic_write(target, data, root=root)
    return dataclasses.replace(done, written=True)


def _issued_problem(path: Path, month: Month, nxt: Month, kind: str) -> Problem:
    what = (
        f"the DSN of {month} was issued with other figures"
        if kind == "real"
        else f"the DSN of {month} was issued: a test file does not replace it"
    )
    return Problem(
        what,
        file=str(path),
        fix=(
            f"an issued DSN is not rewritten: the norm declares the correction in the next month's DSN "
            f"(run `eage dsn {nxt}`; its regularisation blocks carry {month}'s differences)"
        ),
    )


def _due_dates(root: Path, rules: Rules, identifiers: DsnIdentifiers, month: Month) -> dict[str, dt.date]:
    """The day each body is paid (S21.G00.20.011): its due date, rules/payroll/echeances.yaml (the
    calendars ``eage charges`` reads), the direct debits (mode 05) taking the money on that day."""
    from eage.app.charges import headcount_for, load_echeances, public_holidays
    from eage.payroll.charges import due_date

    echeances = load_echeances(root / "rules")
    headcount = headcount_for(rules, echeances)
    holidays = public_holidays(root / "rules" / "payroll")
    out: dict[str, dt.date] = {}
    for key, organisation in identifiers.organisations.items():
        out[key] = due_date(key, month, echeances, headcount, due_day=organisation.due_day, holidays=holidays)
    return out


def _version() -> str:
    try:
        return metadata.version("eage")
    except metadata.PackageNotFoundError:
        return "0"
