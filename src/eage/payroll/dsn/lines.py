"""The DSN file's text: its lines written and read back, the S90 totals, the value formats.

A DSN file is ISO-8859-1 text, one rubric a line, ``S21.G00.30.002,'DUPONT'``: the rubric's code, a comma,
the value between single quotes; lines end with ``\\n`` (the norm's readers accept ``\\r\\n`` too, which
:func:`parse` reads as well). A quote inside the value is written as it is: the value runs to the line's
last quote (the published files write ``L'HAY LES ROSES`` so, and dsn-tools' grammar reads it so).

Characters: a character outside ISO-8859-1 (``’``, ``œ``, ``—``, ``€``) is refused with an
:class:`~eage.errors.InputError` naming the rubric, never transliterated. The cahier technique does define
tables of allowed characters and restrictions for identities and addresses (its chapters "Tables des
caractères autorisés", "Restrictions pour les identités", "Restriction pour toutes les adresses": seen in the
table of contents of the DSN phase 1 cahier technique, http://doczz.fr/doc/338642, whose text was not read;
the open-source reader neodes_codec, https://docs.rs/neodes_codec, enforces "valid" characters and at least
one "validating" character per value), but no replacement table was found to follow. So eage refuses what
cannot be encoded and what no type allows (control characters, line breaks, a value of spaces only), and
leaves the per-type character rules to the norm's patterns (:mod:`eage.payroll.dsn.norm`). A silent
replacement would change a name or an address the declaration carries to the bodies; the fix belongs in the
data (write ``'`` for ``’``, ``oe`` for ``œ``). A line holds at most 255 characters before its ``\\n``
(neodes_codec: 256 with the line ending).

Formats (:func:`amount`, :func:`date`, :func:`rate`): amounts with a point and two decimals ("1234.56",
"-3.10", "0.00"), dates JJMMAAAA, rates in percent with the decimals the rubric's pattern allows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from eage.errors import InputError, Problem
from eage.payroll.dsn.model import Rubric

ENCODING = "iso-8859-1"
MAX_LINE = 255
_CODE = re.compile(r"S\d\d\.G\d\d\.\d\d\.\d{3}")
_LINE = re.compile(r"(S\d\d\.G\d\d\.\d\d\.\d{3}),'(.*)'")
#: C0 controls, DEL and the C1 controls: ISO-8859-1 encodes them, no DSN type allows them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CENT = Decimal("0.01")
TOTALS_BLOCK = "S90.G00.90"
DECLARATION_FIRST = "S20.G00.05.001"


def _value_problem(value: str) -> str | None:
    """Why ``value`` cannot be written in a DSN line (None: it can)."""
    if value.strip(" ") == "":
        return "empty value (the norm writes no line for a rubric without a value)"
    if "\n" in value or "\r" in value:
        return "the value holds a line break (a DSN line holds one rubric)"
    control = _CONTROL.search(value)
    if control:
        return f"the value holds the control character U+{ord(control.group()):04X}"
    bad = sorted({c for c in value if ord(c) > 0xFF})
    if bad:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in bad)
        return f"the value holds characters ISO-8859-1 cannot write: {shown}"
    return None


def render(lines: Sequence[Rubric]) -> bytes:
    """The file's bytes: ``CODE,'VALUE'\\n`` per rubric, ISO-8859-1.

    Raises :class:`InputError` listing every rubric that cannot be written (bad code, empty value, a
    character outside ISO-8859-1, a control character or line break, a line over 255 characters), each
    located by its line in the file to be and its rubric code.
    """
    problems: list[Problem] = []
    out: list[str] = []
    for number, rubric in enumerate(lines, start=1):
        if not _CODE.fullmatch(rubric.code):
            problems.append(
                Problem(
                    f"{rubric.code!r} is not a rubric code",
                    line=number,
                    key=rubric.code,
                    fix="Sxx.Gxx.xx.xxx",
                )
            )
            continue
        message = _value_problem(rubric.value)
        if message is not None:
            fix = (
                "write the text with ISO-8859-1 characters (' for ’, oe for œ, - for —)"
                if "ISO-8859-1" in message
                else "correct the value"
            )
            problems.append(Problem(f"{message}: {rubric.value!r}", line=number, key=rubric.code, fix=fix))
            continue
        text = f"{rubric.code},'{rubric.value}'"
        if len(text) > MAX_LINE:
            problems.append(
                Problem(
                    f"the line has {len(text)} characters, more than the {MAX_LINE} a DSN line holds",
                    line=number,
                    key=rubric.code,
                    fix="shorten the value",
                )
            )
            continue
        out.append(text)
    if problems:
        raise InputError(problems)
    return "".join(f"{text}\n" for text in out).encode(ENCODING)


def parse(data: bytes, source: str) -> list[Rubric]:
    """The rubrics of a DSN file's bytes (ISO-8859-1), as :func:`render` wrote them.

    Lines may end with ``\\n`` or ``\\r\\n``; the last line's ending may be missing. Raises
    :class:`InputError` with every line that is not ``CODE,'VALUE'`` (located: ``source`` and the line).
    """
    text = data.decode(ENCODING)  # every byte is a Latin-1 character: decoding never fails
    if text == "":
        raise InputError.at("the file is empty: not a DSN", file=source, fix="write the DSN again (eage dsn)")
    rows = text.split("\n")
    if rows[-1] == "":
        rows.pop()
    problems: list[Problem] = []
    out: list[Rubric] = []
    for number, row in enumerate(rows, start=1):
        line = row[:-1] if row.endswith("\r") else row
        match = _LINE.fullmatch(line)
        if match is None:
            shown = line if len(line) <= 60 else line[:57] + "..."
            problems.append(
                Problem(
                    f"not a DSN line (CODE,'value'): {shown!r}",
                    file=source,
                    line=number,
                    fix="the file is not a DSN as eage writes it: write it again (eage dsn)",
                )
            )
            continue
        code, value = match.group(1), match.group(2)
        message = _value_problem(value)
        if message is not None:
            problems.append(Problem(message, file=source, line=number, key=code, fix="correct the value"))
            continue
        out.append(Rubric(code, value))
    if problems:
        raise InputError(problems)
    return out


def with_totals(lines: Sequence[Rubric]) -> list[Rubric]:
    """``lines`` with the S90 totals block at the end (any S90 line in ``lines`` is replaced).

    S90.G00.90.001: the number of rubric lines of the file, the two S90 lines included;
    S90.G00.90.002: the number of declarations, the S20.G00.05.001 lines (one per S20.G00.05 block).
    """
    body = [line for line in lines if line.block != TOTALS_BLOCK]
    declarations = sum(1 for line in body if line.code == DECLARATION_FIRST)
    return [
        *body,
        Rubric(f"{TOTALS_BLOCK}.001", str(len(body) + 2)),
        Rubric(f"{TOTALS_BLOCK}.002", str(declarations)),
    ]


def amount(value: Decimal) -> str:
    """An amount as the norm writes it: a point and two decimals, a leading ``-`` when negative.

    The value must already be rounded to the cent (money is rounded once, where it is computed):
    ``amount(Decimal("1.005"))`` raises ``ValueError`` rather than round it a second time.
    """
    if not value.is_finite():
        raise ValueError(f"not an amount: {value}")
    cents = value.quantize(_CENT)
    if cents != value:
        raise ValueError(f"{value} is not rounded to the cent")
    if cents == 0:
        cents = abs(cents)  # "-0.00" is zero
    return format(cents, "f")


def date(day: dt.date) -> str:
    """A date as the norm writes it: JJMMAAAA."""
    return f"{day.day:02d}{day.month:02d}{day.year:04d}"


def rate(value: Decimal, code: str = "S21.G00.81.007") -> str:
    """A rate in percent for the rubric ``code``, with the fewest decimals (two at least) that write it
    exactly and that the rubric's pattern in the norm allows: ``rate(Decimal("6.9"))`` -> ``"6.90"``,
    ``rate(Decimal("0.3875"))`` raises ``ValueError`` (S21.G00.81.007 allows three decimals).

    Rubrics: S21.G00.81.007 (taux de cotisation individuelle, NumDec_0.000-100.000: 2 or 3 decimals),
    S21.G00.23.003 (taux de cotisation agrégée, TauxCotisation: 2), S21.G00.50.006 (taux de PAS, Taux_4_5: 2).
    """
    from eage.payroll.dsn.norm import load_norm  # the norm is read only when a rate is written

    spec = load_norm().rubric(code)
    if spec is None or spec.pattern is None:
        raise ValueError(f"{code} is not a rubric with a rate pattern in the norm")
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a rate: {value}")
    for places in range(2, 7):
        step = Decimal(1).scaleb(-places)
        if value.quantize(step) != value:
            continue
        text = format(value.quantize(step), "f")
        if spec.pattern.fullmatch(text):
            return text
    raise ValueError(f"{value} cannot be written exactly as {code} ({spec.type}: {spec.pattern.pattern})")
