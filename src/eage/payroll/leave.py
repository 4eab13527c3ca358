"""Paid leave (congés payés): the rules of rules/payroll/conges.yaml, the counters taken over from before
eage (ledger/payroll/leave-balances.yaml) and the pure functions of one employee's month.

The law is data (conges.yaml, each value with its reference): 2.5 jours ouvrables acquired per month of
work, 30 at most per reference period (C. trav. L3141-3); the reference period from 1 June to 31 May
(R3141-4); sick leave acquiring 2 days a month up to 24 when not professional, as work when professional
(L3141-5, L3141-5-1, loi 2024-364); the days counted in jours ouvrables (Monday to Saturday, without the
public holidays of L3133-1, a list per year).

One employee's month, in order (:func:`plan_month` then :func:`close_month`):

1. on the first day of a reference period, the counters roll over: N becomes N-1 (its acquired days
   rounded up to the whole day, L3141-7), a fresh N starts, and what was left of the old N-1 is lost,
   unless the employee was on sick leave during its taking period: then it is carried over 15 months
   (L3141-19-1, see :func:`rolled_over` for the date it runs from);
2. the leave taken this month (its jours ouvrables) is drawn from the days carried over after a sick
   leave first, then N-1, then N when the rules allow anticipated leave; beyond, it is refused
   (:class:`BeyondBalance`);
3. the indemnity of the days taken is the larger of the salary maintained (the contract's monthly salary
   / the month's jours ouvrables x days, the "jours ouvrables réels" method; it is also the salary
   deducted as absence) and the one-tenth (the reference period's gross, previous indemnities included,
   / 10 x days taken / days acquired of that period) (L3141-24 I and II);
4. when the contract ends in the month, the whole balance is paid as the indemnité compensatrice
   (L3141-28), valued day by day as the provision is, and the counters fall to zero;
5. the month's acquisition is credited (work, sick leave by kind, pro rata of the month's jours ouvrables
   under contract), the month's gross added to period N's (without its primes when conges.yaml's
   ``primes_hors_dixieme`` says so: bonuses that leave does not reduce stay out of the one-tenth);
6. the valued balance at month end (the dette provisionnée, 4282): each period's balance x the larger of
   its one-tenth per day and the monthly salary / ``jours_par_mois``; its employer contributions (4382) at
   the month's employer rate (employer contributions / gross of the payslip), rounded to the cent.

The pay during sick leave is out of scope (the engine pays the contract's salary); sick leave only
changes the acquisition here, and the one-tenth base does not apply the 80 % of L3141-24 I 4°.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, ClassVar, Generic, Literal, TypeVar

from pydantic import Field, model_validator

from eage.errors import InputError, Problem, raise_if
from eage.money import ZERO, cents
from eage.month import Month
from eage.rules.base import Strict
from eage.rules.dated import Day, NotInForce
from eage.rules.loader import Flag, Located, Number, load_located, load_model
from eage.rules.parameters import Parameter, Units, UnitsChecked

T = TypeVar("T")

CONGES_FILE = "conges.yaml"
CONGES_REL = f"rules/payroll/{CONGES_FILE}"
BALANCES_REL = "ledger/payroll/leave-balances.yaml"
#: Counters of days are shown and summed with two decimals.
DAYS = Decimal("0.01")
TEN = Decimal(10)
SUNDAY = 6  # dt.date.weekday()

SickKind = Literal["non_professional", "professional"]
#: conges.yaml's ``arrondi`` as a Decimal rounding (L3141-7: up to the whole day).
ROUNDINGS = {"up": ROUND_CEILING}

Days = Annotated[Number, Field(ge=0, le=100, decimal_places=2)]
Positive = Annotated[Number, Field(gt=0)]


def days(value: Decimal) -> Decimal:
    """A count of days with two decimals."""
    return value.quantize(DAYS, rounding=ROUND_HALF_UP)


# --- rules/payroll/conges.yaml ------------------------------------------------------------------------


class Dated(Parameter[T], Generic[T]):
    """A parameter of conges.yaml: what it is, its unit, the text that sets it and its dated values."""

    description: str
    reference: Annotated[str, Field(min_length=1)]


class Acquisition(Strict):
    per_month: Positive
    max_per_period: Positive


class Maladie(Strict):
    non_professional_per_month: Annotated[Number, Field(ge=0)]
    non_professional_max_per_period: Annotated[Number, Field(ge=0)]
    professional_per_month: Annotated[Number, Field(ge=0)]


class PeriodeReference(Strict):
    start_month: Annotated[int, Field(ge=1, le=12)]
    start_day: Annotated[int, Field(ge=1, le=28)]


class ReportMaladie(Strict):
    months: Annotated[int, Field(ge=1, le=60)]


class Valorisation(Strict):
    jours_par_mois: Annotated[Number, Field(ge=20, le=31)]
    #: Whether the month's primes (6413: bonuses not affected by the leave) stay out of the one-tenth base.
    primes_hors_dixieme: Flag


class CongesFile(UnitsChecked):
    """rules/payroll/conges.yaml; each parameter must declare the unit eage reads it in."""

    UNITS: ClassVar[dict[str, Units]] = {
        "acquisition": {"per_month": "days", "max_per_period": "days"},
        "maladie": {
            "non_professional_per_month": "days",
            "non_professional_max_per_period": "days",
            "professional_per_month": "days",
        },
        "periode_reference": {"start_month": "number", "start_day": "number"},
        "anticipation": "code",
        "arrondi": "code",
        "valorisation": {"jours_par_mois": "days"},
        "report_maladie": {"months": "months"},
        "jours_feries": "code",
    }
    acquisition: Dated[Acquisition]
    maladie: Dated[Maladie]
    periode_reference: Dated[PeriodeReference]
    anticipation: Dated[Flag]
    arrondi: Dated[Literal["up"]]
    valorisation: Dated[Valorisation]
    report_maladie: Dated[ReportMaladie]
    jours_feries: Dated[list[Day]]

    @model_validator(mode="after")
    def _holidays_of_their_year(self) -> CongesFile:
        for start, holidays in self.jours_feries.values.items():
            if (start.month, start.day) != (1, 1):
                raise ValueError(f"jours_feries: {start} is not a 1 January (one list per calendar year)")
            strays = [str(d) for d in holidays if d.year != start.year]
            if strays:
                raise ValueError(f"jours_feries.{start}: {', '.join(strays)} not in {start.year}")
        return self


@dataclass(frozen=True)
class CongesRules:
    """The validated conges.yaml, and lookups at a date that name the file and key when nothing is in
    force (a payslip of a month the rules do not cover is refused, never computed with stale values)."""

    file: CongesFile

    def _at(self, key: str, param: Parameter[T], day: dt.date) -> T:
        try:
            return param.at(day)
        except NotInForce as exc:
            raise InputError.at(
                f"{key}: {exc}", file=CONGES_REL, key=key, fix="add a value in force at that date"
            ) from None

    def acquisition(self, day: dt.date) -> Acquisition:
        return self._at("acquisition", self.file.acquisition, day)

    def maladie(self, day: dt.date) -> Maladie:
        return self._at("maladie", self.file.maladie, day)

    def anticipation(self, day: dt.date) -> bool:
        return self._at("anticipation", self.file.anticipation, day)

    def rounding(self, day: dt.date) -> str:
        """The Decimal rounding of the days acquired at the end of a reference period (``arrondi``)."""
        return ROUNDINGS[self._at("arrondi", self.file.arrondi, day)]

    def report_months(self, day: dt.date) -> int:
        return self._at("report_maladie", self.file.report_maladie, day).months

    def primes_hors_dixieme(self, day: dt.date) -> bool:
        return self._at("valorisation", self.file.valorisation, day).primes_hors_dixieme

    def jours_par_mois(self, day: dt.date) -> Decimal:
        return self._at("valorisation", self.file.valorisation, day).jours_par_mois

    def holidays(self, year: int) -> frozenset[dt.date]:
        """The public holidays of ``year``: its own list, or a located refusal."""
        listed = self.file.jours_feries.values.get(dt.date(year, 1, 1))
        if listed is None:
            raise InputError.at(
                f"no public holidays for {year}",
                file=CONGES_REL,
                key="jours_feries",
                fix=f"add the list of {year} under jours_feries.values.{year}-01-01 (Code du travail L3133-1)",
            )
        return frozenset(listed)

    def period_of(self, day: dt.date) -> tuple[dt.date, dt.date]:
        """The reference period holding ``day``: its first and last days."""
        rule = self._at("periode_reference", self.file.periode_reference, day)
        start = dt.date(day.year, rule.start_month, rule.start_day)
        if start > day:
            start = dt.date(day.year - 1, rule.start_month, rule.start_day)
        following = dt.date(start.year + 1, rule.start_month, rule.start_day)
        return start, following - dt.timedelta(days=1)

    def ouvrables(self, first: dt.date, last: dt.date) -> int:
        """The jours ouvrables from ``first`` to ``last`` included: Monday to Saturday, not a public holiday."""
        count = 0
        day = first
        holidays: dict[int, frozenset[dt.date]] = {}
        while day <= last:
            if day.weekday() != SUNDAY:
                if day.year not in holidays:
                    holidays[day.year] = self.holidays(day.year)
                if day not in holidays[day.year]:
                    count += 1
            day += dt.timedelta(days=1)
        return count


def load_conges(rules_dir: Path) -> CongesRules:
    """rules/payroll/conges.yaml under ``rules_dir`` (rules/payroll/), validated, problems located."""
    return CongesRules(load_model(rules_dir / CONGES_FILE, CongesFile))


# --- the counters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaveCounters:
    """What the payslip shows (jours ouvrables, 2 decimals) and the journal books (EUR)."""

    period_n1: str  # e.g. "2025-06-01/2026-05-31"
    acquired_n1: Decimal
    taken_n1: Decimal
    balance_n1: Decimal
    period_n: str
    acquired_n: Decimal
    taken_n: Decimal
    balance_n: Decimal
    taken_this_month: tuple[tuple[dt.date, dt.date], ...]  # the month's leave ranges
    provision: Decimal  # valued balance (N-1 + N) at month end, gross, EUR, 2 decimals
    provision_charges: Decimal  # the employer contributions on it, EUR
    provision_before: Decimal
    provision_charges_before: Decimal
    #: Leave carried over because sickness prevented taking it (L3141-19-1), and its last day.
    carried_balance: Decimal = ZERO
    carried_until: dt.date | None = None


@dataclass(frozen=True)
class PeriodCounter:
    """One reference period's counters: days acquired and taken, the gross paid in it (the one-tenth
    base), and the days acquired at the sick-leave rate (their own cap, L3141-5-1)."""

    start: dt.date
    end: dt.date
    acquired: Decimal = ZERO
    taken: Decimal = ZERO
    gross: Decimal = ZERO
    sick_acquired: Decimal = ZERO
    sick_days: int = 0  # jours ouvrables of sick leave (any kind) in the period's span

    @property
    def balance(self) -> Decimal:
        return self.acquired - self.taken

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    def tenth_per_day(self) -> Decimal:
        """The one-tenth of the period's gross, per day acquired (unrounded); 0 before any acquisition."""
        return self.gross / TEN / self.acquired if self.acquired > 0 else ZERO


