"""The bank import recognises the payroll bodies' debits and tags each with the month it settles.

A small statement on a copy of the demo: URSSAF and the withholding paid to the cent of October's dues
(tagged ``settles: "2026-10"``), an Agirc-Arrco debit of another amount (untagged, cleared FIFO), a
health insurer known by its name; ``eage charges 2026-10`` then agrees with the bank.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from eage.bank.matching import Match
from eage.bank.reader import BankLine
from eage.bank.settles import settled_months
from eage.ledger.model import Posting, Txn
from eage.month import Month
from eage.payroll.charges import Movement
from groups import run_eage

URSSAF = "Passif:43-Organismes-sociaux:431-Securite-sociale"
BANK = "Actif:51-Banque:512-Credit-Cooperatif"

STATEMENT = """Date;Libellé;Détail;Débit;Crédit
15/11/2026;PRLV URSSAF RHONE ALPES;COTISATIONS 10/2026;2649,94;
18/11/2026;PRLV DGFIP PAS;10/2026;167,25;
25/11/2026;PRLV AGIRC ARRCO;ACOMPTE;100,00;
26/11/2026;PRLV MUTUELLE DES MONTS DU FOREZ;COTISATIONS;283,06;
"""


def _import(root: Path) -> str:
    path = root / "ledger" / "bank-statements" / "releve-novembre.csv"
    path.write_text(STATEMENT, encoding="utf-8")
    out = run_eage(["import-bank", str(path), "--root", str(root)])
    assert out.code == 0, out.err
    return (root / "ledger" / "bank" / "2026-11.beancount").read_text(encoding="utf-8")


def _entry(text: str, label: str) -> str:
    start = text.index(label)
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else None]


def test_payments_of_a_months_dues_are_tagged_and_cleared(demo: Path) -> None:
    text = _import(demo)
    urssaf = _entry(text, "PRLV URSSAF RHONE ALPES")
    assert 'settles: "2026-10"' in urssaf and URSSAF in urssaf
    assert 'settles: "2026-10"' in _entry(text, "PRLV DGFIP PAS")
    assert "settles" not in _entry(text, "PRLV AGIRC ARRCO")  # 100,00 is no month's remaining due
    insurer = _entry(text, "PRLV MUTUELLE DES MONTS DU FOREZ")
    assert "4373-Prevoyance" in insurer and 'settles: "2026-10"' in insurer

    out = run_eage(["charges", "2026-10", "--root", str(demo), "--date", "2026-12-01", "--json"])
    assert out.code == 0, out.err
    dues = {d["key"]: d for d in out.json()["dues"]}
    assert dues["urssaf"]["status"] == "payé" and dues["urssaf"]["remaining"] == "0.00"
    assert dues["pas"]["status"] == "payé"
    assert dues["prevoyance"]["status"] == "payé"
    assert (dues["agirc_arrco"]["paid"], dues["agirc_arrco"]["status"]) == ("100.00", "en retard")


def _rule_match(day: dt.date, amount: Decimal, account: str) -> Match:
    line = BankLine(line=2, date=day, label="PRLV URSSAF", amount=-amount, bank_ref="x")
    txn = Txn(
        date=day,
        narration="PRLV URSSAF",
        postings=(Posting(BANK, -amount), Posting(account, amount)),
        meta=(("kind", "bank"), ("bank_ref", "x"), ("match", "règle"), ("source", "r.csv:2")),
    )
    return Match(line, txn, "règle")


def _settles(match: Match) -> str | None:
    return next((str(v) for k, v in match.txn.meta if k == "settles"), None)


def test_the_oldest_equal_month_is_tagged_and_a_second_payment_the_next() -> None:
    owed = [
        Movement(dt.date(2026, 1, 31), URSSAF, Decimal("-100.00"), "payroll"),
        Movement(dt.date(2026, 2, 28), URSSAF, Decimal("-100.00"), "payroll"),
    ]
    first = _rule_match(dt.date(2026, 3, 15), Decimal("100.00"), URSSAF)
    second = _rule_match(dt.date(2026, 3, 16), Decimal("100.00"), URSSAF)
    tagged = settled_months([first, second], owed)
    assert [_settles(m) for m in tagged] == [str(Month(2026, 1)), str(Month(2026, 2))]
    # A third payment finds nothing left: untagged.
    third = _rule_match(dt.date(2026, 3, 17), Decimal("100.00"), URSSAF)
    assert _settles(settled_months([first, second, third], owed)[2]) is None
    # A payment dated within February cannot settle February.
    early = _rule_match(dt.date(2026, 2, 20), Decimal("100.00"), URSSAF)
    assert [_settles(m) for m in settled_months([early, early], owed)] == ["2026-01", None]
