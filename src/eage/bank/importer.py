"""``eage import-bank``'s core: a statement's new lines matched and rendered as ledger text.

The shell (loading, the commit) is :mod:`eage.app.import_bank`. Every problem is reported against the statement's own line: a line dated before the bank account was
opened, or any entry the ledger would refuse, names the CSV file and line, not the generated file that
was never written. New lines are appended to ledger/bank/YYYY-MM.beancount (generated files: eage's header, listed in the
lock manifest and in main.beancount's include block). Lines whose ``bank_ref`` is already in the ledger
are counted, never posted again. The additions are validated against the loaded ledger before anything
is written, and main.beancount is renamed last, so a failure leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eage.bank.config import BANK_RULES, BankConfig
from eage.bank.matching import Accounts, Match, Payers, match_lines
from eage.bank.reader import Statement
from eage.bank.receivables import invoice_statuses
from eage.bank.settles import ledger_movements, settled_months
from eage.errors import InputError, Problem
from eage.ledger.model import GeneratedFile
from eage.ledger.render import HEADER, render_entry, render_file
from eage.ledger.store import sha256
from eage.ledger.view import LedgerView
from eage.rules.bundle import Rules


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


def match_statement(
    rules: Rules, bank_rules: BankConfig, statement: Statement, ledger: LedgerView, shown: str
) -> ImportResult:
    """The statement's lines not booked yet, each matched (to invoices, a debit rule, or the suspense
    account); refused when a line is dated outside an account it posts to."""
    known = ledger.bank_refs()
    fresh = [line for line in statement.lines if line.bank_ref not in known]
    accounts = Accounts(
        bank=bank_rules.account or rules.accounts.bank,
        suspense=rules.accounts.suspense,
        receivable_parent=rules.accounts.receivable_parent,
    )
    payers = Payers({m.id: m.identity.name for m in rules.members.members}, bank_rules.aliases)
    matches = match_lines(
        fresh,
        invoice_statuses(ledger, accounts.receivable_parent),
        accounts=accounts,
        payers=payers,
        debit_rules=bank_rules.debit_rules,
        prefix=rules.group.invoicing.prefix,
        source=shown,
    )
    # Payroll liabilities paid: each debit tagged with the month it settles (eage charges, Fava's overdue list).
    paid_accounts = {rule.account for rule in bank_rules.debit_rules}
    matches = settled_months(matches, ledger_movements(ledger, paid_accounts))
    result = ImportResult(statement, matches, already=len(statement.lines) - len(fresh))
    if matches:
        raise_problems(
            _dates_outside_accounts(matches, ledger.account_dates(), shown, bank_rules.layout.date_format)
        )
    return result


@dataclass(frozen=True)
class BankTexts:
    """The bank files a statement adds to: ``texts`` their new whole text, ``additions`` the new entries
    alone (with the header, as Beancount checks them), ``spans`` each entry's lines there."""

    texts: dict[str, str]
    additions: dict[str, str]
    spans: dict[str, list[tuple[int, int, Match]]]


def bank_texts(
    matches: Sequence[Match], existing: Mapping[str, bytes | None], manifest: Mapping[str, str]
) -> BankTexts:
    """New lines appended to ledger/bank/YYYY-MM.beancount, per month (``existing``: each month file's
    bytes, None when absent); a file that differs from the lock manifest is refused."""
    by_month: dict[str, list[Match]] = defaultdict(list)
    for match in matches:
        by_month[match.line.date.strftime("%Y-%m")].append(match)
    texts: dict[str, str] = {}
    additions: dict[str, str] = {}
    spans: dict[str, list[tuple[int, int, Match]]] = {}
    problems: list[Problem] = []
    for month, items in sorted(by_month.items()):
        rel = bank_file(month)
        body, spans[rel] = _render(items, first_line=(HEADER + "\n").count("\n") + 1)
        additions[rel] = HEADER + "\n" + body
        old = existing.get(rel)
        if old is not None:
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
    return BankTexts(texts, additions, spans)


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
    matches: Iterable[Match],
    account_dates: Mapping[str, tuple[dt.date | None, dt.date | None]],
    shown: str,
    date_format: str,
) -> list[Problem]:
    """Lines dated before an account they post to was opened (or after it was closed)."""
    problems = []
    for match in matches:
        date = match.line.date
        for account in dict.fromkeys(p.account for p in match.txn.postings):
            start, end = account_dates.get(account, (None, None))
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
