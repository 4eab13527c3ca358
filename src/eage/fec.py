"""The FEC (fichier des écritures comptables, LPF art. A47 A-1): building it and checking any FEC file.

This module is pure: it knows nothing of Beancount. ``eage.ledger.journal`` turns the ledger into the
neutral :class:`JournalEntry` values defined here; :func:`build_fec` prints them in the official layout and
:func:`check_fec` validates any FEC file (ours or a third party's) against the format rules.

Format choices (one file per financial year, as handed over at a tax audit):

- separator: TAB (``|`` is also legal; a tab never appears in our labels once they are cleaned);
- lines end with CRLF, the usual convention of accounting software and of the DGFiP's Test Compta Demat;
- encoding ISO-8859-15 (it has ``€``, ``œ`` and every French accent). A character it lacks is
  transliterated: typographic quotes and dashes to their ASCII forms, then Unicode compatibility
  decomposition (NFKD) without the combining accents (``ő`` -> ``o``, ``…`` -> ``...``); what is left
  becomes ``?``;
- ``CompteNum``: the PCG number padded on the right with zeros to at least 6 digits (6411 -> 641100,
  44571 -> 445710, 411 -> 411000), the fixed-length style most French accounting software exports;
- ``EcritureNum``: 1..n over the whole file, in validation order (date, then ledger order);
- ``ValidDate``: one validation date for every entry (the command passes the closing date, so the output
  is the same byte for byte whenever it is produced); ``Montantdevise``/``Idevise`` empty (EUR only).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

from eage.errors import Problem

FIELDS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
SEPARATOR = "\t"
NEWLINE = "\r\n"
ENCODING = "iso-8859-15"
COMPTE_NUM_WIDTH = 6

# Journal code -> label. The codes are the ones French accountants expect to see.
JOURNALS: dict[str, str] = {
    "AN": "À-nouveaux",
    "PA": "Paie",
    "VE": "Ventes",
    "BQ": "Banque",
    "OD": "Opérations diverses",
}
# Transaction metadata ``kind`` (set by eage) -> journal code. Kinds not listed go to BQ or OD.
KIND_JOURNAL: dict[str, str] = {
    "opening": "AN",
    "payroll": "PA",
    "invoice": "VE",
    "credit_note": "VE",
    "fee": "VE",
    "trueup": "VE",
    "bank": "BQ",
}

_ZERO = Decimal("0.00")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class JournalLine:
    """One posting as the FEC sees it: a general account, maybe an auxiliary one, a debit or a credit."""

    account: str  # the ledger account, kept for messages and tests
    compte_num: str
    compte_lib: str
    aux_num: str  # "" when the account has no auxiliary (only 411-<member> has one)
    aux_lib: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class JournalEntry:
    """One balanced accounting entry (écriture), independent of Beancount's types."""

    date: dt.date
    kind: str  # the ledger's ``kind`` metadata, "" if none
    journal_code: str
    piece_ref: str
    label: str
    links: tuple[str, ...]  # the keys lettering pairs on: the entry's links and its invoice number
    lines: tuple[JournalLine, ...]
    source: str = ""  # "file:line" of the ledger entry, for messages

    @property
    def journal_lib(self) -> str:
        return JOURNALS.get(self.journal_code, self.journal_code)

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), _ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), _ZERO)


@dataclass(frozen=True)
class FecSummary:
    lines: int
    entries: int
    debit: Decimal
    credit: Decimal


def fec_filename(siren: str, closing_date: dt.date) -> str:
    """``<SIREN>FEC<AAAAMMJJ>.txt``, the name the administration expects (closing date of the year)."""
    return f"{siren}FEC{closing_date:%Y%m%d}.txt"


def compte_num(pcg_number: str) -> str:
    """The PCG number padded right with zeros to at least 6 digits: ``6411`` -> ``641100``."""
    return pcg_number.ljust(COMPTE_NUM_WIDTH, "0")


# --- text cleaning ---------------------------------------------------------------------------------

# Characters common in French text typed on modern systems that ISO-8859-15 lacks and NFKD leaves alone.
_TRANSLITERATION = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2022": "-",
    "\u2044": "/",
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0131": "i",
}


