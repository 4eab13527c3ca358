"""``eage payslip``: one simulated payslip from a gross salary, with the rules under the group's folder.

Defaults for the employer (profile, headcount and headcount per threshold, AT/MP and versement mobilité
rates) come from rules/group.yaml when it exists, else: company subject to VAT, headcount 1, AT/MP 2.08 %,
no versement mobilité (the profile of URSSAF's reference payslips). The command's flags override both (a
``--headcount`` given applies to every threshold).

Paid leave taken (``leave_days``, jours ouvrables) is valued by salary maintained, as the leave rules
value it (rules/payroll/conges.yaml ``valorisation``): the month's salary / its jours ouvrables réels x the
days taken, deducted as an absence and paid as the indemnity (the tenth rule needs the reference period's
pay, which a one-month simulation does not have).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from eage.money import ZERO, cents
from eage.payroll.engine import Headcounts, Payslip, PayslipInput, compute_payslip
from eage.payroll.params import load_payroll_rules

__all__ = ["Payslip", "group_defaults", "group_headcounts", "leave_value", "simulate"]

DEFAULT_PROFILE = "company"
DEFAULT_HEADCOUNT = 1
DEFAULT_ATMP_PERCENT = Decimal("2.08")
DEFAULT_VM_PERCENT = Decimal(0)


def group_headcounts(root: Path) -> Headcounts | None:
    """The employer's headcount per threshold in rules/group.yaml (CSS L130-1 III), or None."""
    path = root / "rules" / "group.yaml"
    if not path.exists():
        return None
    from eage.payroll.contracts import employer_headcounts
    from eage.rules.loader import load_model
    from eage.rules.models import Group

    return employer_headcounts(load_model(path, Group).employer)


def leave_value(root: Path, month: dt.date, gross: Decimal, leave_days: Decimal) -> Decimal:
    """The salary maintained for ``leave_days`` jours ouvrables taken in ``month`` (L3141-24 II)."""
    if not leave_days:
        return ZERO
    import calendar

    from eage.errors import InputError
    from eage.payroll.leave import load_conges

    conges = load_conges(root / "rules" / "payroll")
    last = dt.date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    ouvrables = conges.ouvrables(month, last)
    if leave_days > ouvrables:
        raise InputError.at(
            f"{leave_days} days of leave taken, but {month:%Y-%m} has {ouvrables} jours ouvrables",
            key="leave_days",
            fix=f"give at most {ouvrables} days (Monday to Saturday, public holidays excluded)",
        )
    return cents(gross * leave_days / ouvrables)


def group_defaults(root: Path, month: dt.date) -> tuple[str, int, Decimal, Decimal]:
    """(profile, headcount, AT/MP %, versement mobilité %) of the employer in rules/group.yaml, or the defaults."""
    path = root / "rules" / "group.yaml"
    if not path.exists():
        return DEFAULT_PROFILE, DEFAULT_HEADCOUNT, DEFAULT_ATMP_PERCENT, DEFAULT_VM_PERCENT
    from eage.rules.dated import NotInForce
    from eage.rules.loader import load_model
    from eage.rules.models import Group

    employer = load_model(path, Group).employer
    try:
        atmp = employer.atmp.at(month)
    except NotInForce:
        atmp = DEFAULT_ATMP_PERCENT
    try:
        vm = employer.vm.at(month)
    except NotInForce:
        vm = DEFAULT_VM_PERCENT
    return employer.profile, employer.headcount, atmp, vm


def simulate(
    root: Path,
    *,
    month: dt.date,
    gross: Decimal,
    weekly_hours: Decimal,
    cadre: bool,
    pas_rate: Decimal,
    profile: str,
    headcount: int,
    atmp_rate: Decimal,
    vm_rate: Decimal,
    headcounts: Headcounts | None = None,
    mutuelle: Decimal = ZERO,
    mutuelle_employer_share: Decimal = Decimal(50),
    overtime_hours: Decimal = ZERO,
    leave_days: Decimal = ZERO,
) -> Payslip:
    """The payslip of a month (rates in percent) under the payroll rules of ``root`` (rules/payroll/).

    ``overtime_hours`` are paid at the first majoration (25 %); for a part-timer they are complementary
    hours (the engine splits them 10 % / 25 %)."""
    rules = load_payroll_rules(root / "rules" / "payroll")
    duree = rules.value("parameters.yaml", "duree_legale", rules.parameters.duree_legale.values, month)
    part_time = weekly_hours < duree.weekly_hours
    leave = leave_value(root, month, gross, leave_days)
    return compute_payslip(
        rules,
        PayslipInput(
            month=month,
            base_gross=gross,
            weekly_hours=weekly_hours,
            cadre=cadre,
            pas_rate=pas_rate,
            employer_profile=profile,
            headcount=headcount,
            atmp_rate=atmp_rate,
            vm_rate=vm_rate,
            headcounts=headcounts,
            mutuelle_total=mutuelle,
            mutuelle_employer_share=mutuelle_employer_share,
            overtime_25_hours=ZERO if part_time else overtime_hours,
            complementary_hours=overtime_hours if part_time else ZERO,
            leave_days=leave_days,
            leave_absence=leave,
            leave_indemnity=leave,
        ),
    )
