"""The group's contracts: its collective agreement, the agreement's classification grid, its collective
health (frais de santé) and prévoyance contracts and the exemptions from the health cover
(rules/payroll/contracts.yaml), and the checks of the staff against them.

What the law requires of the contracts is data of the same file (``minimums``): the employer pays at least
half of the health cover (CSS L911-7; loi n° 2013-504 art. 1 II), and at least 1.50 % of tranche 1 for the
cadres' prévoyance (ANI of 17 November 2017, art. 7). A file below them is refused with its line.

The payroll reads three things per employee and month (:class:`Contracts`):

- :meth:`Contracts.health_for` ``(employee, day, pmss)``: the monthly health contribution, employer and
  employee together, and the employer's share in percent (``PayslipInput.mutuelle_total`` and
  ``mutuelle_employer_share``), or None for an employee exempt that day (dispense d'adhésion);
- :meth:`Contracts.prevoyance_for` ``(employee, day)``: the employer's prévoyance rate on tranche 1 in
  percent (``PayslipInput.prevoyance_rate``), or None when no group contract covers the employee;
- :meth:`Contracts.payslip_fields` ``(employee, day, pmss)``: the two above as the keyword arguments of
  ``PayslipInput``;
- :meth:`Contracts.agreement` and :meth:`Contracts.level` for the payslip's mentions (R3243-1 3° and 4°).

:func:`contracts_problems` lists, each located, an employee with no health contract and no recorded
exemption, a classification not in the grid, an exemption code the file does not list or whose condition
(a CDD, a part-time contract) the employee does not meet, and the file's own problems.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Protocol, TypedDict

from pydantic import Field, field_validator, model_validator

from eage.errors import InputError, Problem, raise_if
from eage.money import cents
from eage.payroll.engine import Headcounts
from eage.payroll.params import PayrollRules
from eage.rules.base import Strict
from eage.rules.dated import Day, NotInForce, in_force
from eage.rules.loader import Flag, Located, Number, load_located
from eage.rules.models import Employee, Employer, Staff
from eage.rules.parameters import PERCENT_PER_RATIO, Parameter, Units


class StaffOfGroup(Protocol):
    """What :func:`contracts_problems` reads of a rules bundle (:class:`eage.rules.bundle.Rules`): its
    folder, to read rules/staff.yaml again for the lines, and the staff. A protocol, so that this module
    does not import the bundle, which loads it."""

    @property
    def root(self) -> Path: ...

    @property
    def staff(self) -> Staff: ...


CONTRACTS_FILE = "contracts.yaml"
#: How messages name the file (relative to the group's folder).
SHOWN = f"rules/payroll/{CONTRACTS_FILE}"

Coverage = Literal["all", "cadres", "non_cadres"]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Text = Annotated[str, Field(min_length=1)]
Percent = Annotated[Number, Field(ge=0, le=100)]

#: The unit eage reads each field of a dated contract value in: another unit is refused, never converted.
HEALTH_UNITS = {"amount": "eur_per_month", "pmss_rate": "percent", "employer_share": "percent"}
PREVOYANCE_UNITS = {"employer_t1": "percent"}
LEVEL_UNITS = {"coefficient": "number", "minimum_monthly_gross": "eur_per_month"}

#: A problem at an employee's key of rules/staff.yaml: (index, employee, message, key below it, fix).
_ProblemAt = Callable[[int, "Employee", str, tuple[str, ...], str], Problem]


def _units_are(unit: Units, expected: dict[str, str], what: str) -> None:
    if not isinstance(unit, dict):
        raise ValueError(
            f"unit: {what} has one unit per field, e.g. unit: {{{', '.join(f'{k}: {v}' for k, v in expected.items())}}}"
        )
    for name, declared in unit.items():
        if name in expected and declared != expected[name]:
            raise ValueError(f"unit: {name} is read in {expected[name]}, not {declared}")


class PayslipFields(TypedDict, total=False):
    """What the contracts set in a payslip's input (engine.PayslipInput), when they set it."""

    mutuelle_total: Decimal
    mutuelle_employer_share: Decimal
    prevoyance_rate: Decimal


