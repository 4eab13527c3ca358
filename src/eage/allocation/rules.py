"""The allocation rules of a day, read from rules/allocation.yaml and rules/staff.yaml.

:func:`eage.allocation.core.allocate` takes plain :class:`AllocationRules`; this is the one place that
translates the validated rules into them (the billing mode, the standard rates and the management fee in
force on the day, each employee's primary service, the pools billed at the year-to-date rate), so the monthly run, the year-end close and Fava read
rules/allocation.yaml the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from eage.allocation.core import OVERHEAD, YEAR_TO_DATE, AllocationRules
from eage.errors import InputError
from eage.money import ZERO
from eage.rules.bundle import Rules
from eage.rules.dated import NotInForce, in_force


def allocation_rules(rules: Rules, day: dt.date) -> AllocationRules:
    """The allocation rules in force on ``day`` (a standard rate missing for it is the rules' error)."""
    alloc = rules.allocation
    rates: dict[str, Decimal] = {}
    if alloc.billing_mode == "standard_rate":
        try:
            rates = dict(in_force(alloc.standard_rates, day))
        except NotInForce as exc:
            raise InputError.at(str(exc), file="rules/allocation.yaml", key="standard_rates") from None
    fee_rate = ZERO
    fee_label = "Frais de gestion"
    if alloc.management_fee is not None:
        fee_label = alloc.management_fee.label
        try:
            fee_rate = in_force(alloc.management_fee.rate, day)
        except NotInForce:
            # A fee that starts later in the year: none before it comes into force.
            fee_rate = ZERO
    method = alloc.rate_method
    year_to_date = {OVERHEAD} if method.overhead == YEAR_TO_DATE else set()
    if method.services == YEAR_TO_DATE:
        year_to_date |= set(alloc.services)
    if OVERHEAD in year_to_date and alloc.overhead.key != "billable_hours":
        raise InputError.at(
            "rate_method overhead: year_to_date bills an hourly rate, which the overhead key 'equal' has not",
            file="rules/allocation.yaml",
            key="rate_method.overhead",
            fix="use overhead key billable_hours, or rate_method overhead: monthly",
        )
    return AllocationRules(
        mode=alloc.billing_mode,
        services={k: v.label for k, v in alloc.services.items()},
        staff_accounts=alloc.staff_accounts,
        overhead_accounts=alloc.overhead.accounts,
        overhead_label=alloc.overhead.label,
        overhead_key=alloc.overhead.key,
        excluded_accounts=alloc.excluded_accounts,
        primary_service={e.id: e.service for e in rules.staff.employees},
        standard_rates=rates,
        fee_rate=fee_rate,
        fee_label=fee_label,
        year_to_date=frozenset(year_to_date),
    )
