"""The ledger as a journal of accounting entries, for the FEC export.

Turns loaded Beancount transactions into the neutral :class:`eage.fec.JournalEntry` values, so that
``eage.fec`` never touches Beancount. It decides what only the ledger knows: the journal of each entry
(from the ``kind`` metadata eage writes), its piece reference, and each account's PCG number and label
(from the account name and the ``name`` metadata of its ``open`` directive).

``load_for_fec`` is the general loader (:func:`eage.ledger.load.load_ledger`), stricter: the FEC is the
books as filed, so any error of the load refuses the export, the eage plugin's billing errors included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount.core import data

from eage.errors import InputError
from eage.fec import KIND_JOURNAL, JournalEntry, JournalLine, compte_num

# The last component of an account carries its PCG number first: "6411-Salaires", "411-baroufada".
_PCG = re.compile(r"^(\d+)(?:-(.*))?$")
# Accounts whose suffix is an auxiliary (third-party) account: 411-<member id>.
_AUX_ROOTS = frozenset({"411"})
_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")


@functools.lru_cache(maxsize=256)
def _relative(filename: str, base: Path | None) -> str:
    """``filename`` relative to the group folder when it lies inside it (resolved once per file)."""
    if base is not None:
        with contextlib.suppress(ValueError):
            return Path(filename).resolve().relative_to(base).as_posix()
    return filename


def _where(meta: Mapping[str, Any] | None, base: Path | None) -> tuple[str | None, int | None]:
    """``(file, line)`` of a directive, the file relative to the group folder when it lies inside it."""
    if not meta:
        return None, None
    filename = meta.get("filename")
    lineno = meta.get("lineno")
    file = _relative(filename, base) if isinstance(filename, str) else None
    return file, lineno if isinstance(lineno, int) else None


def load_for_fec(path: Path) -> tuple[list[data.Directive], dict[str, Any]]:
    """Load the ledger at ``path`` (a group's ledger/main.beancount) with the one loader; raise
    :class:`InputError` listing every loader error with file:line."""
    from eage.ledger.load import load_ledger

    if not path.is_file():
        raise InputError.at(
            "ledger not found", file=path, fix="create ledger/main.beancount (see `eage init`)"
        )
    root = path.resolve().parent.parent
    if path.resolve() != (root / "ledger" / "main.beancount").resolve():
        raise InputError.at(
            "the FEC is exported from a group's ledger",
            file=path,
            fix="give the group's ledger/main.beancount",
        )
    ledger, problems = load_ledger(root, allow_errors=True)
    if problems:
        raise InputError(problems)
    return list(ledger.entries), dict(ledger.options)


def _split_last(account: str) -> tuple[str, str] | None:
    match = _PCG.fullmatch(account.rsplit(":", 1)[-1])
    if match is None:
        return None
    return match.group(1), match.group(2) or ""


def _label(rest: str) -> str:
    return rest.replace("-", " ").strip()


class _Accounts:
    """PCG numbers and labels of accounts, from their names and the ``name`` of their open directive."""

    def __init__(self, entries: Iterable[data.Directive]) -> None:
        self.names: dict[str, str] = {}
        for entry in entries:
            if isinstance(entry, data.Open):
                name = entry.meta.get("name") if entry.meta else None
                if isinstance(name, str) and name.strip():
                    self.names[entry.account] = name.strip()

    def line(self, account: str, number: Decimal, where: tuple[str | None, int | None]) -> JournalLine:
        split = _split_last(account)
        if split is None:
            raise InputError.at(
                f"account {account} has no PCG number at the start of its last component",
                file=where[0],
                line=where[1],
                fix='rename it so that its last component starts with its number, e.g. "512-Banque"',
            )
        pcg, rest = split
        debit = number if number > 0 else _ZERO
        credit = -number if number < 0 else _ZERO
        if pcg in _AUX_ROOTS and rest:
            parent = account.rsplit(":", 1)[0]
            parent_split = _split_last(parent)
            general = self.names.get(parent) or (_label(parent_split[1]) if parent_split else "") or "Clients"
            return JournalLine(
                account=account,
                compte_num=compte_num(pcg),
                compte_lib=general,
                aux_num=rest,
                aux_lib=self.names.get(account, rest),
                debit=debit,
                credit=credit,
            )
        return JournalLine(
            account=account,
            compte_num=compte_num(pcg),
            compte_lib=self.names.get(account) or _label(rest) or compte_num(pcg),
            aux_num="",
            aux_lib="",
            debit=debit,
            credit=credit,
        )


def _meta_str(meta: Mapping[str, Any] | None, key: str) -> str:
    value = meta.get(key) if meta else None
    return str(value).strip() if value is not None else ""


def journal_entries(
    entries: Iterable[data.Directive],
    options: Mapping[str, Any],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[JournalEntry]:
    """The transactions dated within ``[start, end]`` (both optional) as journal entries, in ledger order.

    Zero postings are skipped (they carry no amount to audit). Amounts must be EUR with at most two
    decimals: anything else would not survive the FEC's two-decimal, single-currency format.
    Journal: PA (payroll), VE (invoice, credit_note, fee, trueup), BQ (bank), AN (opening); any other
    transaction goes to BQ if it touches a 512 account, else to OD.
    """
    entries = list(entries)
    filename = options.get("filename")
    base = Path(filename).resolve().parent.parent if isinstance(filename, str) and filename else None
    accounts = _Accounts(entries)
    generated: Counter[tuple[str, dt.date]] = Counter()
    result: list[JournalEntry] = []
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        if (start is not None and entry.date < start) or (end is not None and entry.date > end):
            continue
        where = _where(entry.meta, base)
        lines: list[JournalLine] = []
        for posting in entry.postings:
            units = posting.units
            if units is None or not isinstance(units.number, Decimal) or units.number == 0:
                continue
            if units.currency != "EUR":
                raise InputError.at(
                    f"posting to {posting.account} is in {units.currency}: the FEC is in EUR only",
                    file=where[0],
                    line=where[1],
                    fix="book the amount in EUR (the FEC has no foreign-currency support in eage)",
                )
            if units.number != units.number.quantize(_CENT):
                raise InputError.at(
                    f"posting to {posting.account} has more than two decimals ({units.number})",
                    file=where[0],
                    line=where[1],
                    fix="round the amount to the cent",
                )
            lines.append(accounts.line(posting.account, units.number.quantize(_CENT), where))
        if not lines:
            continue
        debit = sum((line.debit for line in lines), _ZERO)
        credit = sum((line.credit for line in lines), _ZERO)
        if debit != credit:
            raise InputError.at(
                f"transaction does not balance in EUR (debit {debit}, credit {credit})",
                file=where[0],
                line=where[1],
                fix="make its EUR postings sum to zero",
            )

        kind = _meta_str(entry.meta, "kind")
        code = KIND_JOURNAL.get(kind)
        if code is None:
            code = "BQ" if any(line.compte_num.startswith("512") for line in lines) else "OD"
        links = sorted(entry.links or ())
        invoice = _meta_str(entry.meta, "invoice")
        if code == "PA":
            piece = _meta_str(entry.meta, "payslip")
        elif code == "VE":
            piece = invoice or (links[0] if links else "")
        elif kind == "bank":
            piece = _meta_str(entry.meta, "bank_ref") or (links[0] if links else "")
        else:
            piece = ""
        piece = piece or _meta_str(entry.meta, "piece")
        if not piece:
            # Numbered per journal and day, so that adding an entry on one day renumbers no other day.
            generated[(code, entry.date)] += 1
            piece = f"{code}-{entry.date.isoformat()}-{generated[(code, entry.date)]}"
        if invoice and invoice not in links:
            links.append(invoice)

        payee = (entry.payee or "").strip()
        narration = (entry.narration or "").strip()
        label = f"{payee} - {narration}" if payee and narration else payee or narration
        result.append(
            JournalEntry(
                date=entry.date,
                kind=kind,
                journal_code=code,
                piece_ref=piece,
                label=label,
                links=tuple(sorted(links)),
                lines=tuple(lines),
                source=f"{where[0]}:{where[1]}" if where[0] else "",
            )
        )
    return result