# --- the file's models --------------------------------------------------------------------------------


class Agreement(Strict):
    """The collective agreement the group applies: its IDCC and its title (R3243-1 3°)."""

    idcc: Annotated[str, Field(pattern=r"^[0-9]{4}$")]
    name: Text
    short_name: Text | None = None


class Level(Strict):
    """One position of the classification grid; its coefficient and minimum gross when the agreement's
    text gives them (and they were read)."""

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,19}$")]
    label: Text
    coefficient: Annotated[Number, Field(gt=0)] | None = None
    minimum_monthly_gross: Annotated[Number, Field(gt=0, max_digits=9, decimal_places=2)] | None = None


class Grid(Parameter[list[Level]]):
    description: Text
    reference: Text

    @model_validator(mode="after")
    def _grid(self) -> Grid:
        for start, levels in self.values.items():
            codes = [level.code for level in levels]
            twice = sorted({code for code in codes if codes.count(code) > 1})
            if twice:
                raise ValueError(f"values.{start}: the code {twice[0]} appears twice")
            if any(
                level.coefficient is not None or level.minimum_monthly_gross is not None for level in levels
            ):
                _units_are(self.unit, LEVEL_UNITS, "a grid with coefficients or minimums")
        return self


class Convention(Parameter[Agreement]):
    description: Text
    reference: Text


class HealthTerms(Strict):
    """A health contract's contribution from a date: an amount a month, or a percent of the PMSS, employer
    and employee together, and the employer's share of it in percent."""

    amount: Annotated[Number, Field(ge=0, max_digits=9, decimal_places=2)] | None = None
    pmss_rate: Percent | None = None
    employer_share: Percent

    @model_validator(mode="after")
    def _one_base(self) -> HealthTerms:
        if (self.amount is None) == (self.pmss_rate is None):
            raise ValueError("give either amount (EUR a month) or pmss_rate (% of the PMSS), not both")
        return self

    def total(self, pmss: Decimal) -> Decimal:
        """The month's contribution, EUR, rounded to the cent."""
        if self.amount is not None:
            return cents(self.amount)
        assert self.pmss_rate is not None  # one of the two, by the validator
        return cents(pmss * self.pmss_rate / PERCENT_PER_RATIO)


class PrevoyanceRates(Strict):
    """A prévoyance contract's rates from a date: the employer's rate on tranche 1, in percent."""

    employer_t1: Percent


class Covered(Strict):
    """A group contract: who holds it, its number, its dates and the staff it covers."""

    code: Code
    insurer: Text
    contract: Text
    start: Day
    end: Day | None = None
    covers: Coverage = "all"
    reference: Text

    @model_validator(mode="after")
    def _dates(self) -> Covered:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self

    def covers_on(self, employee: Employee, day: dt.date) -> bool:
        """True when the contract is in force on ``day`` and covers the employee's category."""
        if day < self.start or (self.end is not None and day > self.end):
            return False
        cadre = employee.contract.cadre
        return self.covers == "all" or (self.covers == "cadres") == cadre


class HealthContract(Covered):
    contribution: Parameter[HealthTerms]

    @field_validator("contribution")
    @classmethod
    def _units(cls, value: Parameter[HealthTerms]) -> Parameter[HealthTerms]:
        _units_are(value.unit, HEALTH_UNITS, "a contribution")
        return value


class PrevoyanceContract(Covered):
    rates: Parameter[PrevoyanceRates]

    @field_validator("rates")
    @classmethod
    def _units(cls, value: Parameter[PrevoyanceRates]) -> Parameter[PrevoyanceRates]:
        _units_are(value.unit, PREVOYANCE_UNITS, "a prévoyance contract's rates")
        return value


class Requires(Strict):
    """The condition of an exemption that eage can check on the employee's contract."""

    contract_kind: Literal["CDI", "CDD"] | None = None
    part_time: Literal[True] | None = None


