"""Invoice and credit-note numbers, derived from the ledger.

One continuous yearly sequence per prefix (FAC-2026-0001, FAC-2026-0002, … and AV-2026-0001, …). The
next number is one more than the highest already recorded in the ledger, so a failed or dry run, which
records nothing, uses no number. Numbers are chronological: a document cannot be dated before the last
one of its sequence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from eage.errors import InputError
from eage.ledger.load import IssuedDocument


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:04d}"


def parse_number(number: str) -> tuple[str, int, int] | None:
    match = re.fullmatch(r"([A-Z]{2,6})-(\d{4})-(\d{4,})", number)
    if not match:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3))


@dataclass
class Sequence:
    """The state of one prefix's sequence for one year."""

    prefix: str
    year: int
    last: int
    last_date: dt.date | None

    def take(self, day: dt.date) -> str:
        if self.last_date is not None and day < self.last_date:
            raise InputError.at(
                f"{self.prefix} numbers must follow the dates: the last one is dated {self.last_date}, "
                f"after {day}",
                file="ledger/main.beancount",
                fix="run the months in order; correct an earlier month with `eage run YYYY-MM --correct`",
            )
        self.last += 1
        self.last_date = day
        return format_number(self.prefix, self.year, self.last)


def sequence(documents: Iterable[IssuedDocument], prefix: str, year: int) -> Sequence:
    """The sequence for ``prefix`` and ``year`` as recorded in the ledger; gaps are an error."""
    seen: list[tuple[int, dt.date, IssuedDocument]] = []
    for doc in documents:
        parsed = parse_number(doc.number)
        if parsed and parsed[0] == prefix and parsed[1] == year:
            seen.append((parsed[2], doc.date, doc))
    seen.sort(key=lambda item: item[0])
    for expected, (seq, _, doc) in enumerate(seen, start=1):
        if seq != expected:
            raise InputError.at(
                f"the {prefix} sequence of {year} jumps to {doc.number} (expected "
                f"{format_number(prefix, year, expected)})",
                file=doc.file,
                line=doc.line,
                fix="numbers must be continuous: restore the missing document from version control",
            )
    last_date = max((d for _, d, _ in seen), default=None)
    return Sequence(prefix, year, len(seen), last_date)
