"""Reading and validating a month of timesheets: ledger/timesheets/YYYY-MM.csv.

One line per day, employee, member and service: ``date,employee,member,service,hours,note``. An empty
member (or ``interne``) is internal time: it counts in the employee's hours but is billed to nobody.
Every problem found is reported with the file and line; the month is rejected as a whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from eage.errors import InputError, Problem
from eage.rules.bundle import Rules

HEADER = ["date", "employee", "member", "service", "hours", "note"]
INTERNAL = ("", "interne")


@dataclass(frozen=True)
class TimesheetLine:
    date: dt.date
    employee: str
    member: str | None  # None = internal time
    service: str
    hours: Decimal
    note: str
    line: int


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """``"2026-11"`` -> (2026-11-01, 2026-12-01)."""
    year, mon = int(month[:4]), int(month[5:7])
    start = dt.date(year, mon, 1)
    end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return start, end


def timesheet_path(root: Path, month: str) -> Path:
    return root / "ledger" / "timesheets" / f"{month}.csv"


def read_timesheet(root: Path, month: str, rules: Rules) -> list[TimesheetLine]:
    path = timesheet_path(root, month)
    rel = f"ledger/timesheets/{month}.csv"
    if not path.exists():
        raise InputError.at(
            f"no timesheet for {month}",
            file=rel,
            fix="add the month's timesheet (date,employee,member,service,hours,note) before running it",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.at(
            f"not valid UTF-8 (byte {exc.start})", file=rel, fix="save the file as UTF-8 CSV"
        ) from None
    return parse_timesheet(text, month, rules, rel)


def parse_timesheet(text: str, month: str, rules: Rules, rel: str) -> list[TimesheetLine]:
    start, end = month_bounds(month)
    staff = rules.staff.by_id()
    members = rules.members.by_id()
    services = rules.allocation.services
    problems: list[Problem] = []
    lines: list[TimesheetLine] = []

    def bad(lineno: int, message: str, fix: str, key: str | None = None) -> None:
        problems.append(Problem(message, file=rel, line=lineno, key=key, fix=fix))

    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        raise InputError.at(
            f"header is {header!r}", file=rel, line=1, fix=f"the first line must be {','.join(HEADER)}"
        )
    max_per_day = rules.allocation.max_hours_per_day
    seen: dict[tuple[dt.date, str, str | None, str], int] = {}
    per_day: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    for fields in reader:
        lineno = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(HEADER):
            bad(
                lineno,
                f"{len(fields)} fields instead of {len(HEADER)}",
                "write date,employee,member,service,hours,note",
            )
            continue
        raw_date, emp_id, member_id, service, raw_hours, note = (f.strip() for f in fields)
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            bad(lineno, f"date {raw_date!r} is not a date", "write it as YYYY-MM-DD", "date")
            continue
        if not (start <= day < end):
            bad(
                lineno,
                f"date {day} is not in {month}",
                f"move the line to ledger/timesheets/{day:%Y-%m}.csv",
                "date",
            )
            continue
        try:
            hours = Decimal(raw_hours.replace(",", "."))
        except InvalidOperation:
            bad(lineno, f"hours {raw_hours!r} is not a number", "write hours like 3.5", "hours")
            continue
        if not hours.is_finite() or hours <= 0:
            bad(
                lineno, f"hours {raw_hours} must be positive", "remove the line or correct the hours", "hours"
            )
            continue
        if hours != hours.quantize(Decimal("0.01")):
            bad(lineno, f"hours {raw_hours} has more than two decimals", "round to the hundredth", "hours")
            continue
        employee = staff.get(emp_id)
        if employee is None:
            bad(
                lineno,
                f"unknown employee {emp_id!r}",
                f"use an id of rules/staff.yaml: {sorted(staff)}",
                "employee",
            )
            continue
        if service not in services:
            bad(lineno, f"unknown service {service!r}", f"use one of {sorted(services)}", "service")
            continue
        if service not in employee.all_services():
            bad(
                lineno,
                f"{emp_id} does not work for service {service!r}",
                f"use one of {employee.all_services()} or add it to the employee's services in rules/staff.yaml",
                "service",
            )
            continue
        if not employee.contract.covers(day):
            bad(
                lineno,
                f"{day} is outside {emp_id}'s contract ({employee.contract.start} to {employee.contract.end or '…'})",
                "correct the date or the contract in rules/staff.yaml",
                "date",
            )
            continue
        member: str | None = None
        if member_id.lower() not in INTERNAL:
            found = members.get(member_id)
            if found is None:
                bad(
                    lineno,
                    f"unknown member {member_id!r}",
                    "use an id of rules/members.yaml (or leave it empty for internal time)",
                    "member",
                )
                continue
            if day < found.joined:
                bad(
                    lineno,
                    f"{member_id} joined on {found.joined}, after {day}",
                    "correct the date or the member's joined date",
                    "member",
                )
                continue
            if found.left is not None and day > found.left:
                bad(
                    lineno,
                    f"{member_id} left on {found.left}: hours on {day} cannot be billed to it",
                    "correct the member or its left date",
                    "member",
                )
                continue
            member = member_id
        key = (day, emp_id, member, service)
        if key in seen:
            bad(
                lineno,
                f"duplicate of line {seen[key]} (same date, employee, member and service)",
                "merge the two lines into one",
            )
            continue
        seen[key] = lineno
        per_day[(emp_id, day)] += hours
        if per_day[(emp_id, day)] > max_per_day:
            bad(
                lineno,
                f"{emp_id} has {per_day[(emp_id, day)]} h on {day}, more than {max_per_day} h in a day",
                "check the day's lines",
                "hours",
            )
            continue
        lines.append(TimesheetLine(day, emp_id, member, service, hours, note, lineno))
    if problems:
        raise InputError(problems)
    return lines