class Dispense(Strict):
    """A case of exemption from the health cover (dispense d'adhésion): a closed list, each with its text."""

    code: Code
    label: Text
    reference: Text
    #: Only when the act that sets up the cover provides it (CSS R242-1-6), not of right.
    optional: Flag = False
    requires: Requires | None = None


class Minimum(Parameter[Decimal]):
    description: Text
    reference: Text

    @model_validator(mode="after")
    def _percent(self) -> Minimum:
        if self.unit != "percent":
            raise ValueError(f"unit: a minimum is read in percent, not {self.unit}")
        return self


class Minimums(Strict):
    """What the law requires of the contracts."""

    sante_part_employeur: Minimum
    prevoyance_cadres_t1: Minimum


class ContractsFile(Strict):
    """rules/payroll/contracts.yaml."""

    convention: Convention
    classification: Grid
    minimums: Minimums
    sante: list[HealthContract] = Field(default_factory=list)
    prevoyance: list[PrevoyanceContract] = Field(default_factory=list)
    dispenses: Annotated[list[Dispense], Field(min_length=1)]


# --- the contracts, loaded ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contracts:
    """The group's contracts file, validated, with its node tree to locate what is found later."""

    file: ContractsFile
    #: The file as messages name it.
    shown: str = SHOWN
    located: Located[ContractsFile] | None = None

    def line(self, loc: tuple[int | str, ...]) -> int | None:
        return self.located.line(loc) if self.located is not None else None

    def problem(self, message: str, loc: tuple[int | str, ...], fix: str) -> Problem:
        return Problem(message, file=self.shown, line=self.line(loc), key=_key(loc), fix=fix)

    # what the payslip prints

    def agreement(self, day: dt.date) -> Agreement:
        """The collective agreement in force on ``day`` (an :class:`InputError` before the first one)."""
        try:
            return self.file.convention.at(day)
        except NotInForce as exc:
            raise InputError.at(
                f"{exc}",
                file=self.shown,
                line=self.line(("convention",)),
                key="convention.values",
                fix="date the agreement from the day the group applies it",
            ) from None

    def grid(self, day: dt.date | None = None) -> list[Level]:
        """The classification grid in force on ``day`` (None: the latest); empty before the first."""
        values = self.file.classification.values
        if day is None:
            return values[max(values)]
        try:
            return in_force(values, day)
        except NotInForce:
            return []

    def level(self, code: str, day: dt.date | None = None) -> Level | None:
        """The grid's position ``code`` in force on ``day``, or None when the grid has no such code."""
        return next((level for level in self.grid(day) if level.code == code), None)

    def dispense(self, code: str) -> Dispense | None:
        return next((d for d in self.file.dispenses if d.code == code), None)

    # what the payroll computes with

    def health_contract(self, employee: Employee, day: dt.date) -> tuple[int, HealthContract] | None:
        """The first health contract (its index and itself) covering ``employee`` on ``day``."""
        return next(((i, c) for i, c in enumerate(self.file.sante) if c.covers_on(employee, day)), None)

    def health_for(self, employee: Employee, day: dt.date, pmss: Decimal) -> tuple[Decimal, Decimal] | None:
        """(monthly contribution EUR, employer + employee, to the cent; the employer's share in percent)
        for ``employee`` on ``day``, or None when the employee is exempt that day. ``pmss``: the month's
        plafond mensuel, read only by a contribution in % of the PMSS (on the full PMSS: a health cover
        is a flat contribution, not prorated for part-time work).

        An employee neither covered nor exempt is an :class:`InputError` naming rules/staff.yaml (the
        payroll refuses the month, as :func:`contracts_problems` reports it beforehand)."""
        if employee.health is not None and employee.health.on(day):
            return None
        found = self.health_contract(employee, day)
        if found is None:
            raise InputError.at(
                f"no health contract covers employee {employee.id} on {day.isoformat()} and no exemption "
                "is recorded (CSS L911-7: the employer covers every employee)",
                file="rules/staff.yaml",
                key=f"{employee.id}.health",
                fix=_cover_fix(self),
            )
        index, contract = found
        terms = self._terms(index, contract, day)
        return terms.total(pmss), terms.employer_share

    def payslip_fields(self, employee: Employee, day: dt.date, pmss: Decimal) -> PayslipFields:
        """The fields of :class:`~eage.payroll.engine.PayslipInput` the contracts set for ``employee`` on
        ``day``: ``PayslipInput(..., **contracts.payslip_fields(employee, day, pmss))``. An exempt
        employee has no mutuelle; an employee no prévoyance contract covers keeps contributions.yaml's."""
        fields = PayslipFields()
        health = self.health_for(employee, day, pmss)
        if health is not None:
            fields["mutuelle_total"], fields["mutuelle_employer_share"] = health
        rate = self.prevoyance_for(employee, day)
        if rate is not None:
            fields["prevoyance_rate"] = rate
        return fields

    def prevoyance_for(self, employee: Employee, day: dt.date) -> Decimal | None:
        """The employer's prévoyance rate on tranche 1 in percent for ``employee`` on ``day``, from the
        first group contract covering them; None when none does (contributions.yaml's default applies)."""
        for index, contract in enumerate(self.file.prevoyance):
            if contract.covers_on(employee, day):
                try:
                    return contract.rates.at(day).employer_t1
                except NotInForce as exc:
                    raise InputError.at(
                        f"{exc}: the prévoyance contract {contract.code} has no rate that day",
                        file=self.shown,
                        line=self.line(("prevoyance", index, "rates", "values")),
                        key=f"prevoyance[{index}].rates.values",
                        fix="date its first rate from the contract's start",
                    ) from None
        return None

    def _terms(self, index: int, contract: HealthContract, day: dt.date) -> HealthTerms:
        try:
            return contract.contribution.at(day)
        except NotInForce as exc:
            raise InputError.at(
                f"{exc}: the health contract {contract.code} has no contribution that day",
                file=self.shown,
                line=self.line(("sante", index, "contribution", "values")),
                key=f"sante[{index}].contribution.values",
                fix="date its first contribution from the contract's start",
            ) from None

    # the file's own checks

    def own_problems(self) -> list[Problem]:
        """What the file's models cannot see alone: each contract against the law's minimums, and codes
        given twice."""
        out: list[Problem] = []
        minimums = self.file.minimums
        for index, health in enumerate(self.file.sante):
            for start, terms in health.contribution.values.items():
                minimum = _minimum_at(minimums.sante_part_employeur, start)
                if minimum is not None and terms.employer_share < minimum:
                    out.append(
                        self.problem(
                            f"the employer pays {terms.employer_share:.2f} % of the health contract "
                            f"{health.code} from {start}: at least {minimum:.2f} % (CSS L911-7)",
                            ("sante", index, "contribution", "values", start.isoformat(), "employer_share"),
                            f"raise employer_share to {minimum:.2f} or more",
                        )
                    )
        for index, prevoyance in enumerate(self.file.prevoyance):
            if prevoyance.covers == "non_cadres":
                continue
            for start, rates in prevoyance.rates.values.items():
                minimum = _minimum_at(minimums.prevoyance_cadres_t1, start)
                if minimum is not None and rates.employer_t1 < minimum:
                    out.append(
                        self.problem(
                            f"the prévoyance contract {prevoyance.code} covers cadres at {rates.employer_t1:.2f} "
                            f"% of tranche 1 from {start}: at least {minimum:.2f} % (ANI 17 November 2017 "
                            "art. 7)",
                            ("prevoyance", index, "rates", "values", start.isoformat(), "employer_t1"),
                            f"raise employer_t1 to {minimum:.2f} or more",
                        )
                    )
        for name, items in (
            ("sante", self.file.sante),
            ("prevoyance", self.file.prevoyance),
            ("dispenses", self.file.dispenses),
        ):
            out += self._twice(name, [item.code for item in items])
        return out

    def _twice(self, name: str, codes: Sequence[str]) -> list[Problem]:
        out = []
        for index, code in enumerate(codes):
            if code in codes[:index]:
                out.append(
                    self.problem(
                        f"the code {code} appears twice in {name}",
                        (name, index, "code"),
                        "give each item its own code",
                    )
                )
        return out