@dataclass(frozen=True)
class LeaveState:
    """One employee's counters at a month end, and the provision booked then."""

    n1: PeriodCounter
    n: PeriodCounter
    provision: Decimal = ZERO
    provision_charges: Decimal = ZERO
    #: Days of earlier periods carried over after a sick leave (L3141-19-1), usable until ``carried_until``.
    carried: PeriodCounter | None = None
    carried_until: dt.date | None = None

    def periods(self) -> tuple[PeriodCounter, ...]:
        """The counters that hold days to take, the oldest first."""
        return (self.n1, self.n) if self.carried is None else (self.carried, self.n1, self.n)


def fresh_state(conges: CongesRules, day: dt.date) -> LeaveState:
    """Counters at zero for an employee whose first day under contract (or under eage) is ``day``."""
    start, end = conges.period_of(day)
    before_start, before_end = conges.period_of(start - dt.timedelta(days=1))
    return LeaveState(PeriodCounter(before_start, before_end), PeriodCounter(start, end))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = Month.of(day)
    for _ in range(months):
        month = month.next()
    return min(dt.date(month.year, month.number, 1) + dt.timedelta(days=day.day - 1), month.last_day)


def _merged(carried: PeriodCounter | None, old: PeriodCounter) -> PeriodCounter:
    """``old``'s balance added to the days already carried, each day keeping its one-tenth value."""
    if carried is None or carried.balance <= 0:
        return dataclasses.replace(
            old, acquired=old.balance, taken=ZERO, gross=old.tenth_per_day() * TEN * old.balance
        )
    total = carried.balance + old.balance
    gross = TEN * (carried.tenth_per_day() * carried.balance + old.tenth_per_day() * old.balance)
    return PeriodCounter(carried.start, old.end, total, ZERO, gross)


