"""Reading a bank's CSV export into plain :class:`BankLine` values.

The layout comes from rules/bank.yaml and is turned into a beangulp ``csvbase`` reader whose columns are
descriptors (``csvbase.Date``, ``csvbase.Columns``...), so a new bank is a change of rules, not of code.
Amounts are parsed here rather than by ``csvbase.Amount``: a debit/credit pair has empty cells, and a bad
number must be reported with its line and the setting to change.

Each line gets a stable identity (``bank_ref``): a hash of the bank's own reference when the layout has
one, else of date + label + amount + the occurrence index of that triple in the file. Re-importing the
same file, or an overlapping export, yields the same ids, so nothing is posted twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from beangulp.importers import csvbase

from eage.bank.config import BANK_RULES, Layout
from eage.errors import InputError
from eage.money import cents


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


def parse_amount(text: str, *, decimal_comma: bool) -> Decimal | None:
    """``"1 234,56"`` -> ``Decimal("1234.56")``; empty -> None; raise ValueError when not a number."""
    value = re.sub(r"[\s\u00a0\u202f€]", "", text)
    if not value:
        return None
    value = value.replace(".", "").replace(",", ".") if decimal_comma else value.replace(",", "")
    if value.endswith("-"):  # some banks print debits as "12,30-"
        value = "-" + value[:-1]
    try:
        return cents(Decimal(value))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None


def _reader(layout: Layout) -> Any:
    """A csvbase reader class for this layout (columns as descriptors, collected by csvbase's metaclass)."""
    dialect = type("BankDialect", (csv.excel,), {"delimiter": layout.delimiter})
    encoding = (
        "utf-8-sig" if layout.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else layout.encoding
    )
    attrs: dict[str, Any] = {
        "encoding": encoding,
        "skiplines": layout.skip_lines,
        "names": layout.header,
        "dialect": dialect,
        "comments": None,  # a label may start with "#": every line is data, so line numbers stay exact
        "date": csvbase.Date(layout.date, layout.date_format),
        "narration": csvbase.Columns(*layout.label),
    }
    for field in ("amount", "debit", "credit", "reference"):
        column = getattr(layout, field)
        if column is not None:
            attrs[field] = csvbase.Column(column)
    return type("BankStatementReader", (csvbase.CSVReader,), attrs)()


def _check_encoding(path: Path, layout: Layout, shown: str) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode(layout.encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError.at(
            f"not valid {layout.encoding} (byte {raw[exc.start]:#04x})",
            file=shown,
            line=line,
            fix=f"set layout.encoding in {BANK_RULES} to the file's encoding (often cp1252 on Windows)",
        ) from None
    # Latin-1 style encodings decode any byte: UTF-8 read as cp1252 shows up as "Ã©"-like pairs.
    if layout.encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig"):
        match = re.search("[ÃÂ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e]", text)
        if match:
            line = text[: match.start()].count("\n") + 1
            raise InputError.at(
                f"the file looks like UTF-8, not {layout.encoding} ({match.group()!r})",
                file=shown,
                line=line,
                fix=f'set layout.encoding: "utf-8" in {BANK_RULES}',
            )


def read_statement(
    path: Path, layout: Layout, *, duplicates: str = "skip", shown: str | None = None
) -> Statement:
    """Every line of the file, with its identity; raise InputError naming the file and line on bad input."""
    shown = shown or str(path)
    if not path.is_file():
        raise InputError.at("file not found", file=shown, fix="give the path of the bank's CSV export")
    _check_encoding(path, layout, shown)
    reader = _reader(layout)
    first = layout.skip_lines + (1 if layout.header else 0) + 1
    rows: Iterator[Any] = iter(reader.read(str(path)))
    out: list[BankLine] = []
    skipped: list[int] = []
    seen: dict[str, int] = {}
    lineno = first - 1
    columns = [layout.date, *layout.label, layout.amount, layout.debit, layout.credit, layout.reference]
    needed = len({c for c in columns if c is not None})
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except (KeyError, IndexError) as exc:
            # csvbase resolves the columns on the header row: a missing one fails before the first row.
            message = exc.args[0] if exc.args else str(exc)
            raise InputError.at(
                f"column not found: {message}",
                file=shown,
                line=layout.skip_lines + 1,
                fix=f"correct the column names in {BANK_RULES} (layout), or layout.skip_lines / delimiter",
            ) from None
        lineno += 1
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < needed:
            raise InputError.at(
                f"only {len(row)} field(s) on this line, the layout reads {needed} columns",
                file=shown,
                line=lineno,
                fix=f"check layout.delimiter ({layout.delimiter!r}) in {BANK_RULES}, or fix the line",
            )
        try:
            date = row.date
            label = row.narration
            amount = _amount(row, layout)
            reference = row.reference.strip() if layout.reference is not None else ""
        except IndexError:
            raise InputError.at(
                f"only {len(row)} field(s) on this line",
                file=shown,
                line=lineno,
                fix=f"check layout.delimiter ({layout.delimiter!r}) in {BANK_RULES}, or fix the line",
            ) from None
        except ValueError as exc:
            raise InputError.at(
                f"cannot read this line ({exc}): {';'.join(row)!r}",
                file=shown,
                line=lineno,
                fix=f"check layout.date_format ({layout.date_format!r}) / decimal_comma in {BANK_RULES}, or correct the line",
            ) from None
        if amount is None or amount == 0:
            continue  # information lines (balance carried forward) move no money
        key = reference or f"{date.isoformat()}|{normalize(label)}|{amount:.2f}"
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        if occurrence and (duplicates == "skip" or reference):
            skipped.append(lineno)
            continue
        digest = hashlib.sha256(f"{key}|{occurrence}".encode()).hexdigest()[:20]
        out.append(BankLine(date, " ".join(label.split()), amount, lineno, digest))
    return Statement(shown, tuple(out), tuple(skipped))


def _amount(row: Any, layout: Layout) -> Decimal | None:
    comma = layout.decimal_comma
    if layout.amount is not None:
        return parse_amount(row.amount, decimal_comma=comma)
    debit = parse_amount(row.debit, decimal_comma=comma)
    credit = parse_amount(row.credit, decimal_comma=comma)
    if debit is not None and credit is not None and debit != 0 and credit != 0:
        raise ValueError("both a debit and a credit on one line")
    # Banks print debits positive in their own column; some sign them: money out is negative either way.
    if debit is None and credit is None:
        return None
    return (credit or Decimal(0)) - abs(debit or Decimal(0))
