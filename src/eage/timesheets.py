"""Reading and validating a month of timesheets: ledger/timesheets/YYYY-MM.csv.

One line per day, employee, member and service: ``date,employee,member,service,hours,note``. An empty
member (or ``interne``) is internal time: it counts in the employee's hours but is billed to nobody.
Every problem found is reported with the file and line; the month is rejected as a whole.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from eage.errors import InputError, Problem
from eage.month import Month
from eage.rules.bundle import Rules
from eage.rules.dated import DAY_FORMAT_HINT, parse_day
from eage.rules.loader import read_text_file
from eage.rules.models import Employee, Member

HEADER = ["date", "employee", "member", "service", "hours", "note"]
INTERNAL = ("", "interne")


class TimesheetLine(NamedTuple):
    """One validated line. A named tuple (immutable, like a frozen dataclass) because a month may have
    a million of them: it is built several times faster and takes half the memory."""

    date: dt.date
    employee: str
    member: str | None  # None = internal time
    service: str
    hours: Decimal
    note: str
    line: int


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """``"2026-11"`` -> (2026-11-01, 2026-12-01): the month's first day and the first day after it."""
    parsed = Month.parse(month)
    return parsed.first_day, parsed.end


def timesheet_path(root: Path, month: str) -> Path:
    return root / "ledger" / "timesheets" / f"{month}.csv"


#: A month of a large group is a few million bytes; the benchmarks' million lines take 60 MB. A larger
#: file is not a timesheet and is refused before it is read into memory.
MAX_TIMESHEET_BYTES = 256 * 1024 * 1024
#: A note is a few words: a longer one is a pasted document. (Every other field is an id, a date or a
#: number, checked against what it must be; the CSV reader bounds any field to 128 KB.)
MAX_FIELD_CHARS = 1000


def read_timesheet(root: Path, month: str, rules: Rules) -> list[TimesheetLine]:
    path = timesheet_path(root, month)
    rel = f"ledger/timesheets/{month}.csv"
    if not path.exists() and not path.is_symlink():
        raise InputError.at(
            f"no timesheet for {month}",
            file=rel,
            fix="add the month's timesheet (date,employee,member,service,hours,note) before running it",
        )
    return read_timesheet_file(path, month, rules, rel)


def read_timesheet_file(path: Path, month: str, rules: Rules, rel: str) -> list[TimesheetLine]:
    """The validated lines of the timesheet at ``path`` (``rel``: as messages name it), or an
    :class:`InputError`: a directory or unreadable file, a file too large, a byte that is not UTF-8
    (with its line), and every problem of its lines."""
    text = read_text_file(
        path, limit=MAX_TIMESHEET_BYTES, what="timesheet CSV", bom=True, shown=rel, save_as="UTF-8 CSV"
    )
    return parse_timesheet(text, month, rules, rel)


