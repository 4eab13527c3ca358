"""Matching statement lines to what they settle: the pure core of ``eage import-bank``.

For money received, in this order:
1. an invoice number in the label (``FAC-2026-0001``, ``FAC 2026 0001``, ``FAC20260001``): the payment
   goes to that invoice's member, split over the numbers named (oldest first), any excess on the last;
2. otherwise the payer, recognised by a member's legal name or an alias (or IBAN) from rules/bank.yaml,
   and an amount equal to exactly one of that member's open invoices.
For money paid out, the first debit rule whose keywords are in the label (salaries -> 421, URSSAF -> 431).
Anything else goes to the suspense account (471, flag ``!``) and is listed in Fava's Contrôles page,
for a person to reclassify: a guess would hide an error, a 471 balance shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from eage.bank.config import DebitRule
from eage.bank.reader import BankLine, normalize
from eage.bank.receivables import InvoiceStatus
from eage.ledger.model import Meta, MetaValue, Posting, Txn
from eage.money import ZERO


@dataclass(frozen=True)
class Payers:
    """How members are recognised in labels: normalized names and aliases by member id."""

    names: Mapping[str, str]  # member id -> legal name (shown as payee)
    aliases: Mapping[str, Sequence[str]]

    def find(self, label: str) -> list[str]:
        text = f" {normalize(label)} "
        compact = text.replace(" ", "")
        found = []
        for member in sorted(self.names):
            words = [self.names[member], *self.aliases.get(member, ())]
            for word in words:
                norm = normalize(word)
                if len(norm) < 3:
                    continue  # too short to mean anything in a free-text label
                looks_like_iban = re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9 ]{10,}", norm) is not None
                if f" {norm} " in text or (looks_like_iban and norm.replace(" ", "") in compact):
                    found.append(member)
                    break
        return found


@dataclass(frozen=True)
class Accounts:
    bank: str
    suspense: str
    receivable_parent: str

    def receivable(self, member: str) -> str:
        return f"{self.receivable_parent}:411-{member}"


@dataclass(frozen=True)
class Match:
    """A line and the transaction that books it; ``how`` is shown to the user."""

    line: BankLine
    txn: Txn
    how: str  # "numéro" | "montant" | "règle" | "attente"
    invoices: tuple[str, ...] = ()


def invoice_numbers(label: str, prefix: str, known: Mapping[str, InvoiceStatus]) -> list[str]:
    """Known invoice numbers named in the label, in order of appearance, without repeats."""
    by_key: dict[tuple[str, int, int], str] = {}
    for number in known:
        parts = number.split("-")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            by_key[(parts[0], int(parts[1]), int(parts[2]))] = number
    out: list[str] = []
    pattern = rf"\b{re.escape(normalize(prefix))} ?(\d{{4}}) ?(\d{{1,6}})\b"
    for year, seq in re.findall(pattern, normalize(label)):
        found = by_key.get((prefix, int(year), int(seq)))
        if found is not None and found not in out:
            out.append(found)
    return out


def _base_meta(line: BankLine, source: str, **extra: MetaValue) -> Meta:
    items: list[tuple[str, MetaValue]] = [("kind", "bank"), ("bank_ref", line.bank_ref)]
    items += list(extra.items())
    items.append(("source", f"{source}:{line.line}"))
    return tuple(items)


def match_lines(
    lines: Sequence[BankLine],
    statuses: Sequence[InvoiceStatus],
    *,
    accounts: Accounts,
    payers: Payers,
    debit_rules: Sequence[DebitRule],
    prefix: str,
    source: str,
) -> list[Match]:
    """One transaction per line, in date then file order; open amounts are consumed as lines match."""
    known = {s.number: s for s in statuses if s.payable}
    open_amount = {s.number: s.open for s in known.values()}
    out: list[Match] = []
    for line in sorted(lines, key=lambda x: (x.date, x.line)):
        if line.amount > 0:
            match = _by_number(line, known, open_amount, accounts, prefix, payers, source)
            if match is None:
                match = _by_amount(line, known, open_amount, accounts, payers, source)
        else:
            match = _by_rule(line, accounts, debit_rules, source)
        out.append(match or _suspense(line, accounts, source))
    return out


def _payment(
    line: BankLine,
    parts: list[tuple[str, Decimal]],
    member: str,
    accounts: Accounts,
    payers: Payers,
    how: str,
    source: str,
) -> Match:
    numbers = tuple(n for n, _ in parts)
    postings = [Posting(accounts.bank, line.amount)]
    postings += [Posting(accounts.receivable(member), -amount, meta=(("invoice", n),)) for n, amount in parts]
    txn = Txn(
        date=line.date,
        narration=line.label,
        payee=payers.names.get(member),
        postings=tuple(postings),
        links=numbers,
        meta=_base_meta(line, source, invoice=", ".join(numbers), member=member, match=how),
    )
    return Match(line, txn, how, numbers)


def _by_number(
    line: BankLine,
    known: Mapping[str, InvoiceStatus],
    open_amount: dict[str, Decimal],
    accounts: Accounts,
    prefix: str,
    payers: Payers,
    source: str,
) -> Match | None:
    named = invoice_numbers(line.label, prefix, known)
    if not named:
        return None
    # One payment settles one member's invoices: keep those of the first named invoice's member.
    member = known[named[0]].member
    named = sorted((n for n in named if known[n].member == member), key=lambda n: (known[n].date, n))
    left = line.amount
    parts: list[tuple[str, Decimal]] = []
    for index, number in enumerate(named):
        part = left if index == len(named) - 1 else min(left, open_amount[number])
        if part <= 0:
            continue
        parts.append((number, part))
        open_amount[number] = max(open_amount[number] - part, ZERO)
        left -= part
    return _payment(line, parts, member, accounts, payers, "numéro", source)


def _by_amount(
    line: BankLine,
    known: Mapping[str, InvoiceStatus],
    open_amount: dict[str, Decimal],
    accounts: Accounts,
    payers: Payers,
    source: str,
) -> Match | None:
    members = payers.find(line.label)
    if len(members) != 1:
        return None
    member = members[0]
    same = [n for n, s in known.items() if s.member == member and open_amount[n] == line.amount]
    if len(same) != 1:
        return None
    open_amount[same[0]] = ZERO
    return _payment(line, [(same[0], line.amount)], member, accounts, payers, "montant", source)


def _by_rule(line: BankLine, accounts: Accounts, rules: Sequence[DebitRule], source: str) -> Match | None:
    text = f" {normalize(line.label)} "
    for rule in rules:
        if any(f" {normalize(word)} " in text for word in rule.keywords):
            txn = Txn(
                date=line.date,
                narration=line.label,
                postings=(Posting(accounts.bank, line.amount), Posting(rule.account, -line.amount)),
                meta=_base_meta(line, source, match="règle"),
            )
            return Match(line, txn, "règle")
    return None


def _suspense(line: BankLine, accounts: Accounts, source: str) -> Match:
    txn = Txn(
        date=line.date,
        narration=line.label,
        flag="!",  # Fava highlights it: a person has to say what it is
        postings=(Posting(accounts.bank, line.amount), Posting(accounts.suspense, -line.amount)),
        meta=_base_meta(line, source, match="attente"),
    )
    return Match(line, txn, "attente")