def _minimum_at(minimum: Minimum, day: dt.date) -> Decimal | None:
    try:
        return minimum.at(day)
    except NotInForce:
        return None  # before the law required it


def _key(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _cover_fix(contracts: Contracts) -> str:
    codes = ", ".join(d.code for d in contracts.file.dispenses)
    return (
        f"add a health contract covering them to {contracts.shown} (sante), or record their exemption in "
        f"rules/staff.yaml: health: {{dispense: <code>, since: YYYY-MM-DD, proof: <text>}} (codes: {codes})"
    )


def load_contracts(rules_dir: Path, *, shown: str | None = None) -> Contracts:
    """Load rules/payroll/contracts.yaml from ``rules_dir`` (the rules/payroll folder); raise one
    :class:`InputError` with every problem, each with its line (a missing file too: every employer covers
    its staff for health, so a group has one)."""
    path = rules_dir / CONTRACTS_FILE
    located = load_located(path, ContractsFile)
    contracts = Contracts(located.value, shown if shown is not None else str(path), located)
    raise_if(contracts.own_problems())
    return contracts


# --- the staff against the contracts ------------------------------------------------------------------


def legal_weekly_hours(payroll: PayrollRules | None) -> Decimal | None:
    """The full-time week of the latest ``duree_legale`` of rules/payroll/parameters.yaml, which the
    part-time exemption is checked against (None without payroll rules: not checked)."""
    if payroll is None or not payroll.parameters.duree_legale.values:
        return None
    weeks = payroll.parameters.duree_legale.values
    return weeks[max(weeks)].weekly_hours


def contracts_problems(
    staff: Staff | Located[Staff] | StaffOfGroup,
    contracts: Contracts,
    *,
    day: dt.date | None = None,
    legal_weekly_hours: Decimal | None = None,
) -> list[Problem]:
    """Every located problem of the staff against the contracts, and of the contracts file itself.

    ``staff``: the group's :class:`~eage.rules.bundle.Rules` (rules/staff.yaml is read again for its
    lines), a :class:`Located` staff, or a bare :class:`Staff` (no lines). ``day``: check the health cover
    on that day only (a month's run); None: on every day it can change, from the law's first day
    (``minimums.sante_part_employeur``) to the end of each contract. ``legal_weekly_hours``: the full-time
    week (parameters.yaml ``duree_legale``), to check an exemption that requires part-time work; None:
    not checked.
    """
    located = _located_staff(staff)
    the_staff = located.value if located is not None else staff
    assert isinstance(the_staff, Staff)  # a bare Staff has no Located

    def line(loc: tuple[int | str, ...]) -> int | None:
        return located.line(loc) if located is not None else None

    def problem(index: int, emp: Employee, message: str, field: tuple[str, ...], fix: str) -> Problem:
        loc: tuple[int | str, ...] = ("employees", index, *field)
        return Problem(f"{message} (id {emp.id})", "rules/staff.yaml", line(loc), _key(loc), fix)

    out = contracts.own_problems()
    # The first day to check: the law's (2016) and that of the group's first contribution (eage holds no
    # figure before it, so no payroll before it either).
    first_days = [min(c.contribution.values) for c in contracts.file.sante]
    law_start = max(
        min(contracts.file.minimums.sante_part_employeur.values), min(first_days, default=dt.date.min)
    )
    for index, emp in enumerate(the_staff.employees):
        if emp.classification is not None and contracts.level(emp.classification, day) is None:
            codes = ", ".join(level.code for level in contracts.grid(day)) or "none in force"
            out.append(
                problem(
                    index,
                    emp,
                    f"classification {emp.classification!r} is not in the grid of the agreement",
                    ("classification",),
                    f"use one of {codes} ({contracts.shown}, classification)",
                )
            )
        out += _dispense_problems(index, emp, contracts, legal_weekly_hours, problem)
        out += _cover_problems(index, emp, contracts, law_start, day, problem)
    unique: list[Problem] = []
    for found in out:  # a contract without a contribution on a day is one problem, whoever it covers
        if found not in unique:
            unique.append(found)
    return unique


def _located_staff(staff: Staff | Located[Staff] | StaffOfGroup) -> Located[Staff] | None:
    if isinstance(staff, Located):
        return staff
    if isinstance(staff, Staff):
        return None
    path = staff.root / "rules" / "staff.yaml"
    with contextlib.suppress(InputError, OSError):
        return load_located(path, Staff)
    return Located(staff.staff, path, None)


def _dispense_problems(
    index: int,
    emp: Employee,
    contracts: Contracts,
    legal_weekly_hours: Decimal | None,
    problem: _ProblemAt,
) -> list[Problem]:
    if emp.health is None:
        return []
    dispense = contracts.dispense(emp.health.dispense)
    if dispense is None:
        codes = ", ".join(d.code for d in contracts.file.dispenses)
        return [
            problem(
                index,
                emp,
                f"unknown exemption {emp.health.dispense!r}",
                ("health", "dispense"),
                f"use one of {codes} ({contracts.shown}, dispenses)",
            )
        ]
    needs = dispense.requires
    if needs is None:
        return []
    if needs.contract_kind is not None and emp.contract.kind != needs.contract_kind:
        return [
            problem(
                index,
                emp,
                f"the exemption {dispense.code} is for a {needs.contract_kind}, the contract is a "
                f"{emp.contract.kind}",
                ("health", "dispense"),
                "choose the exemption that applies, or remove health: the employee joins the cover",
            )
        ]
    if needs.part_time and legal_weekly_hours is not None and emp.contract.weekly_hours >= legal_weekly_hours:
        return [
            problem(
                index,
                emp,
                f"the exemption {dispense.code} is for part-time work, the contract has "
                f"{emp.contract.weekly_hours} h a week",
                ("health", "dispense"),
                "choose the exemption that applies, or remove health: the employee joins the cover",
            )
        ]
    return []


def _cover_problems(
    index: int,
    emp: Employee,
    contracts: Contracts,
    law_start: dt.date,
    day: dt.date | None,
    problem: _ProblemAt,
) -> list[Problem]:
    for when in _days_to_check(emp, contracts, law_start) if day is None else [day]:
        if not emp.contract.covers(when) or (emp.health is not None and emp.health.on(when)):
            continue
        found = contracts.health_contract(emp, when)
        if found is None:
            return [
                problem(
                    index,
                    emp,
                    f"no health contract covers {emp.name} on {when.isoformat()} and no exemption is "
                    "recorded (CSS L911-7: the employer covers every employee)",
                    ("health",),
                    _cover_fix(contracts),
                )
            ]
        try:
            contracts._terms(*found, when)
        except InputError as exc:
            return exc.problems
    return []


def _days_to_check(emp: Employee, contracts: Contracts, law_start: dt.date) -> list[dt.date]:
    """The days the employee's health cover can change: the first day both the law and the contract are
    in force, and each start and day after the end of a health contract or of the exemption."""
    first = max(emp.contract.start, law_start)
    changes: list[dt.date] = [first]
    for contract in contracts.file.sante:
        changes += [contract.start, *_after(contract.end)]
        changes += list(contract.contribution.values)
    if emp.health is not None:
        changes += [emp.health.since, *_after(emp.health.until)]
    return sorted({d for d in changes if d >= first and emp.contract.covers(d)})


def _after(day: dt.date | None) -> Iterable[dt.date]:
    return [] if day is None else [day + dt.timedelta(days=1)]


# --- the employer's headcounts ------------------------------------------------------------------------


def employer_headcounts(employer: Employer) -> Headcounts | None:
    """The engine's headcount per threshold from rules/group.yaml ``employer.headcounts`` (CSS L130-1 III),
    or None when the group gives none (``headcount`` then serves every threshold)."""
    given = employer.headcounts
    if given is None:
        return None
    return Headcounts(
        fnal=given.fnal,
        peec=given.peec,
        rgdu=given.rgdu,
        overtime_deduction=given.overtime_deduction,
        forfait_social=given.forfait_social,
    )
