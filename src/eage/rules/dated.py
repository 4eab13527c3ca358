"""Dated parameters, as in OpenFisca: a value is keyed by the date it comes into force.

``{2026-01-01: 12.02, 2026-06-01: 12.31}`` reads "12.02 from 1 January, 12.31 from 1 June". A lookup at
a date returns the value in force that day; before the first date there is none, which is an error the
caller reports with the rule's file and key.

Days are read in one format only, ``YYYY-MM-DD`` (:func:`parse_day`, :data:`Day`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import BeforeValidator

T = TypeVar("T")


class NotInForce(LookupError):
    """No value of a dated parameter is in force at the date asked."""


def in_force(values: Mapping[dt.date, T], day: dt.date) -> T:
    """The value in force on ``day``: the one with the latest start date not after it."""
    best: dt.date | None = None
    for start in values:
        if start <= day and (best is None or start > best):
            best = start
    if best is None:
        first = min(values) if values else None
        raise NotInForce(
            f"no value in force on {day.isoformat()}" + (f" (first from {first})" if first else "")
        )
    return values[best]


#: The only way a day is written in eage's files and flags: ``YYYY-MM-DD``, ASCII digits.
DAY_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DAY_FORMAT_HINT = "write the date as YYYY-MM-DD (for example 2026-11-02)"


def parse_day(text: str) -> dt.date | None:
    """The day written ``YYYY-MM-DD``, or None for anything else (``20261102``, ``2026-W45-1``, a time,
    non-ASCII digits, an impossible day such as 2026-02-30). :meth:`datetime.date.fromisoformat` accepts
    the ISO week and basic forms, hence the pattern first."""
    match = DAY_PATTERN.fullmatch(text)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _strict_day(value: object) -> object:
    # A datetime is a date too: refuse it before the date test (a time of day has no place in rules).
    if isinstance(value, dt.datetime):
        raise ValueError(f"{value.isoformat()} has a time of day; {DAY_FORMAT_HINT}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        day = parse_day(value)
        if day is None:
            raise ValueError(f"{value!r} is not a date; {DAY_FORMAT_HINT}")
        return day
    raise ValueError(f"{value!r} is not a date; {DAY_FORMAT_HINT}")


#: A day in a pydantic model: a YAML date, or a string ``YYYY-MM-DD``; never a number or a timestamp.
Day = Annotated[dt.date, BeforeValidator(_strict_day)]


#: The tags of the two ways to write a dated value (the value, or ``{value, reference}``); they appear in
#: pydantic's error locations, which the loader drops so that a key is shown as the user wrote it.
SHORT_FORM = "short form"
LONG_FORM = "long form"
#: Likewise for a unit: one for the value, or one per field of a composite value.
ONE_UNIT = "one unit"
UNIT_PER_FIELD = "unit per field"
#: And for the values of a payroll line: one rate case or a list of them, a rate or the employer's.
ONE_CASE = "one case"
CASE_LIST = "list of cases"
A_RATE = "a rate"
EMPLOYER_RATE = "employer's rate"
FORM_TAGS = frozenset(
    {SHORT_FORM, LONG_FORM, ONE_UNIT, UNIT_PER_FIELD, ONE_CASE, CASE_LIST, A_RATE, EMPLOYER_RATE}
)
