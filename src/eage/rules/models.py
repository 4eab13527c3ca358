"""Pydantic models of the group's rules: rules/group.yaml, members.yaml, staff.yaml, allocation.yaml,
accounts.yaml, vat.yaml and fees.yaml.

Unknown keys are rejected everywhere (:class:`~eage.rules.base.Strict`): a misspelt key is an error, not a
silent default. Dated values are mappings from the date a value comes into force to the value. The
group's payroll rates (``atmp_rate``, ``vm_rate``, ``pas_default_rate``, each employee's ``pas_rate``)
are ratios when written as a bare mapping or number (0.0208 for 2.08 %), or declare their unit
(``{unit: ratio, values: {...}}``); they are held in percent, the unit of the payroll rules
(:class:`~eage.rules.parameters.Rates`).

What a payslip must name (C. trav. R3243-1) is here too: the employer's NAF code (on its identity), its
URSSAF account and the day the net pay is paid (on ``employer``), each employee's classification, job
and health-cover exemption (checked against rules/payroll/contracts.yaml by
:func:`eage.payroll.contracts.contracts_problems`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from eage.ledger.view import receivable_account
from eage.rules.base import Strict
from eage.rules.dated import Day, in_force
from eage.rules.loader import Flag, Number
from eage.rules.parameters import RateInPercent, Rates

__all__ = ["Strict"]  # the one base of the rules models, imported from here by older modules

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Money = Annotated[Number, Field(max_digits=14, decimal_places=2)]
#: A monthly gross salary: more than zero (a zero or negative salary is a typing error, not a contract).
Salary = Annotated[Number, Field(gt=0, max_digits=9, decimal_places=2)]
Rate = Annotated[Number, Field(ge=0, le=1)]


def luhn_ok(digits: str) -> bool:
    """Luhn checksum, as used by SIREN (9 digits) and SIRET (14 digits)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _check_siren(value: str, size: int, name: str) -> str:
    value = value.replace(" ", "")
    if not re.fullmatch(rf"\d{{{size}}}", value):
        raise ValueError(f"a {name} has {size} digits")
    if not luhn_ok(value):
        raise ValueError(f"{value} is not a valid {name} (Luhn check fails): check the digits")
    return value


class Address(Strict):
    line1: str
    line2: str | None = None
    postcode: Annotated[str, Field(pattern=r"^\d{5}$")]
    city: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "FR"


#: A NAF (APE) code of the INSEE's NAF rév. 2 as a payslip prints it (C. trav. R3243-1 2°): four digits and
#: a letter, ``7830Z``; ``78.30Z`` is read the same.
NAF_PATTERN = re.compile(r"[0-9]{4}[A-Z]")


