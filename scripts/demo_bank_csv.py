"""Write the demo group's bank statement for 2026 (Crédit Coopératif CSV export, rules/bank.yaml layout).

Deterministic: made from the demo ledger's invoices and payroll journals, with a seeded generator.
Most members pay each invoice 2 to 6 weeks after it is issued, quoting its number; Les 3C and
Yes High Tech quote no number (matched by payer + amount); Crefad Loire pays one invoice in part;
Gaga Jazz stops paying after March (late payer); one unknown transfer goes to the suspense account.
Salaries, URSSAF, Agirc-Arrco, prévoyance and withholding tax are paid the usual way.

    python scripts/demo_bank_csv.py [ROOT] [--through 2026-10-31]

Then import it: eage --root ROOT import-bank ledger/bank-statements/releve-2026.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from eage.bank.reader import normalize
from eage.ledger.load import load_ledger
from eage.month import Month
from eage.rules.bundle import load_rules

ROOT = Path(__file__).resolve().parent.parent
NO_NUMBER = {"les-3c": "VIR CINEMA LE FRANCE", "yes-high-tech": "VIR FR76 3000 4000 0312 3456 7890 143"}
LATE = "gaga-jazz"
PARTIAL = ("crefad-loire", "2026-03", Decimal("500.00"))
# liability account suffix -> (label, day of the following month it is paid; 0 = the payroll date)
PAYROLL = {
    "421-Remunerations-dues": ("VIR SALAIRES {m}", 0),
    "431-Securite-sociale": ("PRLV URSSAF RHONE ALPES COTISATIONS {m}", 15),
    "4372-Retraite-complementaire": ("PRLV AGIRC ARRCO HUMANIS {m}", 25),
    "4373-Prevoyance": ("PRLV PREVOYANCE MALAKOFF {m}", 10),
    "4421-Prelevement-a-la-source": ("PRLV DGFIP PAS {m}", 10),
}


def fr(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--through", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    args = parser.parse_args()
    out = write(args.root, args.through)
    print(f"{out}: written")


def write(root: Path, through: dt.date) -> Path:
    """Write the statement of every line up to ``through`` from the ledger under ``root``."""
    rules = load_rules(root)
    names = {m.id: m.identity.name for m in rules.members.members}
    ledger, _ = load_ledger(root)
    rng = random.Random("eage-demo-bank-2026")
    rows: list[tuple[dt.date, str, str, Decimal]] = []  # date, label, detail, signed amount

    for doc in ledger.issued_documents():
        if doc.kind not in ("invoice", "fee"):
            continue
        paid_on = doc.date + dt.timedelta(days=rng.randint(12, 42))
        if doc.member == LATE and doc.period > "2026-03":
            continue
        amount = doc.total
        if (doc.member, doc.period) == PARTIAL[:2]:
            amount = PARTIAL[2]
        if doc.member in NO_NUMBER:
            label, detail = NO_NUMBER[doc.member], f"REGLEMENT {doc.period}"
        else:
            label, detail = f"VIR SEPA RECU /DE {normalize(names[doc.member])}", f"/MOTIF {doc.number}"
        rows.append((paid_on, label, detail, amount))

    owed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for txn in ledger.transactions():
        if txn.meta.get("kind") != "payroll":
            continue
        for posting in txn.postings:
            suffix = posting.account.rsplit(":", 1)[-1]
            if suffix in PAYROLL:
                owed[(txn.date.strftime("%Y-%m"), suffix)] -= Decimal(posting.units.number)
    for (month, suffix), amount in sorted(owed.items()):
        label, day = PAYROLL[suffix]
        parsed = Month.parse(month)
        year, mon = parsed.year, parsed.number
        if day == 0:
            when = (dt.date(year + mon // 12, mon % 12 + 1, 1)) - dt.timedelta(days=1)
        else:
            when = dt.date(year + mon // 12, mon % 12 + 1, day)
        rows.append((when, label.format(m=f"{mon:02d}/{year}"), "", -amount))

    rows.append(
        (
            dt.date(2026, 5, 19),
            "VIR SEPA RECU /DE ASSOC LES AMIS DU JAZZ",
            "/MOTIF ADHESION",
            Decimal("150.00"),
        )
    )
    rows = sorted((r for r in rows if r[0] <= through), key=lambda r: (r[0], r[1], r[2]))
    lines = ["Date;Libellé;Détail;Débit;Crédit"]
    for when, label, detail, amount in rows:
        debit, credit = (fr(-amount), "") if amount < 0 else ("", fr(amount))
        lines.append(f"{when:%d/%m/%Y};{label};{detail};{debit};{credit}")
    out = root / "ledger" / "bank-statements" / "releve-2026.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
