"""The DSN file's text: render and parse (ISO-8859-1, one rubric a line), the S90 totals, the formats."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eage.errors import InputError
from eage.payroll.dsn.lines import amount, date, parse, rate, render, with_totals
from eage.payroll.dsn.model import Rubric
from eage.payroll.dsn.norm import load_norm

SOURCE = "reports/dsn/2026-01.dsn"


def _pattern(code: str) -> re.Pattern[str] | None:
    spec = load_norm().rubric(code)
    assert spec is not None, code
    return spec.pattern


codes = st.builds(
    lambda s, g, b, r: f"S{s:02d}.G{g:02d}.{b:02d}.{r:03d}",
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 999),
)
#: Any ISO-8859-1 text a DSN line may hold: printable Latin-1 (no control character), quotes included,
#: at least one character that is not a space.
latin1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=[chr(0x7F)]).filter(
    lambda c: not 0x80 <= ord(c) <= 0x9F
)
values = st.text(latin1, min_size=1, max_size=200).filter(lambda v: v.strip(" ") != "")
rubrics = st.lists(st.builds(Rubric, codes, values), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(rubrics)
def test_render_then_parse_gives_the_lines_back_byte_for_byte(lines: list[Rubric]) -> None:
    """Property: parse(render(lines)) == lines and render(parse(bytes)) == bytes."""
    data = render(lines)
    assert parse(data, SOURCE) == lines
    assert render(parse(data, SOURCE)) == data
    assert data.count(b"\n") == len(lines) and data.endswith(b"\n")


def test_a_line_is_code_comma_quoted_value_in_latin1() -> None:
    data = render([Rubric("S21.G00.30.002", "LÉON"), Rubric("S21.G00.30.010", "L'HAY LES ROSES")])
    assert data == "S21.G00.30.002,'LÉON'\nS21.G00.30.010,'L'HAY LES ROSES'\n".encode("iso-8859-1")
    assert b"\xc9" in data  # É is one byte: ISO-8859-1, not UTF-8
    assert parse(data, SOURCE)[1].value == "L'HAY LES ROSES"


@pytest.mark.parametrize("text", ["O’NEIL", "Cœur", "a — b", "5 €", "日本"])
def test_a_character_outside_latin1_is_refused_naming_the_rubric(text: str) -> None:
    with pytest.raises(InputError) as caught:
        render([Rubric("S10.G00.00.001", "eage"), Rubric("S21.G00.30.002", text)])
    [problem] = caught.value.problems
    assert (problem.key, problem.line) == ("S21.G00.30.002", 2)
    assert "ISO-8859-1" in problem.message and "ISO-8859-1" in (problem.fix or "")


@pytest.mark.parametrize(
    ("value", "words"),
    [("", "empty"), ("   ", "empty"), ("a\nb", "line break"), ("a\rb", "line break"), ("a\tb", "U+0009")],
)
def test_a_value_no_line_can_hold_is_refused(value: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        render([Rubric("S21.G00.30.002", value)])
    [problem] = caught.value.problems
    assert problem.key == "S21.G00.30.002" and words in problem.message


def test_every_bad_rubric_is_listed_at_once() -> None:
    with pytest.raises(InputError) as caught:
        render(
            [Rubric("S21.G00.30.002", "’"), Rubric("S21.G00.30.4", "x"), Rubric("S21.G00.30.006", "x" * 300)]
        )
    assert [p.line for p in caught.value.problems] == [1, 2, 3]
    assert "not a rubric code" in caught.value.problems[1].message
    assert "more than the 255" in caught.value.problems[2].message


def test_parse_reads_crlf_and_a_missing_last_newline() -> None:
    data = b"S10.G00.00.001,'eage'\r\nS10.G00.00.002,'eage'"
    assert parse(data, SOURCE) == [Rubric("S10.G00.00.001", "eage"), Rubric("S10.G00.00.002", "eage")]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"S10.G00.00.001,'eage'\nS10.G00.00.002,eage\n", 2),
        (b"S10.G00.00.001,'eage'\n\nS10.G00.00.002,'x'\n", 2),
        (b"hello\n", 1),
        (b"S10.G00.00.001,''\n", 1),
        (b"S10.G00.00.001,'a\x01b'\n", 1),
    ],
)
def test_parse_locates_a_bad_line(data: bytes, line: int) -> None:
    with pytest.raises(InputError) as caught:
        parse(data, SOURCE)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (SOURCE, line)


def test_parse_refuses_an_empty_file() -> None:
    with pytest.raises(InputError, match="empty"):
        parse(b"", SOURCE)


# --- totals ---------------------------------------------------------------------------------------------


def _file(declarations: int, per: int) -> list[Rubric]:
    lines = [Rubric("S10.G00.00.001", "eage")]
    for _ in range(declarations):
        lines.append(Rubric("S20.G00.05.001", "01"))
        lines += [Rubric("S21.G00.30.002", "X")] * per
    return lines


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 5), st.integers(0, 30))
def test_with_totals_counts_every_line_and_every_declaration(declarations: int, per: int) -> None:
    """Property: .001 = all lines, the two S90 ones included; .002 = the S20.G00.05 blocks; idempotent."""
    lines = with_totals(_file(declarations, per))
    assert lines[-2:] == [
        Rubric("S90.G00.90.001", str(1 + declarations * (1 + per) + 2)),
        Rubric("S90.G00.90.002", str(declarations)),
    ]
    assert int(lines[-2].value) == len(lines)
    assert with_totals(lines) == lines


# --- formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0", "0.00"),
        ("0.00", "0.00"),
        ("-0.00", "0.00"),
        ("1234.56", "1234.56"),
        ("-3.1", "-3.10"),
        ("-0.01", "-0.01"),
        ("12", "12.00"),
        ("1E+3", "1000.00"),
        ("999999999999.99", "999999999999.99"),
        ("-123456789012345.67", "-123456789012345.67"),
    ],
)
def test_amount(value: str, text: str) -> None:
    assert amount(Decimal(value)) == text


@pytest.mark.parametrize("value", ["1.005", "0.001", "NaN", "Infinity"])
def test_amount_refuses_what_is_not_a_cent_amount(value: str) -> None:
    with pytest.raises(ValueError):
        amount(Decimal(value))


@settings(max_examples=300)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_amount_matches_the_norms_signed_amount_pattern(value: Decimal) -> None:
    """Property: every cent amount is written as the norm's amount types read it, and reads back equal."""
    text = amount(value)
    pattern = _pattern("S21.G00.81.004")  # Montant_ZNS_4_14_N_Z: signed
    assert pattern is not None and pattern.fullmatch(text)
    assert Decimal(text) == value


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (dt.date(2026, 1, 31), "31012026"),
        (dt.date(2026, 11, 1), "01112026"),
        (dt.date(1985, 2, 28), "28021985"),
    ],
)
def test_date(day: dt.date, text: str) -> None:
    assert date(day) == text