def rolled_over(conges: CongesRules, state: LeaveState, day: dt.date) -> LeaveState:
    """``state`` on ``day``: for each reference period that started since, N becomes N-1 with its days
    rounded up to the whole day (L3141-7), a fresh N starts, and the old N-1's balance is lost, unless
    the employee was on sick leave during its taking period (the span of the old N): then it is carried
    over for ``report_maladie`` months from the end of that taking period (L3141-19-1; the law counts
    them from the information given after the return to work, L3141-19-3: eage counts from the end of
    the taking period, as L3141-19-2 does for a suspension of a year or more). Carried days past their
    last day are lost."""
    while state.n.end < day:
        old = state.n
        acquired = old.acquired.to_integral_value(rounding=conges.rounding(old.end))
        start, end = conges.period_of(old.end + dt.timedelta(days=1))
        carried, until = state.carried, state.carried_until
        if carried is not None and until is not None and until < start:
            carried, until = None, None
        if state.n1.balance > 0 and old.sick_days > 0:
            carried = _merged(carried, state.n1)
            until = add_months(old.end, conges.report_months(old.end))
        state = dataclasses.replace(
            state,
            n1=dataclasses.replace(old, acquired=days(acquired)),
            n=PeriodCounter(start, end),
            carried=carried,
            carried_until=until,
        )
    if state.carried is not None and state.carried_until is not None and state.carried_until < day:
        state = dataclasses.replace(state, carried=None, carried_until=None)
    return state


