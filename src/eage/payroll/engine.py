"""The payslip computation: a pure function from rules and one month's input to a payslip.

Every rate, ceiling and threshold comes from :class:`~eage.payroll.params.PayrollRules`; this module only
knows the shapes of the computation (bases, slices, the reduction formulas). Amounts are ``Decimal``,
rounded to the cent per line (ROUND_HALF_UP), as a real payslip is; totals are sums of rounded lines so
that the payslip and the journal entry agree to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from eage.errors import InputError
from eage.money import ZERO, cents
from eage.payroll.params import (
    CONTRIBUTIONS_FILE,
    PARAMETERS_FILE,
    REDUCTIONS_FILE,
    TAXE_SALAIRES_FILE,
    BaseKind,
    Contribution,
    Fillon,
    PayrollRules,
    RateCase,
    RateValue,
    Rgdu,
    When,
)

Side = Literal["salarié", "employeur"]
SALARIE: Side = "salarié"
EMPLOYEUR: Side = "employeur"
HUNDRED = Decimal(100)
COEFFICIENT = Decimal("0.0001")
#: Codes of the payslip lines that are not contributions of contributions.yaml.
RGDU_CODE = "rgdu"
#: Prefix of the taxe sur les salaires lines (one per bracket): an employer tax, not a contribution.
TSS_CODE_PREFIX = "tss_"


@dataclass(frozen=True)
class Headcounts:
    """The employer's headcount for each threshold that depends on it.

    CSS L130-1 III: the staff a groupement d'employeurs makes available to its members are not counted in
    the GE's headcount (docs/research/issue-14-law.md point 9), so one threshold may see fewer employees
    than the payroll has. A contribution names its headcount with ``threshold:`` in contributions.yaml.
    """

    fnal: int
    peec: int
    rgdu: int
    overtime_deduction: int
    forfait_social: int

    @classmethod
    def uniform(cls, headcount: int) -> Headcounts:
        return cls(headcount, headcount, headcount, headcount, headcount)


@dataclass(frozen=True)
class YearToDate:
    """Sums over the year's payslips before this one, for the same employer (part C builds it)."""

    months: int = 0
    gross: Decimal = ZERO
    rgdu_smic: Decimal = ZERO  # sum of the monthly SMIC references of the RGDU
    rgdu: Decimal = ZERO  # reduction already applied
    net_taxable: Decimal = ZERO
    hours: Decimal = ZERO  # hours paid
    overtime_exempt: Decimal = ZERO  # overtime pay already exempt of income tax (CGI 81 quater cap)


@dataclass(frozen=True)
class PayslipInput:
    """One employee's month. Rates (``pas_rate``, ``atmp_rate``, ``vm_rate``) are in percent.

    ``base_gross`` is the monthly contractual gross for ``weekly_hours``; the hourly rate used for overtime
    and unpaid absence is ``base_gross / (weekly_hours x 52 / 12)``.
    """

    month: dt.date
    base_gross: Decimal
    weekly_hours: Decimal = Decimal(35)
    cadre: bool = False
    overtime_25_hours: Decimal = ZERO
    overtime_50_hours: Decimal = ZERO
    bonus: Decimal = ZERO
    unpaid_absence_hours: Decimal = ZERO
    pas_rate: Decimal = ZERO
    employer_profile: str = "company"
    headcount: int = 1
    atmp_rate: Decimal = ZERO
    vm_rate: Decimal = ZERO
    contract_kind: str = "CDI"
    complementary_hours: Decimal = ZERO  # part time: hours beyond the contract (10 % / 25 %)
    leave_days: Decimal = ZERO  # jours ouvrables of paid leave taken this month
    leave_absence: Decimal = ZERO  # salary deducted for the leave taken (>= 0)
    leave_indemnity: Decimal = ZERO  # indemnité de congés payés paid this month (>= 0)
    mutuelle_total: Decimal = ZERO  # monthly health contribution, employer + employee, EUR
    mutuelle_employer_share: Decimal = Decimal(50)  # percent of mutuelle_total paid by the employer
    prevoyance_rate: Decimal | None = None  # overrides contributions.yaml's prévoyance rate when set
    headcounts: Headcounts | None = None  # per threshold; None = ``headcount`` for all
    ytd: YearToDate | None = None  # the year's earlier payslips, summed

    def headcount_of(self, threshold: str) -> int:
        """The headcount the named threshold uses (``headcount`` when no per-threshold counts are given)."""
        if self.headcounts is None:
            return self.headcount
        value: int = getattr(self.headcounts, threshold)
        return value


