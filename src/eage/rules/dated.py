"""Dated parameters, as in OpenFisca: a value is keyed by the date it comes into force.

``{2026-01-01: 12.02, 2026-06-01: 12.31}`` reads "12.02 from 1 January, 12.31 from 1 June". A lookup at
a date returns the value in force that day; before the first date there is none, which is an error the
caller reports with the rule's file and key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypeVar

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