class Identity(Strict):
    """What makes a legal person identifiable on an invoice (and, for the group, on a payslip)."""

    name: str
    legal_form: str
    siren: str
    siret: str | None = None
    vat_number: str | None = None
    #: The NAF (APE) code of the establishment (R3243-1 2°), e.g. ``7830Z``.
    naf: str | None = None
    address: Address
    fictitious: Flag = False

    @field_validator("naf")
    @classmethod
    def _naf(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = value.replace(".", "").replace(" ", "").upper()
        if not NAF_PATTERN.fullmatch(compact):
            raise ValueError(
                f"{value!r} is not a NAF code: four digits and a letter, e.g. 7830Z (see your INSEE notice)"
            )
        return compact

    @field_validator("siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        return _check_siren(value, 9, "SIREN")

    @field_validator("siret")
    @classmethod
    def _siret(cls, value: str | None) -> str | None:
        return None if value is None else _check_siren(value, 14, "SIRET")

    @model_validator(mode="after")
    def _siret_starts_with_siren(self) -> Identity:
        if self.siret and not self.siret.startswith(self.siren):
            raise ValueError("the SIRET must start with the SIREN")
        return self


class Urssaf(Strict):
    """The employer's account at the URSSAF it pays (printed on the payslip, R3243-1)."""

    #: The URSSAF the establishment pays, e.g. "Urssaf Rhône-Alpes".
    office: Annotated[str, Field(min_length=1)]
    #: The employer's account number there (numéro de compte cotisant), digits as the URSSAF writes them.
    account: Annotated[str, Field(pattern=r"^[0-9A-Z][0-9A-Z ]{4,28}[0-9A-Z]$")]


SATURDAY = 5  # datetime.date.weekday() of a Saturday


class Payment(Strict):
    """The day the net pay of a month is paid (the payslip's payment date, R3243-1).

    ``last_working_day``: the last Monday-to-Friday of the month (eage knows no calendar of public
    holidays: a month whose last weekday is one, such as an Ascension on 30 April, is the group's to
    correct on that payslip); ``fixed_day``: that day of the month (the month's last day when shorter),
    moved back to the Friday when it falls on a weekend.
    """

    rule: Literal["last_working_day", "fixed_day"] = "last_working_day"
    day: Annotated[int, Field(ge=1, le=31)] | None = None

    @model_validator(mode="after")
    def _day_given(self) -> Payment:
        if self.rule == "fixed_day" and self.day is None:
            raise ValueError("rule fixed_day needs day (1 to 31)")
        if self.rule == "last_working_day" and self.day is not None:
            raise ValueError("day applies to rule fixed_day only: remove it, or write rule: fixed_day")
        return self

    def date_for(self, year: int, month: int) -> dt.date:
        """The payment date of the pay of ``month`` of ``year``."""
        last = calendar.monthrange(year, month)[1]
        day = dt.date(year, month, last if self.rule == "last_working_day" else min(self.day or last, last))
        while day.weekday() >= SATURDAY:
            day -= dt.timedelta(days=1)
        return day


class Headcounts(Strict):
    """The group's headcount for each threshold, when they differ (CSS L130-1 III).

    The staff a groupement d'employeurs makes available, even partly, to its members are not counted in
    its headcount, except for the pricing of the AT/MP risk (CSS L130-1 III, in force from 1 January 2025;
    docs/research/issue-14-law.md point 9). A GE whose staff are all made available counts 0 for these
    thresholds (the annual average of R130-1 over staff not made available). The PEEC's import of the rule
    is not confirmed (the CCH refers to L130-1): the group states its own figure.
    """

    fnal: Annotated[int, Field(ge=0)]
    peec: Annotated[int, Field(ge=0)]
    rgdu: Annotated[int, Field(ge=0)]
    overtime_deduction: Annotated[int, Field(ge=0)]
    forfait_social: Annotated[int, Field(ge=0)]
    reference: Annotated[str, Field(min_length=1)]


class Employer(Strict):
    """The group as an employer: what payroll needs."""

    profile: Literal["company", "association"]
    #: The staff employed (the AT/MP pricing and the thresholds without their own figure in ``headcounts``).
    headcount: Annotated[int, Field(ge=0)]
    #: The headcount for each threshold (CSS L130-1 III); None: ``headcount`` for every one.
    headcounts: Headcounts | None = None
    urssaf: Urssaf | None = None
    payment: Payment = Field(default_factory=Payment)
    #: AT/MP and versement mobilité, in percent (the file's ``atmp_rate`` and ``vm_rate``).
    atmp: Annotated[Rates, Field(alias="atmp_rate")]
    vm: Annotated[Rates, Field(alias="vm_rate", default_factory=Rates.empty)]
    #: The withholding rate of an employee without one, in percent.
    pas_default_rate: RateInPercent = Decimal(0)


class Invoicing(Strict):
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")] = "FAC"
    credit_note_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")] = "AV"
    payment_terms_days: Annotated[int, Field(ge=0, le=60)] = 30
    late_payment_rate: str = "trois fois le taux d'intérêt légal"
    recovery_indemnity: Money = Decimal("40.00")
    discount_terms: str = "Pas d'escompte pour paiement anticipé."
    vat_on_debits: Flag = False
    iban: str
    bic: str
    bank_name: str | None = None
    logo: str | None = None
    accent_color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1f4e79"
    email: str | None = None
    phone: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        compact = value.replace(" ", "").upper()
        if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
            raise ValueError("not an IBAN")
        moved = compact[4:] + compact[:4]
        number = "".join(str(int(c, 36)) for c in moved)
        if int(number) % 97 != 1:
            raise ValueError("IBAN checksum fails: check the digits")
        return compact


class Group(Strict):
    identity: Identity
    vat_regime: Literal["liable", "exempt_261b"] = "liable"
    employer: Employer
    invoicing: Invoicing
    currency: Literal["EUR"] = "EUR"
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] = 1


class Member(Strict):
    id: Slug
    identity: Identity
    email: str | None = None
    vat_regime: Literal["liable", "exempt_261b"]
    joined: Day
    left: Day | None = None
    previous_year_gross_payroll: dict[int, Money] = Field(default_factory=dict)
    headcount: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _dates(self) -> Member:
        if self.left is not None and self.left < self.joined:
            raise ValueError("left is before joined")
        return self

    def active_on(self, day: dt.date) -> bool:
        return self.joined <= day and (self.left is None or day <= self.left)


class Members(Strict):
    members: list[Member]

    @model_validator(mode="after")
    def _unique(self) -> Members:
        seen: set[str] = set()
        for member in self.members:
            if member.id in seen:
                raise ValueError(f"member id {member.id!r} appears twice")
            seen.add(member.id)
        return self

    def by_id(self) -> dict[str, Member]:
        return {m.id: m for m in self.members}

    def shared_identifiers(self) -> list[tuple[str, int, int]]:
        """(``siren`` or ``siret``, index of the first member, index of the later one) for every identifier
        two members share: one legal person (or establishment) is one member, else its invoices would
        be split across two accounts and two sequences of documents."""
        shared: list[tuple[str, int, int]] = []
        for field in ("siren", "siret"):
            first: dict[str, int] = {}
            for index, member in enumerate(self.members):
                value = getattr(member.identity, field)
                if value is None:
                    continue
                if value in first:
                    shared.append((field, first[value], index))
                else:
                    first[value] = index
        return shared


class Contract(Strict):
    kind: Literal["CDI", "CDD"]
    start: Day
    end: Day | None = None
    weekly_hours: Annotated[Number, Field(gt=0, le=48)]
    cadre: Flag = False

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        if self.kind == "CDD" and self.end is None:
            raise ValueError("a CDD has an end date")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class HealthDispense(Strict):
    """An employee's exemption from the group's mandatory health cover (dispense d'adhésion, CSS L911-7 III
    and D911-2): its code (one of rules/payroll/contracts.yaml ``dispenses``), from when, until when when it
    ends (the end of the individual contract, of the CDD...), and the proof the employer keeps."""

    dispense: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    since: Day
    until: Day | None = None
    proof: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _dates(self) -> HealthDispense:
        if self.until is not None and self.until < self.since:
            raise ValueError("until is before since")
        return self

    def on(self, day: dt.date) -> bool:
        """True when the exemption applies on ``day``."""
        return self.since <= day and (self.until is None or day <= self.until)


class Employee(Strict):
    id: Slug
    name: str
    post: str
    #: The job as the payslip names it (R3243-1 4°), when it differs from ``post``.
    job: Annotated[str, Field(min_length=1)] | None = None
    #: A code of the collective agreement's classification grid (rules/payroll/contracts.yaml).
    classification: Annotated[str, Field(min_length=1)] | None = None
    service: Slug
    services: list[Slug] = Field(default_factory=list)
    contract: Contract
    gross_salary: Annotated[dict[Day, Salary], Field(min_length=1)]
    #: The withholding rates (prélèvement à la source), in percent.
    pas_rate: Annotated[Rates, Field(default_factory=Rates.empty)]
    #: The employee's exemption from the health cover, when they have one.
    health: HealthDispense | None = None

    @property
    def job_label(self) -> str:
        """The job the payslip prints: ``job``, else ``post``."""
        return self.job or self.post

    def all_services(self) -> list[str]:
        return [self.service, *[s for s in self.services if s != self.service]]

    def gross_on(self, day: dt.date) -> Decimal:
        return in_force(self.gross_salary, day)


class Staff(Strict):
    employees: list[Employee]

    @model_validator(mode="after")
    def _unique(self) -> Staff:
        seen: set[str] = set()
        for emp in self.employees:
            if emp.id in seen:
                raise ValueError(f"employee id {emp.id!r} appears twice")
            seen.add(emp.id)
        return self

    def by_id(self) -> dict[str, Employee]:
        return {e.id: e for e in self.employees}


class Service(Strict):
    label: str
    description: str | None = None


class Overhead(Strict):
    label: str = "Frais de fonctionnement mutualisés"
    accounts: list[str]
    key: Literal["billable_hours", "equal"] = "billable_hours"


class ManagementFee(Strict):
    label: str = "Frais de gestion"
    rate: dict[Day, Rate]


RateMethodName = Literal["monthly", "year_to_date"]


class RateMethod(Strict):
    """How the hourly rate of each kind of pool is set in billing_mode actual (see allocation/core.py).

    ``monthly``: the month's cost / the month's billable hours (billed = cost each month);
    ``year_to_date``: the cost of the year to date / its billable hours, trued up by ``eage close``.
    """

    services: RateMethodName = "monthly"
    overhead: RateMethodName = "monthly"


class Allocation(Strict):
    billing_mode: Literal["actual", "standard_rate"] = "actual"
    rate_method: RateMethod = Field(default_factory=RateMethod)
    services: dict[Slug, Service]
    staff_accounts: list[str]
    overhead: Overhead
    excluded_accounts: list[str] = Field(default_factory=list)
    management_fee: ManagementFee | None = None
    standard_rates: dict[Day, dict[Slug, Money]] = Field(default_factory=dict)
    max_hours_per_day: Annotated[Number, Field(gt=0, le=24)]

    @model_validator(mode="after")
    def _consistent(self) -> Allocation:
        for start, rates in self.standard_rates.items():
            unknown = set(rates) - set(self.services)
            if unknown:
                raise ValueError(f"standard_rates of {start}: unknown services {sorted(unknown)}")
        if self.billing_mode == "standard_rate" and not self.standard_rates:
            raise ValueError("billing_mode standard_rate needs standard_rates")
        if self.billing_mode == "standard_rate" and "year_to_date" in (
            self.rate_method.services,
            self.rate_method.overhead,
        ):
            raise ValueError("rate_method year_to_date applies to billing_mode actual only")
        return self


class Accounts(Strict):
    """The ledger accounts eage posts invoices and payments to, by role (PCG numbers in the names).

    Payroll accounts are in rules/payroll/accounts.yaml.
    """

    receivable_parent: str
    revenue: str
    vat_collected: str
    fees_revenue: str
    invoices_to_issue: str
    credit_notes_to_issue: str
    bank: str
    suspense: str

    def receivable(self, member_id: str) -> str:
        """The member's receivable account, named by the one builder (:func:`receivable_account`)."""
        return receivable_account(self.receivable_parent, member_id)


class VatRegime(Strict):
    label: str
    category: Literal["S", "E"]
    rate: dict[Day, Rate]
    exemption_reason: str | None = None
    exemption_code: str | None = None
    mention: str | None = None
    reference: str


class Vat(Strict):
    regimes: dict[Literal["liable", "exempt_261b"], VatRegime]


class FeeBand(Strict):
    up_to: Annotated[int, Field(ge=0)] | None
    amount: Money


class FeeFormula(Strict):
    kind: Literal["percent_of_payroll", "headcount_band", "flat"]
    rate: Rate | None = None
    cap: Money | None = None
    floor: Money | None = None
    bands: list[FeeBand] = Field(default_factory=list)
    amount: Money | None = None
    label: str = "Cotisation annuelle"
    reference: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> FeeFormula:
        if self.kind == "percent_of_payroll" and self.rate is None:
            raise ValueError("percent_of_payroll needs rate")
        if self.kind == "headcount_band" and not self.bands:
            raise ValueError("headcount_band needs bands")
        if self.kind == "flat" and self.amount is None:
            raise ValueError("flat needs amount")
        return self


class Fees(Strict):
    formula: dict[int, FeeFormula]
    vat_regime: Literal["outside_scope", "as_member"] = "outside_scope"
