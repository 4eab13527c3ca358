"""The demo's books hold its paid-leave debt: at every month end, 4282 and 4382 equal the valued balance of
the leave acquired and not taken, and its employer contributions (issue 14, "the provision balance equals
the valued balance of days at every month end").

Reads the repository's demo (read only): the months whose payroll journal the ledger holds.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import data

from eage.app.inputs import load_inputs, with_months
from eage.month import Month
from eage.payroll.month import compute_payslips

DEMO = Path(__file__).resolve().parent.parent
PROVISION = "4282"
CHARGES = "4382"


def test_the_leave_debt_in_the_books_is_the_valued_balance_at_every_month_end() -> None:
    entries, errors, _ = loader.load_file(str(DEMO / "ledger" / "main.beancount"))
    assert errors == []
    months = sorted(
        {
            Month.parse(str(e.meta["payslip"])[4:11])
            for e in entries
            if isinstance(e, data.Transaction) and str(e.meta.get("payslip", "")).startswith("PAY-")
        }
    )
    assert months[0] == Month(2026, 1) and len(months) >= 10
    inputs = with_months(load_inputs(DEMO, check_lock=False), [months[-1]])
    for month in months:
        slips = compute_payslips(
            inputs.rules, inputs.payroll, month, inputs.variables, inputs.leave_opening, inputs.contracts
        )
        valued = sum((s.leave.provision for _, s in slips if s.leave is not None), Decimal(0))
        charges = sum((s.leave.provision_charges for _, s in slips if s.leave is not None), Decimal(0))
        books = {PROVISION: Decimal(0), CHARGES: Decimal(0)}
        for entry in entries:
            if isinstance(entry, data.Transaction) and entry.date <= month.last_day:
                for posting in entry.postings:
                    amount = posting.units.number if posting.units is not None else None
                    for number in books:
                        if f":{number}-" in posting.account and amount is not None:
                            books[number] -= amount
        assert (books[PROVISION], books[CHARGES]) == (valued, charges), month
        assert valued > 0


def test_august_pays_leave_from_the_provision_not_from_the_month() -> None:
    """The month with most leave taken: its debt falls, the leave paid is charged against it."""
    inputs = with_months(load_inputs(DEMO, check_lock=False), [Month(2026, 8)])
    slips = dict(
        compute_payslips(
            inputs.rules,
            inputs.payroll,
            Month(2026, 8),
            inputs.variables,
            inputs.leave_opening,
            inputs.contracts,
        )
    )
    cmartin = slips["cmartin"]
    assert cmartin.leave is not None and cmartin.leave.taken_this_month
    assert cmartin.leave_indemnity > 0
    assert cmartin.leave.provision < cmartin.leave.provision_before
