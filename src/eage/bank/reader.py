"""Reading a bank's CSV export into plain :class:`BankLine` values, refusing whatever it would have to guess.

The layout comes from rules/bank.yaml (:class:`~eage.bank.config.Layout`). Every value must match one
declared pattern, and a line that does not is reported with the statement's name, its line, the column,
the value and what was expected; nothing is read "as best it can":

- an amount is an optional sign (``-12,30`` or ``12,30-``), ASCII digits, optionally grouped by three with
  the declared ``thousands_separator`` (none unless declared), then at most one decimal separator (the
  declared one) and one or two decimals. No exponent, NaN, ``_``, currency sign or non-ASCII digit;
- a date matches ``date_format`` exactly: ``%d`` and ``%m`` are two digits, ``%Y`` four;
- the file is decoded with the declared encoding, and a control character, a field that runs over several
  lines (a quote not closed), a field or a file over the limits below are refused with their line.

The CSV is split here with :mod:`csv` rather than by beangulp's ``csvbase`` reader, which opens the file
itself: the line numbers, the limits and the strict quoting are what lets each problem be located.

Each line gets a stable identity (``bank_ref``): a hash of the bank's own reference when the layout has
one, else of date + label + amount + the occurrence index of that triple in the file. Re-importing the
same file, or an overlapping export, yields the same ids, so nothing is posted twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from eage.bank.config import BANK_RULES, SPACES, Layout
from eage.errors import InputError, Problem
from eage.money import cents

if TYPE_CHECKING:
    from _csv import Reader

# Limits, not law: far above any real bank export, low enough that a wrong file fails at once and clearly.
MAX_FILE_BYTES = 32 * 1024 * 1024  # a year of a busy account is well under 1 MB
MAX_FIELD_CHARS = 1024  # a SEPA remittance text is 140 characters; a label 7 times longer is not one
MAX_INTEGER_DIGITS = 12  # up to 999 999 999 999,99: a bigger amount is a misread column
MAX_PROBLEMS = 50  # lines reported at once; the rest are counted

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class BankLine:
    """One statement line: amount > 0 is money received (a credit on the statement)."""

    date: dt.date
    label: str
    amount: Decimal
    line: int
    bank_ref: str


@dataclass(frozen=True)
class Statement:
    """The lines of one file, and the lines skipped as duplicates inside it (line numbers)."""

    file: str
    lines: tuple[BankLine, ...]
    duplicates: tuple[int, ...]


def normalize(text: str) -> str:
    """Upper case, no accents, runs of anything but letters and digits as one space: how labels compare."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", plain.upper()).split())


# ---------------------------------------------------------------------------------------------- amounts


@lru_cache(maxsize=16)
def amount_pattern(decimal_comma: bool, thousands_separator: str | None) -> re.Pattern[str]:
    """The one pattern an amount must match, for this decimal and thousands separator."""
    decimal = re.escape("," if decimal_comma else ".")
    if thousands_separator is None:
        integer = "[0-9]+"
    else:
        group = "[" + "".join(SPACES) + "]" if thousands_separator == " " else re.escape(thousands_separator)
        integer = f"(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)"
    return re.compile(
        rf"(?P<sign>[+-]?)(?P<int>{integer})(?:{decimal}(?P<frac>[0-9]{{1,2}}))?(?P<trail>-?)", re.ASCII
    )


def expected_amount(decimal_comma: bool, thousands_separator: str | None) -> str:
    """What an amount must look like, said to the user."""
    sep = "," if decimal_comma else "."
    examples = [f"1234{sep}56", f"-12{sep}30"]
    if thousands_separator is not None:
        examples.insert(1, f"1{thousands_separator}234{sep}56")
        grouping = f"thousands grouped by 3 with {thousands_separator!r}"
    else:
        grouping = "no thousands separator"
    return (
        f"digits, a decimal {'comma' if decimal_comma else 'point'} and at most 2 decimals, {grouping} "
        f"(e.g. {', '.join(examples)})"
    )


