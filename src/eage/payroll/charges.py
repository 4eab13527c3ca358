"""What a month's payroll owes, to whom, by when, and what the bank has paid of it (pure: no file is read).

The amounts are the payroll journal's: for each body, what the month's entries of ``kind: "payroll"``
credit to its account (rules/payroll/accounts.yaml: urssaf 431, agirc_arrco 4372, prevoyance 4373, the
withholding 4421, sie 447), net of the reductions the same journal debits there. The due dates come from
rules/payroll/echeances.yaml (:class:`EcheancesFile`, dated and cited) and the group's headcount.

What is paid: the debits to the body's account by any entry that is not the payroll's (the bank's
payments), each cleared against the months it can settle in order, oldest first (FIFO): a payment dated
on or after a month's last day (the payroll journal's date; salaries are paid that day) settles that
month; a payment the bank import tagged ``settles: "YYYY-MM"`` settles that month first, then, for what
is left, the oldest. A payment never clears more than a month owes: what is left over stays unallocated
(an advance, or a payment of something the payroll did not post). An opening balance (``kind:
"opening"``) credited to a body's account is owed as the month before it.

``today`` is always passed in: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import Field, model_validator

from eage.errors import InputError
from eage.money import cents
from eage.month import Month
from eage.payroll.dsn.model import DsnIdentifiers
from eage.rules.base import Strict
from eage.rules.dated import NotInForce
from eage.rules.loader import Flag, Number
from eage.rules.parameters import Parameter, Units, UnitsChecked

T = TypeVar("T")
ZERO = Decimal(0)
ECHEANCES_FILE = "echeances.yaml"

#: The bodies a month's payroll pays, in the order the schedule lists them, and the key of their account
#: in rules/payroll/accounts.yaml (``organisations.<key>``, or the top-level ``pas``).
BODIES: tuple[str, ...] = ("urssaf", "agirc_arrco", "prevoyance", "pas", "sie")

Status = Literal["à payer", "payé", "en retard"]
TO_PAY: Status = "à payer"
PAID: Status = "payé"
LATE: Status = "en retard"


# --- rules/payroll/echeances.yaml -------------------------------------------------------------------


class Calendar(Parameter[T], Generic[T]):
    """A body's calendar: its label (what the table shows), the text that sets it, its dated values;
    ``confirmed: false`` when the reference was not read in the text itself (a secondary source)."""

    label: Annotated[str, Field(min_length=1)]
    description: str
    reference: Annotated[str, Field(min_length=1)]
    confirmed: bool = True


Day = Annotated[int, Field(ge=1, le=28)]


class UrssafDays(Strict):
    threshold: Annotated[int, Field(ge=1)]
    day_at_or_above: Day
    day_below: Day


class Periodic(Strict):
    """A payment per month or per quarter, on ``day`` of the month after the period (None: the DSN's due
    date)."""

    periodicity: Literal["monthly", "quarterly"] = "monthly"
    day: Day | None = None


class PasDays(Strict):
    days_after_dsn: Annotated[int, Field(ge=0, le=20)]


class TssCalendar(Strict):
    yearly_below: Annotated[Number, Field(ge=0)]
    monthly_above: Annotated[Number, Field(ge=0)]
    day: Day

    @model_validator(mode="after")
    def _ordered(self) -> TssCalendar:
        if self.yearly_below > self.monthly_above:
            raise ValueError("yearly_below is above monthly_above")
        return self


class EcheancesFile(UnitsChecked):
    """rules/payroll/echeances.yaml."""

    UNITS: ClassVar[dict[str, Units]] = {
        "urssaf": {"threshold": "count", "day_at_or_above": "number", "day_below": "number"},
        "agirc_arrco": {"day": "number"},
        "pas": {"days_after_dsn": "days"},
        "prevoyance": {"day": "number"},
        "sie": {"yearly_below": "eur_per_year", "monthly_above": "eur_per_year", "day": "number"},
        "report_jour_ouvrable": "code",
    }
    #: Which of rules/group.yaml ``employer.headcounts`` the thresholds read (``headcount`` when absent).
    headcount: Literal["fnal", "peec", "rgdu", "overtime_deduction", "forfait_social"] = "fnal"
    urssaf: Calendar[UrssafDays]
    agirc_arrco: Calendar[Periodic]
    pas: Calendar[PasDays]
    prevoyance: Calendar[Periodic]
    sie: Calendar[TssCalendar]
    #: Whether a due date on a Saturday, a Sunday or a public holiday moves to the next working day.
    report_jour_ouvrable: Calendar[Flag] | None = None

    def label(self, body: str) -> str:
        calendar: Calendar[object] = getattr(self, body)
        return calendar.label


# --- the ledger's movements on the bodies' accounts ----------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One posting on a body's account, as the ledger holds it (credit negative)."""

    date: dt.date
    account: str
    amount: Decimal
    kind: str | None  # the transaction's ``kind``: "payroll", "bank", "opening"…
    settles: Month | None = None  # the bank import's ``settles`` tag
    file: str = "?"
    line: int = 0