@dataclass(frozen=True)
class EarningLine:
    """A line of the gross part of the payslip (salaire de base, heures supplémentaires, absence, prime)."""

    code: str
    label: str
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class PayslipLine:
    """A contribution line: ``amount = base x rate / 100`` rounded to the cent; ``rate`` in percent."""

    side: Side
    code: str
    label: str
    base: Decimal
    rate: Decimal
    amount: Decimal
    organisation: str
    charge: str
    group: str = ""  # the payslip heading (contributions.yaml ``group``)


@dataclass(frozen=True)
class Payslip:
    month: dt.date
    cadre: bool
    weekly_hours: Decimal
    smic_month: Decimal  # SMIC for the contract hours, in force this month
    pss: Decimal  # PMSS pro-rated to the contract hours
    earnings: tuple[EarningLine, ...]
    salary: Decimal  # base + overtime - absence (6411)
    bonus: Decimal  # primes (6413)
    gross: Decimal
    lines: tuple[PayslipLine, ...]  # employee lines, then employer lines, the reduction last (negative)
    employee_contributions: Decimal
    employer_contributions: Decimal  # after the reduction
    rgdu: Decimal  # the reduction, positive
    rgdu_coefficient: Decimal
    rgdu_label: str
    rgdu_split: tuple[tuple[str, Decimal], ...]  # organisation -> part of the reduction, sums to rgdu
    net_before_tax: Decimal
    net_taxable: Decimal
    pas_rate: Decimal
    pas: Decimal
    net_paid: Decimal
    employer_cost: Decimal  # gross + every employer line, the taxe sur les salaires included
    net_social: Decimal = ZERO  # montant net social (arrêté of 31 January 2023)
    leave_indemnity: Decimal = ZERO  # the cp_indemnite amount (6412), also inside gross
    leave_days: Decimal = ZERO
    hours: Decimal = ZERO  # hours paid this month
    overtime_exempt: Decimal = ZERO  # overtime pay exempt of income tax this month
    employer_total: Decimal = ZERO  # gross + employer contributions after reductions, without the TSS
    tss: Decimal = ZERO  # taxe sur les salaires on this payslip (0 for a company)
    cumulative: YearToDate = field(default_factory=YearToDate)  # the year to date including this month
    leave: object | None = None  # LeaveCounters, set by part C (payroll.leave) with dataclasses.replace
    references: tuple[str, ...] = field(default=())

    def lines_of(self, side: Side) -> tuple[PayslipLine, ...]:
        return tuple(line for line in self.lines if line.side == side)


@dataclass(frozen=True)
class _Context:
    """What conditions and bases are evaluated against."""

    inp: PayslipInput
    gross: Decimal
    pss: Decimal
    smic_contract: Decimal


