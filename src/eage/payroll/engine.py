"""The payslip computation: a pure function from rules and one month's input to a payslip.

Every rate, ceiling and threshold comes from :class:`~eage.payroll.params.PayrollRules`; this module only
knows the shapes of the computation (bases, slices, the reduction formulas). Amounts are ``Decimal``,
rounded to the cent per line (ROUND_HALF_UP), as a real payslip is; totals are sums of rounded lines so
that the payslip and the journal entry agree to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

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
    Threshold,
    When,
)

if TYPE_CHECKING:
    from eage.payroll.leave import LeaveCounters

Side = Literal["salarié", "employeur"]
SALARIE: Side = "salarié"
EMPLOYEUR: Side = "employeur"
HUNDRED = Decimal(100)
COEFFICIENT = Decimal("0.0001")
#: The RGDU's SMIC of a month is kept to 10 decimals (cut), never rounded to the cent (CSS D241-7).
SMIC_PRECISION = Decimal("1e-10")
#: Codes of the payslip lines that are not contributions of contributions.yaml.
RGDU_CODE = "rgdu"
#: Prefix of the taxe sur les salaires lines (one per bracket): an employer tax, not a contribution.
TSS_CODE_PREFIX = "tss_"
#: The overtime reliefs' lines (rules in reductions.yaml ``heures_supplementaires``).
OVERTIME_EMPLOYEE_CODE = "hs_reduction_salariale"
OVERTIME_EMPLOYER_CODE = "hs_deduction_patronale"
#: Earnings lines of overtime (hs) and complementary hours (hc): their pay gets the reliefs.
OVERTIME_CODES = ("hs25", "hs50", "hc10", "hc25")
#: The contribution whose rate is the deductible CSG (CGI 154 quinquies), for the exempt overtime.
DEDUCTIBLE_CSG_CODE = "csg_ded"
#: The CSG on the overtime pay exempt of income tax, moved off the deductible and taxable CSG lines.
EXEMPT_CSG_CODE = "csg_hs"


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

    def headcount_of(self, threshold: Threshold) -> int:
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
    #: The SMIC of the reduction this month (reference hourly SMIC x hours paid, CSS D241-7), to the cent
    #: for display; ``smic_month`` is the SMIC in force for the contract hours (the salary's floor).
    rgdu_smic: Decimal = ZERO
    leave: LeaveCounters | None = None  # set by payroll.month with dataclasses.replace
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
    overtime_rules = rules.value(
        REDUCTIONS_FILE, "heures_supplementaires", rules.reductions.heures_supplementaires.values, day
    )

    month_factor = duree.weeks_per_year / duree.months_per_year
    hours_month = inp.weekly_hours * month_factor
    # The SMIC in force for the contract hours: the floor of the base salary (C. trav. L3231-2).
    smic_contract = cents(smic_h * hours_month)
    if inp.base_gross < smic_contract:
        raise InputError.at(
            f"gross {inp.base_gross} EUR is below the SMIC for {inp.weekly_hours} h a week in {day:%Y-%m} "
            f"({smic_contract} EUR = {smic_h} EUR x {hours_month.quantize(Decimal('0.01'))} h)",
            key="base_gross",
            fix=f"pay at least {smic_contract} EUR a month, or lower the contract hours",
        )
    _check_hours(rules, inp, hours_month, duree.weekly_hours * month_factor, day)
    # Part time pro-rates the ceilings (CSS R242-7); more than full time does not raise them.
    ratio = min(inp.weekly_hours / duree.weekly_hours, Decimal(1))
    pss = cents(pmss * ratio)

    hourly = inp.base_gross / hours_month
    earnings = [EarningLine("base", "Salaire de base", cents(hours_month), None, cents(inp.base_gross))]
    complementaires = rules.value(
        PARAMETERS_FILE, "heures_complementaires", params.heures_complementaires.values, day
    )
    within = min(inp.complementary_hours, hours_month * complementaires.first_tranche / HUNDRED)
    for code, label, hours, majoration in (
        ("hs25", "Heures supplémentaires", inp.overtime_25_hours, majorations.first),
        ("hs50", "Heures supplémentaires", inp.overtime_50_hours, majorations.second),
        ("hc10", "Heures complémentaires", within, complementaires.first),
        ("hc25", "Heures complémentaires", inp.complementary_hours - within, complementaires.second),
    ):
        if hours:
            rate = hourly * (1 + majoration / HUNDRED)
            earnings.append(
                EarningLine(code, f"{label} {_plain(majoration)} %", hours, rate, cents(rate * hours))
            )
    overtime_pay = sum((e.amount for e in earnings if e.code in OVERTIME_CODES), ZERO)
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
    # Paid leave: the salary of the days taken is deducted and the indemnity paid instead (part C values
    # both); the indemnity is booked on 6412, the Payslip exposes it apart.
    if inp.leave_absence:
        earnings.append(
            EarningLine(
                "cp_absence", "Absence congés payés", inp.leave_days or None, None, -cents(inp.leave_absence)
            )
        )
    leave_indemnity = cents(inp.leave_indemnity)
    if leave_indemnity:
        earnings.append(
            EarningLine(
                "cp_indemnite", "Indemnité de congés payés", inp.leave_days or None, None, leave_indemnity
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
    # Two passes: CSG and forfait social bases include the employer's prévoyance and health shares
    # computed in the first.
    derived: tuple[BaseKind, ...] = ("csg", "prevoyance_patronale")
    contributions = rules.contributions.contributions
    for pass_derived in (False, True):
        prevoyance_patronale = sum(
            (employer[c.code].amount for c in contributions if c.in_csg_base and c.code in employer), ZERO
        )
        for index, contribution in enumerate(contributions):
            case = _first_case(rules, index, contribution, ctx)
            if contribution.prevoyance and inp.prevoyance_rate is not None:
                case = _prevoyance_case(contribution, case, inp)
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
            elif kind == "mutuelle":
                base = cents(inp.mutuelle_total)
            else:
                base = _base(kind, gross, pss)
            if base <= 0:
                continue
            for side, value, out in (
                (EMPLOYEUR, case.employer, employer),
                (SALARIE, case.employee, employee),
            ):
                if value is None:
                    continue
                rate = _rate(value, inp)
                if rate == 0:
                    continue
                amount = cents(base * rate / HUNDRED)
                if kind == "mutuelle" and side == SALARIE and contribution.code in employer:
                    # One premium shared: the employee pays what the employer does not, to the cent.
                    amount = base - employer[contribution.code].amount
                out[contribution.code] = PayslipLine(
                    side=side,
                    code=contribution.code,
                    label=contribution.label,
                    base=base,
                    rate=rate,
                    amount=amount,
                    organisation=contribution.organisation,
                    charge=contribution.charge,
                    group=contribution.group,
                )

    # The employer's prévoyance and health shares are out of the contributions' base within a limit
    # (CSS D242-1); eage does not put an excess back into the base: it refuses the payslip.
    exclusion = rules.value(PARAMETERS_FILE, "prevoyance_exclusion", params.prevoyance_exclusion.values, day)
    limit = cents(
        min(
            pss * exclusion.pmss_percent / HUNDRED + gross * exclusion.gross_percent / HUNDRED,
            pss * exclusion.cap_pmss_percent / HUNDRED,
        )
    )
    shares = sum(
        (employer[c.code].amount for c in contributions if c.in_csg_base and c.code in employer), ZERO
    )
    if shares > limit:
        raise InputError.at(
            f"the employer's prévoyance and health contributions ({shares} EUR) exceed the {limit} EUR a month "
            "excluded from the contributions' base; eage does not compute the contributions on the excess",
            file=rules.path(PARAMETERS_FILE),
            key="prevoyance_exclusion.values",
            fix="check mutuelle_total, mutuelle_employer_share and prevoyance_rate (CSS D242-1)",
        )
    # Overtime pay exempt of income tax (CGI 81 quater) within the annual cap, which is of net taxable
    # pay: in gross it is cap / (1 - CSG base share x deductible CSG rate), as the URSSAF model and DSN do.
    # The CSG on the exempt pay leaves the deductible / taxable CSG lines for one line of CSG on
    # non-taxable income, wholly non-deductible (payslip model, "CSG/CRDS sur les revenus non imposables").
    overtime_exempt = ZERO
    exempt_csg: PayslipLine | None = None
    if overtime_pay:
        csg_ded = employee.get(DEDUCTIBLE_CSG_CODE)
        csg_rate = csg_ded.rate / HUNDRED if csg_ded else ZERO
        share = 1 - csg_params.abattement / HUNDRED
        cap = cents(overtime_rules.income_tax_cap / (1 - share * csg_rate))
        already = inp.ytd.overtime_exempt if inp.ytd else ZERO
        overtime_exempt = max(ZERO, min(overtime_pay, cap - already))
        exempt_base = cents(overtime_exempt * share)
        moved = [employee[code] for code in overtime_rules.exempt_csg_codes if code in employee]
        if exempt_base and moved:
            for old in moved:
                base = old.base - exempt_base
                employee[old.code] = replace(old, base=base, amount=cents(base * old.rate / HUNDRED))
            rate = sum((old.rate for old in moved), ZERO)
            exempt_csg = PayslipLine(
                SALARIE,
                EXEMPT_CSG_CODE,
                overtime_rules.exempt_csg_label,
                exempt_base,
                rate,
                cents(exempt_base * rate / HUNDRED),
                moved[0].organisation,
                moved[0].charge,
                overtime_rules.exempt_csg_group,
            )

    order = [c.code for c in contributions]
    lines = [employee[code] for code in order if code in employee]
    if exempt_csg is not None:
        lines.append(exempt_csg)
    lines += [employer[code] for code in order if code in employer]
    references = [c.reference for c in contributions]

    # Overtime and complementary hours: the employee's reduction (CSS L241-17, D241-21) at the effective
    # rate of his old-age contributions, capped; the employer's flat deduction per overtime hour (CSS
    # L241-18, L241-18-1), not for complementary hours.
    if overtime_pay:
        codes = set(overtime_rules.employee_codes)
        old_age = sum((line.amount for line in employee.values() if line.code in codes), ZERO)
        relief_rate = min(old_age / gross * HUNDRED, overtime_rules.employee_cap).quantize(COEFFICIENT)
        relief = cents(overtime_pay * relief_rate / HUNDRED)
        if relief:
            lines.insert(
                len([line for line in lines if line.side == SALARIE]),
                PayslipLine(
                    SALARIE,
                    OVERTIME_EMPLOYEE_CODE,
                    overtime_rules.employee_label,
                    overtime_pay,
                    -relief_rate,
                    -relief,
                    overtime_rules.organisation,
                    overtime_rules.organisation,
                    overtime_rules.group,
                ),
            )
    overtime_hours = inp.overtime_25_hours + inp.overtime_50_hours
    if overtime_hours:
        below = inp.headcount_of("overtime_deduction") < overtime_rules.headcount_threshold
        per_hour = overtime_rules.employer_below if below else overtime_rules.employer_from
        deduction = cents(overtime_hours * per_hour)
        if deduction:
            # Base: the overtime hours; rate: EUR per hour (not a percentage).
            lines.append(
                PayslipLine(
                    EMPLOYEUR,
                    OVERTIME_EMPLOYER_CODE,
                    overtime_rules.employer_label,
                    overtime_hours,
                    -per_hour,
                    -deduction,
                    overtime_rules.organisation,
                    overtime_rules.organisation,
                    overtime_rules.group,
                )
            )
    if overtime_pay or overtime_hours:
        references.append(rules.reductions.heures_supplementaires.reference)

    if inp.employer_profile == "association":
        tss = rules.value(
            TAXE_SALAIRES_FILE, "taxe_sur_salaires", rules.taxe_salaires.taxe_sur_salaires.values, day
        )
        tss_base = gross + prevoyance_patronale
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
        references.append(
            rules.taxe_salaires.taxe_sur_salaires.reference_at(day)
            or rules.taxe_salaires.taxe_sur_salaires.reference
        )

    # The reduction's SMIC (CSS D241-7): the reference hourly SMIC (frozen for 2026) x the contract's
    # monthly hours, unrounded, plus the overtime and complementary hours without their majoration, less
    # the unpaid absence. Paid leave is not an absence: it leaves the SMIC whole.
    extra_hours = (
        inp.overtime_25_hours + inp.overtime_50_hours + inp.complementary_hours - inp.unpaid_absence_hours
    )
    paid_hours = hours_month + extra_hours
    # Divided last and cut (not rounded) at 10 decimals, so that 3 SMIC is never above its exact value:
    # 5 469.10 EUR in January 2026 is 3 SMIC exactly (3 x 12.02 x 35 x 52 / 12), no reduction.
    rgdu_smic = (
        reduction.smic_reference
        * (inp.weekly_hours * duree.weeks_per_year + extra_hours * duree.months_per_year)
        / duree.months_per_year
    ).quantize(SMIC_PRECISION, rounding=ROUND_DOWN)
    rgdu_headcount = inp.headcount_of("rgdu")
    ytd = inp.ytd
    if ytd is None:
        coefficient = _coefficient(reduction, gross, rgdu_smic, rgdu_headcount)
        rgdu = cents(gross * coefficient)
    else:
        # Progressive regularisation (CSS D241-10): the coefficient of the year to date, less what the
        # earlier months applied; a negative month is a reprise.
        coefficient = _coefficient(reduction, ytd.gross + gross, ytd.rgdu_smic + rgdu_smic, rgdu_headcount)
        rgdu = cents((ytd.gross + gross) * coefficient) - ytd.rgdu
    if rgdu:
        lines.append(
            PayslipLine(
                EMPLOYEUR,
                RGDU_CODE,
                reduction.label if rgdu > 0 else reduction.regularisation_label,
                gross,
                -coefficient * HUNDRED,
                -rgdu,
                reduction.organisation,
                reduction.organisation,
                reduction.group,
            )
        )
    split = _split_reduction(rgdu, reduction, rgdu_headcount)
    references.append(rules.reductions.reduction_generale.reference)

    employee_total = sum((line.amount for line in lines if line.side == SALARIE), ZERO)
    employer_total = sum((line.amount for line in lines if line.side == EMPLOYEUR), ZERO)
    net_before_tax = gross - employee_total
    # CSG non déductible and CRDS are not deductible from taxable income; the employer's health share is a
    # taxable benefit (CGI 83 1° quater). Employer prévoyance within the legal limits is not.
    added = {c.code for c in contributions if c.adds_to_net_taxable} | {EXEMPT_CSG_CODE}
    benefits = {c.code for c in contributions if c.employer_share_taxable}
    net_taxable = net_before_tax + sum(
        (
            line.amount
            for line in lines
            if (line.side == SALARIE and line.code in added)
            or (line.side == EMPLOYEUR and line.code in benefits)
        ),
        ZERO,
    )
    net_taxable -= overtime_exempt
    pas = cents(net_taxable * inp.pas_rate / HUNDRED)
    tss_total = sum((line.amount for line in lines if line.code.startswith(TSS_CODE_PREFIX)), ZERO)
    # Montant net social (arrêté of 31 January 2023, BOSS): every pay paid, less every mandatory employee
    # contribution of legal or conventional origin, CSG/CRDS included, employer health and prévoyance
    # shares not added (BOSS from 2024). Every employee line of eage is such a contribution (or its
    # reduction), so it equals the net before income tax.
    net_social = gross - employee_total
    before = ytd or YearToDate()
    cumulative = YearToDate(
        months=before.months + 1,
        gross=before.gross + gross,
        rgdu_smic=before.rgdu_smic + rgdu_smic,
        rgdu=before.rgdu + rgdu,
        net_taxable=before.net_taxable + net_taxable,
        hours=before.hours + paid_hours,
        overtime_exempt=before.overtime_exempt + overtime_exempt,
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
        net_social=net_social,
        leave_indemnity=leave_indemnity,
        leave_days=inp.leave_days,
        hours=paid_hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        overtime_exempt=overtime_exempt,
        employer_total=gross + employer_total - tss_total,
        tss=tss_total,
        cumulative=cumulative,
        rgdu_smic=cents(rgdu_smic),
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
    "complementary_hours",
    "leave_days",
    "leave_absence",
    "leave_indemnity",
    "mutuelle_total",
    "mutuelle_employer_share",
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
    if inp.headcount < 0:
        raise InputError.at("headcount is negative", key="headcount", fix="count the group's staff")
    for name in (
        "overtime_25_hours",
        "overtime_50_hours",
        "unpaid_absence_hours",
        "bonus",
        "pas_rate",
        "complementary_hours",
        "leave_days",
        "leave_absence",
        "leave_indemnity",
        "mutuelle_total",
    ):
        if getattr(inp, name) < 0:
            raise InputError.at(f"{name} is negative", key=name, fix="give a value >= 0")
    if inp.prevoyance_rate is not None and not (
        isinstance(inp.prevoyance_rate, Decimal)
        and inp.prevoyance_rate.is_finite()
        and 0 <= inp.prevoyance_rate <= HUNDRED
    ):
        raise InputError.at(
            f"prevoyance_rate {inp.prevoyance_rate} is not a rate in percent from 0 to 100",
            key="prevoyance_rate",
            fix="give the employer's prévoyance rate of the contract in percent (1.50 for 1,50 %)",
        )
    # CSS L911-7, loi 2013-504 art. 1 II: the employer pays at least half of the health cover.
    if inp.mutuelle_total and not (50 <= inp.mutuelle_employer_share <= HUNDRED):
        raise InputError.at(
            f"mutuelle_employer_share {inp.mutuelle_employer_share} % is not between 50 and 100",
            key="mutuelle_employer_share",
            fix="the employer finances at least half of the health cover (CSS L911-7): give 50 or more",
        )
    if inp.headcounts is not None:
        for name in ("fnal", "peec", "rgdu", "overtime_deduction", "forfait_social"):
            value = getattr(inp.headcounts, name)
            if not isinstance(value, int) or value < 0:
                raise InputError.at(
                    f"headcounts.{name} {value!r} is not a count >= 0",
                    key=f"headcounts.{name}",
                    fix="give the CSS L130-1 headcount of each threshold (staff made available excluded)",
                )


def _check_hours(
    rules: PayrollRules, inp: PayslipInput, hours_month: Decimal, legal_month: Decimal, day: dt.date
) -> None:
    """Complementary hours only for a part-timer, within their ceiling; no month beyond the maximum."""
    params = rules.parameters
    if inp.complementary_hours:
        if hours_month >= legal_month:
            raise InputError.at(
                f"complementary hours ({inp.complementary_hours} h) are for part time; the contract is "
                f"{inp.weekly_hours} h a week",
                key="complementary_hours",
                fix="give hours beyond 35 h a week as overtime (overtime_25_hours / overtime_50_hours)",
            )
        rule = rules.value(
            PARAMETERS_FILE, "heures_complementaires", params.heures_complementaires.values, day
        )
        ceiling = cents(hours_month * rule.ceiling / HUNDRED)
        if inp.complementary_hours > ceiling:
            raise InputError.at(
                f"{inp.complementary_hours} complementary hours exceed the ceiling of {_plain(rule.ceiling)} "
                f"% of the contract's {cents(hours_month)} h a month ({ceiling} h)",
                file=rules.path(PARAMETERS_FILE),
                key="heures_complementaires.values",
                fix="amend the contract's hours (avenant), or raise the ceiling in the rules with the branch "
                "agreement that allows it (at most one third)",
            )
        if hours_month + inp.complementary_hours >= legal_month:
            raise InputError.at(
                f"complementary hours bring the month to {cents(hours_month + inp.complementary_hours)} h, "
                f"the legal duration ({cents(legal_month)} h) or more",
                key="complementary_hours",
                fix="complementary hours cannot reach the legal duration (C. trav. L3123-9): amend the contract",
            )
    maximum = rules.value(PARAMETERS_FILE, "duree_maximale", params.duree_maximale.values, day)
    duree = rules.value(PARAMETERS_FILE, "duree_legale", params.duree_legale.values, day)
    most = maximum.weekly_hours * duree.weeks_per_year / duree.months_per_year
    worked = hours_month + inp.overtime_25_hours + inp.overtime_50_hours + inp.complementary_hours
    if worked > most:
        raise InputError.at(
            f"{cents(worked)} h in the month exceed the maximum of {_plain(maximum.weekly_hours)} h a "
            f"week ({cents(most)} h a month)",
            file=rules.path(PARAMETERS_FILE),
            key="overtime_25_hours",
            fix="check the overtime hours: no week may exceed 48 h (C. trav. L3121-20)",
        )


def _prevoyance_case(contribution: Contribution, case: RateCase | None, inp: PayslipInput) -> RateCase:
    """The contract's prévoyance rate replaces the rules' employer rate, for every employee; for a cadre it
    cannot be below the rules' rate (the 1.50 % of ANI 2017 art. 7 is a minimum)."""
    assert inp.prevoyance_rate is not None
    if case is not None and isinstance(case.employer, Decimal) and inp.prevoyance_rate < case.employer:
        raise InputError.at(
            f"prevoyance_rate {inp.prevoyance_rate} % is below the {case.employer:.2f} % minimum of "
            f"{contribution.code} for this employee",
            key="prevoyance_rate",
            fix=f"give at least {case.employer:.2f} % ({contribution.reference})",
        )
    return RateCase(base=contribution.base, employer=inp.prevoyance_rate)


