"""Write the demo group's hand-kept inputs: 2026 timesheets, payroll variables (leave, overtime,
bonuses) and running costs (deterministic).

The demo group "L'équipe associée" (see rules/): three shared employees (2.5 FTE) working for 14
members. Re-running this script rewrites the same bytes.

    python scripts/demo_inputs.py [ROOT]
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import sys
from decimal import Decimal
from pathlib import Path

from eage.ledger.render import ROOT_OPTIONS

YEAR = 2026
HOLIDAYS = {
    dt.date(2026, 1, 1), dt.date(2026, 4, 6), dt.date(2026, 5, 1), dt.date(2026, 5, 8),
    dt.date(2026, 5, 14), dt.date(2026, 5, 25), dt.date(2026, 7, 14), dt.date(2026, 11, 11),
    dt.date(2026, 12, 25),
}  # fmt: skip
# Paid leave taken in 2026 (congés payés), per employee: (first day, last day), Monday to Saturday, as the
# month's payroll variables declare it (ledger/payroll/YYYY-MM.yaml, one range per month). The staff
# stagger their leave so that each service keeps running: winter or spring, three summer weeks, Toussaint,
# and the office closes between Christmas and New Year.
LEAVE: dict[str, list[tuple[dt.date, dt.date]]] = {
    "cmartin": [
        (dt.date(2026, 2, 23), dt.date(2026, 2, 28)),
        (dt.date(2026, 8, 3), dt.date(2026, 8, 22)),
        (dt.date(2026, 10, 26), dt.date(2026, 10, 31)),
        (dt.date(2026, 12, 24), dt.date(2026, 12, 31)),
    ],
    "lpetit": [
        (dt.date(2026, 4, 13), dt.date(2026, 4, 18)),
        (dt.date(2026, 7, 20), dt.date(2026, 7, 31)),
        (dt.date(2026, 8, 1), dt.date(2026, 8, 8)),
        (dt.date(2026, 12, 24), dt.date(2026, 12, 31)),
    ],
    "sbernard": [
        (dt.date(2026, 2, 16), dt.date(2026, 2, 21)),
        (dt.date(2026, 8, 10), dt.date(2026, 8, 29)),
        (dt.date(2026, 12, 24), dt.date(2026, 12, 31)),
    ],
}

# member -> (relative weight of work, joined, left)
MEMBERS = {
    "1dlab": (5, None, None), "les-3c": (7, None, None), "baroufada": (3, None, None),
    "casquette": (4, None, None), "noctambules": (2, None, None), "crefad-loire": (8, None, None),
    "equi-libre": (1, dt.date(2026, 3, 1), None), "la-fabrique": (3, None, None),
    "le-fil": (10, None, None), "gaga-jazz": (2, None, None), "grinta": (3, None, dt.date(2026, 9, 30)),
    "maintes": (2, None, None), "remue-meninges": (1, None, None), "yes-high-tech": (8, None, None),
}  # fmt: skip
# employee -> (hours a day, [(service, share)], internal share)
STAFF = {
    "cmartin": (Decimal(7), [("comptabilite", 1.0)], 0.10),
    "sbernard": (Decimal("3.5"), [("administration_sociale", 1.0)], 0.06),
    "lpetit": (Decimal(7), [("paie", 0.7), ("comptabilite", 0.3)], 0.05),
}
NOTES = {
    "comptabilite": ["saisie", "rapprochement bancaire", "révision", "budget", "tableau de bord", "TVA"],
    "paie": ["bulletins", "DSN", "entrée/sortie", "congés", "attestations"],
    "administration_sociale": ["contrats", "mutuelle", "médecine du travail", "formation", "registre"],
}
INTERNAL_NOTES = ["réunion d'équipe", "formation interne", "gestion du groupement"]


def working_days(month: int) -> list[dt.date]:
    """The office's working days of the month: Monday to Friday, not a public holiday."""
    days = []
    for d in range(1, calendar.monthrange(YEAR, month)[1] + 1):
        day = dt.date(YEAR, month, d)
        if day.weekday() >= 5 or day in HOLIDAYS:
            continue
        days.append(day)
    return days