class BeyondBalance(Exception):
    """Leave taken beyond what the counters allow (the caller locates it in the variables file)."""

    def __init__(self, wanted: Decimal, available: Decimal, anticipation: bool) -> None:
        self.wanted = wanted
        self.available = available
        self.anticipation = anticipation
        super().__init__(f"{wanted} jours ouvrables wanted, {available} available")


@dataclass(frozen=True)
class MonthPlan:
    """What one employee's month takes from the counters and pays, before the payslip is computed."""

    state: LeaveState  # rolled over, the days taken and the indemnity's days drawn
    ranges: tuple[tuple[dt.date, dt.date], ...]
    days_taken: Decimal
    absence: Decimal  # the salary deducted for the leave taken (>= 0)
    indemnity: Decimal  # indemnité de congés payés, and the indemnité compensatrice when the contract ends
    acquired: Decimal  # acquired this month (credited in the plan's state)
    sick_acquired: Decimal  # of which at the non-professional sick-leave rate


def month_acquisition(
    conges: CongesRules,
    month: Month,
    contract_start: dt.date,
    contract_end: dt.date | None,
    sick: Iterable[tuple[dt.date, dt.date, SickKind]],
    period: PeriodCounter,
) -> tuple[Decimal, Decimal]:
    """The days acquired in ``month`` and, of them, those at the non-professional sick-leave rate.

    A month of work acquires ``per_month`` (paid leave counts as work, L3141-5 1°); its jours ouvrables
    of sick leave acquire at their own rate: ``professional_per_month`` (the rate of work, L3141-5 5°),
    ``non_professional_per_month`` (L3141-5-1); a month partly under contract acquires pro rata of its jours ouvrables under contract.
    The caps: the sick-leave part at ``non_professional_max_per_period``, the period at ``max_per_period``.
    """
    first, last = month.first_day, month.last_day
    in_month = conges.ouvrables(first, last)
    start = max(first, contract_start)
    end = min(last, contract_end) if contract_end is not None else last
    if end < start or not in_month:
        return ZERO, ZERO
    rule = conges.acquisition(first)
    sick_rule = conges.maladie(first)
    under_contract = conges.ouvrables(start, end)
    sick_days = {"non_professional": 0, "professional": 0}
    for a, b, kind in sick:
        if max(a, start) <= min(b, end):
            sick_days[kind] += conges.ouvrables(max(a, start), min(b, end))
    np_days = min(sick_days["non_professional"], under_contract)
    pro_days = min(sick_days["professional"], under_contract - np_days)
    worked = Decimal(under_contract - np_days - pro_days) / in_month
    sick_part = days(sick_rule.non_professional_per_month * np_days / in_month)
    sick_part = max(ZERO, min(sick_part, sick_rule.non_professional_max_per_period - period.sick_acquired))
    total = days(rule.per_month * worked + sick_rule.professional_per_month * pro_days / in_month) + sick_part
    room = max(ZERO, rule.max_per_period - period.acquired)
    if total > room:
        sick_part = min(sick_part, room)
        total = room
    return total, sick_part


