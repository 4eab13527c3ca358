"""The payroll journal: the payslip at "total versé par l'employeur", the taxe sur les salaires apart,
and the paid-leave provision (Dr 6412 / Cr 4282, Dr 6458x / Cr 4382) month by month.

Payslips are built by hand (the journal only reads them), the accounts are the shipped
rules/payroll/accounts.yaml.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from eage.allocation.core import OVERHEAD, AllocationRules, pool_costs
from eage.errors import InputError
from eage.ledger.load import CostLine
from eage.ledger.model import Txn
from eage.payroll.engine import EMPLOYEUR, RGDU_CODE, SALARIE, Payslip, PayslipLine
from eage.payroll.journal import (
    leave_provision_transaction,
    payroll_transactions,
    tss_transaction,
)
from eage.payroll.leave import LeaveCounters
from eage.payroll.params import PayrollAccounts
from eage.timesheets import TimesheetLine

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = PayrollAccounts.model_validate(
    yaml.safe_load((ROOT / "rules" / "payroll" / "accounts.yaml").read_text(encoding="utf-8"))
)
DAY = dt.date(2026, 8, 31)
D = Decimal

SALARIES = "Charges:64-Personnel:6411-Salaires"
LEAVE = "Charges:64-Personnel:6412-Conges-payes"
LEAVE_CHARGES = "Charges:64-Personnel:64582-Charges-sociales-sur-conges-payes"
DEBT = "Passif:42-Personnel:4282-Dettes-provisionnees-conges-a-payer"
CHARGES_DEBT = "Passif:43-Organismes-sociaux:4382-Charges-sociales-conges-a-payer"
TSS = "Charges:63-Impots-taxes:6311-Taxe-sur-les-salaires"
TSS_DUE = "Passif:44-Etat:447-Taxe-sur-les-salaires"


def leave_counters(
    provision: Decimal,
    provision_charges: Decimal,
    provision_before: Decimal,
    provision_charges_before: Decimal,
) -> LeaveCounters:
    """Counters whose only amounts that matter here are the four the journal reads."""
    return LeaveCounters(
        period_n1="2025-06-01/2026-05-31",
        acquired_n1=D(30),
        taken_n1=D(0),
        balance_n1=D(30),
        period_n="2026-06-01/2027-05-31",
        acquired_n=D(0),
        taken_n=D(0),
        balance_n=D(0),
        taken_this_month=(),
        provision=provision,
        provision_charges=provision_charges,
        provision_before=provision_before,
        provision_charges_before=provision_charges_before,
    )


def line(side: str, code: str, amount: str, organisation: str, charge: str) -> PayslipLine:
    return PayslipLine(side, code, code, D(3000), D(1), D(amount), organisation, charge)  # type: ignore[arg-type]


def slip(tss: str = "120.00", indemnity: str = "600.00", leave: LeaveCounters | None = None) -> Payslip:
    """August: 2 900 of salary (600 of it the indemnity of the leave taken), 100 of bonus; an RGDU of 50
    imputed 40 on URSSAF and 10 on Agirc-Arrco; ``tss`` of taxe sur les salaires."""
    lines = [
        line(SALARIE, "vieillesse", "200.00", "urssaf", "urssaf"),
        line(EMPLOYEUR, "maladie", "210.00", "urssaf", "urssaf"),
        line(EMPLOYEUR, "retraite", "150.00", "agirc_arrco", "retraite"),
        line(EMPLOYEUR, "tss_1", tss, "sie", "taxe_sur_salaires"),
        line(EMPLOYEUR, RGDU_CODE, "-50.00", "urssaf", "urssaf"),
    ]
    gross = D("3000.00")
    employer = D(210) + D(150) + D(tss) - D(50)
    return Payslip(
        month=dt.date(2026, 8, 1),
        cadre=False,
        weekly_hours=D(35),
        smic_month=D("1823.03"),
        pss=D(4005),
        earnings=(),
        salary=D("2900.00"),
        bonus=D("100.00"),
        gross=gross,
        lines=tuple(lines),
        employee_contributions=D("200.00"),
        employer_contributions=employer,
        rgdu=D("50.00"),
        rgdu_coefficient=D("0.1"),
        rgdu_label="RGDU",
        rgdu_split=(("urssaf", D("40.00")), ("agirc_arrco", D("10.00"))),
        net_before_tax=D("2800.00"),
        net_taxable=D("2800.00"),
        pas_rate=D("3.57"),
        pas=D("100.00"),
        net_paid=D("2700.00"),
        employer_cost=gross + employer,
        leave_indemnity=D(indemnity),
        employer_total=gross + employer - D(tss),
        tss=D(tss),
        leave=leave,
    )


def amounts(txn: Txn) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for posting in txn.postings:
        out[posting.account] = out.get(posting.account, D(0)) + posting.amount
    return out


def debits(txn: Txn) -> Decimal:
    return sum((p.amount for p in txn.postings if p.account.startswith("Charges:")), D(0))


def test_payslip_entry_debits_the_total_paid_by_the_employer_with_the_indemnity_on_6412() -> None:
    payslip = slip()
    (txn, tss) = payroll_transactions([("alice", "Alice Durand", "compta", payslip)], ACCOUNTS, DAY)
    assert txn.balance() == 0
    assert debits(txn) == payslip.employer_total == D("3310.00")
    booked = amounts(txn)
    assert booked[LEAVE] == D("600.00")
    assert booked[SALARIES] == D("2300.00")
    assert TSS not in booked and TSS_DUE not in booked  # the tax is apart
    assert booked["Passif:43-Organismes-sociaux:431-Securite-sociale"] == D("-370.00")  # 200 + 210 - 40
    assert dict(tss.meta)["payslip"] == "TSS-2026-08"


def test_no_leave_taken_books_no_6412_on_the_payslip() -> None:
    (txn, _) = payroll_transactions([("alice", "Alice", "compta", slip(indemnity="0"))], ACCOUNTS, DAY)
    assert LEAVE not in amounts(txn)
    assert amounts(txn)[SALARIES] == D("2900.00")


def test_taxe_sur_les_salaires_is_one_entry_with_each_employee_on_its_own_posting() -> None:
    entries = [("alice", "Alice", "compta", slip("120.00")), ("bob", "Bob", "paie", slip("80.50"))]
    txn = tss_transaction(entries, ACCOUNTS, DAY)
    assert txn is not None and txn.balance() == 0
    per_employee = {dict(p.meta)["employee"]: p.amount for p in txn.postings if p.account == TSS}
    assert per_employee == {"alice": D("120.00"), "bob": D("80.50")}
    assert amounts(txn)[TSS_DUE] == D("-200.50")
    assert dict(txn.meta)["kind"] == "payroll"


def test_no_taxe_sur_les_salaires_no_entry() -> None:
    assert tss_transaction([("alice", "Alice", "compta", slip("0"))], ACCOUNTS, DAY) is None


def test_provision_increase_is_a_dotation_6412_4282_and_its_charges_6458x_4382() -> None:
    counters = leave_counters(D("1000.00"), D("420.00"), D("800.00"), D("336.00"))
    txn = leave_provision_transaction(("alice", "Alice", "compta", slip(leave=counters)), ACCOUNTS, DAY)
    assert txn is not None and txn.balance() == 0
    assert amounts(txn) == {
        LEAVE: D("200.00"),
        DEBT: D("-200.00"),
        LEAVE_CHARGES: D("84.00"),
        CHARGES_DEBT: D("-84.00"),
    }
    info = dict(txn.meta)
    assert info["employee"] == "alice" and info["kind"] == "payroll" and info["provision"] == "conges-payes"
    assert info["payslip"] == "CP-2026-08-alice"
    assert "dotation" in txn.narration


def test_leave_taken_beyond_leave_earned_is_a_reprise_the_sides_reversed() -> None:
    counters = leave_counters(D("400.00"), D("168.00"), D("1000.00"), D("420.00"))
    txn = leave_provision_transaction(("alice", "Alice", "compta", slip(leave=counters)), ACCOUNTS, DAY)
    assert txn is not None
    assert amounts(txn) == {
        LEAVE: D("-600.00"),
        DEBT: D("600.00"),
        LEAVE_CHARGES: D("-252.00"),
        CHARGES_DEBT: D("252.00"),
    }
    assert "reprise" in txn.narration


def test_no_counters_or_no_change_no_provision_entry() -> None:
    assert leave_provision_transaction(("a", "A", "compta", slip()), ACCOUNTS, DAY) is None
    same = leave_counters(D(500), D(200), D(500), D(200))
    assert leave_provision_transaction(("a", "A", "compta", slip(leave=same)), ACCOUNTS, DAY) is None


def test_month_journal_order_payslips_then_tax_then_provisions() -> None:
    counters = leave_counters(D("1000.00"), D("420.00"), D("800.00"), D("336.00"))
    entries = [("alice", "Alice", "compta", slip(leave=counters)), ("bob", "Bob", "paie", slip())]
    txns = payroll_transactions(entries, ACCOUNTS, DAY)
    kinds = [dict(t.meta)["payslip"] for t in txns]
    assert kinds == ["PAY-2026-08-alice", "PAY-2026-08-bob", "TSS-2026-08", "CP-2026-08-alice"]
    assert all(t.balance() == 0 for t in txns)


def test_missing_leave_account_is_named_in_the_accounts_file() -> None:
    accounts = ACCOUNTS.model_copy(
        update={"charges": {k: v for k, v in ACCOUNTS.charges.items() if k != "conges_payes"}}
    )
    with pytest.raises(InputError) as err:
        payroll_transactions([("alice", "Alice", "compta", slip())], accounts, DAY)
    (problem,) = err.value.problems
    assert problem.key == "charges.conges_payes"
    assert str(problem.file).endswith("rules/payroll/accounts.yaml")


@given(
    st.decimals(min_value=0, max_value=5000, places=2),
    st.lists(
        st.tuples(st.decimals(min_value=0, max_value=5000, places=2), st.decimals(0, 50, places=2)),
        min_size=1,
        max_size=14,
    ),
)
def test_debt_balance_is_the_valued_balance_at_every_month_end(
    opening: Decimal, months: list[tuple[Decimal, Decimal]]
) -> None:
    """4282 and 4382, from the opening provision, always hold the month end's valued balance."""
    debt, charges_debt = -opening, -(opening * D("0.42")).quantize(D("0.01"))
    before, charges_before = opening, -charges_debt
    for provision, rate in months:
        provision_charges = (provision * rate / 100).quantize(D("0.01"))
        counters = leave_counters(provision, provision_charges, before, charges_before)
        txn = leave_provision_transaction(("a", "A", "compta", slip(leave=counters)), ACCOUNTS, DAY)
        if txn is not None:
            assert txn.balance() == 0
            booked = amounts(txn)
            debt += booked.get(DEBT, D(0))
            charges_debt += booked.get(CHARGES_DEBT, D(0))
            assert booked.get(LEAVE, D(0)) == -booked.get(DEBT, D(0))
        assert -debt == provision and -charges_debt == provision_charges
        before, charges_before = provision, provision_charges