def compute_payslip(rules: PayrollRules, inp: PayslipInput) -> Payslip:
    """Compute one month's payslip. Raises InputError for input the rules cannot compute."""
    _check_input(rules, inp)
    day = inp.month
    params = rules.parameters
    smic_h = rules.value(PARAMETERS_FILE, "smic_horaire", params.smic_horaire.values, day)
    pmss = rules.value(PARAMETERS_FILE, "pmss", params.pmss.values, day)
    duree = rules.value(PARAMETERS_FILE, "duree_legale", params.duree_legale.values, day)
    majorations = rules.value(
        PARAMETERS_FILE, "heures_supplementaires", params.heures_supplementaires.values, day
    )
    csg_params = rules.value(PARAMETERS_FILE, "csg_assiette", params.csg_assiette.values, day)
    reduction = rules.value(
        REDUCTIONS_FILE, "reduction_generale", rules.reductions.reduction_generale.values, day
    )

    hours_month = inp.weekly_hours * duree.weeks_per_year / duree.months_per_year
    smic_contract = cents(smic_h * hours_month)
    if inp.base_gross < smic_contract:
        raise InputError.at(
            f"gross {inp.base_gross} EUR is below the SMIC for {inp.weekly_hours} h a week in {day:%Y-%m} "
            f"({smic_contract} EUR = {smic_h} EUR x {hours_month.quantize(Decimal('0.01'))} h)",
            key="base_gross",
            fix=f"pay at least {smic_contract} EUR a month, or lower the contract hours",
        )
    # Part time pro-rates the ceilings (CSS R242-7); more than full time does not raise them.
    ratio = min(inp.weekly_hours / duree.weekly_hours, Decimal(1))
    pss = cents(pmss * ratio)

    hourly = inp.base_gross / hours_month
    earnings = [EarningLine("base", "Salaire de base", cents(hours_month), None, cents(inp.base_gross))]
    for code, hours, majoration in (
        ("hs25", inp.overtime_25_hours, majorations.first),
        ("hs50", inp.overtime_50_hours, majorations.second),
    ):
        if hours:
            rate = hourly * (1 + majoration / HUNDRED)
            earnings.append(
                EarningLine(
                    code,
                    f"Heures supplémentaires {majoration.normalize()} %",
                    hours,
                    rate,
                    cents(rate * hours),
                )
            )
    if inp.unpaid_absence_hours:
        earnings.append(
            EarningLine(
                "absence",
                "Absence non rémunérée",
                inp.unpaid_absence_hours,
                hourly,
                -cents(hourly * inp.unpaid_absence_hours),
            )
        )
    salary = sum((e.amount for e in earnings), ZERO)
    bonus = cents(inp.bonus)
    if bonus:
        earnings.append(EarningLine("prime", "Prime", None, None, bonus))
    gross = salary + bonus
    if gross <= 0:
        raise InputError.at(
            "the month's gross is zero or negative (absence longer than the month?)",
            key="unpaid_absence_hours",
            fix="check the absence hours",
        )

    ctx = _Context(inp=inp, gross=gross, pss=pss, smic_contract=smic_contract)
    employee: dict[str, PayslipLine] = {}
    employer: dict[str, PayslipLine] = {}
    # Two passes: CSG and forfait social bases include the employer's prévoyance computed in the first.
    derived: tuple[BaseKind, ...] = ("csg", "prevoyance_patronale")
    contributions = rules.contributions.contributions
    for pass_derived in (False, True):
        prevoyance_patronale = sum(
            (employer[c.code].amount for c in contributions if c.in_csg_base and c.code in employer), ZERO
        )
        for index, contribution in enumerate(contributions):
            case = _first_case(rules, index, contribution, ctx)
            if case is None:
                continue
            kind = case.base or contribution.base
            if (kind in derived) != pass_derived:
                continue
            if kind == "csg":
                capped = min(gross, csg_params.pmss_cap * pss)
                base = cents(
                    capped * (1 - csg_params.abattement / HUNDRED) + (gross - capped) + prevoyance_patronale
                )
            elif kind == "prevoyance_patronale":
                base = prevoyance_patronale
            else:
                base = _base(kind, gross, pss)
            if base <= 0:
                continue
            for side, value, out in (
                (SALARIE, case.employee, employee),
                (EMPLOYEUR, case.employer, employer),
            ):
                if value is None:
                    continue
                rate = _rate(value, inp)
                if rate == 0:
                    continue
                out[contribution.code] = PayslipLine(
                    side=side,
                    code=contribution.code,
                    label=contribution.label,
                    base=base,
                    rate=rate,
                    amount=cents(base * rate / HUNDRED),
                    organisation=contribution.organisation,
                    charge=contribution.charge,
                    group=contribution.group,
                )

    order = [c.code for c in contributions]
    lines = [employee[code] for code in order if code in employee]
    lines += [employer[code] for code in order if code in employer]
    references = [c.reference for c in contributions]

    if inp.employer_profile == "association":
        tss = rules.value(
            TAXE_SALAIRES_FILE, "taxe_sur_salaires", rules.taxe_salaires.taxe_sur_salaires.values, day
        )
        tss_base = gross + sum(
            (employer[c.code].amount for c in contributions if c.in_csg_base and c.code in employer), ZERO
        )
        lower = ZERO
        months = duree.months_per_year
        for number, bracket in enumerate(tss.brackets, start=1):
            upper = None if bracket.up_to_annual is None else bracket.up_to_annual / months
            slice_ = (tss_base if upper is None else min(tss_base, upper)) - lower
            if slice_ > 0 and bracket.rate:
                base = cents(slice_)
                lines.append(
                    PayslipLine(
                        EMPLOYEUR,
                        f"{TSS_CODE_PREFIX}{number}",
                        f"{tss.label} (tranche {number})",
                        base,
                        bracket.rate,
                        cents(base * bracket.rate / HUNDRED),
                        tss.organisation,
                        tss.charge,
                        tss.group,
                    )
                )
            if upper is None or tss_base <= upper:
                break
            lower = upper
        references.append(rules.taxe_salaires.taxe_sur_salaires.reference)

    # The reduction's SMIC is the contract's monthly SMIC at the reference hourly rate (frozen for the
    # year by decree), adjusted for the hours actually paid: overtime hours add, unpaid absence removes.
    paid_hours = hours_month + inp.overtime_25_hours + inp.overtime_50_hours - inp.unpaid_absence_hours
    smic_reference = cents(reduction.smic_reference * paid_hours)
    coefficient = _coefficient(reduction, gross, smic_reference, inp.headcount)
    rgdu = cents(gross * coefficient)
    if rgdu:
        lines.append(
            PayslipLine(
                EMPLOYEUR,
                RGDU_CODE,
                reduction.label,
                gross,
                -coefficient * HUNDRED,
                -rgdu,
                reduction.organisation,
                reduction.organisation,
                reduction.group,
            )
        )
    split = _split_reduction(rgdu, reduction, inp.headcount)
    references.append(rules.reductions.reduction_generale.reference)

    employee_total = sum((line.amount for line in lines if line.side == SALARIE), ZERO)
    employer_total = sum((line.amount for line in lines if line.side == EMPLOYEUR), ZERO)
    net_before_tax = gross - employee_total
    taxable_codes = {c.code for c in contributions if c.adds_to_net_taxable}
    # CSG non déductible and CRDS are not deductible from taxable income; an employer's share flagged the
    # same way (health cover) is a taxable benefit. Employer prévoyance within the legal limits is not.
    net_taxable = net_before_tax + sum((line.amount for line in lines if line.code in taxable_codes), ZERO)
    pas = cents(net_taxable * inp.pas_rate / HUNDRED)
    tss_total = sum((line.amount for line in lines if line.code.startswith(TSS_CODE_PREFIX)), ZERO)
    ytd = inp.ytd or YearToDate()
    cumulative = YearToDate(
        months=ytd.months + 1,
        gross=ytd.gross + gross,
        rgdu_smic=ytd.rgdu_smic + smic_reference,
        rgdu=ytd.rgdu + rgdu,
        net_taxable=ytd.net_taxable + net_taxable,
        hours=ytd.hours + paid_hours,
        overtime_exempt=ytd.overtime_exempt,
    )
    return Payslip(
        month=day,
        cadre=inp.cadre,
        weekly_hours=inp.weekly_hours,
        smic_month=smic_contract,
        pss=pss,
        earnings=tuple(earnings),
        salary=salary,
        bonus=bonus,
        gross=gross,
        lines=tuple(lines),
        employee_contributions=employee_total,
        employer_contributions=employer_total,
        rgdu=rgdu,
        rgdu_coefficient=coefficient,
        rgdu_label=reduction.label,
        rgdu_split=split,
        net_before_tax=net_before_tax,
        net_taxable=net_taxable,
        pas_rate=inp.pas_rate,
        pas=pas,
        net_paid=net_before_tax - pas,
        employer_cost=gross + employer_total,
        net_social=net_before_tax,
        leave_indemnity=cents(inp.leave_indemnity),
        leave_days=inp.leave_days,
        hours=paid_hours,
        overtime_exempt=ZERO,
        employer_total=gross + employer_total - tss_total,
        tss=tss_total,
        cumulative=cumulative,
        references=tuple(references),
    )


