"""``eage charges YYYY-MM``: what the month's payroll owes, to whom, when; written as CSV and XLSX.

Reads the rules (rules/payroll/accounts.yaml, rules/payroll/echeances.yaml, rules/group.yaml's headcount,
rules/dsn.yaml's organisations when present) and the ledger (the payroll journal's credits to each body's
account, the bank's debits to it), computes the schedule (:func:`eage.payroll.charges.schedule`, pure) and
writes ``reports/charges/YYYY-MM.csv`` and ``.xlsx`` through the journaled commit
(:func:`eage.ledger.store.atomic_write`). Same ledger, same day: same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from eage.errors import InputError
from eage.month import Month
from eage.payroll.charges import (
    ECHEANCES_FILE,
    Due,
    EcheancesFile,
    Movement,
    all_dues,
    body_accounts,
    movements_from,
    overdue,
    total,
)

HEADER = ("Organisme", "Montant", "Échéance", "Comptes", "Payé", "Reste", "Statut")


@dataclass(frozen=True)
class ChargesInputs:
    """What the schedule is computed from, read once (the Fava page reads the same)."""

    echeances: EcheancesFile
    accounts: dict[str, str]
    headcount: int
    movements: list[Movement]
    identifiers: Any  # DsnIdentifiers | None
    holidays: frozenset[dt.date] = frozenset()


@dataclass(frozen=True)
class Output:
    month: Month
    dues: list[Due]
    files: dict[str, bytes]

    @property
    def total(self) -> Decimal:
        return total(self.dues)


def load_echeances(rules_dir: Path) -> EcheancesFile:
    """rules/payroll/echeances.yaml, validated (a located InputError otherwise)."""
    from eage.rules.loader import load_model

    path = rules_dir / "payroll" / ECHEANCES_FILE
    if not path.exists():
        raise InputError.at(
            "the due-date calendars are missing",
            file=path,
            fix="copy rules/payroll/echeances.yaml from the demo (each date cited) and adapt it",
        )
    return load_model(path, EcheancesFile)


def movements(ledger: Any, accounts: Iterable[str]) -> list[Movement]:
    """Every posting on ``accounts`` with its transaction's kind and ``settles`` tag (the bank import's)."""
    return movements_from(ledger.transactions(), accounts)


def headcount_for(rules: Any, echeances: EcheancesFile) -> int:
    """The headcount the thresholds read: rules/group.yaml ``employer.headcounts.<key>`` (CSS L130-1 III),
    or ``employer.headcount`` when the group gives no headcount per threshold."""
    employer = rules.group.employer
    if employer.headcounts is None:
        return int(employer.headcount)
    return int(getattr(employer.headcounts, echeances.headcount))


def load_identifiers(root: Path, rules: Any, payroll: Any) -> Any:
    """rules/dsn.yaml's identifiers when the file exists (its organisations' names, ids, due days), else
    None: the schedule does not need them."""
    if not (root / "rules" / "dsn.yaml").exists():
        return None
    try:
        from eage.payroll.dsn.identifiers import load_dsn_identifiers
    except ImportError:  # pragma: no cover - the DSN identifiers module lands with issue 15
        return None
    return load_dsn_identifiers(root, rules, payroll)


def read_inputs(root: Path, ledger: Any | None = None, rules: Any | None = None) -> ChargesInputs:
    """Rules and ledger movements of the schedule (``ledger``, ``rules``: already loaded, e.g. Fava's)."""
    from eage.ledger.load import load_ledger
    from eage.payroll.params import load_payroll_rules
    from eage.rules.bundle import load_rules

    if rules is None:
        rules = load_rules(root)
    payroll = load_payroll_rules(root / "rules" / "payroll")
    echeances = load_echeances(root / "rules")
    accounts = body_accounts(payroll.accounts.organisations, payroll.accounts.pas)
    if ledger is None:
        ledger, _ = load_ledger(root)
    return ChargesInputs(
        echeances=echeances,
        accounts=accounts,
        headcount=headcount_for(rules, echeances),
        movements=movements(ledger, accounts.values()),
        identifiers=load_identifiers(root, rules, payroll),
        holidays=public_holidays(root / "rules" / "payroll"),
    )


def public_holidays(payroll_dir: Path) -> frozenset[dt.date]:
    """Every public holiday rules/payroll/conges.yaml lists (``jours_feries``, every year it gives); none
    when the file is absent (due dates then move past weekends only)."""
    from eage.payroll.leave import CONGES_FILE, load_conges

    if not (payroll_dir / CONGES_FILE).exists():
        return frozenset()
    conges = load_conges(payroll_dir)
    return frozenset(day for days in conges.file.jours_feries.values.values() for day in days)


def overdue_as_of(root: Path, ledger: Any, rules: Any, as_of: dt.date) -> list[Due]:
    """Every month's dues still owed after their due date, as the ledger stands on ``as_of`` (the
    payments booked up to that day): Fava's Contrôles page lists them."""
    inputs = read_inputs(root, ledger, rules)
    seen = dataclasses.replace(inputs, movements=[m for m in inputs.movements if m.date <= as_of])
    return overdue(dues_of(seen, as_of))


def dues_of(inputs: ChargesInputs, today: dt.date) -> list[Due]:
    return all_dues(
        echeances=inputs.echeances,
        accounts=inputs.accounts,
        headcount=inputs.headcount,
        movements=inputs.movements,
        today=today,
        identifiers=inputs.identifiers,
        holidays=inputs.holidays,
    )


def parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise InputError.at(str(exc), key="YYYY-MM", fix="give the month as YYYY-MM, e.g. 2026-10") from None


def build(root: Path, month_text: str, today: dt.date) -> Output:
    """The month's schedule and its two files (nothing written)."""
    month = parse_month(month_text)
    inputs = read_inputs(root)
    dues = [d for d in dues_of(inputs, today) if d.month == month]
    posted = {Month.of(m.date) for m in inputs.movements if m.kind == "payroll"}
    if month not in posted:
        from eage.invoicing.monthly import generated_path

        raise InputError.at(
            f"no payroll posted for {month}: nothing is owed for it yet",
            file=f"ledger/{generated_path(month, 'payroll')}",
            fix=f"run the month first (`eage run {month}`), or give a month whose payroll is posted",
        )
    rows = rows_of(dues)
    files = {
        f"reports/charges/{month}.csv": _csv(rows),
        f"reports/charges/{month}.xlsx": _xlsx(month, rows),
    }
    return Output(month, dues, files)


def rows_of(dues: Sequence[Due]) -> list[list[object]]:
    rows: list[list[object]] = [
        [d.name, d.amount, d.due.strftime("%d/%m/%Y"), " ".join(d.accounts), d.paid,
         d.remaining, d.status]
        for d in dues
    ]  # fmt: skip
    rows.append(["Total", total(dues), "", "", sum((d.paid for d in dues), Decimal(0)),
                 sum((d.remaining for d in dues), Decimal(0)), ""])  # fmt: skip
    return rows


def _csv(rows: Sequence[Sequence[object]]) -> bytes:
    from eage.budget.render import to_csv

    return to_csv(HEADER, [[_cell(v) for v in row] for row in rows])


def _xlsx(month: Month, rows: Sequence[Sequence[object]]) -> bytes:
    from eage.budget.render import to_xlsx

    return to_xlsx(
        "Charges", f"Charges de la paie {month} : à payer, à qui, quand", HEADER,
        [[_cell(v) for v in row] for row in rows], stamp=month.last_day,
    )  # fmt: skip


def _cell(value: object) -> Any:
    return value if isinstance(value, Decimal | str) or value is None else str(value)


def write(root: Path, output: Output) -> list[str]:
    """Write the files (each through the journaled commit); the paths written, relative to ``root``."""
    from eage.ledger.store import atomic_write

    for rel, data in output.files.items():
        atomic_write(root / rel, data, root=root)
    return list(output.files)


def as_json(output: Output) -> dict[str, object]:
    return {
        "month": str(output.month),
        "dues": [
            {
                "body": d.name,
                "key": d.body,
                "ops_id": d.ops_id,
                "amount": f"{d.amount:.2f}",
                "due": d.due.isoformat(),
                "accounts": list(d.accounts),
                "paid": f"{d.paid:.2f}",
                "remaining": f"{d.remaining:.2f}",
                "status": d.status,
            }
            for d in output.dues
        ],
        "total": f"{output.total:.2f}",
    }
