"""``eage import-bank FILE``: one ledger load, the statement read and matched, then one atomic commit.

The matching and the text of the new entries are :mod:`eage.bank.importer`. The additions are validated
against the loaded ledger before anything is written, and main.beancount is renamed last, so a failure
leaves the ledger as it was; a problem in a new entry is told at the statement's own line.
"""

from __future__ import annotations

from pathlib import Path

from eage.bank.config import account_problems, alias_problems, load_bank_config
from eage.bank.importer import ImportResult, _on_statement, bank_texts, match_statement, raise_problems
from eage.bank.reader import read_statement
from eage.errors import InputError
from eage.ledger.load import load_ledger, validate_additions
from eage.ledger.store import commit_generated, read_manifest
from eage.rules.bundle import load_rules


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def import_bank(root: Path, csv_path: Path, *, dry_run: bool = False) -> ImportResult:
    """Read, match, check and (unless ``dry_run``) commit the statement at ``csv_path``."""
    rules = load_rules(root)
    bank_rules = load_bank_config(root)
    shown = _shown(csv_path, root)
    statement = read_statement(csv_path, bank_rules.layout, duplicates=bank_rules.duplicates, shown=shown)
    ledger, _ = load_ledger(root)
    members = [m.id for m in rules.members.members]
    raise_problems(
        alias_problems(bank_rules, members, root) + account_problems(bank_rules, ledger.open_accounts(), root)
    )
    result = match_statement(rules, bank_rules, statement, ledger, shown)
    if not result.matches:
        return result
    ledger_dir = root / "ledger"
    months = sorted({match.line.date.strftime("%Y-%m") for match in result.matches})
    existing = {}
    for month in months:
        path = ledger_dir / "bank" / f"{month}.beancount"
        existing[f"bank/{month}.beancount"] = path.read_bytes() if path.exists() else None
    planned = bank_texts(result.matches, existing, read_manifest(ledger_dir))
    errors = validate_additions(ledger, planned.additions)
    if errors:
        raise InputError([_on_statement(p, planned.spans, shown) for p in errors])
    if dry_run:
        return result
    result.written = commit_generated(root, planned.texts)
    return result
