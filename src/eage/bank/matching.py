"""Matching statement lines to what they settle: the pure core of ``eage import-bank``.

For money received, in this order:
1. invoice numbers in the label (``FAC-2026-0001``, ``FAC 2026 0001``, ``FAC20260001``):
   - one issued invoice named: the whole payment goes to it (a part payment leaves it partly open);
   - several named: the payment is split over them, one receivable posting per invoice (each member's
     own 411), only when it equals the sum of their open balances to the cent; a payment that does not,
     a number that is not an open issued invoice, or one already paid, sends the whole line to 471 with
     the reason (which invoices were named, and why the line was not split): splitting any other way
     would be a guess;
2. otherwise the payer, recognised by a member's legal name or an alias (or IBAN) from rules/bank.yaml,
   and an amount equal to exactly one of that member's open invoices.
For money paid out, the first debit rule whose keywords are in the label (salaries -> 421, URSSAF -> 431).
Anything else goes to the suspense account (471, flag ``!``) and is listed in Fava's Contrôles page,
for a person to reclassify: a guess would hide an error, a 471 balance shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from eage.bank.config import DebitRule
from eage.bank.reader import BankLine, normalize
from eage.bank.receivables import InvoiceStatus
from eage.ledger.model import Meta, MetaValue, Posting, Txn
from eage.ledger.view import receivable_account
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
        return receivable_account(self.receivable_parent, member)


@dataclass(frozen=True)
class Match:
    """A line and the transaction that books it; ``how`` is shown to the user."""

    line: BankLine
    txn: Txn
    how: str  # "numéro" | "montant" | "règle" | "attente"
    invoices: tuple[str, ...] = ()
    reason: str | None = None  # why a line that names invoices was not matched (sent to 471)


def named_numbers(label: str, prefix: str, issued: Iterable[str]) -> tuple[list[str], list[str]]:
    """The invoice numbers a label names, in order of appearance, without repeats: (issued, not issued).

    ``FAC 2026 12`` and ``FAC20260012`` name ``FAC-2026-0012``; a number eage never issued is returned as
    ``FAC-2026-12`` (as the label wrote it), so the user can be told about it.
    """
    by_key: dict[tuple[int, int], str] = {}
    for number in issued:
        parts = number.split("-")
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit() and parts[2].isdigit():
            by_key[(int(parts[1]), int(parts[2]))] = number
    found: list[str] = []
    unknown: list[str] = []
    pattern = rf"\b{re.escape(normalize(prefix))} ?(\d{{4}}) ?(\d{{1,6}})\b"
    for year, seq in re.findall(pattern, normalize(label), flags=re.ASCII):
        hit = by_key.get((int(year), int(seq)))
        if hit is None:
            text = f"{prefix}-{year}-{seq}"
            if text not in unknown:
                unknown.append(text)
        elif hit not in found:
            found.append(hit)
    return found, unknown


def invoice_numbers(label: str, prefix: str, known: Mapping[str, object]) -> list[str]:
    """Known invoice numbers named in the label, in order of appearance, without repeats."""
    return named_numbers(label, prefix, known)[0]


def split_over_invoices(
    amount: Decimal, open_balances: Sequence[tuple[str, Decimal]]
) -> tuple[tuple[str, Decimal], ...] | None:
    """``amount`` split over the named invoices, each receiving exactly its open balance, or None when
    the amount is not exactly the sum of those balances (or one of them is not open)."""
    if any(balance <= 0 for _, balance in open_balances):
        return None
    if sum((balance for _, balance in open_balances), ZERO) != amount:
        return None
    return tuple(open_balances)


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
    issued = [s.number for s in statuses]
    open_amount = {s.number: s.open for s in known.values()}
    out: list[Match] = []
    for line in sorted(lines, key=lambda x: (x.date, x.line)):
        match: Match | None
        reason: str | None = None
        if line.amount > 0:
            named, unknown = named_numbers(line.label, prefix, issued)
            not_payable = [n for n in named if n not in known]
            named = [n for n in named if n in known]
            if unknown or not_payable:
                reason = _not_issued(named, unknown, not_payable)
                match = None if named else _by_amount(line, known, open_amount, accounts, payers, source)
            elif named:
                match, reason = _by_number(line, named, known, open_amount, accounts, payers, source)
            else:
                match = _by_amount(line, known, open_amount, accounts, payers, source)
        else:
            match = _by_rule(line, accounts, debit_rules, source)
        out.append(match or _suspense(line, accounts, source, reason))
    return out


def _not_issued(named: Sequence[str], unknown: Sequence[str], not_payable: Sequence[str]) -> str:
    """Why a line naming numbers that are not open invoices is not matched by number."""
    parts = [f"names {', '.join([*named, *unknown, *not_payable])}"]
    if unknown:
        parts.append(f"{', '.join(unknown)} not issued by eage")
    if not_payable:
        parts.append(f"{', '.join(not_payable)} not an invoice to pay")
    return ": ".join(parts[:1]) + ": " + "; ".join(parts[1:]) + "; not matched by number"


def _payment(
    line: BankLine,
    parts: Sequence[tuple[str, str, Decimal]],
    accounts: Accounts,
    payers: Payers,
    how: str,
    source: str,
) -> Match:
    """The payment of (invoice, member, amount) parts: one receivable posting per invoice."""
    numbers = tuple(n for n, _, _ in parts)
    members = list(dict.fromkeys(m for _, m, _ in parts))
    postings = [Posting(accounts.bank, line.amount)]
    postings += [
        Posting(accounts.receivable(member), -amount, meta=(("invoice", number),))
        for number, member, amount in parts
    ]
    txn = Txn(
        date=line.date,
        narration=line.label,
        payee=payers.names.get(members[0]) if len(members) == 1 else None,
        postings=tuple(postings),
        links=numbers,
        meta=_base_meta(line, source, invoice=", ".join(numbers), member=", ".join(members), match=how),
    )
    return Match(line, txn, how, numbers)


def _by_number(
    line: BankLine,
    named: Sequence[str],
    known: Mapping[str, InvoiceStatus],
    open_amount: dict[str, Decimal],
    accounts: Accounts,
    payers: Payers,
    source: str,
) -> tuple[Match | None, str | None]:
    """The payment of the invoices named, or (None, why not)."""
    if len(named) == 1:
        number = named[0]
        open_amount[number] = max(open_amount[number] - line.amount, ZERO)
        return _payment(
            line, [(number, known[number].member, line.amount)], accounts, payers, "numéro", source
        ), None
    ordered = sorted(named, key=lambda n: (known[n].date, n))
    balances = [(n, open_amount[n]) for n in ordered]
    split = split_over_invoices(line.amount, balances)
    if split is None:
        shown = ", ".join(f"{n} (open {b:.2f})" for n, b in balances)
        paid = [n for n, b in balances if b <= 0]
        if paid:
            why = f"{', '.join(paid)} already paid"
        else:
            total = sum((b for _, b in balances), ZERO)
            why = f"{line.amount:.2f} received, their open balances sum to {total:.2f}"
        return None, f"names {shown}: {why}; not split, to be settled by hand"
    for number, part in split:
        open_amount[number] -= part
    parts = [(n, known[n].member, part) for n, part in split]
    return _payment(line, parts, accounts, payers, "numéro", source), None


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
    return _payment(line, [(same[0], member, line.amount)], accounts, payers, "montant", source)


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


def _suspense(line: BankLine, accounts: Accounts, source: str, reason: str | None = None) -> Match:
    extra: dict[str, MetaValue] = {"match": "attente"}
    if reason:
        extra["reason"] = reason  # kept in the ledger, so Fava's Contrôles page can say it too
    txn = Txn(
        date=line.date,
        narration=line.label,
        flag="!",  # Fava highlights it: a person has to say what it is
        postings=(Posting(accounts.bank, line.amount), Posting(accounts.suspense, -line.amount)),
        meta=_base_meta(line, source, **extra),
    )
    return Match(line, txn, "attente", reason=reason)
