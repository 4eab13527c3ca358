"""Synthetic employer groups for benchmarks, reproducible from a seed.

    python benchmarks/generate.py DIR --members 300 --staff 60 --years 10 [--seed 1]

Writes a complete group folder (``rules/``, ``ledger/``, ``reports/``) that passes ``eage check``:

- ``rules/``: the law and the chart (payroll, VAT, accounts, allocation, fees) copied from the repository's
  ``rules/``; ``group.yaml``, ``members.yaml`` and ``staff.yaml`` generated (fictitious, Luhn-valid SIRENs
  and SIRETs, FR VAT numbers with their real key); ``budget/YYYY.yaml`` for the last history year (rubrics
  over the chart's account prefixes, amounts scaled to the group, hours from the timesheet model);
- ``ledger/``: the skeleton of ``eage init`` (main, accounts), opening balances, the group's monthly running
  costs, and ``timesheets/YYYY-MM.csv`` for every month of the history *and* the benchmarked month;
- the history (``years`` x 12 months from January 2025, or ``months``) run with eage's own run
  (:func:`eage.app.run.plan_month`, :func:`eage.app.commit.validate_plan`, :func:`eage.app.commit.commit_plan`), so
  the ledger holds the payroll journals and invoices of every past month.

Fast path for the history: no PDF is rendered. The ledger's ``document`` directives point at invoice PDFs,
so each one gets a tiny **placeholder PDF** (a blank page whose file says "SYNTHETIC PLACEHOLDER", no
Factur-X XML), and payslip PDFs and invoice registers are not written. Only the benchmarked month (the
one after the history, left unrun) renders real documents, when the benchmark runs ``eage run`` on it.
The ledger is kept in memory between history months (the new files are parsed and appended, not
re-loaded); for the history only, the tamper check of ``plan_month`` (which re-hashes every file of the
lock manifest) is skipped, since the generator wrote those files a moment before, and so is the fsync
of each written file. At the end, the whole
ledger is loaded once from disk and must have zero errors.

The payroll rules start in 2025, so the history starts in January 2025: ten years of history end in
December 2034 and the benchmarked month is January 2035.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

from eage.month import Month

REPO = Path(__file__).resolve().parent.parent
SKELETON = REPO / "src" / "eage" / "skeleton"
LAW_FILES = ("payroll", "vat.yaml", "accounts.yaml", "allocation.yaml", "fees.yaml")
SERVICES = ("comptabilite", "paie", "administration_sociale")
FIRST_MONTH = "2025-01"
HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
BANK = "Actif:51-Banque:512-Credit-Cooperatif"
# account -> (monthly amount for 14 members, label, payee): scaled with the number of members.
RUNNING_COSTS = (
    ("Charges:61-Services-exterieurs:6132-Locations-immobilieres", "650.00", "Loyer bureau", "SCI Bureaux"),
    ("Charges:61-Services-exterieurs:6135-Locations-mobilieres", "45.60", "Location copieur", "Copie Loire"),
    ("Charges:61-Services-exterieurs:6156-Maintenance", "212.40", "Logiciels", "Logiciels Coop"),
    ("Charges:61-Services-exterieurs:616-Assurances", "38.25", "Assurance multirisque", "Assureur"),
    ("Charges:62-Autres-services-exterieurs:6226-Honoraires", "150.00", "Honoraires révision", "Cabinet"),
    ("Charges:62-Autres-services-exterieurs:6251-Deplacements", "62.30", "Déplacements", "Notes de frais"),
    ("Charges:62-Autres-services-exterieurs:626-Frais-postaux-telecom", "54.90", "Téléphone", "Opérateur"),
    ("Charges:62-Autres-services-exterieurs:627-Services-bancaires", "18.50", "Frais bancaires", "Banque"),
    ("Charges:60-Achats:6064-Fournitures-administratives", "41.75", "Fournitures", "Papeterie"),
    ("Charges:64-Personnel:6475-Medecine-du-travail", "24.80", "Santé au travail", "SST"),
)
FORMS = (
    ("Association loi 1901", "exempt_261b"),
    ("Association loi 1901", "exempt_261b"),
    ("Association loi 1901", "exempt_261b"),
    ("SCIC SAS", "liable"),
    ("SARL", "liable"),
)
CITIES = (
    ("42000", "Saint-Étienne"),
    ("42100", "Saint-Étienne"),
    ("69001", "Lyon"),
    ("63000", "Clermont-Ferrand"),
)
FIRST = ("Claire", "Lucas", "Sophie", "Karim", "Inès", "Paul", "Léa", "Hugo", "Nadia", "Yann", "Emma", "Omar")
LAST = ("Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Michel", "Garcia")
# A minimal one-page PDF: what a history month's `document` directive points at (no real invoice).
PLACEHOLDER_NOTE = b"% SYNTHETIC PLACEHOLDER written by benchmarks/generate.py: not an invoice\n"


@dataclass(frozen=True)
class Spec:
    """What to generate: sizes, history length and the seed everything random derives from."""

    members: int
    staff: int
    years: int = 1
    seed: int = 1
    months: int | None = None  # history length in months; default years * 12
    validate_each_month: bool = True  # validate_plan on every history month (else one final load only)

    @property
    def history(self) -> list[str]:
        """The months run as history, oldest first."""
        count = self.years * 12 if self.months is None else self.months
        return [add_months(FIRST_MONTH, i) for i in range(count)]

    @property
    def bench_month(self) -> str:
        """The month after the history: inputs written, not run."""
        return add_months(FIRST_MONTH, len(self.history))

    @property
    def budget_year(self) -> int:
        """The year of ``rules/budget/YYYY.yaml``: the last history year (the one ``eage budget`` and
        ``eage fec`` are benchmarked on), or the benchmarked month's year without history."""
        return Month.parse(self.history[-1] if self.history else self.bench_month).year