def plan_month(
    conges: CongesRules,
    state: LeaveState,
    month: Month,
    *,
    monthly_salary: Decimal,
    contract_start: dt.date,
    contract_end: dt.date | None,
    leave: Sequence[tuple[dt.date, dt.date]],
    sick: Sequence[tuple[dt.date, dt.date, SickKind]] = (),
) -> MonthPlan:
    """One employee's month, steps 1 to 5 of the module docstring (the payslip comes next).

    ``monthly_salary``: the contract's monthly gross (the maintien's base). Raises :class:`BeyondBalance`.
    """
    first, last = month.first_day, month.last_day
    state = rolled_over(conges, state, first)
    taken = Decimal(sum(conges.ouvrables(a, b) for a, b in leave))
    carried, n1, n = state.carried, state.n1, state.n
    anticipation = conges.anticipation(first)
    from_carried = min(taken, max(carried.balance, ZERO)) if carried is not None else ZERO
    open_n1 = max(n1.balance, ZERO)
    if taken - from_carried > open_n1 and not anticipation:
        raise BeyondBalance(taken, from_carried + open_n1, anticipation)
    from_n1 = min(taken - from_carried, open_n1)
    from_n = taken - from_carried - from_n1  # with anticipation, N may go negative: the counter shows it
    absence = indemnity = ZERO
    if taken:
        in_month = conges.ouvrables(first, last)
        maintien = cents(min(monthly_salary, monthly_salary * taken / in_month))
        tenth = n1.tenth_per_day() * from_n1 + n.tenth_per_day() * from_n
        if carried is not None:
            tenth += carried.tenth_per_day() * from_carried
            carried = dataclasses.replace(carried, taken=carried.taken + from_carried)
        absence = maintien
        indemnity = max(maintien, cents(tenth))
        n1 = dataclasses.replace(n1, taken=n1.taken + from_n1)
        n = dataclasses.replace(n, taken=n.taken + from_n)
    acquired, sick_acquired = month_acquisition(conges, month, contract_start, contract_end, sick, n)
    n = dataclasses.replace(
        n,
        acquired=n.acquired + acquired,
        sick_acquired=n.sick_acquired + sick_acquired,
        sick_days=n.sick_days + sum(conges.ouvrables(a, b) for a, b, _ in sick),
    )
    if contract_end is not None and first <= contract_end <= last:
        # Indemnité compensatrice (L3141-28): the whole balance, valued as the provision values a day.
        per_day = monthly_salary / conges.jours_par_mois(first)
        remaining = (carried, n1, n) if carried is not None else (n1, n)
        indemnity += cents(
            sum((max(p.balance, ZERO) * max(p.tenth_per_day(), per_day) for p in remaining), ZERO)
        )
        n1 = dataclasses.replace(n1, taken=n1.acquired)
        n = dataclasses.replace(n, taken=n.acquired)
        if carried is not None:
            carried = dataclasses.replace(carried, taken=carried.acquired)
    return MonthPlan(
        dataclasses.replace(state, n1=n1, n=n, carried=carried),
        tuple(leave),
        taken,
        absence,
        indemnity,
        acquired,
        sick_acquired,
    )