def _encodable(char: str) -> bool:
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def clean_text(text: str) -> str:
    """A label fit for one FEC field: ISO-8859-15 only, no separator, no line break, no control character.

    Control characters (tab, line breaks included) become spaces, because a tab would shift every field
    after it and a line break would split the record.
    """
    out: list[str] = []
    for char in text:
        if unicodedata.category(char) == "Cc":
            out.append(" ")
        elif _encodable(char):
            out.append(char)
        elif char in _TRANSLITERATION:
            out.append(_TRANSLITERATION[char])
        else:
            decomposed = "".join(
                _TRANSLITERATION.get(c, c)
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c)
            )
            out.append(decomposed if decomposed and all(_encodable(c) for c in decomposed) else "?")
    return "".join(out).strip()


# --- building ---------------------------------------------------------------------------------------


def _in_year(entries: Iterable[JournalEntry], year_start: dt.date, year_end: dt.date) -> list[JournalEntry]:
    chosen = [e for e in entries if year_start <= e.date <= year_end and e.lines]
    # Python's sort is stable: entries of one day keep the ledger's order, a deterministic tie-break.
    chosen.sort(key=lambda e: e.date)
    return chosen


def summarize(entries: Iterable[JournalEntry], year_start: dt.date, year_end: dt.date) -> FecSummary:
    """What :func:`build_fec` writes for these entries: line and entry counts, total debit and credit."""
    chosen = _in_year(entries, year_start, year_end)
    return FecSummary(
        lines=sum(len(e.lines) for e in chosen),
        entries=len(chosen),
        debit=sum((e.debit for e in chosen), _ZERO),
        credit=sum((e.credit for e in chosen), _ZERO),
    )


def letter_code(index: int) -> str:
    """0 -> ``AA``, 1 -> ``AB``, ..., 675 -> ``ZZ``, 676 -> ``AAA``: two letters first, then three."""
    width = 2
    while index >= 26**width:
        index -= 26**width
        width += 1
    letters = []
    for _ in range(width):
        index, rest = divmod(index, 26)
        letters.append(chr(ord("A") + rest))
    return "".join(reversed(letters))


LineKey = tuple[int, int]  # (entry index in file order, line index in the entry)


def lettering(entries: Sequence[JournalEntry]) -> dict[LineKey, tuple[str, dt.date]]:
    """Letter codes and dates for the receivable (auxiliary) lines that settle each other.

    The keys are invoice numbers: the piece reference of every sales (VE) entry. Lines of one auxiliary
    account whose entries share a key are one group, transitively (a payment linked to two invoices joins
    both; a credit note linked to its invoice joins it). A group is lettered only when it balances to
    zero; its ``DateLet`` is the date of its last line, the one that completed it. Codes run AA, AB, ...
    per auxiliary account in the order the groups were completed.
    """
    invoice_numbers = {e.piece_ref for e in entries if e.journal_code == "VE"}
    parent: dict[object, object] = {}

    def find(node: object) -> object:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving keeps the trees flat
            node = parent[node]
        return node

    aux_lines: list[tuple[LineKey, str]] = []
    for i, entry in enumerate(entries):
        keys = set(entry.links) & invoice_numbers
        if entry.journal_code == "VE":
            keys.add(entry.piece_ref)
        for j, line in enumerate(entry.lines):
            if not line.aux_num or not keys:
                continue
            aux_lines.append(((i, j), line.aux_num))
            for key in keys:
                parent[find((i, j))] = find(("key", line.aux_num, key))

    groups: dict[object, list[LineKey]] = defaultdict(list)
    for line_key, _ in aux_lines:
        groups[find(line_key)].append(line_key)

    complete: dict[str, list[tuple[dt.date, LineKey, list[LineKey]]]] = defaultdict(list)
    for members in groups.values():
        if len(members) < 2:
            continue
        balance = sum((entries[i].lines[j].debit - entries[i].lines[j].credit for i, j in members), _ZERO)
        if balance != 0:
            continue  # partly settled: no letter until the last payment arrives
        aux = entries[members[0][0]].lines[members[0][1]].aux_num
        closed_on = max(entries[i].date for i, _ in members)
        complete[aux].append((closed_on, min(members), members))

    result: dict[LineKey, tuple[str, dt.date]] = {}
    for aux_groups in complete.values():
        aux_groups.sort(key=lambda g: (g[0], g[1]))
        for index, (closed_on, _, members) in enumerate(aux_groups):
            for member in members:
                result[member] = (letter_code(index), closed_on)
    return result


