"""The parsers of user input accept exactly their declared pattern, and what they accept reads back.

Hours (timesheets), days (timesheets, rules, payroll variables, ``--date``), numbers in YAML (rules,
payroll variables) and the numbers of ``eage payslip``'s flags: each is one explicit pattern. Python's
own readers are looser (``Decimal("0_5")`` is 5, ``Decimal("٣")`` is 3, ``date.fromisoformat`` reads
``20261102`` and ``2026-W45-1``), so each property compares the parser with the pattern itself.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from eage.commands.credit_note import date_arg
from eage.commands.payslip import MAX_GROSS, _decimal
from eage.errors import InputError, UsageError
from eage.rules.dated import Day, parse_day
from eage.rules.loader import Number, load_model
from eage.timesheets import HOURS_PATTERN, parse_hours

# Near misses: the characters a loose reader would take for part of a number or a date.
NEAR = "0123456789.-_,eE+:WT /\u0663\u0660\uff11 "
near_text = st.text(alphabet=NEAR, max_size=14)
any_text = st.one_of(near_text, st.text(max_size=14))

HOURS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# ---------------------------------------------------------------- hours


@given(any_text)
@example("0_5")
@example("\u0663")
@example("1e1")
@example("0.5 ")
def test_hours_are_read_only_when_they_match_the_pattern(text: str) -> None:
    hours = parse_hours(text)
    assert (hours is not None) == bool(HOURS.fullmatch(text))
    if hours is not None:
        assert hours == Decimal(text)


@given(st.decimals(min_value=0, max_value=Decimal("999.99"), places=2))
def test_hours_written_with_two_decimals_read_back(hours: Decimal) -> None:
    assert parse_hours(f"{hours:f}") == hours
    assert parse_hours(f"{hours:.2f}") == hours


def test_the_pattern_is_the_documented_one() -> None:
    assert HOURS_PATTERN.pattern == r"[0-9]{1,3}(?:\.[0-9]{1,2})?"


# ---------------------------------------------------------------- days


def _real_day(text: str) -> bool:
    if not DAY.fullmatch(text):
        return False
    try:
        dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


@given(any_text)
@example("20261102")
@example("2026-W45-1")
@example("2026-306")
@example("2026-11-02T00:00")
@example("2026-02-30")
def test_days_are_read_only_as_yyyy_mm_dd(text: str) -> None:
    day = parse_day(text)
    assert (day is not None) == _real_day(text)
    if day is not None:
        assert day.isoformat() == text


@given(st.dates(min_value=dt.date(1, 1, 1)))
def test_every_day_reads_back(day: dt.date) -> None:
    assert parse_day(day.isoformat()) == day
    assert date_arg(day.isoformat()) == day


@given(any_text)
def test_the_date_flag_refuses_what_the_pattern_refuses(text: str) -> None:
    if parse_day(text.strip()) is None:
        with pytest.raises(UsageError, match="--date"):
            date_arg(text)
    else:
        assert date_arg(text) == parse_day(text.strip())


class _Dated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: Day


@given(any_text)
def test_a_day_in_a_model_is_a_day_or_an_error(text: str) -> None:
    day = parse_day(text)
    if day is None:
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            _Dated(day=text)
    else:
        assert _Dated(day=text).day == day


@pytest.mark.parametrize("value", [0, 20261102, 1.7e9, dt.datetime(2026, 11, 2), True])
def test_a_day_is_never_a_number_or_a_timestamp(value: object) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        _Dated(day=value)


# ---------------------------------------------------------------- numbers in YAML

NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class _Amount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Number


def _load(tmp_path: Path, scalar: str) -> Decimal:
    path = tmp_path / "amount.yaml"
    path.write_text(f"amount: {scalar}\n", encoding="utf-8")
    return load_model(path, _Amount).amount


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2))
def test_a_plain_yaml_number_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, value: Decimal
) -> None:
    folder = tmp_path_factory.mktemp("num")
    assert _load(folder, f"{value:f}") == value
    assert _load(folder, f'"{value:f}"') == value


@settings(max_examples=80, deadline=None)
@given(near_text.filter(lambda t: t.strip() == t and t != ""))
@example("1_000")
@example("010")
@example("00.5")
@example("0x1F")
@example("1:30")
@example(".5")
@example("1.0e3")
@example("1e3")
@example("+5")
@example("\u0663")
def test_a_yaml_number_not_written_plainly_is_refused(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    folder = tmp_path_factory.mktemp("loose")
    if NUMBER.fullmatch(text) and not re.fullmatch(r"-?0[0-9]+", text):
        assert _load(folder, text) == Decimal(text)
        return
    if NUMBER.fullmatch(text) and "." not in text:
        # A leading zero: YAML 1.1 reads 010 as octal (8), so it is refused unquoted; quoted, it is 10.
        assert _load(folder, f'"{text}"') == Decimal(text)
        with pytest.raises(InputError, match="not a plain number"):
            _load(folder, text)
        return
    for scalar in (text, f'"{text}"'):
        try:
            value = _load(folder, scalar)
        except InputError as exc:
            assert "amount.yaml" in str(exc)
            continue
        raise AssertionError(f"{scalar!r} was read as {value}")


# ---------------------------------------------------------------- payslip flags

FLAG = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


@given(any_text)
@example("1e400")
@example("inf")
@example("nan")
@example("-5")
@example("2200,00")
def test_gross_flag_accepts_exactly_the_pattern_within_bounds(text: str) -> None:
    plain = text.strip()
    ok = bool(FLAG.fullmatch(plain)) and Decimal("0.01") <= Decimal(plain) <= MAX_GROSS
    if ok:
        assert _decimal(text, "--gross", minimum=Decimal("0.01"), maximum=MAX_GROSS, decimals=2) == Decimal(
            plain
        )
    else:
        with pytest.raises(UsageError, match="--gross"):
            _decimal(text, "--gross", minimum=Decimal("0.01"), maximum=MAX_GROSS, decimals=2)
