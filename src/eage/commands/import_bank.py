"""``eage import-bank FILE``: bank statement lines into the ledger, payments matched to invoices."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "import a bank statement (CSV, layout in rules/bank.yaml); match payments to invoices"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the bank's CSV export")
    parser.add_argument("--dry-run", action="store_true", help="match and show, write nothing")


def run(args: argparse.Namespace) -> int:
    from eage.app.import_bank import import_bank

    result = import_bank(args.root, args.file, dry_run=args.dry_run)
    for match in result.matches:
        line = match.line
        target = ", ".join(match.invoices) or next((p.account for p in match.txn.postings[1:]), "")
        print(f"  {line.date} {line.amount:>10} {match.how:<8} {target}  {line.label}")
    print(f"{result.new} new, {result.already} already imported")
    if result.statement.duplicates:
        lines = ", ".join(str(n) for n in result.statement.duplicates)
        print(
            f"{len(result.statement.duplicates)} duplicate line(s) inside the file skipped (lines {lines}); "
            "set `duplicates: keep` in rules/bank.yaml if they are distinct operations"
        )
    suspense = result.count("attente")
    if suspense:
        print(f"{suspense} line(s) to identify, in the suspense account (471): see Fava, eage › Contrôles")
    for note in result.notes:
        print(f"  not matched: {note}")
    if args.dry_run:
        print("Dry run: nothing was written.")
    return 0
