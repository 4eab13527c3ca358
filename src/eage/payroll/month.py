"""The payroll of a month: every employee's payslip and the month's payroll journal (pure).

Everything here is a function of values already loaded (the rules, the payroll rules, the month's payroll
variables, and for an association the payslips of the year's earlier months): no file is read. The app
layer (:mod:`eage.app.inputs`) loads those once per command.

For an association the journal also carries the month's share of the annual abattement on the taxe sur
les salaires (CGI art. 1679 A), which needs the tax provisioned on the year's earlier payslips: they are
recomputed from the same rules and each month's own variables, never read back from the ledger, so a
corrected month and a first run agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from eage.errors import InputError
from eage.ledger.model import GeneratedFile, Txn
from eage.money import ZERO
from eage.month import Month
from eage.payroll.engine import TSS_CODE_PREFIX, Payslip, PayslipInput, compute_payslip
from eage.payroll.journal import payroll_transactions, tss_relief_transaction
from eage.payroll.params import TAXE_SALAIRES_FILE, PayrollRules
from eage.payroll.variables import EmployeeVariables, MonthVariables
from eage.rules.bundle import Rules
from eage.rules.dated import NotInForce, in_force

Payslips = list[tuple[str, Payslip]]  # (employee id, payslip), in rules/staff.yaml's order


def compute_payslips(
    rules: Rules, payroll: PayrollRules, month: Month, variables: MonthVariables
) -> Payslips:
    """Payslips of every employee under contract during ``month``, with the month's ``variables``."""
    start, last = month.first_day, month.last_day
    employer = rules.group.employer
    out = []
    for emp in rules.staff.employees:
        contract = emp.contract
        if contract.start > last or (contract.end is not None and contract.end < start):
            continue
        try:
            gross = emp.gross_on(last)
            atmp = employer.atmp.at(last)
        except NotInForce as exc:
            raise InputError.at(
                f"{exc}", file="rules/staff.yaml", key=f"{emp.id}.gross_salary", fix="add a dated value"
            ) from None
        vm = employer.vm.at(last, default=ZERO)
        pas = (
            in_force(emp.pas_rate, last)
            if emp.pas_rate and min(emp.pas_rate) <= last
            else employer.pas_default_rate
        )
        extra = variables.employees.get(emp.id, EmployeeVariables())
        slip = compute_payslip(
            payroll,
            PayslipInput(
                month=start,
                base_gross=gross,
                overtime_25_hours=extra.overtime_25_hours,
                overtime_50_hours=extra.overtime_50_hours,
                bonus=extra.bonus,
                unpaid_absence_hours=extra.unpaid_absence_hours,
                weekly_hours=contract.weekly_hours,
                cadre=contract.cadre,
                pas_rate=pas,
                employer_profile=employer.profile,
                headcount=employer.headcount,
                atmp_rate=atmp,
                vm_rate=vm,
                contract_kind=contract.kind,
            ),
        )
        out.append((emp.id, slip))
    return out


def tss_tax(payslips: Iterable[tuple[str, Payslip]]) -> dict[str, Decimal]:
    """Each employee's taxe sur les salaires provisioned on the month's payslip."""
    return {
        emp: sum((line.amount for line in slip.lines if line.code.startswith(TSS_CODE_PREFIX)), ZERO)
        for emp, slip in payslips
    }


def needs_earlier_months(rules: Rules) -> bool:
    """Whether the month's journal depends on the year's earlier payslips (an association's abattement)."""
    return rules.group.employer.profile == "association"


def tss_relief(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    payslips: Sequence[tuple[str, Payslip]],
    earlier: Iterable[Sequence[tuple[str, Payslip]]],
    day: dt.date,
) -> Txn | None:
    """For an association, the month's share of the annual abattement on the taxe sur les salaires.

    ``earlier``: the payslips of the year's months before ``month`` (their tax is the year's tax to date).
    """
    if not needs_earlier_months(rules):
        return None
    month_tax = tss_tax(payslips)
    if not any(month_tax.values()):
        return None
    tss = payroll.value(
        TAXE_SALAIRES_FILE, "taxe_sur_salaires", payroll.taxe_salaires.taxe_sur_salaires.values, day
    )
    before = sum((sum(tss_tax(slips).values(), ZERO) for slips in earlier), ZERO)
    return tss_relief_transaction(
        str(month),
        month_tax,
        before,
        tss.abattement_annuel,
        payroll.accounts.charges[tss.charge],
        payroll.accounts.organisations[tss.organisation],
        day,
    )


def earlier_payslips(
    rules: Rules, payroll: PayrollRules, month: Month, variables: Mapping[Month, MonthVariables]
) -> list[Payslips]:
    """The payslips of the year's months before ``month``, each with its own variables (none when absent)."""
    if not needs_earlier_months(rules):
        return []
    return [
        compute_payslips(rules, payroll, earlier, variables.get(earlier, MonthVariables()))
        for earlier in month.earlier_in_year()
    ]


def payroll_journal(
    rules: Rules,
    payroll: PayrollRules,
    month: Month,
    payslips: Sequence[tuple[str, Payslip]],
    earlier: Iterable[Sequence[tuple[str, Payslip]]],
    path: str,
) -> GeneratedFile:
    """The month's payroll journal (``path``, relative to ledger/): one entry per payslip, dated the month's
    last day, then, for an association, the abattement's share of the taxe sur les salaires."""
    day = month.last_day
    names = {e.id: e for e in rules.staff.employees}
    txns = payroll_transactions(
        [(emp_id, names[emp_id].name, names[emp_id].service, slip) for emp_id, slip in payslips],
        payroll.accounts,
        day,
    )
    relief = tss_relief(rules, payroll, month, payslips, earlier, day)
    if relief is not None:
        txns.append(relief)
    return GeneratedFile(path, f"Payroll journal {month}", tuple(txns))
