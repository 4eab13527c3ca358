"""``eage import-bank``'s shell: one ledger load, read + match, then one atomic commit.

Every problem is reported against the statement's own line: a line dated before the bank account was
opened, or any entry the ledger would refuse, names the CSV file and line, not the generated file that
was never written. New lines are appended to ledger/bank/YYYY-MM.beancount (generated files: eage's header, listed in the
lock manifest and in main.beancount's include block). Lines whose ``bank_ref`` is already in the ledger
are counted, never posted again. The additions are validated against the loaded ledger before anything
is written, and main.beancount is renamed last, so a failure leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beancount.core import data

from eage.bank.config import BANK_RULES, account_problems, alias_problems, load_bank_config
from eage.bank.matching import Accounts, Match, Payers, match_lines
from eage.bank.reader import Statement, read_statement
from eage.bank.receivables import invoice_statuses
from eage.errors import InputError, Problem
from eage.ledger.load import load_ledger, validate_additions
from eage.ledger.model import GeneratedFile
from eage.ledger.render import HEADER, render_entry, render_file
from eage.ledger.store import (
    commit_generated,
    read_manifest,
    sha256,
)
from eage.rules.bundle import load_rules


@dataclass
class ImportResult:
    statement: Statement
    matches: list[Match]
    already: int
    written: list[Path] = field(default_factory=list)

    @property
    def new(self) -> int:
        return len(self.matches)

    def count(self, how: str) -> int:
        return sum(1 for m in self.matches if m.how == how)

    @property
    def notes(self) -> list[str]:
        """Why each line that named invoices went to the suspense account, located on the statement."""
        return [f"{self.statement.file}:{m.line.line}: {m.reason}" for m in self.matches if m.reason]


def bank_file(month: str) -> str:
    """Ledger-relative path of a month's bank entries."""
    return f"bank/{month}.beancount"


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def import_bank(root: Path, csv_path: Path, *, dry_run: bool = False) -> ImportResult:
    rules = load_rules(root)
    bank_rules = load_bank_config(root)
    shown = _shown(csv_path, root)
    statement = read_statement(csv_path, bank_rules.layout, duplicates=bank_rules.duplicates, shown=shown)
    ledger, _ = load_ledger(root)
    members = [m.id for m in rules.members.members]
    raise_problems(
        alias_problems(bank_rules, members, root) + account_problems(bank_rules, ledger.open_accounts(), root)
    )
    known = {str(t.meta["bank_ref"]) for t in ledger.transactions() if "bank_ref" in t.meta}
    fresh = [line for line in statement.lines if line.bank_ref not in known]
    accounts = Accounts(
        bank=bank_rules.account or rules.accounts.bank,
        suspense=rules.accounts.suspense,
        receivable_parent=rules.accounts.receivable_parent,
    )
    payers = Payers({m.id: m.identity.name for m in rules.members.members}, bank_rules.aliases)
    matches = match_lines(
        fresh,
        invoice_statuses(ledger.entries, accounts.receivable_parent),
        accounts=accounts,
        payers=payers,
        debit_rules=bank_rules.debit_rules,
        prefix=rules.group.invoicing.prefix,
        source=shown,
    )
    result = ImportResult(statement, matches, already=len(statement.lines) - len(fresh))
    if not matches:
        return result
    raise_problems(_dates_outside_accounts(matches, ledger.entries, shown, bank_rules.layout.date_format))

    by_month: dict[str, list[Match]] = defaultdict(list)
    for match in matches:
        by_month[match.line.date.strftime("%Y-%m")].append(match)
    ledger_dir = root / "ledger"
    manifest = read_manifest(ledger_dir)
    texts: dict[str, str] = {}
    additions: dict[str, str] = {}
    spans: dict[str, list[tuple[int, int, Match]]] = {}
    problems: list[Problem] = []
    for month, items in sorted(by_month.items()):
        rel = bank_file(month)
        path = ledger_dir / rel
        body, spans[rel] = _render(items, first_line=(HEADER + "\n").count("\n") + 1)
        additions[rel] = HEADER + "\n" + body
        if path.exists():
            old = path.read_bytes()
            if manifest.get(f"ledger/{rel}") != sha256(old):
                problems.append(
                    Problem(
                        "edited by hand (its hash differs from the lock manifest)",
                        file=f"ledger/{rel}",
                        fix="restore it from version control; bank entries are corrected by new entries",
                    )
                )
                continue
            texts[rel] = old.decode("utf-8").rstrip("\n") + "\n\n" + body
        else:
            texts[rel] = render_file(
                GeneratedFile(rel, f"Bank statement lines {month} (eage import-bank)", ())
            )
            texts[rel] = texts[rel].rstrip("\n") + "\n\n" + body
    if problems:
        raise InputError(problems)
    errors = validate_additions(ledger, additions)
    if errors:
        raise InputError([_on_statement(p, spans, shown) for p in errors])
    if dry_run:
        return result

    result.written = commit_generated(root, texts)
    return result


def raise_problems(problems: Sequence[Problem]) -> None:
    if problems:
        raise InputError(list(problems))


def _render(items: Sequence[Match], first_line: int) -> tuple[str, list[tuple[int, int, Match]]]:
    """The entries' text, and the lines (first, last) each entry occupies in it from ``first_line``."""
    texts = [render_entry(m.txn) for m in items]
    spans = []
    line = first_line
    for match, text in zip(items, texts, strict=True):
        last = line + text.rstrip("\n").count("\n")
        spans.append((line, last, match))
        line += text.count("\n") + 1
    return "\n".join(texts), spans


def _on_statement(problem: Problem, spans: dict[str, list[tuple[int, int, Match]]], shown: str) -> Problem:
    """A ledger error in an entry about to be generated, told as a problem of the statement line it books."""
    for rel, ranges in spans.items():
        if not problem.file or not problem.file.endswith(rel) or problem.line is None:
            continue
        for first, last, match in ranges:
            if first <= problem.line <= last:
                return Problem(
                    f"{problem.message} (in the entry this line would add to ledger/{rel})",
                    file=shown,
                    line=match.line.line,
                    fix=f"check this line's date and amount, and the accounts in {BANK_RULES}",
                )
    return problem


def _dates_outside_accounts(
    matches: Iterable[Match], entries: Iterable[Any], shown: str, date_format: str
) -> list[Problem]:
    """Lines dated before an account they post to was opened (or after it was closed)."""
    opened: dict[str, dt.date] = {}
    closed: dict[str, dt.date] = {}
    for entry in entries:
        if isinstance(entry, data.Open):
            opened[entry.account] = min(entry.date, opened.get(entry.account, entry.date))
        elif isinstance(entry, data.Close):
            closed[entry.account] = entry.date
    problems = []
    for match in matches:
        date = match.line.date
        for account in dict.fromkeys(p.account for p in match.txn.postings):
            start, end = opened.get(account), closed.get(account)
            if start is not None and date < start:
                why = f"dated {date}, before the account {account} was opened ({start})"
            elif end is not None and date >= end:
                why = f"dated {date}, after the account {account} was closed ({end})"
            else:
                continue
            problems.append(
                Problem(
                    why,
                    file=shown,
                    line=match.line.line,
                    fix=f"check the date (layout.date_format {date_format!r} in {BANK_RULES}), or leave "
                    "this line out of the statement",
                )
            )
            break
    return problems
