"""Payroll parameters: pydantic models of rules/payroll/*.yaml and their loading.

The law lives in YAML, as in OpenFisca: each parameter has dated values (keyed by the day they come into
force), its unit, and a reference to the text that sets it, which a value may override with its own
(:class:`~eage.rules.parameters.Parameter`). Rates of these files are in percent. This module only
validates the files and looks values up at a date; a month with no value in force is an :class:`~eage.errors.InputError` naming the file and key,
so that a payslip of a month the rules do not cover is refused rather than computed with stale rates.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    model_validator,
)

from eage.errors import InputError, Problem, raise_if
from eage.rules.base import Strict
from eage.rules.dated import (
    A_RATE,
    CASE_LIST,
    EMPLOYER_RATE,
    LONG_FORM,
    ONE_CASE,
    SHORT_FORM,
    Day,
    NotInForce,
    in_force,
)
from eage.rules.loader import Flag, Number, _line_of, _read, load_model
from eage.rules.parameters import (
    DatedValue,
    Parameter,
    Units,
    UnitsChecked,
    entry_form,
    plain,
    reference_in,
)

T = TypeVar("T")

Percent = Annotated[Number, Field(ge=0, le=100)]
Positive = Annotated[Number, Field(gt=0)]
#: A rate in percent, or the name of an employer-specific rate given with the payslip input.
#: ``mutuelle_employer_share`` / ``mutuelle_employee_share``: the split of the health contract's premium
#: given with the payslip input (the contract itself is in rules/payroll/contracts.yaml).
EMPLOYER_RATES = ("atmp_rate", "vm_rate", "mutuelle_employer_share", "mutuelle_employee_share")
InputRate = Literal["atmp_rate", "vm_rate", "mutuelle_employer_share", "mutuelle_employee_share"]
# Tagged, so that a wrong rate gets one message (a number was expected), not one per member of the union.
RateValue = Annotated[
    Annotated[Percent, Tag(A_RATE)] | Annotated[InputRate, Tag(EMPLOYER_RATE)],
    Discriminator(lambda value: EMPLOYER_RATE if value in EMPLOYER_RATES else A_RATE),
]
#: ``mutuelle``: the month's health premium (employer + employee) given with the payslip input.
BaseKind = Literal["gross", "t1", "t2", "t1_t2", "pmss_4", "csg", "prevoyance_patronale", "mutuelle"]
#: The headcounts of :class:`~eage.payroll.engine.Headcounts`, one per threshold family (CSS L130-1).
Threshold = Literal["fnal", "peec", "rgdu", "overtime_deduction", "forfait_social"]
Profile = Literal["company", "association"]

PARAMETERS_FILE = "parameters.yaml"
CONTRIBUTIONS_FILE = "contributions.yaml"
REDUCTIONS_FILE = "reductions.yaml"
TAXE_SALAIRES_FILE = "taxe_sur_salaires.yaml"
ACCOUNTS_FILE = "accounts.yaml"
#: Every file of rules/payroll/.
PAYROLL_FILES = (PARAMETERS_FILE, CONTRIBUTIONS_FILE, REDUCTIONS_FILE, TAXE_SALAIRES_FILE, ACCOUNTS_FILE)


class Dated(Parameter[T], Generic[T]):
    """A payroll parameter: what it is, its unit, the legal reference that sets it (the default of its
    values' own references) and its dated values."""

    description: str
    reference: Annotated[str, Field(min_length=1)]


# --- parameters.yaml -------------------------------------------------------------------------------


class DureeLegale(Strict):
    weekly_hours: Positive
    weeks_per_year: Positive
    months_per_year: Positive


class Majorations(Strict):
    first: Percent
    second: Percent


class CsgAssiette(Strict):
    abattement: Percent
    pmss_cap: Positive


class HeuresComplementaires(Strict):
    """Part time: majorations within / beyond a fraction of the contract hours, and the ceiling."""

    first: Percent
    second: Percent
    first_tranche: Percent  # percent of the contract's monthly hours paid at ``first``
    ceiling: Percent  # percent of the contract's monthly hours at most


class DureeMaximale(Strict):
    weekly_hours: Positive


class PrevoyanceExclusion(Strict):
    pmss_percent: Percent
    gross_percent: Percent
    cap_pmss_percent: Percent


class ParametersFile(UnitsChecked):
    UNITS: ClassVar[dict[str, Units]] = {
        "smic_horaire": "eur_per_hour",
        "pmss": "eur_per_month",
        "duree_legale": {
            "weekly_hours": "hours_per_week",
            "weeks_per_year": "weeks",
            "months_per_year": "months",
        },
        "heures_supplementaires": {"first": "percent", "second": "percent"},
        "csg_assiette": {"abattement": "percent", "pmss_cap": "pmss_multiple"},
        "contrats": "code",
        "heures_complementaires": {
            "first": "percent",
            "second": "percent",
            "first_tranche": "percent",
            "ceiling": "percent",
        },
        "duree_maximale": {"weekly_hours": "hours_per_week"},
        "prevoyance_exclusion": {
            "pmss_percent": "percent",
            "gross_percent": "percent",
            "cap_pmss_percent": "percent",
        },
    }
    smic_horaire: Dated[Positive]
    pmss: Dated[Positive]
    duree_legale: Dated[DureeLegale]
    heures_supplementaires: Dated[Majorations]
    csg_assiette: Dated[CsgAssiette]
    contrats: Dated[list[str]]
    heures_complementaires: Dated[HeuresComplementaires]
    duree_maximale: Dated[DureeMaximale]
    prevoyance_exclusion: Dated[PrevoyanceExclusion]


# --- contributions.yaml ----------------------------------------------------------------------------


class When(Strict):
    """Conditions for a rate case; every condition given must hold."""

    cadre: Flag | None = None
    profile: Profile | None = None
    headcount_below: Annotated[int, Field(ge=1)] | None = None
    headcount_from: Annotated[int, Field(ge=1)] | None = None
    gross_up_to_smic: Positive | None = None
    gross_above_pmss: Flag | None = None


class RateCase(Strict):
    when: When = When()
    base: BaseKind | None = None
    employee: RateValue | None = None
    employer: RateValue | None = None


Cases = Annotated[
    Annotated[RateCase, Tag(ONE_CASE)] | Annotated[list[RateCase], Tag(CASE_LIST)],
    Discriminator(lambda value: CASE_LIST if isinstance(value, list) else ONE_CASE),
]
CasesEntry = Annotated[
    Annotated[Cases, Tag(SHORT_FORM)] | Annotated[DatedValue[Cases], Tag(LONG_FORM)],
    Discriminator(entry_form),
]


class Contribution(Strict):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,40}$")]
    label: str
    #: The payslip heading the line is printed under (model of the arrêté of 25 February 2016 as amended).
    group: Annotated[str, Field(min_length=1)]
    organisation: str
    charge: str
    base: BaseKind
    #: Which headcount the ``headcount_*`` conditions read (None: the payroll's headcount).
    threshold: Threshold | None = None
    in_csg_base: Flag = False
    adds_to_net_taxable: Flag = False
    #: The employer's share is a taxable benefit of the employee (health cover, CGI 83 1° quater).
    employer_share_taxable: Flag = False
    #: The employer rate is replaced by the input's ``prevoyance_rate`` when it is given.
    prevoyance: Flag = False
    #: The unit of the line's rates (``employee``, ``employer``): percent, the unit of payroll rates.
    unit: Literal["percent"]
    reference: Annotated[str, Field(min_length=1)]
    entries: Annotated[dict[Day, CasesEntry], Field(alias="values", min_length=1)]
    _values: dict[dt.date, RateCase | list[RateCase]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._values = plain(self.entries)

    @property
    def values(self) -> dict[dt.date, RateCase | list[RateCase]]:
        """The rate cases by start date, without their references."""
        return self._values

    def cases_on(self, day: dt.date) -> list[RateCase]:
        value = in_force(self.values, day)
        return value if isinstance(value, list) else [value]

    def reference_at(self, day: dt.date) -> str | None:
        """The reference of the rates in force on ``day``: their own, else the line's."""
        return reference_in(self.entries, day, self.reference)


class ContributionsFile(Strict):
    contributions: list[Contribution]

    @model_validator(mode="after")
    def _unique(self) -> ContributionsFile:
        seen: set[str] = set()
        for line in self.contributions:
            if line.code in seen:
                raise ValueError(f"contribution code {line.code!r} appears twice")
            seen.add(line.code)
        return self


# --- reductions.yaml -------------------------------------------------------------------------------


class _Reduction(Strict):
    label: str
    group: Annotated[str, Field(min_length=1)]
    #: The label of a negative month of the progressive regularisation (CSS D241-10).
    regularisation_label: str
    headcount_threshold: Annotated[int, Field(ge=1)]
    smic_multiple: Positive
    smic_reference: Positive
    organisation: str
    imputation: dict[str, Percent] = Field(default_factory=dict)


class Fillon(_Reduction):
    """Réduction générale until 2025: C = T / (m - 1) x (m x SMIC / brut - 1), capped at T."""

    formula: Literal["fillon"]
    t_below: Annotated[Number, Field(gt=0, lt=1)]
    t_from: Annotated[Number, Field(gt=0, lt=1)]

    def maximum(self, headcount: int) -> Decimal:
        return self.t_below if headcount < self.headcount_threshold else self.t_from


class Rgdu(_Reduction):
    """RGDU from 2026: C = Tmin + Tdelta x [1/2 x (m x SMIC / brut - 1)]^P, 0 from m SMIC."""

    formula: Literal["rgdu"]
    tmin: Annotated[Number, Field(ge=0, lt=1)]
    tdelta_below: Annotated[Number, Field(gt=0, lt=1)]
    tdelta_from: Annotated[Number, Field(gt=0, lt=1)]
    exponent: Positive

    def tdelta(self, headcount: int) -> Decimal:
        return self.tdelta_below if headcount < self.headcount_threshold else self.tdelta_from

    def maximum(self, headcount: int) -> Decimal:
        return self.tmin + self.tdelta(headcount)


Reduction = Annotated[Fillon | Rgdu, Field(discriminator="formula")]


class HeuresSupplementaires(Strict):
    """The reliefs on overtime and complementary hours pay."""

    employee_label: str
    employee_cap: Percent  # CSS D241-21: the employee reduction's rate at most
    employee_codes: Annotated[list[str], Field(min_length=1)]  # the employee rates the reduction takes
    employer_label: str
    headcount_threshold: Annotated[int, Field(ge=1)]
    employer_below: Annotated[Number, Field(ge=0)]  # EUR per overtime hour, headcount below the threshold
    employer_from: Annotated[Number, Field(ge=0)]
    income_tax_cap: Annotated[Number, Field(ge=0)]  # CGI 81 quater, per year
    #: The CSG lines whose base loses the exempt overtime pay, gathered on one non-deductible line.
    exempt_csg_codes: Annotated[list[str], Field(min_length=1)]
    exempt_csg_label: str
    exempt_csg_group: Annotated[str, Field(min_length=1)]
    organisation: str
    group: Annotated[str, Field(min_length=1)]


class ReductionsFile(UnitsChecked):
    UNITS: ClassVar[dict[str, Units]] = {
        "reduction_generale": {
            "headcount_threshold": "count",
            "t_below": "ratio",
            "t_from": "ratio",
            "tmin": "ratio",
            "tdelta_below": "ratio",
            "tdelta_from": "ratio",
            "exponent": "number",
            "smic_multiple": "smic_multiple",
            "smic_reference": "eur_per_hour",
            "imputation": "percent",
        },
        "heures_supplementaires": {
            "employee_cap": "percent",
            "employee_codes": "code",
            "headcount_threshold": "count",
            "employer_below": "eur_per_hour",
            "employer_from": "eur_per_hour",
            "income_tax_cap": "eur_per_year",
            "exempt_csg_codes": "code",
        },
    }
    reduction_generale: Dated[Reduction]
    heures_supplementaires: Dated[HeuresSupplementaires]


# --- taxe_sur_salaires.yaml ------------------------------------------------------------------------


class Bracket(Strict):
    up_to_annual: Positive | None = None
    rate: Percent


class TaxeSalaires(Strict):
    label: str
    group: Annotated[str, Field(min_length=1)]
    assiette: str
    brackets: Annotated[list[Bracket], Field(min_length=1)]
    abattement_annuel: Annotated[Number, Field(ge=0)]
    #: CGI 1679, on the annual return: no tax up to the franchise; below the plafond, a décote of
    #: decote_taux % x (plafond - tax).
    franchise_annuelle: Annotated[Number, Field(ge=0)]
    decote_plafond_annuel: Annotated[Number, Field(ge=0)]
    decote_taux: Percent
    organisation: str
    charge: str

    @model_validator(mode="after")
    def _ordered(self) -> TaxeSalaires:
        limits = [b.up_to_annual for b in self.brackets]
        if limits[-1] is not None or any(limit is None for limit in limits[:-1]):
            raise ValueError("every bracket but the last has up_to_annual; the last has none")
        bounded = [limit for limit in limits if limit is not None]
        if bounded != sorted(bounded):
            raise ValueError("brackets must be in increasing order of up_to_annual")
        return self


class TaxeSalairesFile(UnitsChecked):
    UNITS: ClassVar[dict[str, Units]] = {
        "taxe_sur_salaires": {
            "brackets.up_to_annual": "eur_per_year",
            "brackets.rate": "percent",
            "abattement_annuel": "eur_per_year",
            "franchise_annuelle": "eur_per_year",
            "decote_plafond_annuel": "eur_per_year",
            "decote_taux": "percent",
        }
    }
    taxe_sur_salaires: Dated[TaxeSalaires]


# --- accounts.yaml ---------------------------------------------------------------------------------


class PayrollAccounts(Strict):
    """Ledger accounts of the payroll entries: fixed roles, then one account per organisation / charge."""

    salaries: str
    bonuses: str
    net_pay: str
    pas: str
    organisations: dict[str, str]
    charges: dict[str, str]
    reduction_charges: dict[str, str]


# --- the whole set ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayrollRules:
    """Every payroll rules file, validated and cross-checked."""

    rules_dir: Path
    parameters: ParametersFile
    contributions: ContributionsFile
    reductions: ReductionsFile
    taxe_salaires: TaxeSalairesFile
    accounts: PayrollAccounts
    #: Each contribution's rate cases in force on a day, found once (the rules never change once loaded):
    #: (index in contributions.yaml, day) -> the cases as a list.
    cases_in_force: dict[tuple[int, dt.date], list[RateCase]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def path(self, filename: str) -> Path:
        return self.rules_dir / filename

    def value(self, filename: str, key: str, values: dict[Day, T], day: dt.date) -> T:
        """The value in force on ``day``, or an InputError naming the file and key."""
        try:
            return in_force(values, day)
        except NotInForce as exc:
            raise InputError.at(
                f"{exc} for {day:%Y-%m}",
                file=self.path(filename),
                key=f"{key}.values",
                fix=f"add a value in force from {day:%Y-%m-01} or earlier (with its legal reference)",
            ) from None


def load_payroll_rules(rules_dir: Path) -> PayrollRules:
    """Load rules/payroll/*.yaml from ``rules_dir``; every problem of every file is reported at once."""
    problems: list[Problem] = []
    loaded: dict[str, object] = {}
    files: dict[str, tuple[str, type[BaseModel]]] = {
        "parameters": (PARAMETERS_FILE, ParametersFile),
        "contributions": (CONTRIBUTIONS_FILE, ContributionsFile),
        "reductions": (REDUCTIONS_FILE, ReductionsFile),
        "taxe_salaires": (TAXE_SALAIRES_FILE, TaxeSalairesFile),
        "accounts": (ACCOUNTS_FILE, PayrollAccounts),
    }
    for name, (filename, model) in files.items():
        try:
            loaded[name] = load_model(rules_dir / filename, model)
        except InputError as exc:
            problems.extend(exc.problems)
    raise_if(problems)
    rules = PayrollRules(rules_dir=rules_dir, **loaded)  # type: ignore[arg-type]
    raise_if(_cross_check(rules))
    for filename in LAW_FILES:
        problems += new_year_problems(rules_dir / filename)
    raise_if(problems)
    return rules


#: The files of the law's values (what a new year revises), checked by :func:`new_year_problems`.
LAW_FILES = (PARAMETERS_FILE, CONTRIBUTIONS_FILE, REDUCTIONS_FILE, TAXE_SALAIRES_FILE)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def new_year_problems(path: Path) -> list[Problem]:
    """A file of the law's values that holds values of a new year must say every value of that year.

    When a file's latest dated value is in year Y, every value that had a date in year Y-1 (revised
    that year: the PMSS, the SMIC, a rate) must have one dated in Y too, the same figure when it did not
    change, with its reference: "when a year changes, check every value of the new year". A value
    left at its Y-1 date is refused, located at its ``values`` key; values older than Y-1 (a rate stable
    for years, such as the CSG) are not asked again. ``path`` has been validated by its model."""
    try:
        data, node = _read(path)
    except (InputError, OSError):
        return []  # reported by the file's own loader
    found: list[tuple[tuple[int | str, ...], str, set[int]]] = []

    def walk(value: Any, loc: tuple[int | str, ...]) -> None:
        if isinstance(value, dict):
            dated = value.get("values")
            if isinstance(dated, dict) and dated:
                days = [str(k) for k in dated if _DAY.fullmatch(str(k))]
                years = {int(day[:4]) for day in days}
                if days and len(days) == len(dated):
                    named = f" ({value['code']})" if isinstance(value.get("code"), str) else ""
                    found.append(((*loc, "values"), named, years))
            for key, item in value.items():
                walk(item, (*loc, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*loc, index))

    walk(data, ())
    if not found:
        return []
    latest = max(max(years) for _, _, years in found)
    shown = f"rules/payroll/{path.name}"
    problems = []
    for loc, named, years in found:
        if latest - 1 in years and latest not in years:
            key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
            problems.append(
                Problem(
                    f"{key}{named} has a value dated in {latest - 1} but none in {latest}, while this file holds "
                    f"{latest} values: was it checked for {latest}?",
                    file=shown,
                    line=_line_of(node, loc),
                    key=key,
                    fix=f"add its {latest}-01-01 value from the text in force (the same figure if it did not "
                    "change), with the reference",
                )
            )
    return problems


def _cross_check(rules: PayrollRules) -> list[Problem]:
    """Every organisation and charge a line names must have an account in accounts.yaml."""
    problems: list[Problem] = []
    accounts = rules.accounts
    contributions_file = str(rules.path(CONTRIBUTIONS_FILE))

    def check(kind: str, name: str, known: dict[str, str], file: str, key: str) -> None:
        if name not in known:
            problems.append(
                Problem(
                    f"unknown {kind} {name!r}",
                    file=file,
                    key=key,
                    fix=f"use one of {sorted(known)} or add it under {kind}s in {rules.path(ACCOUNTS_FILE)}",
                )
            )

    for index, line in enumerate(rules.contributions.contributions):
        key = f"contributions[{index}]"
        check(
            "organisation",
            line.organisation,
            accounts.organisations,
            contributions_file,
            f"{key}.organisation",
        )
        check("charge", line.charge, accounts.charges, contributions_file, f"{key}.charge")
    reductions_file = str(rules.path(REDUCTIONS_FILE))
    for start, reduction in rules.reductions.reduction_generale.values.items():
        key = f"reduction_generale.values.{start}"
        for org in [reduction.organisation, *reduction.imputation]:
            check("organisation", org, accounts.organisations, reductions_file, f"{key}.organisation")
            if org not in accounts.reduction_charges:
                problems.append(
                    Problem(
                        f"no reduction_charges account for organisation {org!r}",
                        file=str(rules.path(ACCOUNTS_FILE)),
                        key="reduction_charges",
                        fix=f"add reduction_charges.{org}",
                    )
                )
    codes = {line.code for line in rules.contributions.contributions}
    for start, overtime in rules.reductions.heures_supplementaires.values.items():
        key = f"heures_supplementaires.values.{start}"
        check(
            "organisation",
            overtime.organisation,
            accounts.organisations,
            reductions_file,
            f"{key}.organisation",
        )
        if overtime.organisation not in accounts.reduction_charges:
            problems.append(
                Problem(
                    f"no reduction_charges account for organisation {overtime.organisation!r}",
                    file=str(rules.path(ACCOUNTS_FILE)),
                    key="reduction_charges",
                    fix=f"add reduction_charges.{overtime.organisation}",
                )
            )
        for code in [*overtime.employee_codes, *overtime.exempt_csg_codes]:
            if code not in codes:
                problems.append(
                    Problem(
                        f"heures_supplementaires names {code!r}, which is not a contribution of contributions.yaml",
                        file=reductions_file,
                        key=f"{key}.employee_codes",
                        fix=f"use codes of {rules.path(CONTRIBUTIONS_FILE)}",
                    )
                )
    tss_file = str(rules.path(TAXE_SALAIRES_FILE))
    for start, tss in rules.taxe_salaires.taxe_sur_salaires.values.items():
        key = f"taxe_sur_salaires.values.{start}"
        check("organisation", tss.organisation, accounts.organisations, tss_file, f"{key}.organisation")
        check("charge", tss.charge, accounts.charges, tss_file, f"{key}.charge")
    return problems