def _amount(value: Decimal) -> str:
    return f"{value.quantize(_CENT):f}".replace(".", ",")


def _date(value: dt.date) -> str:
    return f"{value:%Y%m%d}"


def build_fec(
    entries: Iterable[JournalEntry],
    year_start: dt.date,
    year_end: dt.date,
    validation_date: dt.date,
) -> str:
    """The FEC text of the entries dated within ``[year_start, year_end]`` (header line included).

    Encode the result with :data:`ENCODING`: every field has been through :func:`clean_text`, so it
    encodes without error. Raises ``ValueError`` for an entry that does not balance or has a line that is
    both a debit and a credit: ``eage.ledger.journal`` never produces one, so that would be a bug.
    """
    chosen = _in_year(entries, year_start, year_end)
    for entry in chosen:
        if entry.debit != entry.credit:
            raise ValueError(f"unbalanced entry {entry.piece_ref} of {entry.date} ({entry.source})")
        if any(line.debit and line.credit for line in entry.lines):
            raise ValueError(f"a line is both debit and credit in {entry.piece_ref} ({entry.source})")
    letters = lettering(chosen)
    valid = _date(validation_date)
    rows = [SEPARATOR.join(FIELDS)]
    for i, entry in enumerate(chosen):
        head = [
            entry.journal_code,
            clean_text(entry.journal_lib),
            str(i + 1),
            _date(entry.date),
        ]
        piece = [
            clean_text(entry.piece_ref),
            _date(entry.date),
            clean_text(entry.label) or clean_text(entry.journal_lib),
        ]
        for j, line in enumerate(entry.lines):
            letter, letter_date = letters.get((i, j), ("", None))
            fields = [
                *head,
                clean_text(line.compte_num),
                clean_text(line.compte_lib),
                clean_text(line.aux_num),
                clean_text(line.aux_lib),
                *piece,
                _amount(line.debit),
                _amount(line.credit),
                letter,
                _date(letter_date) if letter_date else "",
                valid,
                "",
                "",
            ]
            rows.append(SEPARATOR.join(fields))
    return NEWLINE.join(rows) + NEWLINE


def encode_fec(text: str) -> bytes:
    """The bytes of a FEC file (ISO-8859-15). :func:`build_fec` output always encodes."""
    return text.encode(ENCODING)


# --- checking ---------------------------------------------------------------------------------------

_NAME = re.compile(r"^(\d{9})FEC(\d{8})\.txt$")
_AMOUNT = re.compile(r"^-?\d+(,\d{1,2})?$")
_MANDATORY = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "ValidDate",
)
_PAIRS = (("CompAuxNum", "CompAuxLib"), ("EcritureLet", "DateLet"), ("Montantdevise", "Idevise"))
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# Control bytes other than tab and line ends; 0x80-0x9F often betray Windows-1252 (0x80 is its €).
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _parse_date(text: str) -> dt.date | None:
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _parse_amount(text: str) -> Decimal | None:
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        return None


def _year_before(closing: dt.date) -> dt.date:
    """The first day of the twelve-month year that ends on ``closing``."""
    day_after = closing + dt.timedelta(days=1)
    try:
        return day_after.replace(year=day_after.year - 1)
    except ValueError:  # 29 February of a leap year: the year began on 1 March
        return dt.date(day_after.year - 1, 3, 1)


def _encoding_problems(raw: bytes, file: str) -> list[Problem]:
    problems: list[Problem] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append(
            Problem(
                "the file starts with a UTF-8 byte order mark",
                file,
                1,
                fix="save it as ISO-8859-15 (or ASCII), without BOM",
            )
        )
    first_high = _HIGH_BYTE.search(raw)
    if first_high is not None:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass  # not UTF-8: read as ISO-8859-15 below
        else:
            problems.append(
                Problem(
                    "the file is encoded in UTF-8 (its accented letters are multi-byte sequences)",
                    file,
                    raw.count(b"\n", 0, first_high.start()) + 1,
                    fix="re-encode it in ISO-8859-15, e.g. `iconv -f UTF-8 -t ISO-8859-15`",
                )
            )
            return problems
    line_ends = [m.start() for m in re.finditer(rb"\n", raw)]
    seen_lines: set[int] = set()
    for match in _CONTROL_BYTE.finditer(raw):
        line = bisect.bisect_left(line_ends, match.start()) + 1
        if line in seen_lines:
            continue  # one fault per line is enough to find them
        seen_lines.add(line)
        problems.append(
            Problem(
                f"byte 0x{raw[match.start()]:02X} is a control character, not text, in ISO-8859-15",
                file,
                line,
                fix="re-encode the file in ISO-8859-15 (0x80 is the Windows-1252 euro sign; "
                "ISO-8859-15 has it at 0xA4)",
            )
        )
    return problems