def valued_balance(conges: CongesRules, state: LeaveState, monthly_salary: Decimal, day: dt.date) -> Decimal:
    """The days not taken (N-1 and N) valued at month end, to the cent: each period's balance x the
    larger of its one-tenth per day and the monthly salary / ``jours_par_mois`` (step 6)."""
    per_day = monthly_salary / conges.jours_par_mois(day)
    return cents(sum((p.balance * max(p.tenth_per_day(), per_day) for p in state.periods()), ZERO))


def close_month(
    conges: CongesRules,
    plan: MonthPlan,
    month: Month,
    *,
    monthly_salary: Decimal,
    gross: Decimal,
    employer_contributions: Decimal,
    tenth_base: Decimal | None = None,
) -> tuple[LeaveState, LeaveCounters]:
    """Step 5's gross and step 6, once the month's payslip is known: the state at month end and the
    payslip's counters. ``gross``: the payslip's (the employer rate's base); ``tenth_base``: what of it
    counts in the one-tenth (default: all of it)."""
    state = plan.state
    n = dataclasses.replace(state.n, gross=state.n.gross + (gross if tenth_base is None else tenth_base))
    state = dataclasses.replace(state, n=n)
    provision = valued_balance(conges, state, monthly_salary, month.last_day)
    # Multiplied before dividing: the exact product, rounded once (a ratio rounded to 28 digits first
    # can fall just under a half cent, 260.4149… for 260.415).
    charges = cents(provision * employer_contributions / gross) if gross else ZERO
    closed = dataclasses.replace(state, provision=provision, provision_charges=charges)
    counters = LeaveCounters(
        period_n1=state.n1.label,
        acquired_n1=days(state.n1.acquired),
        taken_n1=days(state.n1.taken),
        balance_n1=days(state.n1.balance),
        period_n=state.n.label,
        acquired_n=days(state.n.acquired),
        taken_n=days(state.n.taken),
        balance_n=days(state.n.balance),
        taken_this_month=plan.ranges,
        provision=provision,
        provision_charges=charges,
        provision_before=plan.state.provision,
        provision_charges_before=plan.state.provision_charges,
        carried_balance=days(state.carried.balance) if state.carried is not None else ZERO,
        carried_until=state.carried_until if state.carried is not None else None,
    )
    return closed, counters


# --- ledger/payroll/leave-balances.yaml -------------------------------------------------------------

_PERIOD = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Money = Annotated[Number, Field(ge=0, max_digits=11, decimal_places=2)]


class OpeningPeriod(Strict):
    period: Annotated[str, Field(pattern=_PERIOD)]
    acquired: Days
    taken: Days
    gross: Money
    sick_acquired: Days = Decimal(0)


class OpeningEmployee(Strict):
    """One employee's counters at the reprise; ``provision`` and ``provision_charges``: the dette the
    books carry on 4282 / 4382 for the employee at that date (default: the counters valued by eage on
    the eve, at the first month's employer rate), so the first month books only its own change."""

    n1: OpeningPeriod
    n: OpeningPeriod
    provision: Money | None = None
    provision_charges: Money | None = None


class LeaveBalancesFile(Strict):
    """The counters taken over when the group started its payroll in eage (reprise des compteurs)."""

    date: Day
    employees: dict[str, OpeningEmployee] = Field(default_factory=dict)


@dataclass(frozen=True)
class LeaveOpening:
    """The leave rules and every employee's counters on ``date`` (the first day eage computes)."""

    conges: CongesRules
    date: dt.date
    states: Mapping[str, LeaveState]
    #: The provision and its charges the books carry at the reprise, per employee (None: eage values them).
    booked: Mapping[str, tuple[Decimal | None, Decimal | None]] = dataclasses.field(default_factory=dict)

    @property
    def month(self) -> Month:
        return Month.of(self.date)

    def state_of(self, employee: str, first_day: dt.date) -> LeaveState:
        """The employee's counters at the reprise, or zero counters from ``first_day`` (hired since)."""
        state = self.states.get(employee)
        return state if state is not None else fresh_state(self.conges, max(first_day, self.date))