def _plain(value: Decimal) -> str:
    """A rule's figure as written, without trailing zeros or exponent (25, 10, 33.33)."""
    return format(value.normalize(), "f")


def _holds(when: When, ctx: _Context, threshold: Threshold | None) -> bool:
    inp = ctx.inp
    headcount = inp.headcount if threshold is None else inp.headcount_of(threshold)
    checks = (
        when.cadre is None or when.cadre == inp.cadre,
        when.profile is None or when.profile == inp.employer_profile,
        when.headcount_below is None or headcount < when.headcount_below,
        when.headcount_from is None or headcount >= when.headcount_from,
        when.gross_up_to_smic is None or ctx.gross <= when.gross_up_to_smic * ctx.smic_contract,
        when.gross_above_pmss is None or (ctx.gross > ctx.pss) == when.gross_above_pmss,
    )
    return all(checks)


def _first_case(
    rules: PayrollRules, index: int, contribution: Contribution, ctx: _Context
) -> RateCase | None:
    key = (index, ctx.inp.month)
    cases = rules.cases_in_force.get(key)
    if cases is None:
        found = rules.value(CONTRIBUTIONS_FILE, f"contributions[{index}]", contribution.values, ctx.inp.month)
        cases = rules.cases_in_force[key] = [found] if isinstance(found, RateCase) else list(found)
    return next((case for case in cases if _holds(case.when, ctx, contribution.threshold)), None)


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
    if value == "mutuelle_employer_share":
        return inp.mutuelle_employer_share
    if value == "mutuelle_employee_share":
        return HUNDRED - inp.mutuelle_employer_share
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