#: No figure of a monthly payslip reaches a thousand billion: a larger input is a typing error, and the
#: products of the computation would leave Decimal's precision (an exponent such as 1e400 overflows).
_INPUT_LIMIT = Decimal("1e12")
_DECIMAL_INPUTS = (
    "base_gross",
    "weekly_hours",
    "overtime_25_hours",
    "overtime_50_hours",
    "bonus",
    "unpaid_absence_hours",
    "pas_rate",
    "atmp_rate",
    "vm_rate",
)


def _check_input(rules: PayrollRules, inp: PayslipInput) -> None:
    for name in _DECIMAL_INPUTS:
        value = getattr(inp, name)
        if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= _INPUT_LIMIT:
            raise InputError.at(
                f"{name} {value} is not a finite amount below {_INPUT_LIMIT:,.0f}",
                key=name,
                fix="give the figure as written on the contract or the month's variables",
            )
    if inp.month.day != 1:
        raise InputError.at(
            f"month {inp.month} is not the first of a month", key="month", fix="use YYYY-MM-01"
        )
    kinds = rules.value(PARAMETERS_FILE, "contrats", rules.parameters.contrats.values, inp.month)
    if inp.contract_kind not in kinds:
        raise InputError.at(
            f"unknown contract kind {inp.contract_kind!r}",
            file=rules.path(PARAMETERS_FILE),
            key="contrats.values",
            fix=f"use one of {', '.join(kinds)}",
        )
    if inp.employer_profile not in ("company", "association"):
        raise InputError.at(
            f"unknown employer profile {inp.employer_profile!r}",
            key="employer.profile",
            fix="use company (subject to VAT) or association (taxe sur les salaires)",
        )
    if inp.weekly_hours <= 0 or inp.base_gross <= 0:
        raise InputError.at("hours and gross must be positive", key="base_gross", fix="give positive values")
    if inp.headcount < 1:
        raise InputError.at("headcount must be at least 1", key="headcount", fix="count the group's staff")
    for name in ("overtime_25_hours", "overtime_50_hours", "unpaid_absence_hours", "bonus", "pas_rate"):
        if getattr(inp, name) < 0:
            raise InputError.at(f"{name} is negative", key=name, fix="give a value >= 0")