def load_leave_opening(
    root: Path, conges: CongesRules, contracts: Mapping[str, tuple[dt.date, dt.date | None]]
) -> LeaveOpening | None:
    """ledger/payroll/leave-balances.yaml under ``root``, checked against the rules, or None when absent.

    ``contracts``: each employee's contract start and end (rules/staff.yaml). Every problem is located
    and raised together: an unknown employee, a period that is not the reference period N (holding the
    date) or N-1 (the one before), more days taken than acquired (N only with anticipated leave), more
    acquired than a period allows, an employee under contract on the date without counters, a date that
    is not the first day of a month.
    """
    path = root / BALANCES_REL
    if not path.exists() and not path.is_symlink():
        return None
    try:
        located = load_located(path, LeaveBalancesFile)
    except InputError as exc:
        raise InputError([p.relative_to(root) for p in exc.problems]) from None
    raise_if(opening_problems(located, conges, contracts))
    data = located.value
    states = {}
    booked: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for emp, item in data.employees.items():
        states[emp] = LeaveState(_period_counter(conges, item.n1), _period_counter(conges, item.n))
        booked[emp] = (item.provision, item.provision_charges)
    return LeaveOpening(conges, data.date, states, booked)


def _period_counter(conges: CongesRules, item: OpeningPeriod) -> PeriodCounter:
    start, end = (dt.date.fromisoformat(part) for part in item.period.split("/"))
    return PeriodCounter(start, end, item.acquired, item.taken, item.gross, item.sick_acquired)


def opening_problems(
    located: Located[LeaveBalancesFile],
    conges: CongesRules,
    contracts: Mapping[str, tuple[dt.date, dt.date | None]],
) -> list[Problem]:
    data = located.value
    problems: list[Problem] = []

    def bad(message: str, loc: tuple[str, ...], fix: str) -> None:
        problems.append(
            Problem(message, file=BALANCES_REL, line=located.line(loc), key=".".join(loc), fix=fix)
        )

    if data.date.day != 1:
        bad(f"{data.date} is not the first day of a month", ("date",), "take the counters over on a 1st")
        return problems
    n_start, n_end = conges.period_of(data.date)
    n1_start, n1_end = conges.period_of(n_start - dt.timedelta(days=1))
    expected = {"n1": f"{n1_start}/{n1_end}", "n": f"{n_start}/{n_end}"}
    anticipation = conges.anticipation(data.date)
    most = conges.acquisition(data.date).max_per_period
    for emp, item in data.employees.items():
        if emp not in contracts:
            bad(
                f"unknown employee {emp!r}",
                ("employees", emp),
                f"use an id of rules/staff.yaml: {sorted(contracts)}",
            )
            continue
        for name, period in (("n1", item.n1), ("n", item.n)):
            loc = ("employees", emp, name)
            if period.period != expected[name]:
                bad(
                    f"{emp}: period {period.period} is not the reference period "
                    f"{'N-1' if name == 'n1' else 'N'} of {data.date} ({expected[name]})",
                    (*loc, "period"),
                    f"write period: {expected[name]} (rules/payroll/conges.yaml, periode_reference)",
                )
            if period.acquired > most:
                bad(
                    f"{emp}: {period.acquired} days acquired in {period.period}, more than {most}",
                    (*loc, "acquired"),
                    f"a reference period acquires at most {most} jours ouvrables (L3141-3)",
                )
            if period.taken > period.acquired and not (name == "n" and anticipation):
                bad(
                    f"{emp}: {period.taken} days taken in {period.period}, more than the {period.acquired} acquired",
                    (*loc, "taken"),
                    "correct the counters (leave taken in advance needs anticipation: true in conges.yaml)",
                )
    for emp, (start, end) in contracts.items():
        if emp not in data.employees and start < data.date and (end is None or end >= data.date):
            bad(
                f"{emp} is under contract on {data.date} and has no leave counters",
                ("employees",),
                f"add {emp}: with n1 and n (acquired, taken, gross) as the previous payroll left them",
            )
    return problems