def parse_timesheet(text: str, month: str, rules: Rules, rel: str) -> list[TimesheetLine]:
    """The month's validated lines; every problem found (file, line, key, fix) is raised together."""
    with _gc_paused():
        return _parse(text, month, rules, rel)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a month's lines are built: the collector would walk the
    growing list again and again (a third to half of the time on a million lines), for no garbage, since
    lines hold no cycles. Restored on exit, whatever happens."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str, month: str, rules: Rules, rel: str) -> list[TimesheetLine]:
    start, end = month_bounds(month)
    staff = rules.staff.by_id()
    members = rules.members.by_id()
    services = rules.allocation.services
    problems: list[Problem] = []
    lines: list[TimesheetLine] = []

    def bad(lineno: int, message: str, fix: str, key: str | None = None) -> None:
        problems.append(Problem(message, file=rel, line=lineno, key=key, fix=fix))

    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _csv_problem(exc, text, rel, 1, reader.line_num) from None
    if header is None:
        raise InputError.at(
            "the file is empty", file=rel, line=1, fix=f"the first line must be {','.join(HEADER)}"
        )
    if [h.strip().lower() for h in header] != HEADER:
        found = (
            "fields separated by semicolons"
            if len(header) == 1 and ";" in header[0]
            else f"header is {header!r}"
        )
        raise InputError.at(
            found,
            file=rel,
            line=1,
            fix=f"save as CSV with commas; the first line must be {','.join(HEADER)}",
        )
    max_per_day = rules.allocation.max_hours_per_day
    seen: dict[tuple[dt.date, str, str | None, str], int] = {}
    per_day: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    # A month has a few hundred distinct dates, hour values, (employee, service) and (member, day) pairs
    # but up to a million lines: each check is computed once per distinct value and kept (a value, or
    # the problem it raises), in the same order as before, so the messages and their order are unchanged.
    dates: dict[str, dt.date | _Bad] = {}
    hours_seen: dict[str, Decimal | _Bad] = {}
    workers: dict[tuple[str, str], _Bad | None] = {}
    covered: dict[tuple[str, dt.date], _Bad | None] = {}
    billed: dict[tuple[str, dt.date], str | _Bad | None] = {}
    last = reader.line_num
    try:
        for fields in reader:
            # A record starts on the line after the previous one ended (a quoted field may span lines).
            lineno, last = last + 1, reader.line_num
            if not fields or (not fields[0].strip() and all(not f.strip() for f in fields)):
                continue
            if len(fields) != len(HEADER):
                bad(
                    lineno,
                    f"{len(fields)} fields instead of {len(HEADER)}"
                    + (
                        f" (a double quote opened here is not closed before line {last})"
                        if last > lineno
                        else ""
                    ),
                    "write date,employee,member,service,hours,note",
                )
                continue
            raw_date, emp_id, member_id, service, raw_hours, note = map(str.strip, fields)
            if len(note) > MAX_FIELD_CHARS:
                bad(
                    lineno,
                    f"the note has {len(note)} characters, more than {MAX_FIELD_CHARS}",
                    "shorten it (a note is a few words)",
                    "note",
                )
                continue
            # isprintable() (in C) clears nearly every note at once; the pattern decides for the others.
            if not note.isprintable() and _HIDDEN.search(note):
                bad(
                    lineno,
                    "the note contains an invisible control character",
                    "retype the note without it",
                    "note",
                )
                continue
            day = dates.get(raw_date)
            if day is None:
                day = dates[raw_date] = _check_date(raw_date, month, start, end)
            if isinstance(day, _Bad):
                bad(lineno, *day)
                continue
            hours = hours_seen.get(raw_hours)
            if hours is None:
                hours = hours_seen[raw_hours] = _check_hours(raw_hours)
            if isinstance(hours, _Bad):
                bad(lineno, *hours)
                continue
            key_ws = (emp_id, service)
            if key_ws not in workers:
                workers[key_ws] = _check_worker(emp_id, service, staff, services)
            problem = workers[key_ws]
            if problem is not None:
                bad(lineno, *problem)
                continue
            key_ed = (emp_id, day)
            if key_ed not in covered:
                covered[key_ed] = _check_contract(staff[emp_id], day)
            problem = covered[key_ed]
            if problem is not None:
                bad(lineno, *problem)
                continue
            key_md = (member_id, day)
            if key_md not in billed:
                billed[key_md] = _check_member(member_id, day, members)
            member = billed[key_md]
            if isinstance(member, _Bad):
                bad(lineno, *member)
                continue
            key = (day, emp_id, member, service)
            if key in seen:
                bad(
                    lineno,
                    f"duplicate of line {seen[key]} (same date, employee, member and service)",
                    "merge the two lines into one",
                )
                continue
            seen[key] = lineno
            total = per_day[key_ed] = per_day[key_ed] + hours
            if total > max_per_day:
                bad(
                    lineno,
                    f"{emp_id} has {total} h on {day}, more than {max_per_day} h in a day",
                    "check the day's lines",
                    "hours",
                )
                continue
            lines.append(TimesheetLine(day, emp_id, member, service, hours, note, lineno))
    except csv.Error as exc:
        # The reader cannot go on after a broken record (its state is lost): report what came before.
        problems.append(_csv_problem(exc, text, rel, last + 1, reader.line_num).problems[0])
    if problems:
        raise InputError(problems)
    return lines


class _Bad(NamedTuple):
    """A problem found in a field's value, before it is tied to a line: message, fix, key."""

    message: str
    fix: str
    key: str | None = None


def _csv_problem(exc: csv.Error, text: str, rel: str, start: int, end: int) -> InputError:
    """The located error for a record the CSV reader refuses (``start``: its first line)."""
    reason = str(exc)
    if "unexpected end of data" in reason:
        count = _fields_when_lenient(text, start)
        if count is not None and count != len(HEADER):
            # The quote swallowed the line's other fields: say what the user sees in a spreadsheet.
            return InputError.at(
                f"{count} fields instead of {len(HEADER)} (a double quote opened here is not closed before "
                f"line {end})",
                file=rel,
                line=start,
                fix='close the quote, or write a double quote inside a quoted field as ""',
            )
        return InputError.at(
            f"a double quote opened on line {start} is never closed (the file ends inside it)",
            file=rel,
            line=start,
            fix='close the quote, or write a double quote inside a quoted note as ""',
        )
    if "field larger than field limit" in reason:
        return InputError.at(
            f"a field is larger than {csv.field_size_limit()} characters (a quote left open?)",
            file=rel,
            line=start,
            fix='shorten the field, or close its double quote; a quote inside a quoted note is written ""',
        )
    return InputError.at(
        f"not a valid CSV line: {reason}",
        file=rel,
        line=end if end > start else start,
        fix='quote a field that holds a comma or a double quote, and write a double quote inside it as ""',
    )


