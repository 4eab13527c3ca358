"""A month's payroll variables: overtime, bonuses, unpaid absence, paid leave and sick leave
(ledger/payroll/YYYY-MM.yaml).

Optional: a month without the file has no variable element. Like the timesheets, these are the month's
facts, not rules; the file is validated like the rules (unknown keys and unknown employees rejected),
amounts and hours are bounded, and an absence cannot be longer than the employee's month of work.
Leave and sick leave are date ranges inside the month (``to`` is the last day away, included: for a
return on a Monday, the Saturday before, as leave is counted in jours ouvrables), never overlapping.

    employees:
      lpetit: {overtime_25_hours: 4, bonus: 150.00}
      cmartin:
        leave: [{from: 2026-08-03, to: 2026-08-22}]
        sick_leave: [{from: 2026-08-24, to: 2026-08-26, kind: non_professional}]

:func:`load_payroll_variables` is the one entry point (``eage run`` and ``eage check`` both use it). The
balance of leave is checked by the year's payroll sequence (:mod:`eage.payroll.month`), which knows the
counters, and a leave day with hours in the timesheet by :func:`leave_timesheet_problems`. The pay during
sick leave is out of scope: the engine pays the contract's salary; sick leave only changes what is
acquired (:mod:`eage.payroll.leave`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, model_validator

from eage.errors import InputError, Problem, raise_if
from eage.month import Month
from eage.rules.base import Strict
from eage.rules.dated import Day, NotInForce, in_force
from eage.rules.loader import Located, Number, load_located, load_model
from eage.rules.models import Staff
from eage.timesheets import TimesheetLine

Hours = Annotated[Number, Field(ge=0, le=200, decimal_places=2)]
#: A bonus of one month: below ten million euros (a longer figure is a typing error, and would overflow
#: the payslip's arithmetic).
Bonus = Annotated[Number, Field(ge=0, max_digits=9, decimal_places=2)]


class DateRange(Strict):
    """Days away, ``from`` to ``to`` included."""

    start: Annotated[Day, Field(alias="from")]
    end: Annotated[Day, Field(alias="to")]

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"to ({self.end}) is before from ({self.start})")
        return self

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        return self.start, self.end


class SickLeave(DateRange):
    """A sick leave: ``professional`` (accident du travail, maladie professionnelle) or not."""

    kind: Literal["non_professional", "professional"]


class EmployeeVariables(Strict):
    overtime_25_hours: Hours = Decimal(0)
    overtime_50_hours: Hours = Decimal(0)
    #: Part time: hours worked beyond the contract (heures complémentaires, C. trav. L3123-8 ff.), paid
    #: 10 % more within a tenth of the contract's hours and 25 % beyond (rules/payroll/parameters.yaml).
    complementary_hours: Hours = Decimal(0)
    bonus: Bonus = Decimal(0)
    bonus_label: Annotated[str, Field(max_length=200)] | None = None
    unpaid_absence_hours: Hours = Decimal(0)
    leave: Annotated[list[DateRange], Field(max_length=31)] = Field(default_factory=list)
    sick_leave: Annotated[list[SickLeave], Field(max_length=31)] = Field(default_factory=list)


class MonthVariables(Strict):
    employees: dict[str, EmployeeVariables] = Field(default_factory=dict)
    #: Where the values were read (set by :func:`load_payroll_variables`), to locate a later refusal.
    _located: Located[MonthVariables] | None = PrivateAttr(default=None)
    _file: str | None = PrivateAttr(default=None)

    def where(self, *loc: int | str) -> tuple[str | None, int | None]:
        """The file (relative to the group's folder) and the line of ``loc`` (``("employees", id, "leave",
        0)``), or Nones for variables not read from a file."""
        if self._located is None:
            return self._file, None
        return self._file, self._located.line(("employees", *loc))


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
        problems.extend(_extra_hours_problems(root, emp, values, staff, located, rel))
        problems.extend(_range_problems(Month.parse(month), emp, values, located, rel))
    raise_if(problems)
    located.value._located = located
    located.value._file = rel
    return located.value


def _range_problems(
    month: Month, emp: str, values: EmployeeVariables, located: Located[MonthVariables], rel: str
) -> list[Problem]:
    """Leave and sick leave inside the month, and never two of them on one day."""
    problems: list[Problem] = []
    seen: list[tuple[dt.date, dt.date, str]] = []
    for field, ranges in (("leave", values.leave), ("sick_leave", values.sick_leave)):
        for index, item in enumerate(ranges):
            key = f"employees.{emp}.{field}[{index}]"
            line = located.line(("employees", emp, field, index))
            if item.start < month.first_day or item.end > month.last_day:
                problems.append(
                    Problem(
                        f"{emp}: {field} from {item.start} to {item.end} is not inside {month} "
                        f"({month.first_day} to {month.last_day})",
                        file=rel,
                        line=line,
                        key=key,
                        fix="split it: each month's file declares that month's days "
                        "(the rest in ledger/payroll/YYYY-MM.yaml of the other month)",
                    )
                )
                continue
            for start, end, other in seen:
                if item.start <= end and start <= item.end:
                    problems.append(
                        Problem(
                            f"{emp}: {field} from {item.start} to {item.end} overlaps {other} ({start} to {end})",
                            file=rel,
                            line=line,
                            key=key,
                            fix="a day is either leave or sick leave, once",
                        )
                    )
                    break
            seen.append((item.start, item.end, key))
    return problems


def leave_timesheet_problems(
    month: Month, variables: MonthVariables, timesheet_lines: Iterable[TimesheetLine]
) -> list[Problem]:
    """Days of paid leave on which the month's timesheet records hours for that employee: one problem
    per leave range and day, located at the leave in the variables file, the timesheet's lines and hours
    named in the message. Pure: the caller has loaded both."""
    away: dict[str, list[tuple[int, DateRange]]] = {}
    for emp, values in variables.employees.items():
        if values.leave:
            away[emp] = list(enumerate(values.leave))
    if not away:
        return []
    found: dict[tuple[str, int, dt.date], list[TimesheetLine]] = {}
    for line in timesheet_lines:
        if not line.hours or line.employee not in away:
            continue
        for index, item in away[line.employee]:
            if item.start <= line.date <= item.end:
                found.setdefault((line.employee, index, line.date), []).append(line)
    problems: list[Problem] = []
    sheet = f"ledger/timesheets/{month}.csv"
    for (emp, index, day), lines in sorted(found.items()):
        item = variables.employees[emp].leave[index]
        file, where = variables.where(emp, "leave", index)
        hours = sum((line.hours for line in lines), Decimal(0))
        numbers = ", ".join(str(line.line) for line in lines)
        problems.append(
            Problem(
                f"{emp} is on paid leave on {day} ({item.start} to {item.end}) but {sheet} records "
                f"{hours} h for that day (line{'s' if len(lines) > 1 else ''} {numbers})",
                file=file or f"ledger/payroll/{month}.yaml",
                line=where,
                key=f"employees.{emp}.leave[{index}]",
                fix="remove the hours from the timesheet, or shorten the leave",
            )
        )
    return problems


def _optional_staff(root: Path) -> Staff | None:
    try:
        return load_model(root / "rules" / "staff.yaml", Staff)
    except InputError:
        return None


def _extra_hours_problems(
    root: Path,
    emp: str,
    values: EmployeeVariables,
    staff: Staff | None,
    located: Located[MonthVariables],
    rel: str,
) -> list[Problem]:
    """Hours beyond the contract are overtime for a full-timer and complementary hours for a part-timer
    (C. trav. L3121-27, L3123-8): the other kind is refused, located at its key."""
    if staff is None or emp not in staff.by_id():
        return []
    from eage.payroll.params import PARAMETERS_FILE, ParametersFile

    try:
        params = load_model(root / "rules" / "payroll" / PARAMETERS_FILE, ParametersFile)
        legal = max(params.duree_legale.values.items())[1].weekly_hours
    except (InputError, ValueError):
        return []  # reported by the payroll rules' own loader
    weekly = staff.by_id()[emp].contract.weekly_hours
    problems = []
    if weekly < legal:
        for key in ("overtime_25_hours", "overtime_50_hours"):
            if getattr(values, key):
                problems.append(
                    Problem(
                        f"{emp} works part time ({weekly} h a week): hours beyond the contract are "
                        "heures complémentaires, not overtime",
                        file=rel,
                        line=located.line(("employees", emp, key)),
                        key=f"employees.{emp}.{key}",
                        fix="give them as complementary_hours (10 % then 25 %, C. trav. L3123-8 and L3123-29)",
                    )
                )
    elif values.complementary_hours:
        problems.append(
            Problem(
                f"{emp} works full time ({weekly} h a week): hours beyond the contract are overtime",
                file=rel,
                line=located.line(("employees", emp, "complementary_hours")),
                key=f"employees.{emp}.complementary_hours",
                fix="give them as overtime_25_hours / overtime_50_hours",
            )
        )
    return problems


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