def _check_row(
    row: dict[str, str], fault: _Fault, year_start: dt.date | None, year_end: dt.date | None
) -> tuple[Decimal | None, Decimal | None]:
    """The checks that need one line only; returns its debit and credit when both are readable."""
    for name in _MANDATORY:
        if not row[name].strip():
            fault(name, f"{name} is empty", f"fill in {name}: it is mandatory")
    for first, second in _PAIRS:
        if bool(row[first]) != bool(row[second]):
            fault(first, f"{first} and {second} must be both filled or both empty", "fill in or clear both")

    for name in ("EcritureDate", "PieceDate", "ValidDate", "DateLet"):
        value = row[name]
        if value and _parse_date(value) is None:
            fault(
                name, f"{value!r} is not a valid date AAAAMMJJ", "write the date as 8 digits, e.g. 20260131"
            )
    entry_date = _parse_date(row["EcritureDate"])
    if entry_date and year_start and year_end and not (year_start <= entry_date <= year_end):
        fault(
            "EcritureDate",
            f"{row['EcritureDate']} is outside the financial year {_date(year_start)}-{_date(year_end)}",
            "export only the entries of the year, or fix the file name's closing date",
        )

    for name in ("Debit", "Credit", "Montantdevise"):
        value = row[name]
        if value and _parse_amount(value) is None:
            fault(
                name,
                f"{value!r} is not an amount",
                "digits with a comma before the cents and no thousands separator, e.g. 1234,50",
            )
    debit, credit = _parse_amount(row["Debit"]), _parse_amount(row["Credit"])
    if debit and credit:
        fault("Debit", "both Debit and Credit are non-zero", "put the amount on one side, 0,00 on the other")
    return debit, credit


class _Fault(Protocol):
    def __call__(self, key: str, message: str, fix: str) -> None: ...


class _Numbering:
    """Follows EcritureNum down the file: 1..n, no gap, the lines of an entry together; entry totals."""

    def __init__(self) -> None:
        self.previous: int | None = None
        self.first_line: dict[str, int] = {}
        self.totals: dict[str, list[Decimal]] = {}
        self.shape: dict[str, tuple[str, str]] = {}

    def see(
        self, row: dict[str, str], number: int, debit: Decimal | None, credit: Decimal | None, fault: _Fault
    ) -> None:
        num = row["EcritureNum"]
        if not num:
            return  # reported as a missing mandatory field
        if not num.isdigit():
            fault("EcritureNum", f"{num!r} is not a whole number", "number the entries 1, 2, 3, ...")
        else:
            self._order(num, int(num), fault)
        if num not in self.first_line:
            self.first_line[num] = number
            self.totals[num] = [_ZERO, _ZERO]
            self.shape[num] = (row["JournalCode"], row["EcritureDate"])
        elif self.shape[num] != (row["JournalCode"], row["EcritureDate"]):
            fault(
                "EcritureNum",
                f"entry {num} mixes journals or dates across its lines",
                "give all the lines of an entry the same JournalCode and EcritureDate",
            )
        if debit is not None and credit is not None:
            self.totals[num][0] += debit
            self.totals[num][1] += credit

    def _order(self, num: str, current: int, fault: _Fault) -> None:
        previous, self.previous = self.previous, current
        if previous is None:
            if current != 1:
                fault("EcritureNum", f"numbering starts at {current}, not 1", "number the entries from 1")
        elif current == previous:
            return
        elif num in self.first_line:
            fault(
                "EcritureNum",
                f"entry {num} is split: its lines are not contiguous",
                "keep the lines of one entry together, in numbering order",
            )
        elif current < previous:
            fault("EcritureNum", f"entry {num} comes after {previous}", "sort the entries by number")
        elif current > previous + 1:
            missing = str(previous + 1) if current == previous + 2 else f"{previous + 1} to {current - 1}"
            fault(
                "EcritureNum",
                f"numbering jumps from {previous} to {current} (missing {missing})",
                "renumber the entries continuously, without gaps",
            )


