"""Month, the value type of a calendar month: parsed once at the edge, written back as ``YYYY-MM``."""

from __future__ import annotations

import datetime as dt

import pytest

from eage.month import Month, year_months


def test_a_month_reads_and_writes_its_contract_text() -> None:
    november = Month.parse("2026-11")
    assert november == Month(2026, 11)
    assert str(november) == "2026-11"
    assert (november.first_day, november.last_day, november.end) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
    )
    assert Month(2028, 2).last_day == dt.date(2028, 2, 29)
    assert Month.of(dt.date(2026, 3, 17)) == Month(2026, 3)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", " 2026-11", "0000-01", ""]
)
def test_anything_but_yyyy_mm_is_refused_with_the_commands_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not YYYY-MM \(for example 2026-11\)"):
        Month.parse(text)


def test_months_step_across_years_and_sort_by_date() -> None:
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2026, 12).next() == Month(2027, 1)
    assert sorted([Month(2026, 10), Month(2025, 12), Month(2026, 2)]) == [
        Month(2025, 12),
        Month(2026, 2),
        Month(2026, 10),
    ]
    assert len({Month(2026, 5), Month.parse("2026-05")}) == 1
    assert list(Month(2026, 4).earlier_in_year()) == [Month(2026, 1), Month(2026, 2), Month(2026, 3)]
    assert [str(m) for m in year_months(2026)][::11] == ["2026-01", "2026-12"]