def on_leave(employee: str, day: dt.date) -> bool:
    return any(a <= day <= b for a, b in LEAVE[employee])


def active(member: str, day: dt.date) -> bool:
    _, joined, left = MEMBERS[member]
    return (joined is None or day >= joined) and (left is None or day <= left)


def timesheet(month: int) -> str:
    rng = random.Random(f"eage-demo-{YEAR}-{month}")
    rows = ["date,employee,member,service,hours,note"]
    for day in working_days(month):
        for emp, (daily, services, internal_share) in STAFF.items():
            if on_leave(emp, day):
                continue
            half_hours = int(daily * 2)
            slots: dict[tuple[str, str], int] = {}
            for _ in range(half_hours):
                service = rng.choices([s for s, _ in services], weights=[w for _, w in services])[0]
                if rng.random() < internal_share:
                    member = ""
                else:
                    pool = [m for m in MEMBERS if active(m, day)]
                    member = rng.choices(pool, weights=[MEMBERS[m][0] for m in pool])[0]
                slots[(member, service)] = slots.get((member, service), 0) + 1
            for (member, service), count in sorted(slots.items()):
                note = rng.choice(NOTES[service]) if member else rng.choice(INTERNAL_NOTES)
                hours = Decimal(count) / 2
                rows.append(f"{day.isoformat()},{emp},{member},{service},{hours:.2f},{note}")
    return "\n".join(rows) + "\n"


# account -> (monthly amount, label)
RUNNING_COSTS = [
    ("Charges:61-Services-exterieurs:6132-Locations-immobilieres", "650.00", "Loyer bureau Manufacture", "Culture & Coopération"),
    ("Charges:61-Services-exterieurs:6135-Locations-mobilieres", "45.60", "Location copieur", "Copie Loire"),
    ("Charges:61-Services-exterieurs:6156-Maintenance", "212.40", "Logiciels comptabilité et paie", "Logiciels Coop"),
    ("Charges:61-Services-exterieurs:616-Assurances", "38.25", "Assurance multirisque", "MAIF"),
    ("Charges:62-Autres-services-exterieurs:6226-Honoraires", "150.00", "Honoraires révision des comptes", "Cabinet Forez Audit"),
    ("Charges:62-Autres-services-exterieurs:6251-Deplacements", "62.30", "Déplacements chez les membres", "Notes de frais"),
    ("Charges:62-Autres-services-exterieurs:626-Frais-postaux-telecom", "54.90", "Téléphone et internet", "Opérateur"),
    ("Charges:62-Autres-services-exterieurs:627-Services-bancaires", "18.50", "Frais bancaires", "Crédit Coopératif"),
    ("Charges:60-Achats:6064-Fournitures-administratives", "41.75", "Fournitures de bureau", "Papeterie Jacquard"),
    ("Charges:64-Personnel:6475-Medecine-du-travail", "24.80", "Service de santé au travail", "SST Loire"),
]  # fmt: skip


def entries(last_month: int) -> str:
    out = [
        ";; Hand-written entries: the group's own running costs, paid from the bank.",
        ";; A cost meant for one service's pool carries `service: <slug>` metadata; see rules/allocation.yaml.",
        ROOT_OPTIONS,
    ]
    for month in range(1, last_month + 1):
        day = dt.date(YEAR, month, 5)
        for account, amount, label, payee in RUNNING_COSTS:
            out.append(f'{day.isoformat()} * "{payee}" "{label} {month:02d}/{YEAR}"')
            out.append(f"  {account}  {amount} EUR")
            out.append("  Actif:51-Banque:512-Credit-Cooperatif")
            out.append("")
    # A payroll software add-on bought for the payroll service only: it feeds that pool directly.
    out += [
        f'{YEAR}-03-12 * "Logiciels Coop" "Module DSN — licence annuelle"',
        "  Charges:61-Services-exterieurs:6156-Maintenance  480.00 EUR",
        '    service: "paie"',
        "  Actif:51-Banque:512-Credit-Cooperatif",
        "",
    ]
    return "\n".join(out)


