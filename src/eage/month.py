"""A calendar month as a value: ``Month(2026, 11)``, written ``2026-11`` wherever a person or a file reads it.

Months were "YYYY-MM" strings sliced where they were needed; a :class:`Month` is parsed once, at the
edge (a command-line argument, a file name, a metadata value), and then compared, stepped and bounded
without string arithmetic. ``str(month)`` is the contract's text, so the edges stay strings.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Month:
    """A month of a year (ordering is chronological: ``year`` then ``number``)."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"no month {self.number} of year {self.year}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``Month.parse("2026-11")``; a ValueError whose message the caller shows as is, located."""
        match = _MONTH.fullmatch(text)
        if match is None or int(match.group(1)) == 0:
            raise ValueError(f"month {text!r} is not YYYY-MM (for example 2026-11)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month ``day`` falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.number, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.number, calendar.monthrange(self.year, self.number)[1])

    @property
    def end(self) -> dt.date:
        """The first day after the month: the exclusive bound of a date range."""
        return self.next().first_day

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.number == 1 else Month(self.year, self.number - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.number == 12 else Month(self.year, self.number + 1)

    def earlier_in_year(self) -> Iterator[Month]:
        """The months of the same year before this one, January first."""
        return (Month(self.year, number) for number in range(1, self.number))


def year_months(year: int) -> list[Month]:
    """January to December of ``year``."""
    return [Month(year, number) for number in range(1, 13)]