def test_provision_is_charged_to_the_services_the_employee_worked_for() -> None:
    counters = leave_counters(D("1000.00"), D("420.00"), D("700.00"), D("294.00"))
    txns = payroll_transactions([("alice", "Alice", "compta", slip(leave=counters))], ACCOUNTS, DAY)
    costs = [
        CostLine(
            DAY,
            p.account,
            p.amount,
            str(dict(p.meta).get("employee", dict(t.meta).get("employee"))),
            None,
            "payroll",
            "ledger/x.beancount",
            1,
        )
        for t in txns
        for p in t.postings
        if p.account.startswith("Charges:")
    ]
    rules = AllocationRules(
        mode="actual",
        services={"compta": "Comptabilité", "paie": "Paie"},
        staff_accounts=["Charges:64-Personnel", "Charges:63-Impots-taxes"],
        overhead_accounts=["Charges:61-Services-exterieurs"],
        overhead_label="Frais",
        overhead_key="billable_hours",
        excluded_accounts=[],
        primary_service={"alice": "compta"},
        standard_rates={},
    )
    hours = [
        TimesheetLine(DAY, "alice", "m1", "compta", D(30), "", 1),
        TimesheetLine(DAY, "alice", "m2", "paie", D(10), "", 2),
    ]
    pools, _ = pool_costs(costs, hours, rules)
    total = D("3310.00") + D("120.00") + D("300.00") + D("126.00")  # payslip, tax, provision, its charges
    assert pools == {"compta": total * 3 / 4, "paie": total / 4, OVERHEAD: D("0.00")}


def test_a_payslip_whose_total_is_not_what_the_entry_charges_is_a_bug_not_an_entry() -> None:
    wrong = dataclasses.replace(slip(), employer_total=D("3309.99"))
    with pytest.raises(AssertionError, match=r"employer total is 3309\.99"):
        payroll_transactions([("alice", "Alice", "compta", wrong)], ACCOUNTS, DAY)