def movements_from(transactions: Iterable[Any], accounts: Iterable[str]) -> list[Movement]:
    """The postings on ``accounts`` of loaded transactions, with their ``kind`` and ``settles`` tags.

    ``transactions``: objects shaped as the ledger's (``date``, ``meta``, ``postings`` with ``account``
    and ``units.number``), read by attribute: this module does not import Beancount (only eage.ledger
    does). :meth:`eage.ledger.load.Ledger.transactions` gives them.
    """
    wanted = set(accounts)
    out: list[Movement] = []
    for txn in transactions:
        meta = txn.meta or {}
        kind = meta.get("kind")
        settles: Month | None = None
        if isinstance(meta.get("settles"), str):
            try:
                settles = Month.parse(meta["settles"])
            except ValueError:
                settles = None  # the ledger's plugin and `eage check` report a malformed tag
        for posting in txn.postings:
            if posting.account not in wanted or posting.units is None or posting.units.number is None:
                continue
            out.append(
                Movement(
                    date=txn.date,
                    account=posting.account,
                    amount=Decimal(posting.units.number),
                    kind=None if kind is None else str(kind),
                    settles=settles,
                    file=str(meta.get("filename", "?")),
                    line=int(meta.get("lineno", 0) or 0),
                )
            )
    return out


@dataclass(frozen=True)
class Payment:
    """A debit to a body's account by an entry that is not the payroll's."""

    date: dt.date
    amount: Decimal  # > 0
    settles: Month | None = None


@dataclass(frozen=True)
class Due:
    """What one body is owed for one month, when, and what is paid of it."""

    month: Month
    body: str  # the key: urssaf, agirc_arrco, prevoyance, pas, sie
    name: str  # what a person reads: "Urssaf", or the DSN's organisation name
    ops_id: str | None  # the DSN's identifier of the body, when rules/dsn.yaml gives it
    amount: Decimal
    due: dt.date
    accounts: tuple[str, ...]
    paid: Decimal
    status: Status

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid


# --- due dates ---------------------------------------------------------------------------------------


def dsn_due_date(month: Month, echeances: EcheancesFile, headcount: int) -> dt.date:
    """The DSN's (and the Urssaf's) due date for ``month``: the 5th or the 15th of the next month (CSS
    R243-6 II: 5th from 50 employees when the pay is made in the month of work, as eage's pay date
    always is; 15th otherwise)."""
    days = echeances.urssaf.at(month.last_day)
    day = days.day_at_or_above if headcount >= days.threshold else days.day_below
    nxt = month.next()
    return dt.date(nxt.year, nxt.number, day)


def next_working_day(day: dt.date, holidays: frozenset[dt.date]) -> dt.date:
    """``day``, or the first day after it that is neither a Saturday, a Sunday nor a holiday."""
    while day.weekday() >= 5 or day in holidays:
        day += dt.timedelta(days=1)
    return day


