"""``eage payslip``: one simulated payslip from a gross salary, with the rules under the group's folder.

Defaults for the employer (profile, headcount, AT/MP and versement mobilité rates) come from
rules/group.yaml when it exists, else: company subject to VAT, headcount 1, AT/MP 2.08 %, no versement
mobilité (the profile of URSSAF's reference payslips). The command's flags override both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from eage.payroll.engine import Payslip, PayslipInput, compute_payslip
from eage.payroll.params import load_payroll_rules

__all__ = ["Payslip", "group_defaults", "simulate"]

DEFAULT_PROFILE = "company"
DEFAULT_HEADCOUNT = 1
DEFAULT_ATMP_PERCENT = Decimal("2.08")
DEFAULT_VM_PERCENT = Decimal(0)


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
) -> Payslip:
    """The payslip of a month (rates in percent) under the payroll rules of ``root`` (rules/payroll/)."""
    return compute_payslip(
        load_payroll_rules(root / "rules" / "payroll"),
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
        ),
    )