def add_months(month: str, count: int) -> str:
    """``add_months("2025-11", 3) == "2026-02"``."""
    start = Month.parse(month)
    index = start.year * 12 + start.number - 1 + count
    return str(Month(index // 12, index % 12 + 1))


def luhn_complete(digits: str) -> str:
    """``digits`` followed by the check digit that makes the whole Luhn-valid (SIREN, SIRET)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # these digits are doubled once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return digits + str((10 - total % 10) % 10)


def vat_number(siren: str) -> str:
    """French intra-EU VAT number: ``FR`` + key + SIREN, key = (12 + 3 x (SIREN mod 97)) mod 97."""
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def _siren(rng: random.Random) -> tuple[str, str]:
    siren = luhn_complete(f"{rng.randrange(10**7, 10**8)}")
    return siren, luhn_complete(siren + f"{rng.randrange(1, 10**4):04d}")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class _Employee:
    id: str
    services: tuple[str, ...]
    weekly_hours: Decimal
    portfolio: tuple[str, ...]
    weights: tuple[int, ...]
    gross: Decimal  # monthly gross salary


def _members_yaml(spec: Spec, rng: random.Random) -> tuple[str, list[str]]:
    rows = [
        "# Synthetic members (benchmarks/generate.py): fictitious, Luhn-valid, not registered.",
        "members:",
    ]
    ids = []
    for index in range(spec.members):
        member_id = f"m{index + 1:04d}"
        ids.append(member_id)
        form, regime = rng.choice(FORMS)
        siren, siret = _siren(rng)
        postcode, city = rng.choice(CITIES)
        rows += [
            f"  - id: {member_id}",
            "    identity:",
            f"      name: {_q(f'Membre synthétique {index + 1}')}",
            f"      legal_form: {_q(form)}",
            f'      siren: "{siren}"',
            f'      siret: "{siret}"',
        ]
        if regime == "liable":
            rows.append(f'      vat_number: "{vat_number(siren)}"')
        rows += [
            "      address:",
            f"        line1: {_q(f'{rng.randrange(1, 120)} rue de la Synthèse')}",
            f'        postcode: "{postcode}"',
            f"        city: {_q(city)}",
            "      fictitious: true",
            f'    email: "compta@{member_id}.example"',
            f"    vat_regime: {regime}",
            "    joined: 2012-01-01",
        ]
    return "\n".join(rows) + "\n", ids


def _staff_yaml(spec: Spec, rng: random.Random, member_ids: list[str]) -> tuple[str, list[_Employee]]:
    rows = ["# Synthetic staff (benchmarks/generate.py): fictitious people.", "employees:"]
    employees = []
    for index in range(spec.staff):
        emp_id = f"s{index + 1:03d}"
        primary = SERVICES[index % len(SERVICES)]
        extra = [rng.choice([s for s in SERVICES if s != primary])] if rng.random() < 0.3 else []
        weekly = rng.choice([Decimal(35), Decimal(35), Decimal(35), Decimal("17.5"), Decimal(28)])
        gross = Decimal(rng.randrange(1900_00, 3800_00)) / 100
        # Every member is in at least one employee's portfolio: members i with i % staff == index.
        own = member_ids[index :: spec.staff]
        others = rng.sample(member_ids, min(len(member_ids), 5))
        portfolio = tuple(dict.fromkeys(own + others))
        employees.append(
            _Employee(
                emp_id,
                (primary, *extra),
                weekly,
                portfolio,
                tuple(rng.randrange(1, 10) for _ in portfolio),
                gross,
            )
        )
        rows += [
            f"  - id: {emp_id}",
            f"    name: {_q(f'{rng.choice(FIRST)} {rng.choice(LAST)} ({emp_id})')}",
            f"    post: {_q('Chargé·e de ' + primary.replace('_', ' '))}",
            f"    service: {primary}",
        ]
        if extra:
            rows.append(f"    services: [{extra[0]}]")
        rows += [
            "    contract:",
            "      kind: CDI",
            "      start: 2012-01-01",
            f"      weekly_hours: {weekly}",
            f"      cadre: {'true' if rng.random() < 0.3 else 'false'}",
            "    gross_salary:",
            f"      2025-01-01: {gross:.2f}",
            "    pas_rate:",
            f"      2025-01-01: {Decimal(rng.randrange(0, 80)) / 1000}",
        ]
    return "\n".join(rows) + "\n", employees


def _group_yaml(spec: Spec, rng: random.Random) -> str:
    siren, siret = _siren(rng)
    return f"""# Synthetic employer group (benchmarks/generate.py, seed {spec.seed}). Fictitious identifiers.
identity:
  name: "Groupement synthétique {spec.members}x{spec.staff}"
  legal_form: "Association loi 1901 — groupement d'employeurs"
  siren: "{siren}"
  siret: "{siret}"
  vat_number: "{vat_number(siren)}"
  address:
    line1: "1 rue du Banc d'essai"
    postcode: "42000"
    city: "Saint-Étienne"
  fictitious: true
vat_regime: liable
employer:
  profile: association
  headcount: {spec.staff}
  # A groupement d'employeurs whose staff are all made available to members: 0 for every threshold
  # (CSS L130-1 III), as the demo group.
  headcounts:
    fnal: 0
    peec: 0
    rgdu: 0
    overtime_deduction: 0
    forfait_social: 0
    reference: "CSS L130-1 III"
  atmp_rate:
    2025-01-01: 0.0208
  vm_rate: {{}}
  pas_default_rate: 0
invoicing:
  prefix: FAC
  credit_note_prefix: AV
  payment_terms_days: 30
  late_payment_rate: "trois fois le taux d'intérêt légal en vigueur (art. L441-10 du Code de commerce)"
  recovery_indemnity: 40.00
  iban: "FR76 3000 6000 0112 3456 7890 189"
  bic: "AGRIFRPP"
  email: "contact@groupement.example"
"""


def working_days(month: str) -> list[dt.date]:
    """Weekdays of the month that are not fixed public holidays."""
    parsed = Month.parse(month)
    year, mon = parsed.year, parsed.number
    days = []
    for day_number in range(1, calendar.monthrange(year, mon)[1] + 1):
        day = dt.date(year, mon, day_number)
        if day.weekday() < 5 and (mon, day_number) not in HOLIDAYS:
            days.append(day)
    return days


def timesheet(month: str, employees: list[_Employee], seed: int) -> str:
    """A month of hours: each employee's day cut into half hours, each given to a member of their
    portfolio (or internal time, 5 %), then summed per member and service."""
    rng = random.Random(f"eage-bench-{seed}-{month}")
    rows = ["date,employee,member,service,hours,note"]
    for day in working_days(month):
        iso = day.isoformat()
        for emp in employees:
            slots: dict[tuple[str, str], int] = {}
            picks = rng.choices(emp.portfolio, weights=emp.weights, k=int(emp.weekly_hours * 2 / 5))
            for member in picks:
                service = emp.services[0] if len(emp.services) == 1 or rng.random() < 0.7 else emp.services[1]
                key = ("" if rng.random() < 0.05 else member, service)
                slots[key] = slots.get(key, 0) + 1
            for (member, service), count in sorted(slots.items()):
                note = "suivi" if member else "réunion d'équipe"
                rows.append(f"{iso},{emp.id},{member},{service},{Decimal(count) / 2:.2f},{note}")
    return "\n".join(rows) + "\n"


def _entries(spec: Spec, months: list[str]) -> str:
    scale = max(Decimal(1), Decimal(spec.members) / 14)
    out = [
        ";; Synthetic running costs (benchmarks/generate.py).",
        'option "name_assets" "Actif"',
        'option "name_liabilities" "Passif"',
        'option "name_equity" "Capitaux"',
        'option "name_income" "Produits"',
        'option "name_expenses" "Charges"',
        "",
    ]
    for month in months:
        day = f"{month}-05"
        for account, amount, label, payee in RUNNING_COSTS:
            out += [
                f'{day} * "{payee}" "{label} {month}"',
                f"  {account}  {Decimal(amount) * scale:.2f} EUR",
                f"  {BANK}",
                "",
            ]
    return "\n".join(out)


def _opening(spec: Spec) -> str:
    cash = Decimal(40000) * max(1, spec.members // 14)
    return (
        (SKELETON / "ledger" / "opening.beancount").read_text(encoding="utf-8")
        + f"""
{FIRST_MONTH}-01 * "À-nouveaux"
  kind: "opening"
  {BANK}  {cash:.2f} EUR
  Capitaux:10-Fonds-propres:102-Fonds-associatifs  -{cash:.2f} EUR
"""
    )


def placeholder_pdf(label: str) -> bytes:
    """A tiny valid one-page PDF, marked as a synthetic placeholder, standing in for ``label``."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n" + PLACEHOLDER_NOTE + b"% " + label.encode() + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# Budget rubrics over the chart: (rubric key, rubric label, line label, account prefix). The running costs'
# lines are budgeted from RUNNING_COSTS (same prefix: the PCG number of the account), personnel lines as
# shares of the gross payroll (the shares a year of the synthetic history shows).
BUDGET_PAYROLL_SHARES = (
    ("remunerations", "Rémunérations", "Salaires", "Charges:64-Personnel:641", "1"),
    ("charges_sociales", "Charges sociales", "Cotisations sociales", "Charges:64-Personnel:645", "0.326"),
    ("impots_taxes", "Impôts et taxes", "Taxe sur les salaires", "Charges:63-Impots-taxes:631", "0.097"),
    ("impots_taxes", "Impôts et taxes", "Formation continue", "Charges:63-Impots-taxes:633", "0.010"),
)
BUDGET_ORDER = ("achats", "charges_externes", "remunerations", "charges_sociales", "impots_taxes")
BUDGET_RUBRICS = {
    "60": ("achats", "Achats"),
    "61": ("charges_externes", "Charges externes"),
    "62": ("charges_externes", "Charges externes"),
    "647": ("charges_sociales", "Charges sociales"),
}


def _eur(value: Decimal) -> Decimal:
    """A budget amount: rounded to ten euros, written with cents."""
    return ((value / 10).quantize(Decimal(1)) * 10).quantize(Decimal("0.01"))


def planned_hours(spec: Spec, employees: list[_Employee], year: int) -> dict[str, dict[str, int]]:
    """Expected hours of ``year`` by member and service under :func:`timesheet`'s model (whole hours):
    each working day, an employee gives ``int(weekly_hours * 2 / 5)`` half hours to members drawn by
    weight (5 % internal), to the primary service (or 70/30 between the two services)."""
    days = sum(len(working_days(f"{year:04d}-{month:02d}")) for month in range(1, 13))
    expected: dict[str, dict[str, Fraction]] = {}
    for emp in employees:
        day_hours = Fraction(int(emp.weekly_hours * 2 / 5), 2) * days * Fraction(95, 100)
        shares = [(emp.services[0], Fraction(1))]
        if len(emp.services) > 1:
            shares = [(emp.services[0], Fraction(7, 10)), (emp.services[1], Fraction(3, 10))]
        total_weight = sum(emp.weights)
        for member, weight in zip(emp.portfolio, emp.weights, strict=True):
            for service, share in shares:
                by_service = expected.setdefault(member, {})
                by_service[service] = by_service.get(service, Fraction(0)) + (
                    day_hours * Fraction(weight, total_weight) * share
                )
    return {
        member: {s: round(expected[member][s]) for s in SERVICES if round(expected[member].get(s, 0)) > 0}
        for member in sorted(expected)
    }


def budget_yaml(spec: Spec, employees: list[_Employee], year: int) -> str:
    """``rules/budget/YYYY.yaml``: rubrics over the chart's account prefixes, amounts scaled to the group
    (running costs, payroll of the staff, billing at cost), planned hours from the timesheet model."""
    rng = random.Random(f"eage-bench-budget-{spec.seed}-{year}")
    scale = max(Decimal(1), Decimal(spec.members) / 14)
    payroll = sum((emp.gross for emp in employees), Decimal(0)) * 12
    charges: dict[str, tuple[str, list[tuple[str, str, Decimal]]]] = {}

    def add(key: str, rubric: str, label: str, prefix: str, amount: Decimal) -> None:
        factor = Decimal(rng.randrange(970, 1050)) / 1000  # the board's estimate, a little off
        charges.setdefault(key, (rubric, []))[1].append((label, prefix, _eur(amount * factor)))

    for account, amount, label, _ in sorted(RUNNING_COSTS):
        parent, last = account.rsplit(":", 1)
        number = last.split("-", 1)[0]
        key, rubric = next(BUDGET_RUBRICS[n] for n in (number[:3], number[:2]) if n in BUDGET_RUBRICS)
        add(key, rubric, label, f"{parent}:{number}", Decimal(amount) * scale * 12)
    for key, rubric, label, prefix, share in BUDGET_PAYROLL_SHARES:
        add(key, rubric, label, prefix, payroll * Decimal(share))
    total = sum((budgeted for _, lines in charges.values() for _, _, budgeted in lines), Decimal(0))
    fees = min(payroll / 100, Decimal(5000) * spec.members)
    rows = [
        f"# Synthetic budget {year} (benchmarks/generate.py, seed {spec.seed}): rubrics over the chart's",
        "# account prefixes, yearly amounts phased evenly; hours: the timesheet model's expectation.",
        f"year: {year}",
        f"title: {_q(f'Budget prévisionnel {year}')}",
        "",
        "charges:",
    ]
    for key in BUDGET_ORDER:
        rubric, lines = charges[key]
        rows += [f"  {key}:", f"    label: {_q(rubric)}", "    lines:"]
        for label, prefix, budgeted in sorted(lines, key=lambda line: line[1]):
            rows += [f"      - label: {_q(label)}", f'        accounts: ["{prefix}"]']
            rows.append(f"        fonctionnement: {budgeted}")
    rows += [
        "  autres_charges:",
        '    label: "Autres charges"',
        "    lines:",
        '      - label: "Charges financières et exceptionnelles"',
        '        accounts: ["Charges:66", "Charges:67"]',
        "        fonctionnement: 0",
        "",
        "produits:",
        "  chiffre_affaires:",
        '    label: "Chiffre d\'affaires"',
        "    lines:",
        '      - label: "Mise à disposition de personnel (refacturation au coût)"',
        '        accounts: ["Produits:70-Ventes:7084"]',
        f"        fonctionnement: {_eur(total)}",
        "  autres_produits:",
        '    label: "Autres produits"',
        "    lines:",
        '      - label: "Cotisations des membres"',
        '        accounts: ["Produits:75-Autres-produits:756"]',
        f"        fonctionnement: {_eur(fees)}",
        "",
        "hours:",
    ]
    for member, by_service in planned_hours(spec, employees, year).items():
        rows.append(f"  {member}:")
        rows += [f"    {service}: {hours}" for service, hours in by_service.items()]
    return "\n".join(rows) + "\n"


def write_rules(root: Path, spec: Spec) -> list[_Employee]:
    """``rules/``: the law copied from the repository, the group, members and staff generated."""
    rng = random.Random(f"eage-bench-{spec.seed}")
    rules = root / "rules"
    rules.mkdir(parents=True)
    for name in LAW_FILES:
        source = REPO / "rules" / name
        if source.is_dir():
            shutil.copytree(source, rules / name)
        else:
            shutil.copyfile(source, rules / name)
    members_text, member_ids = _members_yaml(spec, rng)
    staff_text, employees = _staff_yaml(spec, rng, member_ids)
    (rules / "group.yaml").write_text(_group_yaml(spec, rng), encoding="utf-8")
    (rules / "members.yaml").write_text(members_text, encoding="utf-8")
    (rules / "staff.yaml").write_text(staff_text, encoding="utf-8")
    (rules / "dsn.yaml").write_text(_dsn_yaml(rules / "group.yaml", employees), encoding="utf-8")
    return employees


def _dsn_yaml(group_path: Path, employees: list[_Employee]) -> str:
    """``rules/dsn.yaml``: the demo's organisations and insurance contracts, the group's NIC, and for each
    employee a fictitious identity (a NIR with its key, born in the Loire in 1980 + index % 20)."""
    from eage.payroll.dsn.identifiers import nir_key

    siret = re.search(r'siret: "(\d{14})"', group_path.read_text(encoding="utf-8"))
    assert siret is not None
    demo = (REPO / "rules" / "dsn.yaml").read_text(encoding="utf-8")
    head = demo[: demo.index("\nemployees:")]
    head = re.sub(r'^nic: "\d{5}".*$', f'nic: "{siret.group(1)[9:]}"', head, flags=re.MULTILINE)
    rows = [head, "", "employees:"]
    for index, employee in enumerate(employees):
        year, month = 80 + index % 20, index % 12 + 1
        body = f"{1 + index % 2}{year:02d}{month:02d}42218{index % 999 + 1:03d}"
        rows += [
            f"  {employee.id}:",
            f'    nir: "{body}{nir_key(body):02d}"',
            f'    family_name: "Synthetique {employee.id}"',
            '    first_names: "Camille"',
            f'    sex: "{1 + index % 2:02d}"',
            f"    birth_date: 19{year:02d}-{month:02d}-15",
            '    birth_place: "Saint-Etienne"',
            '    birth_department: "42"',
            '    address: {street: "1 rue de la Paix", postcode: "42000", city: "Saint-Etienne"}',
            '    pcs_ese: "543a"',
            f'    contract_number: "CDI{index + 1:05d}"',
            '    conventional_status: "06"',
            '    multiple_employers: "01"',
        ]
    return "\n".join(rows) + "\n"


def write_inputs(root: Path, spec: Spec) -> None:
    """Rules, ledger skeleton, running costs and timesheets (history + benchmarked month)."""
    employees = write_rules(root, spec)
    ledger = root / "ledger"
    (ledger / "timesheets").mkdir(parents=True)
    (root / "reports").mkdir()
    title = f"Groupement synthétique {spec.members}x{spec.staff}"
    for name in ("main.beancount", "accounts.beancount"):
        text = (SKELETON / "ledger" / name).read_text(encoding="utf-8")
        (ledger / name).write_text(text.replace("GROUP_NAME", title), encoding="utf-8")
    months = [*spec.history, spec.bench_month]
    (ledger / "opening.beancount").write_text(_opening(spec), encoding="utf-8")
    (ledger / "entries.beancount").write_text(_entries(spec, months), encoding="utf-8")
    for month in months:
        (ledger / "timesheets" / f"{month}.csv").write_text(
            timesheet(month, employees, spec.seed), encoding="utf-8"
        )
    write_budget(root, spec, employees)


def write_budget(root: Path, spec: Spec, employees: list[_Employee] | None = None) -> Path:
    """Write ``rules/budget/<budget_year>.yaml`` (``employees`` re-derived from the seed if not given:
    the staff is a pure function of the spec, so this also serves a group generated before)."""
    if employees is None:
        rng = random.Random(f"eage-bench-{spec.seed}")
        _, member_ids = _members_yaml(spec, rng)
        _, employees = _staff_yaml(spec, rng, member_ids)
    path = root / "rules" / "budget" / f"{spec.budget_year}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(budget_yaml(spec, employees, spec.budget_year), encoding="utf-8")
    return path


@contextlib.contextmanager
def _history_mode() -> Iterator[None]:
    """Skip plan_month's tamper check (it re-hashes every manifest file: quadratic over a history), and
    the fsync of each written file (a synthetic group needs no durability; thousands of fsyncs would
    make the generation wait on the disk)."""
    with (
        mock.patch("eage.app.inputs.tampered", lambda _root, _manifest: []),
        mock.patch("os.fsync", lambda _fd: None),
    ):
        yield


def _advance(ctx: Any, texts: dict[str, str]) -> Any:
    """The context with the month's new generated files appended to its in-memory ledger."""
    from beancount.core import data
    from beancount.parser import booking, parser

    from eage.app.inputs import after_commit
    from eage.ledger.load import Ledger

    old = ctx.ledger
    new: list[Any] = []
    for rel, text in sorted(texts.items()):
        filename = str(ctx.root / "ledger" / rel)
        parsed, errors, _ = parser.parse_string(text, report_filename=filename)
        if errors:
            raise RuntimeError(f"{rel}: {errors[0]}")
        new.extend(parsed)
    booked, errors = booking.book(new, old.options)  # type: ignore[no-untyped-call]
    if errors:
        raise RuntimeError(f"booking: {errors[0]}")
    ledger = Ledger(old.root, data.sorted(list(old.entries) + list(booked)), old.options)
    return after_commit(ctx, ledger)


def run_history(root: Path, spec: Spec, *, log: bool = False) -> None:
    """Run every history month with eage's batch (placeholders instead of rendered documents)."""
    from eage.app.commit import commit_plan, validate_plan
    from eage.app.inputs import load_inputs, with_months
    from eage.app.run import plan_month
    from eage.invoicing.build import pdf_relpath
    from eage.ledger.load import load_ledger

    ctx = load_inputs(root)
    members_loaded = False
    started = time.perf_counter()
    with _history_mode():
        for index, month in enumerate(spec.history):
            inputs = with_months(ctx, [Month.parse(month)])
            plan = plan_month(inputs, Month.parse(month))
            if spec.validate_each_month:
                validate_plan(inputs, plan)
            plan.documents = {pdf_relpath(inv): placeholder_pdf(inv.number) for inv in plan.invoices}
            commit_plan(inputs, plan)
            texts = dict(plan.files)
            if members_loaded:
                texts.pop("generated/members.beancount")
            members_loaded = True
            ctx = _advance(ctx, texts)
            if log and (index % 12 == 11 or index == len(spec.history) - 1):
                elapsed = time.perf_counter() - started
                print(f"  history {month}: {len(plan.invoices)} invoices ({elapsed:.0f} s)", flush=True)
    _, problems = load_ledger(root, allow_errors=True)
    if problems:
        raise RuntimeError(f"the generated ledger has {len(problems)} errors, first: {problems[0]}")


def generate(root: Path, spec: Spec, *, log: bool = False) -> Path:
    """Write the synthetic group into ``root`` (which must not exist) and run its history."""
    if root.exists():
        raise FileExistsError(f"{root} exists: the generator writes into a new folder only")
    write_inputs(root, spec)
    if spec.history:
        run_history(root, spec, log=log)
    return root


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate.py DIR --members N --staff S --years Y [--months M] [--seed K]``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument(
        "--months", type=int, default=None, help="history length in months (overrides --years)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-validate", action="store_true", help="skip validate_plan on history months")
    args = parser.parse_args(argv)
    spec = Spec(args.members, args.staff, args.years, args.seed, args.months, not args.no_validate)
    started = time.perf_counter()
    generate(args.root, spec, log=True)
    print(
        f"{args.root}: {len(spec.history)} months of history, next month {spec.bench_month} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
