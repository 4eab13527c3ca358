"""The one way a command writes: check the plan's new files against the ledger, then commit them.

:func:`validate_plan` loads the ledger with the plan's new files in memory (zero errors, or the command
stops before anything is written); :func:`commit_plan` hands every file to :mod:`eage.ledger.store`'s
commit (staged temporaries, the intent journal, atomic renames, main.beancount last, the lock manifest).
Every writing command also rewrites the members' receivable accounts (generated/members.beancount) from
rules/members.yaml, so that a member added there can be billed at once.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from eage.app.inputs import Inputs
from eage.errors import InputError, Problem
from eage.ledger.load import Ledger, validate_additions
from eage.ledger.model import Entry, GeneratedFile, Open, meta
from eage.ledger.render import render_file
from eage.ledger.store import commit_generated
from eage.payroll.params import PayrollRules
from eage.rules.bundle import Rules


def members_file(rules: Rules) -> GeneratedFile:
    """Open directives of every member's receivable account, from rules/members.yaml."""
    entries: list[Entry] = []
    for member in sorted(rules.members.members, key=lambda m: m.id):
        entries.append(
            Open(
                date=min(member.joined, dt.date(2012, 1, 1)),
                account=rules.accounts.receivable(member.id),
                meta=meta(name=f"Clients — {member.identity.name}", member=member.id),
            )
        )
    return GeneratedFile(
        "generated/members.beancount", "Member receivable accounts (rules/members.yaml)", tuple(entries)
    )


def unopened_rule_accounts(rules: Rules, payroll: PayrollRules | None, ledger: Ledger) -> list[Problem]:
    """Accounts the rules post to that the ledger does not open, named in their rules file.

    Checked before the new entries: Beancount would otherwise blame a generated file never written.
    """
    opened = ledger.open_accounts()
    needed = {
        "rules/accounts.yaml": [
            v
            for k, v in rules.accounts.model_dump().items()
            if isinstance(v, str) and k != "receivable_parent"
        ],
    }
    if payroll is not None:
        acc = payroll.accounts
        needed["rules/payroll/accounts.yaml"] = [
            acc.salaries,
            acc.bonuses,
            acc.net_pay,
            acc.pas,
            *acc.organisations.values(),
            *acc.charges.values(),
            *acc.reduction_charges.values(),
        ]
    problems = []
    for file, accounts in needed.items():
        for account in sorted(set(accounts)):
            if account not in opened:
                problems.append(
                    Problem(
                        f"account {account} is not opened in the ledger",
                        file=file,
                        fix="add an `open` directive for it in ledger/accounts.beancount",
                    )
                )
    return problems


class WritePlan(Protocol):
    """What :func:`validate_plan` and :func:`commit_plan` need: a month's run, or a credit note, fees, …"""

    files: dict[str, str]
    documents: dict[str, bytes]
    changed: list[Path]


def validate_plan(ctx: Inputs, plan: WritePlan, *, replaced: Sequence[str] = ()) -> None:
    """The ledger with the plan's new files must load with zero errors; checked before anything is written.

    ``replaced``: already included files the plan rewrites (a corrected month's payroll journal); their
    current entries are left out of the check and their new text is checked instead.
    """
    # Every writing command keeps the members' receivable accounts open (a member may be new): the file is
    # rewritten from rules/members.yaml, so its new text is what the new entries are checked against.
    members = members_file(ctx.rules)
    plan.files.setdefault(members.path, render_file(members))
    replaced = (*replaced, members.path)
    new_texts = {p: t for p, t in plan.files.items() if p not in ctx.included or p in replaced}
    ledger = ctx.ledger
    if replaced:
        # Beancount's filenames are absolute; --root may be relative ("."): compare absolute, resolved paths.
        gone = {os.path.realpath(ctx.root / "ledger" / p) for p in replaced}
        names = {str(e.meta.get("filename")) for e in ledger.entries if getattr(e, "meta", None) is not None}
        dropped = {name for name in names if os.path.realpath(name) in gone}
        kept = [
            e
            for e in ledger.entries
            if getattr(e, "meta", None) is None or str(e.meta.get("filename")) not in dropped
        ]
        ledger = Ledger(ctx.root, kept, ledger.options)
    problems = validate_additions(ledger, new_texts)
    if problems:
        raise InputError(problems)


def commit_plan(ctx: Inputs, plan: WritePlan, *, crash_after: int | None = None) -> list[Path]:
    """Write every file of a validated, rendered plan atomically (main.beancount last).

    Issued documents (invoice and payslip PDFs, Factur-X XML) and generated ledger files are locked by the
    manifest; the members' accounts file is regenerated from the rules, so it is not.
    """
    plan.changed = commit_generated(
        ctx.root,
        plan.files,
        plan.documents,
        locked_documents=lambda rel: rel.startswith(("reports/invoices/", "reports/payslips/")),
        unlocked_ledger_files=("generated/members.beancount",),
        crash_after=crash_after,
    )
    return plan.changed