@settings(max_examples=200)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_matches_the_norms_date_pattern(day: dt.date) -> None:
    text = date(day)
    pattern = _pattern("S21.G00.40.001")  # Date_JJMMAAAA
    assert pattern is not None and pattern.fullmatch(text)
    assert dt.datetime.strptime(text, "%d%m%Y").date() == day


@pytest.mark.parametrize(
    ("value", "code", "text"),
    [
        ("6.9", "S21.G00.81.007", "6.90"),
        ("0.575", "S21.G00.81.007", "0.575"),
        ("0", "S21.G00.81.007", "0.00"),
        ("100", "S21.G00.81.007", "100.00"),
        ("8.55", "S21.G00.23.003", "8.55"),
        ("5.2", "S21.G00.50.006", "5.20"),
        ("0", "S21.G00.50.006", "0.00"),
    ],
)
def test_rate(value: str, code: str, text: str) -> None:
    assert rate(Decimal(value), code) == text
    spec = load_norm().rubric(code)
    assert spec is not None and spec.pattern is not None and spec.pattern.fullmatch(text)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0.3875", "S21.G00.81.007"),
        ("0.575", "S21.G00.23.003"),
        ("-1", "S21.G00.81.007"),
        ("1", "S21.G00.30.002"),
    ],
)
def test_rate_refuses_what_the_rubric_cannot_hold(value: str, code: str) -> None:
    with pytest.raises(ValueError):
        rate(Decimal(value), code)
