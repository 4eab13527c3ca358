"""``eage import-bank``'s shell: one ledger load, read + match, then one atomic commit.

New lines are appended to ledger/bank/YYYY-MM.beancount (generated files: eage's header, listed in the
lock manifest and in main.beancount's include block). Lines whose ``bank_ref`` is already in the ledger
are counted, never posted again. The additions are validated against the loaded ledger before anything
is written, and main.beancount is renamed last, so a failure leaves the ledger as it was.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from eage.bank.config import load_bank_rules
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
    bank_rules = load_bank_rules(root)
    shown = _shown(csv_path, root)
    statement = read_statement(csv_path, bank_rules.layout, duplicates=bank_rules.duplicates, shown=shown)
    ledger, _ = load_ledger(root)
    known = {str(t.meta["bank_ref"]) for t in ledger.transactions() if "bank_ref" in t.meta}
    fresh = [line for line in statement.lines if line.bank_ref not in known]
    accounts = Accounts(
        bank=bank_rules.account or rules.accounts.bank,
        suspense=rules.accounts.suspense,
        receivable_parent=rules.accounts.receivable_parent,
    )
    payers = Payers({m.id: m.identity.name for m in rules.members.members}, bank_rules.aliases)
    unknown = sorted(set(bank_rules.aliases) - set(payers.names))
    if unknown:
        raise InputError.at(
            f"aliases for unknown member(s) {unknown}",
            file="rules/bank.yaml",
            key="aliases",
            fix="use member ids of rules/members.yaml",
        )
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

    by_month: dict[str, list[Match]] = defaultdict(list)
    for match in matches:
        by_month[match.line.date.strftime("%Y-%m")].append(match)
    ledger_dir = root / "ledger"
    manifest = read_manifest(ledger_dir)
    texts: dict[str, str] = {}
    additions: dict[str, str] = {}
    problems: list[Problem] = []
    for month, items in sorted(by_month.items()):
        rel = bank_file(month)
        path = ledger_dir / rel
        body = "\n".join(render_entry(m.txn) for m in items)
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
        raise InputError(errors)
    if dry_run:
        return result

    result.written = commit_generated(root, texts)
    return result