def _fields_when_lenient(text: str, start: int) -> int | None:
    """How many fields the record starting on line ``start`` has when read leniently, or None."""
    rest = "".join(text.splitlines(keepends=True)[start - 1 :])
    try:
        return len(next(csv.reader(io.StringIO(rest)), []))
    except csv.Error:
        return None


#: Hours as one pattern: ASCII digits, an optional ``.`` and one or two decimals (the hundredth of an hour).
HOURS_PATTERN = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?")
#: C0/C1 controls and the bidirectional overrides: invisible in a spreadsheet, harmful in a document.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOURS_HINT = "hours must be positive, written with digits and an optional '.' decimal part, like 3.5 or 0.25"


def _check_date(raw_date: str, month: str, start: dt.date, end: dt.date) -> dt.date | _Bad:
    day = parse_day(raw_date)
    if day is None:
        return _Bad(f"date {raw_date!r} is not a date", DAY_FORMAT_HINT, "date")
    if not (start <= day < end):
        return _Bad(
            f"date {day} is not in {month}", f"move the line to ledger/timesheets/{day:%Y-%m}.csv", "date"
        )
    return day


def parse_hours(raw_hours: str) -> Decimal | None:
    """Hours written as :data:`HOURS_PATTERN` (``3``, ``3.5``, ``0.25``), or None for anything else:
    ``0_5`` (Python's ``Decimal`` reads 5), ``٣`` (an Arabic-Indic 3), ``1e1``, ``,5``, ``+1``, ``.5``."""
    if HOURS_PATTERN.fullmatch(raw_hours) is None:
        return None
    return Decimal(raw_hours)


def _check_hours(raw_hours: str) -> Decimal | _Bad:
    hours = parse_hours(raw_hours)
    if hours is None:
        if re.fullmatch(r"-[0-9]+(?:\.[0-9]+)?", raw_hours):
            return _Bad(
                f"hours {raw_hours} must be positive", "remove the line or correct the hours", "hours"
            )
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", raw_hours):
            return _Bad(f"hours {raw_hours} has more than two decimals", "round to the hundredth", "hours")
        if re.fullmatch(r"[0-9]+,[0-9]+", raw_hours):
            return _Bad(
                f"hours {raw_hours!r} uses a comma", "write the decimal part with a '.', like 3.5", "hours"
            )
        return _Bad(f"hours {raw_hours!r} is not a number", HOURS_HINT, "hours")
    if hours <= 0:
        return _Bad(f"hours {raw_hours} must be positive", "remove the line or correct the hours", "hours")
    return hours


def _check_worker(
    emp_id: str, service: str, staff: Mapping[str, Employee], services: Mapping[str, object]
) -> _Bad | None:
    employee = staff.get(emp_id)
    if employee is None:
        return _Bad(
            f"unknown employee {emp_id!r}", f"use an id of rules/staff.yaml: {sorted(staff)}", "employee"
        )
    if service not in services:
        return _Bad(f"unknown service {service!r}", f"use one of {sorted(services)}", "service")
    if service not in employee.all_services():
        return _Bad(
            f"{emp_id} does not work for service {service!r}",
            f"use one of {employee.all_services()} or add it to the employee's services in rules/staff.yaml",
            "service",
        )
    return None


def _check_contract(employee: Employee, day: dt.date) -> _Bad | None:
    if employee.contract.covers(day):
        return None
    return _Bad(
        f"{day} is outside {employee.id}'s contract ({employee.contract.start} to {employee.contract.end or '…'})",
        "correct the date or the contract in rules/staff.yaml",
        "date",
    )


def _check_member(member_id: str, day: dt.date, members: Mapping[str, Member]) -> str | _Bad | None:
    """The member billed for the line, None for internal time, or the problem."""
    if member_id.lower() in INTERNAL:
        return None
    found = members.get(member_id)
    if found is None:
        return _Bad(
            f"unknown member {member_id!r}",
            "use an id of rules/members.yaml (or leave it empty for internal time)",
            "member",
        )
    if day < found.joined:
        return _Bad(
            f"{member_id} joined on {found.joined}, after {day}",
            "correct the date or the member's joined date",
            "member",
        )
    if found.left is not None and day > found.left:
        return _Bad(
            f"{member_id} left on {found.left}: hours on {day} cannot be billed to it",
            "correct the member or its left date",
            "member",
        )
    return member_id