def _closing_from_name(path: Path, problems: list[Problem]) -> dt.date | None:
    match = _NAME.fullmatch(path.name)
    closing = _parse_date(match.group(2)) if match else None
    if closing is None:
        problems.append(
            Problem(
                "the file name is not <SIREN>FEC<AAAAMMJJ>.txt",
                str(path),
                key="file name",
                fix="name it with the 9-digit SIREN and the closing date, e.g. 123456789FEC20261231.txt",
            )
        )
    return closing


def _header_problem(names: list[str], file: str) -> Problem | None:
    if tuple(names) == FIELDS:
        return None
    if len(names) != len(FIELDS):
        message = f"the header has {len(names)} field names, {len(FIELDS)} expected"
    else:
        position = next(k for k, (a, b) in enumerate(zip(names, FIELDS, strict=True)) if a != b)
        message = f"header field {position + 1} is {names[position]!r}, {FIELDS[position]!r} expected"
    return Problem(message, file, 1, key="header", fix="the header must be exactly: " + " ".join(FIELDS))


def check_fec(
    path: Path,
    *,
    year_start: dt.date | None = None,
    year_end: dt.date | None = None,
) -> list[Problem]:
    """Every fault of the FEC file at ``path`` against the format rules, each naming line, field and fix.

    Without ``year_end`` the closing date is read from the file name (``<SIREN>FEC<AAAAMMJJ>.txt``), and
    a badly formed name is itself a fault. Without ``year_start`` the year is the twelve months ending on
    the closing date (pass it for a first or last financial year of another length).
    """
    file = str(path)
    problems: list[Problem] = []
    if year_end is None:
        year_end = _closing_from_name(path, problems)
    if year_end is not None and year_start is None:
        year_start = _year_before(year_end)

    raw = path.read_bytes()
    problems.extend(_encoding_problems(raw, file))
    text = raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else ENCODING, errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final line end
    lines = [line.removesuffix("\r") for line in lines]
    if not lines:
        return [*problems, Problem("the file is empty", file, fix="write the header line then the entries")]

    header = lines[0]
    separator = "\t" if "\t" in header else "|" if "|" in header else None
    if separator is None:
        problems.append(
            Problem(
                "the header line has no tab or | separator",
                file,
                1,
                fix="separate the 18 field names with tabs (or |): " + " ".join(FIELDS),
            )
        )
        return problems
    header_problem = _header_problem(header.split(separator), file)
    if header_problem:
        problems.append(header_problem)

    numbering = _Numbering()
    total_debit = total_credit = _ZERO
    for number, line in enumerate(lines[1:], start=2):

        def fault(key: str, message: str, fix: str, line_no: int = number) -> None:
            problems.append(Problem(message, file, line_no, key=key, fix=fix))

        if line == "":
            problems.append(Problem("empty line", file, number, fix="remove it"))
            continue
        fields = line.split(separator)
        if len(fields) != len(FIELDS):
            sep_name = "tabs" if separator == "\t" else "|"
            problems.append(
                Problem(
                    f"{len(fields)} fields, {len(FIELDS)} expected",
                    file,
                    number,
                    fix=f"write the 18 fields separated by {sep_name}, empty ones included",
                )
            )
            continue
        row = dict(zip(FIELDS, fields, strict=True))
        debit, credit = _check_row(row, fault, year_start, year_end)
        numbering.see(row, number, debit, credit, fault)
        if debit is not None and credit is not None:
            total_debit += debit
            total_credit += credit

    for num, (debit_sum, credit_sum) in numbering.totals.items():
        if debit_sum != credit_sum:
            problems.append(
                Problem(
                    f"entry {num} is unbalanced: debit {_amount(debit_sum)}, credit {_amount(credit_sum)}",
                    file,
                    numbering.first_line[num],
                    key="Debit/Credit",
                    fix="the lines of an entry must have equal debit and credit totals",
                )
            )
    if total_debit != total_credit:
        problems.append(
            Problem(
                f"the file is unbalanced: total debit {_amount(total_debit)}, "
                f"total credit {_amount(total_credit)}",
                file,
                key="Debit/Credit",
                fix="every entry must balance",
            )
        )
    return problems