def parse_amount(text: str, *, decimal_comma: bool, thousands_separator: str | None = None) -> Decimal | None:
    """``"1234,56"`` -> ``Decimal("1234.56")``; empty -> None; raise ValueError when ``text`` does not match
    the declared pattern exactly (see the module docstring)."""
    value = text.strip()
    if not value:
        return None
    match = amount_pattern(decimal_comma, thousands_separator).fullmatch(value)
    if match is None or (match["sign"] and match["trail"]):
        raise ValueError(f"{text!r} is not an amount")
    digits = re.sub("[^0-9]", "", match["int"])
    if len(digits.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise ValueError(
            f"{text!r} is not an amount (more than {MAX_INTEGER_DIGITS} digits before the decimals)"
        )
    negative = match["sign"] == "-" or match["trail"] == "-"
    number = Decimal(f"{'-' if negative else ''}{digits}.{match['frac'] or '0'}")
    return cents(number)


# ------------------------------------------------------------------------------------------------ dates


@lru_cache(maxsize=16)
def date_pattern(fmt: str) -> re.Pattern[str]:
    """``%d/%m/%Y`` -> a regular expression of exactly that shape (the format is validated by the config)."""
    widths = {"%d": "(?P<d>[0-9]{2})", "%m": "(?P<m>[0-9]{2})", "%Y": "(?P<Y>[0-9]{4})"}
    parts = re.findall(r"%.|[^%]", fmt)
    return re.compile("".join(widths.get(p, re.escape(p)) for p in parts), re.ASCII)


def parse_date(text: str, fmt: str) -> dt.date:
    """A date written exactly as ``fmt`` says; raise ValueError otherwise (a day 31/02 included)."""
    value = text.strip()
    match = date_pattern(fmt).fullmatch(value)
    if match is None:
        example = dt.date(2026, 11, 2).strftime(fmt)
        raise ValueError(f"{text!r} is not a date written {fmt} (e.g. {example})")
    try:
        return dt.date(int(match["Y"]), int(match["m"]), int(match["d"]))
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


# ------------------------------------------------------------------------------------------------- file


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``, lines ended as the CSV reader ends them."""
    line = 1
    start = 0
    for match in _NEWLINE.finditer(text, 0, index):
        line += 1
        start = match.end()
    return line, index - start + 1


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        if not path.exists():
            raise InputError.at("file not found", file=shown, fix="give the path of the bank's CSV export")
        if not path.is_file():
            raise InputError.at("not a file", file=shown, fix="give the path of the bank's CSV export")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError.at(
                f"the file is {size} bytes, more than the limit of {MAX_FILE_BYTES}",
                file=shown,
                fix="is it the bank's CSV export? Split a very long statement into several files",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError.at(
            f"cannot be read ({exc.strerror or exc})", file=shown, fix="check the path and its permissions"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError.at(
            f"the file is more than the limit of {MAX_FILE_BYTES} bytes",
            file=shown,
            fix="is it the bank's CSV export? Split a very long statement into several files",
        )
    return raw


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _decode(raw: bytes, layout: Layout, shown: str) -> str:
    encoding = "utf-8-sig" if _is_utf8(layout.encoding) else layout.encoding
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[start : exc.start].decode(encoding, errors="replace")) + 1
        raise InputError.at(
            f"not valid {layout.encoding} (byte {raw[exc.start]:#04x} at column {column})",
            file=shown,
            line=raw[: exc.start].count(b"\n") + 1,
            fix=f"save the statement as UTF-8, or set layout.encoding in {BANK_RULES} to the file's "
            "encoding (often cp1252 on Windows)",
        ) from None
    # Latin-1 style encodings decode any byte: UTF-8 read as cp1252 shows up as "Ã©"-like pairs.
    if not _is_utf8(layout.encoding):
        match = re.search("[ÃÂ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e]", text)
        if match:
            line, _ = _position(text, match.start())
            raise InputError.at(
                f"the file looks like UTF-8, not {layout.encoding} ({match.group()!r})",
                file=shown,
                line=line,
                fix=f'set layout.encoding: "utf-8" in {BANK_RULES}',
            )
    control = _CONTROL.search(text)
    if control:
        line, column = _position(text, control.start())
        fix = "is it the bank's CSV export? Remove the character, or export the statement again as CSV"
        if "\x80" <= control.group() <= "\x9f" and not _is_utf8(layout.encoding):
            fix = f'the file is probably Windows-1252: set layout.encoding: "cp1252" in {BANK_RULES}'
        raise InputError.at(
            f"a control character (U+{ord(control.group()):04X}) at column {column}",
            file=shown,
            line=line,
            fix=fix,
        )
    return text


def _name(ref: str | int) -> str:
    return repr(ref) if isinstance(ref, str) else f"#{ref} (0-based)"


@dataclass(frozen=True)
class _Columns:
    """The layout's columns resolved to field indexes, and the number of fields a line must have."""

    index: dict[str | int, int]
    width: int | None  # the header's field count; None without a header


def _resolve(header: Sequence[str] | None, layout: Layout, shown: str, line: int) -> _Columns:
    if header is None:
        return _Columns({c: int(c) for c in layout.columns()}, None)
    names: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        names.setdefault(name.strip(), []).append(i)
    index: dict[str | int, int] = {}
    problems = []
    shown_header = ", ".join(repr(h.strip()) for h in header)
    for column in layout.columns():
        if isinstance(column, int):
            if column >= len(header):
                problems.append(f"column #{column} (0-based): the header has {len(header)} fields")
            index[column] = column
            continue
        found = names.get(column, [])
        if not found:
            problems.append(f"column not found: {column!r} (the header has {shown_header})")
        elif len(found) > 1:
            problems.append(f"column {column!r} appears {len(found)} times in the header")
        else:
            index[column] = found[0]
    if problems:
        raise InputError(
            [
                Problem(
                    p,
                    file=shown,
                    line=line,
                    fix=f"correct the column names in {BANK_RULES} (layout), or layout.skip_lines / delimiter",
                )
                for p in problems
            ]
        )
    return _Columns(index, len(header))


def read_statement(
    path: Path, layout: Layout, *, duplicates: str = "skip", shown: str | None = None
) -> Statement:
    """Every line of the file, with its identity; raise InputError naming the file and line on bad input
    (every bad line of the file at once, up to :data:`MAX_PROBLEMS`)."""
    shown = shown or str(path)
    text = _decode(_read_bytes(path, shown), layout, shown)
    stream = io.StringIO(text, newline="")
    skipped_lines = 0
    for _ in range(layout.skip_lines):
        if stream.readline():
            skipped_lines += 1
    dialect = type("BankDialect", (csv.excel,), {"delimiter": layout.delimiter, "strict": True})
    reader = csv.reader(stream, dialect=dialect)
    rows = _rows(reader, skipped_lines, shown)
    header: list[str] | None = None
    header_line = skipped_lines + 1
    if layout.header:
        first = next(rows, None)
        if first is None:
            raise InputError.at(
                "no header line",
                file=shown,
                line=header_line,
                fix=f"is it the bank's CSV export? Check layout.skip_lines / header in {BANK_RULES}",
            )
        header_line, header = first
    columns = _resolve(header, layout, shown, header_line)
    out: list[BankLine] = []
    skipped: list[int] = []
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    bad = 0
    for lineno, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        try:
            parsed = _parse_row(row, layout, columns, header_line)
        except _LineError as exc:
            bad += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(Problem(exc.message, file=shown, line=lineno, key=exc.key, fix=exc.fix))
            continue
        if parsed is None:
            continue  # information lines (balance carried forward) move no money
        date, label, amount, reference = parsed
        key = reference or f"{date.isoformat()}|{normalize(label)}|{amount:.2f}"
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        if occurrence and (duplicates == "skip" or reference):
            skipped.append(lineno)
            continue
        digest = hashlib.sha256(f"{key}|{occurrence}".encode()).hexdigest()[:20]
        out.append(BankLine(date, label, amount, lineno, digest))
    if problems:
        if bad > len(problems):
            problems.append(Problem(f"and {bad - len(problems)} more line(s) with a problem", file=shown))
        raise InputError(problems)
    return Statement(shown, tuple(out), tuple(skipped))


def _rows(reader: Reader, offset: int, shown: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each CSV record; a record over several lines or a bad quote is refused."""
    while True:
        start = offset + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise InputError.at(
                    f"a field is more than {MAX_FIELD_CHARS} characters long (the limit)",
                    file=shown,
                    line=start,
                    fix="is it the bank's CSV export? Check the quotes and layout.delimiter in " + BANK_RULES,
                ) from None
            raise InputError.at(
                f"cannot split this line into fields ({exc})",
                file=shown,
                line=start,
                fix='a quote (") opened on this line is not closed, or a quoted field has text after its '
                'closing quote: quote the whole field and double the quotes inside ("")',
            ) from None
        end = offset + reader.line_num
        if end > start:
            raise InputError.at(
                f"a quoted field runs from line {start} to line {end} (a quote not closed?)",
                file=shown,
                line=start,
                fix='close the quote (") on this line, or remove it: a bank line is one line',
            )
        for index, cell in enumerate(row):
            if len(cell) > MAX_FIELD_CHARS:
                raise InputError.at(
                    f"field {index + 1} is {len(cell)} characters long, more than the limit of "
                    f"{MAX_FIELD_CHARS}",
                    file=shown,
                    line=start,
                    fix="is it the bank's CSV export? Check the quotes and layout.delimiter in " + BANK_RULES,
                )
        yield start, row


class _LineError(Exception):
    """A problem with one statement line (collected, then reported with the others)."""

    def __init__(self, message: str, fix: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.key = key


def _parse_row(
    row: list[str], layout: Layout, columns: _Columns, header_line: int
) -> tuple[dt.date, str, Decimal, str] | None:
    """(date, label, amount, reference) of one line, or None when it moves no money."""
    delimiter_fix = (
        f"check layout.delimiter ({layout.delimiter!r}) in {BANK_RULES}, or quote a field that contains it"
    )
    if columns.width is not None:
        extra = row[columns.width :]
        if len(row) < columns.width or any(cell.strip() for cell in extra):
            raise _LineError(
                f"{len(row)} field(s) on this line, the header (line {header_line}) has {columns.width}",
                delimiter_fix,
            )
    else:
        needed = max(columns.index.values()) + 1
        if len(row) < needed:
            raise _LineError(
                f"only {len(row)} field(s) on this line, the layout reads {needed}", delimiter_fix
            )

    def cell(ref: str | int) -> str:
        return row[columns.index[ref]]

    amount_fix = (
        f"write amounts as {expected_amount(layout.decimal_comma, layout.thousands_separator)}, or declare "
        f"the bank's format in {BANK_RULES} (layout.decimal_comma, layout.thousands_separator)"
    )

    def amount_of(ref: str | int) -> Decimal | None:
        try:
            return parse_amount(
                cell(ref), decimal_comma=layout.decimal_comma, thousands_separator=layout.thousands_separator
            )
        except ValueError as exc:
            raise _LineError(f"column {_name(ref)}: {exc}", amount_fix) from None

    if layout.amount is not None:
        amount = amount_of(layout.amount)
    else:
        assert layout.debit is not None and layout.credit is not None  # the config says so
        debit, credit = amount_of(layout.debit), amount_of(layout.credit)
        if debit and credit:
            raise _LineError(
                f"both a debit ({cell(layout.debit).strip()}) and a credit ({cell(layout.credit).strip()})",
                "one line is one movement: leave one of the two columns empty",
            )
        if credit is not None and credit < 0:
            raise _LineError(
                f"column {_name(layout.credit)}: a negative credit ({cell(layout.credit).strip()})",
                "money out goes in the debit column: correct the line",
            )
        # Banks print debits positive in their own column; some sign them: money out is negative either way.
        amount = (
            None if debit is None and credit is None else (credit or Decimal(0)) - abs(debit or Decimal(0))
        )
    if amount is None or amount == 0:
        return None
    try:
        date = parse_date(cell(layout.date), layout.date_format)
    except ValueError as exc:
        raise _LineError(
            f"column {_name(layout.date)}: {exc}",
            f"write the date as layout.date_format says ({layout.date_format!r}) or correct that setting "
            f"in {BANK_RULES}",
        ) from None
    label = " ".join(" ".join(cell(c).strip() for c in layout.label).split())
    reference = cell(layout.reference).strip() if layout.reference is not None else ""
    return date, label, amount, reference