def _quarter_end(month: Month) -> Month:
    return Month(month.year, ((month.number - 1) // 3 + 1) * 3)


def _after_period(month: Month, periodicity: str, day: int) -> dt.date:
    """``day`` of the month after the period ``month`` falls in (a day past that month's end: its last)."""
    if periodicity == "yearly":
        last = Month(month.year, 12)
    elif periodicity == "quarterly":
        last = _quarter_end(month)
    else:
        last = month
    nxt = last.next()
    return dt.date(nxt.year, nxt.number, min(day, nxt.last_day.day))


def tss_periodicity(previous_year_tax: Decimal, calendar: TssCalendar) -> str:
    """CGI ann. III art. 369, 1: by the previous year's tax (below 4 000 EUR yearly, above 10 000 monthly,
    quarterly between)."""
    if previous_year_tax < calendar.yearly_below:
        return "yearly"
    if previous_year_tax > calendar.monthly_above:
        return "monthly"
    return "quarterly"


def due_date(
    body: str,
    month: Month,
    echeances: EcheancesFile,
    headcount: int,
    *,
    due_day: int | None = None,
    previous_year_tax: Decimal = ZERO,
    holidays: frozenset[dt.date] = frozenset(),
) -> dt.date:
    """The date ``body`` must have received what ``month``'s payroll owes it (see :func:`_due_date`),
    moved past Saturdays, Sundays and ``holidays`` when the calendar says so (``report_jour_ouvrable``);
    a month no calendar value covers is a located error."""
    try:
        day = _due_date(
            body, month, echeances, headcount, due_day=due_day, previous_year_tax=previous_year_tax
        )
        report = echeances.report_jour_ouvrable
        if report is not None and report.at(month.last_day):
            day = next_working_day(day, holidays)
        return day
    except NotInForce as exc:
        missing = next(
            (
                k
                for k in ("urssaf", body)
                if not any(s <= month.last_day for s in getattr(echeances, k).values)
            ),
            "report_jour_ouvrable",
        )
        raise InputError.at(
            f"no due-date calendar in force for {month}: {exc}",
            file=f"rules/payroll/{ECHEANCES_FILE}",
            key=f"{missing}.values",
            fix="add a value in force from that month or earlier (with its legal reference)",
        ) from None


def _due_date(
    body: str,
    month: Month,
    echeances: EcheancesFile,
    headcount: int,
    *,
    due_day: int | None = None,
    previous_year_tax: Decimal = ZERO,
) -> dt.date:
    """The date ``body`` must have received what ``month``'s payroll owes it. ``due_day``: the day of the
    next month rules/dsn.yaml gives for the body (an insurer's contract); ``previous_year_tax``: the taxe
    sur les salaires of the year before (its periodicity)."""
    day = month.last_day
    dsn = dsn_due_date(month, echeances, headcount)
    if body == "urssaf":
        return dsn
    if body == "pas":
        return dsn + dt.timedelta(days=echeances.pas.at(day).days_after_dsn)
    if body == "agirc_arrco":
        calendar = echeances.agirc_arrco.at(day)
        if calendar.day is None:
            return dsn
        return _after_period(month, calendar.periodicity, calendar.day)
    if body == "sie":
        tss = echeances.sie.at(day)
        return _after_period(month, tss_periodicity(previous_year_tax, tss), tss.day)
    if body == "prevoyance":
        calendar = echeances.prevoyance.at(day)
        chosen = due_day if due_day is not None else calendar.day
        if chosen is None:
            return dsn
        return _after_period(month, calendar.periodicity, chosen)
    raise ValueError(f"unknown body {body!r}")


# --- FIFO clearing -----------------------------------------------------------------------------------


#: The month an opening balance is owed as: before every payroll month.
def opening_month(day: dt.date) -> Month:
    return Month.of(day).previous()


def clear(owed: Mapping[Month, Decimal], payments: Iterable[Payment]) -> dict[Month, Decimal]:
    """What each month's ``owed`` amount has been paid by ``payments`` (FIFO): payments in date order; a
    payment tagged with a month settles that month first; what is left settles the oldest months whose last
    day it is not dated before. A month is never paid more than it owes; leftovers stay unallocated."""
    remaining = {m: a for m, a in owed.items() if a > 0}
    paid = dict.fromkeys(remaining, ZERO)
    for payment in sorted(payments, key=lambda p: p.date):
        left = payment.amount
        if left <= 0:
            continue
        if payment.settles is not None and remaining.get(payment.settles, ZERO) > 0:
            take = min(left, remaining[payment.settles])
            remaining[payment.settles] -= take
            paid[payment.settles] += take
            left -= take
        for month in sorted(remaining):
            if left <= 0:
                break
            if remaining[month] <= 0 or payment.date < month.last_day:
                continue
            take = min(left, remaining[month])
            remaining[month] -= take
            paid[month] += take
            left -= take
    return paid


# --- the schedule ------------------------------------------------------------------------------------


def body_accounts(organisations: Mapping[str, str], pas_account: str) -> dict[str, str]:
    """Body -> its account (rules/payroll/accounts.yaml), for the bodies the file names."""
    out = {b: organisations[b] for b in BODIES if b in organisations}
    out["pas"] = pas_account
    return {b: out[b] for b in BODIES if b in out}


def owed_by_month(movements: Iterable[Movement], account: str) -> dict[Month, Decimal]:
    """What the payroll (and the opening balance) owes on ``account``, per month: its net credits."""
    out: dict[Month, Decimal] = {}
    for mv in movements:
        if mv.account != account:
            continue
        if mv.kind == "payroll":
            month = Month.of(mv.date)
        elif mv.kind == "opening":
            month = opening_month(mv.date)
        else:
            continue
        out[month] = out.get(month, ZERO) - mv.amount
    return out


def payments_to(movements: Iterable[Movement], account: str) -> list[Payment]:
    """The debits to ``account`` by entries that are neither the payroll's nor the opening's."""
    return [
        Payment(mv.date, mv.amount, mv.settles)
        for mv in movements
        if mv.account == account and mv.kind not in ("payroll", "opening") and mv.amount > 0
    ]


def remaining_by_month(
    movements: Sequence[Movement], account: str, *, before: dt.date
) -> dict[Month, Decimal]:
    """What each month still owes on ``account`` to a payment dated ``before`` (FIFO, as the schedule
    clears): the months it can settle (their last day not after it), with a remaining amount above zero."""
    owed = owed_by_month(movements, account)
    paid = clear(owed, payments_to(movements, account))
    return {m: owed[m] - paid[m] for m in sorted(paid) if owed[m] - paid[m] > 0 and m.last_day <= before}


def _previous_year_tax(owed: Mapping[Month, Decimal], year: int) -> Decimal:
    return sum((a for m, a in owed.items() if m.year == year - 1), ZERO)


def all_dues(
    *,
    echeances: EcheancesFile,
    accounts: Mapping[str, str],
    headcount: int,
    movements: Sequence[Movement],
    today: dt.date,
    identifiers: DsnIdentifiers | None = None,
    holidays: frozenset[dt.date] = frozenset(),
) -> list[Due]:
    """Every month's dues (payroll months with an amount owed), by month then body."""
    out: list[Due] = []
    payroll_months = {Month.of(mv.date) for mv in movements if mv.kind == "payroll"}
    for body in BODIES:
        account = accounts.get(body)
        if account is None:
            continue
        owed = owed_by_month(movements, account)
        paid = clear(owed, payments_to(movements, account))
        org = identifiers.organisations.get(body) if identifiers is not None else None
        for month in sorted(paid):
            if month not in payroll_months:
                # An opening balance is cleared first (FIFO) but is no month of this payroll.
                continue
            amount = cents(owed[month])
            due = due_date(
                body,
                month,
                echeances,
                headcount,
                due_day=org.due_day if org is not None else None,
                previous_year_tax=_previous_year_tax(owed, month.year),
                holidays=holidays,
            )
            settled = cents(paid[month])
            status: Status = PAID if settled >= amount else (LATE if due < today else TO_PAY)
            out.append(
                Due(
                    month=month,
                    body=body,
                    name=org.name if org is not None else echeances.label(body),
                    ops_id=org.ops_id if org is not None else None,
                    amount=amount,
                    due=due,
                    accounts=(account,),
                    paid=settled,
                    status=status,
                )
            )
    out.sort(key=lambda d: (d.month, BODIES.index(d.body)))
    return out


def overdue(dues: Iterable[Due]) -> list[Due]:
    """The dues still owed after their due date."""
    return [d for d in dues if d.status == LATE]


def total(dues: Iterable[Due]) -> Decimal:
    return sum((d.amount for d in dues), ZERO)