OPENING = f""";; Opening balances on 1 January {YEAR} (à-nouveaux). The paid leave acquired and not taken at 31 December
;; (4282, and its employer contributions 4382) is the sum of the figures of ledger/payroll/leave-balances.yaml.
{ROOT_OPTIONS}
{YEAR}-01-01 * "À-nouveaux {YEAR}"
  kind: "opening"
  Actif:51-Banque:512-Credit-Cooperatif                 41250.00 EUR
  Passif:42-Personnel:4282-Dettes-provisionnees-conges-a-payer  -6016.15 EUR
  Passif:43-Organismes-sociaux:4382-Charges-sociales-conges-a-payer  -2161.81 EUR
  Capitaux:10-Fonds-propres:102-Fonds-associatifs      -15000.00 EUR
  Capitaux:11-Report-a-nouveau:110-Report-a-nouveau    -18072.04 EUR
"""


# The months' other variable elements (overtime, bonuses, unpaid absence), beside the leave above.
VARIABLES: dict[int, tuple[str, dict[str, list[str]]]] = {
    3: ("closing of the 2025 accounts: overtime", {
        "cmartin": ["overtime_25_hours: 6"],
        "lpetit": ["overtime_25_hours: 4"],
    }),
    6: ("", {
        "lpetit": ["bonus: 300.00", 'bonus_label: "Prime exceptionnelle"'],
        "sbernard": ["unpaid_absence_hours: 7"],
    }),
    12: ("year-end bonuses", {
        "cmartin": ["bonus: 500.00"],
        "sbernard": ["bonus: 200.00"],
        "lpetit": ["bonus: 350.00"],
    }),
}  # fmt: skip


def payroll_variables(month: int) -> str | None:
    """ledger/payroll/YYYY-MM.yaml: the month's leave taken and other variable elements, or None."""
    why, extra = VARIABLES.get(month, ("", {}))
    first, last = dt.date(YEAR, month, 1), dt.date(YEAR, month, calendar.monthrange(YEAR, month)[1])
    per_employee: dict[str, list[str]] = {}
    for emp in STAFF:
        lines = list(extra.get(emp, []))
        ranges = [(a, b) for a, b in LEAVE[emp] if a <= last and b >= first]
        if ranges:
            lines.append("leave:")
            lines += [
                f"  - {{from: {max(a, first).isoformat()}, to: {min(b, last).isoformat()}}}"
                for a, b in ranges
            ]
        if lines:
            per_employee[emp] = lines
    if not per_employee:
        return None
    title = f"# Variable elements of {YEAR}-{month:02d}'s payroll" + (f" ({why})" if why else "") + "."
    out = [
        title,
        "# leave: paid leave taken (congés payés), first and last day, within the month.",
        "employees:",
    ]
    for emp, lines in per_employee.items():
        out.append(f"  {emp}:")
        out += [f"    {line}" for line in lines]
    return "\n".join(out) + "\n"


def main(root: Path) -> None:
    ts_dir = root / "ledger" / "timesheets"
    ts_dir.mkdir(parents=True, exist_ok=True)
    for month in range(1, 13):
        (ts_dir / f"{YEAR}-{month:02d}.csv").write_text(timesheet(month), encoding="utf-8")
    payroll_dir = root / "ledger" / "payroll"
    payroll_dir.mkdir(parents=True, exist_ok=True)
    for month in range(1, 13):
        path = payroll_dir / f"{YEAR}-{month:02d}.yaml"
        text = payroll_variables(month)
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")
    (root / "ledger" / "entries.beancount").write_text(entries(11), encoding="utf-8")
    (root / "ledger" / "opening.beancount").write_text(OPENING, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
