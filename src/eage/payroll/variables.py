"""A month's payroll variables: overtime, bonuses, unpaid absence (ledger/payroll/YYYY-MM.yaml).

Optional: a month without the file has no variable element. Like the timesheets, these are the month's
facts, not rules; the file is validated like the rules (unknown keys and unknown employees rejected),
amounts and hours are bounded, and an absence cannot be longer than the employee's month of work.

    employees:
      lpetit: {overtime_25_hours: 4, bonus: 150.00}

:func:`load_payroll_variables` is the one entry point (``eage run`` and ``eage check`` both use it).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field

from eage.errors import InputError, Problem, raise_if
from eage.month import Month
from eage.rules.base import Strict
from eage.rules.dated import NotInForce, in_force
from eage.rules.loader import Located, Number, load_located, load_model
from eage.rules.models import Staff

Hours = Annotated[Number, Field(ge=0, le=200, decimal_places=2)]
#: A bonus of one month: below ten million euros (a longer figure is a typing error, and would overflow
#: the payslip's arithmetic).
Bonus = Annotated[Number, Field(ge=0, max_digits=9, decimal_places=2)]


class EmployeeVariables(Strict):
    overtime_25_hours: Hours = Decimal(0)
    overtime_50_hours: Hours = Decimal(0)
    bonus: Bonus = Decimal(0)
    bonus_label: Annotated[str, Field(max_length=200)] | None = None
    unpaid_absence_hours: Hours = Decimal(0)


class MonthVariables(Strict):
    employees: dict[str, EmployeeVariables] = Field(default_factory=dict)


def variables_path(root: Path, month: str) -> Path:
    return root / "ledger" / "payroll" / f"{month}.yaml"


def load_variables(root: Path, month: str, known: set[str]) -> MonthVariables:
    """The month's variables for the employees ``known`` (see :func:`load_payroll_variables`)."""
    return load_payroll_variables(root, month, known)


def load_payroll_variables(root: Path, month: str, known: set[str] | None = None) -> MonthVariables:
    """The validated variables of ``month`` (YYYY-MM) under ``root``, or none when the file is absent.

    Every problem is located (file, line, key ``employees.<id>.<field>``) and raised together: invalid
    YAML or values, an employee not in ``known`` (default: the ids of rules/staff.yaml), an absence longer
    than the employee's month (hours a week x weeks a year / months a year, rules/payroll/parameters.yaml).
    The cross-checks need rules/staff.yaml and parameters.yaml; when one cannot be read, its own loader
    reports it and the check is skipped here.
    """
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
        raise InputError.at(f"{month!r} is not a month", key="month", fix="use YYYY-MM (e.g. 2026-11)")
    path = variables_path(root, month)
    if not path.exists() and not path.is_symlink():
        return MonthVariables()
    rel = f"ledger/payroll/{month}.yaml"
    try:
        located = load_located(path, MonthVariables)
    except InputError as exc:
        raise InputError([p.relative_to(root) for p in exc.problems]) from None
    staff = _optional_staff(root)
    if known is None:
        known = set(staff.by_id()) if staff is not None else None
    problems: list[Problem] = []
    for emp, values in located.value.employees.items():
        if known is not None and emp not in known:
            problems.append(
                Problem(
                    f"unknown employee {emp!r}",
                    file=rel,
                    line=located.line(("employees", emp)),
                    key=f"employees.{emp}",
                    fix=f"use an id of rules/staff.yaml: {sorted(known)}",
                )
            )
            continue
        problems.extend(_absence_problems(root, month, emp, values, staff, located, rel))
    raise_if(problems)
    return located.value


def _optional_staff(root: Path) -> Staff | None:
    try:
        return load_model(root / "rules" / "staff.yaml", Staff)
    except InputError:
        return None


def _absence_problems(
    root: Path,
    month: str,
    emp: str,
    values: EmployeeVariables,
    staff: Staff | None,
    located: Located[MonthVariables],
    rel: str,
) -> list[Problem]:
    """An unpaid absence longer than the employee's paid hours of the month would make the gross negative."""
    if not values.unpaid_absence_hours or staff is None or emp not in staff.by_id():
        return []
    from eage.payroll.params import PARAMETERS_FILE, ParametersFile

    try:
        params = load_model(root / "rules" / "payroll" / PARAMETERS_FILE, ParametersFile)
        duree = in_force(params.duree_legale.values, Month.parse(month).first_day)
    except (InputError, NotInForce, ValueError):
        return []  # reported by the payroll rules' own loader, or by the payslip of that month
    weekly = staff.by_id()[emp].contract.weekly_hours
    month_hours = (weekly * duree.weeks_per_year / duree.months_per_year).quantize(Decimal("0.01"))
    absence = values.unpaid_absence_hours
    if absence < month_hours or (absence == month_hours and values.bonus):
        return []
    return [
        Problem(
            f"{emp} is absent {absence} h unpaid, the whole month or more (the month has "
            f"{month_hours} h of work at {weekly} h a week): the gross would be zero or negative",
            file=rel,
            line=located.line(("employees", emp, "unpaid_absence_hours")),
            key=f"employees.{emp}.unpaid_absence_hours",
            fix="correct the hours; a whole month away is a suspension of the contract, not an absence",
        )
    ]