def _holds(when: When, ctx: _Context) -> bool:
    inp = ctx.inp
    checks = (
        when.cadre is None or when.cadre == inp.cadre,
        when.profile is None or when.profile == inp.employer_profile,
        when.headcount_below is None or inp.headcount < when.headcount_below,
        when.headcount_from is None or inp.headcount >= when.headcount_from,
        when.gross_up_to_smic is None or ctx.gross <= when.gross_up_to_smic * ctx.smic_contract,
        when.gross_above_pmss is None or (ctx.gross > ctx.pss) == when.gross_above_pmss,
    )
    return all(checks)


def _first_case(
    rules: PayrollRules, index: int, contribution: Contribution, ctx: _Context
) -> RateCase | None:
    cases = rules.value(CONTRIBUTIONS_FILE, f"contributions[{index}]", contribution.values, ctx.inp.month)
    if isinstance(cases, RateCase):
        cases = [cases]
    return next((case for case in cases if _holds(case.when, ctx)), None)


def _base(kind: BaseKind, gross: Decimal, pss: Decimal) -> Decimal:
    if kind == "gross":
        return gross
    if kind == "t1":
        return min(gross, pss)
    if kind == "t2":
        return max(min(gross, 8 * pss) - pss, ZERO)
    if kind == "t1_t2":
        return min(gross, 8 * pss)
    if kind == "pmss_4":
        return min(gross, 4 * pss)
    raise AssertionError(kind)  # derived bases are computed by the caller


def _rate(value: RateValue, inp: PayslipInput) -> Decimal:
    if value == "atmp_rate":
        return inp.atmp_rate
    if value == "vm_rate":
        return inp.vm_rate
    return value


def _coefficient(reduction: Fillon | Rgdu, gross: Decimal, smic: Decimal, headcount: int) -> Decimal:
    """The reduction coefficient, rounded to 4 decimals, between 0 and its maximum."""
    if gross >= reduction.smic_multiple * smic:
        return ZERO
    if isinstance(reduction, Rgdu):
        inner = (reduction.smic_multiple * smic / gross - 1) / 2
        raw = reduction.tmin + reduction.tdelta(headcount) * inner**reduction.exponent
    else:
        t = reduction.maximum(headcount)
        raw = t / (reduction.smic_multiple - 1) * (reduction.smic_multiple * smic / gross - 1)
    value = raw.quantize(COEFFICIENT, rounding=ROUND_HALF_UP)
    return max(ZERO, min(value, reduction.maximum(headcount)))


def _split_reduction(
    amount: Decimal, reduction: Fillon | Rgdu, headcount: int
) -> tuple[tuple[str, Decimal], ...]:
    """Share the reduction between organisations pro rata to their points in the maximum coefficient."""
    if not amount:
        return ()
    maximum = reduction.maximum(headcount) * HUNDRED
    parts = [(org, cents(amount * points / maximum)) for org, points in sorted(reduction.imputation.items())]
    rest = amount - sum((part for _, part in parts), ZERO)
    return ((reduction.organisation, rest), *parts)
