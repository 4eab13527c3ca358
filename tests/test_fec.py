"""FEC export and check: small ledgers inline, the FEC read back field by field."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data
from hypothesis import given, settings
from hypothesis import strategies as st

from eage.app.fec import financial_year
from eage.cli import main
from eage.errors import InputError, Problem
from eage.fec import (
    FIELDS,
    JournalEntry,
    build_fec,
    check_fec,
    clean_text,
    encode_fec,
    fec_filename,
    letter_code,
)
from eage.ledger.journal import journal_entries, load_for_fec

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

SIREN = "732829320"
YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)

OPTIONS = """\
option "title" "EAGE"
option "name_assets" "Actif"
option "name_liabilities" "Passif"
option "name_equity" "Capitaux"
option "name_income" "Produits"
option "name_expenses" "Charges"
option "operating_currency" "EUR"
"""

OPENS = """\
2025-01-01 open Actif:41-Clients:411-baroufada EUR
  name: "La Baroufada"
2025-01-01 open Actif:41-Clients:411-fil EUR
2025-01-01 open Actif:51-Banque:512-Credit-Cooperatif EUR
2025-01-01 open Passif:42-Personnel:421-Remunerations-dues EUR
  name: "Rémunérations dues"
2025-01-01 open Passif:43-Organismes-sociaux:431-URSSAF EUR
2025-01-01 open Passif:44-Etat:44571-TVA-collectee EUR
2025-01-01 open Produits:70-Ventes:7084-Mise-a-disposition-personnel EUR
2025-01-01 open Produits:75-Autres:756-Cotisations EUR
2025-01-01 open Charges:64-Personnel:6411-Salaires EUR
2025-01-01 open Charges:64-Personnel:6451-Cotisations-URSSAF EUR
2025-01-01 open Charges:62-Services:626-Frais-postaux EUR
2025-01-01 open Capitaux:11-Report-a-nouveau:110-Report-a-nouveau EUR
"""

# A year of a small group: opening, payroll, invoices paid in full (two payments) or in part, a fee,
# a credit note, a true-up, bank fees without kind, a miscellaneous entry, and one 2025 entry left out.
LEDGER = """\
2025-12-15 * "Hors exercice"
  Actif:51-Banque:512-Credit-Cooperatif  10.00 EUR
  Capitaux:11-Report-a-nouveau:110-Report-a-nouveau  -10.00 EUR

2026-01-01 * "Reprise des soldes"
  kind: "opening"
  Actif:51-Banque:512-Credit-Cooperatif  1000.00 EUR
  Capitaux:11-Report-a-nouveau:110-Report-a-nouveau  -1000.00 EUR

2026-01-31 * "Paie de janvier, Alice"
  kind: "payroll"
  payslip: "PAY-2026-01-alice"
  Charges:64-Personnel:6411-Salaires  2000.00 EUR
  Passif:42-Personnel:421-Remunerations-dues  -1560.00 EUR
  Passif:43-Organismes-sociaux:431-URSSAF  -440.00 EUR
  Charges:64-Personnel:6451-Cotisations-URSSAF  800.00 EUR
  Passif:43-Organismes-sociaux:431-URSSAF  -800.00 EUR
  Charges:62-Services:626-Frais-postaux  0.00 EUR

2026-01-31 * "Mise à disposition, janvier" ^FAC-2026-0001
  kind: "invoice"
  invoice: "FAC-2026-0001"
  Actif:41-Clients:411-baroufada  1200.00 EUR
  Produits:70-Ventes:7084-Mise-a-disposition-personnel  -1000.00 EUR
  Passif:44-Etat:44571-TVA-collectee  -200.00 EUR

2026-02-10 * "La Baroufada" "Règlement partiel" ^FAC-2026-0001
  kind: "bank"
  bank_ref: "VIR-001"
  Actif:51-Banque:512-Credit-Cooperatif  700.00 EUR
  Actif:41-Clients:411-baroufada  -700.00 EUR

2026-02-20 * "Règlement du solde" ^FAC-2026-0001
  kind: "bank"
  Actif:51-Banque:512-Credit-Cooperatif  500.00 EUR
  Actif:41-Clients:411-baroufada  -500.00 EUR

2026-02-28 * "Mise à disposition, février" ^FAC-2026-0002
  kind: "invoice"
  invoice: "FAC-2026-0002"
  Actif:41-Clients:411-fil  600.00 EUR
  Produits:70-Ventes:7084-Mise-a-disposition-personnel  -600.00 EUR

2026-03-05 * "Acompte" ^FAC-2026-0002
  kind: "bank"
  bank_ref: "VIR-002"
  Actif:51-Banque:512-Credit-Cooperatif  100.00 EUR
  Actif:41-Clients:411-fil  -100.00 EUR

2026-03-10 * "Cotisation 2026" ^FAC-2026-0003
  kind: "fee"
  invoice: "FAC-2026-0003"
  Actif:41-Clients:411-fil  50.00 EUR
  Produits:75-Autres:756-Cotisations  -50.00 EUR

2026-03-12 * "Avoir" ^AV-2026-0001
  kind: "credit_note"
  invoice: "AV-2026-0001"
  Actif:41-Clients:411-fil  -30.00 EUR
  Produits:70-Ventes:7084-Mise-a-disposition-personnel  30.00 EUR

2026-03-12 * "Régularisation annuelle" ^FAC-2026-0004
  kind: "trueup"
  invoice: "FAC-2026-0004"
  Actif:41-Clients:411-fil  30.00 EUR
  Produits:70-Ventes:7084-Mise-a-disposition-personnel  -30.00 EUR

2026-03-15 * "Frais d'affranchissement"
  Charges:62-Services:626-Frais-postaux  12.50 EUR
  Actif:51-Banque:512-Credit-Cooperatif  -12.50 EUR

2026-03-16 * "Reclassement"
  Charges:62-Services:626-Frais-postaux  5.00 EUR
  Passif:42-Personnel:421-Remunerations-dues  -5.00 EUR

2026-03-16 * "Reclassement avec pièce"
  piece: "PJ-17"
  Charges:62-Services:626-Frais-postaux  3.00 EUR
  Passif:42-Personnel:421-Remunerations-dues  -3.00 EUR
"""

GROUP_YAML = f"""\
identity:
  name: "L'équipe associée"
  legal_form: Association loi 1901
  siren: "{SIREN}"
  address:
    line1: 1 rue de la Coopération
    postcode: "42000"
    city: Saint-Étienne
employer:
  profile: association
  headcount: 3
  atmp_rate:
    2026-01-01: 0.01
invoicing:
  iban: FR7630006000011234567890189
  bic: AGRIFRPP
"""


def make_root(root: Path, ledger: str = LEDGER, opens: str = OPENS) -> Path:
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "ledger").mkdir(parents=True, exist_ok=True)
    (root / "rules" / "group.yaml").write_text(GROUP_YAML, encoding="utf-8")
    (root / "ledger" / "main.beancount").write_text(OPTIONS + "\n" + opens + "\n" + ledger, encoding="utf-8")
    return root


def journal_of(root: Path) -> list[JournalEntry]:
    entries, options = load_for_fec(root / "ledger" / "main.beancount")
    return journal_entries(entries, options, start=YEAR_START, end=YEAR_END)


def fec_text(root: Path) -> str:
    return build_fec(journal_of(root), YEAR_START, YEAR_END, validation_date=YEAR_END)


def rows_of(text: str) -> list[dict[str, str]]:
    lines = text.split("\r\n")
    assert lines[-1] == ""
    assert lines[0].split("\t") == list(FIELDS)
    return [dict(zip(FIELDS, line.split("\t"), strict=True)) for line in lines[1:-1]]


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


@pytest.fixture
def rows(root: Path) -> list[dict[str, str]]:
    return rows_of(fec_text(root))


def by_piece(rows: list[dict[str, str]], piece: str) -> list[dict[str, str]]:
    return [r for r in rows if r["PieceRef"] == piece]


# --- journal and fields ------------------------------------------------------------------------------


def test_journal_codes_and_piece_refs_by_kind(rows: list[dict[str, str]]) -> None:
    pieces: dict[str, tuple[str, str, str]] = {}
    for r in rows:
        pieces.setdefault(r["EcritureNum"], (r["JournalCode"], r["JournalLib"], r["PieceRef"]))
    assert list(pieces.values()) == [
        ("AN", "À-nouveaux", "AN-2026-01-01-1"),
        ("PA", "Paie", "PAY-2026-01-alice"),
        ("VE", "Ventes", "FAC-2026-0001"),
        ("BQ", "Banque", "VIR-001"),
        ("BQ", "Banque", "FAC-2026-0001"),  # a payment without bank_ref: the invoice it settles
        ("VE", "Ventes", "FAC-2026-0002"),
        ("BQ", "Banque", "VIR-002"),
        ("VE", "Ventes", "FAC-2026-0003"),
        ("VE", "Ventes", "AV-2026-0001"),
        ("VE", "Ventes", "FAC-2026-0004"),
        ("BQ", "Banque", "BQ-2026-03-15-1"),  # no kind but a 512 account
        ("OD", "Opérations diverses", "OD-2026-03-16-1"),
        ("OD", "Opérations diverses", "PJ-17"),
    ]


def test_out_of_year_entries_and_zero_postings_are_left_out(rows: list[dict[str, str]]) -> None:
    assert all(r["EcritureDate"].startswith("2026") for r in rows)
    assert not [r for r in rows if r["Debit"] == "0,00" and r["Credit"] == "0,00"]
    assert len(by_piece(rows, "PAY-2026-01-alice")) == 5


def test_account_numbers_and_labels(rows: list[dict[str, str]]) -> None:
    accounts = {r["CompteNum"]: r["CompteLib"] for r in rows}
    assert accounts["641100"] == "Salaires"
    assert accounts["421000"] == "Rémunérations dues"  # the open directive's name
    assert accounts["445710"] == "TVA collectee"  # else the account's own words
    assert accounts["512000"] == "Credit Cooperatif"
    assert accounts["708400"] == "Mise a disposition personnel"
    assert accounts["110000"] == "Report a nouveau"


def test_receivable_lines_use_the_auxiliary_account(rows: list[dict[str, str]]) -> None:
    receivables = [r for r in rows if r["CompteNum"] == "411000"]
    assert {(r["CompAuxNum"], r["CompAuxLib"], r["CompteLib"]) for r in receivables} == {
        ("baroufada", "La Baroufada", "Clients"),
        ("fil", "fil", "Clients"),  # no name metadata: the member id
    }
    assert all(r["CompAuxNum"] == "" and r["CompAuxLib"] == "" for r in rows if r["CompteNum"] != "411000")


def test_dates_amounts_and_labels(rows: list[dict[str, str]]) -> None:
    invoice = by_piece(rows, "FAC-2026-0001")[0]
    assert invoice["EcritureDate"] == invoice["PieceDate"] == "20260131"
    assert invoice["ValidDate"] == "20261231"
    assert invoice["Debit"] == "1200,00"
    assert invoice["Credit"] == "0,00"
    assert invoice["EcritureLib"] == "Mise à disposition, janvier"
    assert invoice["Montantdevise"] == invoice["Idevise"] == ""
    assert by_piece(rows, "VIR-001")[0]["EcritureLib"] == "La Baroufada - Règlement partiel"


def test_numbering_is_continuous_from_one(rows: list[dict[str, str]]) -> None:
    numbers = [int(r["EcritureNum"]) for r in rows]
    assert numbers == sorted(numbers)
    assert sorted(set(numbers)) == list(range(1, 14))
    dates = [r["EcritureDate"] for r in rows]
    assert dates == sorted(dates)


def test_totals_equal_the_ledger_postings(root: Path, rows: list[dict[str, str]]) -> None:
    entries, _ = load_for_fec(root / "ledger" / "main.beancount")
    numbers = [
        p.units.number
        for e in entries
        if isinstance(e, data.Transaction) and e.date.year == 2026
        for p in e.postings
        if p.units is not None and p.units.number is not None
    ]
    positive = sum((n for n in numbers if n > 0), Decimal(0))
    negative = -sum((n for n in numbers if n < 0), Decimal(0))
    assert sum(amount(r["Debit"]) for r in rows) == positive == negative
    assert sum(amount(r["Credit"]) for r in rows) == negative


def test_each_entry_balances_and_each_line_has_one_side(rows: list[dict[str, str]]) -> None:
    totals: dict[str, Decimal] = {}
    for r in rows:
        assert amount(r["Debit"]) == 0 or amount(r["Credit"]) == 0
        totals[r["EcritureNum"]] = (
            totals.get(r["EcritureNum"], Decimal(0)) + amount(r["Debit"]) - amount(r["Credit"])
        )
    assert set(totals.values()) == {Decimal(0)}


# --- lettering ---------------------------------------------------------------------------------------


def test_invoice_paid_in_two_payments_is_lettered(rows: list[dict[str, str]]) -> None:
    baroufada = [r for r in rows if r["CompAuxNum"] == "baroufada"]
    assert [(r["Debit"], r["Credit"]) for r in baroufada] == [
        ("1200,00", "0,00"),
        ("0,00", "700,00"),
        ("0,00", "500,00"),
    ]
    assert {(r["EcritureLet"], r["DateLet"]) for r in baroufada} == {("AA", "20260220")}
    # Lettering is for the receivable only: the bank and sales lines of those entries stay blank.
    assert all(r["EcritureLet"] == "" for r in rows if r["CompAuxNum"] != "baroufada")


def test_partial_payment_is_not_lettered(rows: list[dict[str, str]]) -> None:
    fil = [r for r in rows if r["CompAuxNum"] == "fil"]
    assert len(fil) == 5
    assert all(r["EcritureLet"] == "" and r["DateLet"] == "" for r in fil)


def test_letter_codes_per_auxiliary_account(tmp_path: Path) -> None:
    ledger = ""
    for n, member in [(1, "fil"), (2, "baroufada"), (3, "fil")]:
        ref = f"FAC-2026-000{n}"
        ledger += textwrap.dedent(f"""
            2026-0{n}-01 * "Facture" ^{ref}
              kind: "invoice"
              invoice: "{ref}"
              Actif:41-Clients:411-{member}  10.00 EUR
              Produits:70-Ventes:7084-Mise-a-disposition-personnel  -10.00 EUR

            2026-0{n}-15 * "Paiement" ^{ref}
              kind: "bank"
              Actif:51-Banque:512-Credit-Cooperatif  10.00 EUR
              Actif:41-Clients:411-{member}  -10.00 EUR
            """)
    rows = rows_of(fec_text(make_root(tmp_path, ledger)))
    letters = [(r["CompAuxNum"], r["EcritureLet"], r["DateLet"]) for r in rows if r["CompAuxNum"]]
    assert letters == [
        ("fil", "AA", "20260115"),
        ("fil", "AA", "20260115"),
        ("baroufada", "AA", "20260215"),
        ("baroufada", "AA", "20260215"),
        ("fil", "AB", "20260315"),
        ("fil", "AB", "20260315"),
    ]
    assert [letter_code(n) for n in (0, 1, 25, 26, 675, 676)] == ["AA", "AB", "AZ", "BA", "ZZ", "AAA"]


# --- encoding ----------------------------------------------------------------------------------------


def test_file_is_iso_8859_15_with_accents_and_euro(tmp_path: Path) -> None:
    ledger = """\
2026-04-30 * "Net à payer — avril 2026 : 1 560 €, « salaire »"
  kind: "payroll"
  payslip: "PAY-2026-04-zoé"
  Charges:64-Personnel:6411-Salaires  1560.00 EUR
  Passif:42-Personnel:421-Remunerations-dues  -1560.00 EUR
"""
    raw = encode_fec(fec_text(make_root(tmp_path, ledger)))
    assert "Rémunérations dues".encode("iso-8859-15") in raw
    assert b"\xa4" in raw  # the euro sign, at its ISO-8859-15 place
    text = raw.decode("iso-8859-15")
    assert "Net à payer - avril 2026 : 1 560 €, « salaire »" in text  # em dash transliterated
    assert "PAY-2026-04-zoé" in text


def test_clean_text_transliterates_what_latin9_lacks() -> None:
    assert clean_text("L’équipe “associée”") == 'L\'équipe "associée"'
    assert clean_text("Łódź\tfin\n") == "Lódz fin"  # ó is in ISO-8859-15, ź decomposes, Ł is mapped
    assert clean_text("Erdős… ★") == "Erdos... ?"
    assert clean_text("œuvre Œ Ÿ €") == "œuvre Œ Ÿ €"
    assert clean_text("1\u202f234") == "1 234"  # narrow no-break space, French thousands


# --- check_fec ---------------------------------------------------------------------------------------


@pytest.fixture
def good_file(root: Path, tmp_path: Path) -> Path:
    path = tmp_path / fec_filename(SIREN, YEAR_END)
    path.write_bytes(encode_fec(fec_text(root)))
    return path


def broken_copy(good: Path, change: dict[int, str]) -> Path:
    """A copy of ``good`` (same file name, other folder) with some lines (1-based) replaced."""
    lines = good.read_bytes().decode("iso-8859-15").split("\r\n")
    for number, line in change.items():
        lines[number - 1] = line
    folder = good.parent / "broken"
    folder.mkdir(exist_ok=True)
    path = folder / good.name
    path.write_bytes("\r\n".join(lines).encode("iso-8859-15"))
    return path


def fields_of(path: Path, number: int) -> list[str]:
    return path.read_bytes().decode("iso-8859-15").split("\r\n")[number - 1].split("\t")


def set_field(good: Path, number: int, name: str, value: str) -> Path:
    fields = fields_of(good, number)
    fields[FIELDS.index(name)] = value
    return broken_copy(good, {number: "\t".join(fields)})


def faults(problems: list[Problem]) -> set[tuple[int | None, str | None]]:
    return {(p.line, p.key) for p in problems}


def test_check_accepts_the_generated_file(good_file: Path) -> None:
    assert check_fec(good_file) == []


def test_check_names_a_wrong_header(good_file: Path) -> None:
    header = "\t".join(FIELDS).replace("EcritureLib", "EcritureLibelle")
    problems = check_fec(broken_copy(good_file, {1: header}))
    assert faults(problems) == {(1, "header")}
    assert "'EcritureLibelle', 'EcritureLib' expected" in problems[0].message
    assert problems[0].fix and "JournalCode JournalLib" in problems[0].fix


def test_check_names_a_line_with_17_fields(good_file: Path) -> None:
    short = "\t".join(fields_of(good_file, 3)[:17])
    problems = check_fec(broken_copy(good_file, {3: short}))
    assert (3, None) in faults(problems)
    assert any(p.line == 3 and "17 fields, 18 expected" in p.message for p in problems)


def test_check_names_a_bad_date(good_file: Path) -> None:
    problems = check_fec(set_field(good_file, 2, "EcritureDate", "20261332"))
    assert (2, "EcritureDate") in faults(problems)
    assert any("'20261332' is not a valid date AAAAMMJJ" in p.message for p in problems)


def test_check_names_a_bad_amount(good_file: Path) -> None:
    row = 4  # the first payroll line, a debit
    assert fields_of(good_file, row)[FIELDS.index("Debit")] == "2000,00"
    problems = check_fec(set_field(good_file, row, "Debit", "2 000.00"))
    assert (row, "Debit") in faults(problems)
    assert any("'2 000.00' is not an amount" in p.message for p in problems)


def test_check_names_an_unbalanced_entry(good_file: Path) -> None:
    problems = check_fec(set_field(good_file, 4, "Debit", "2000,01"))
    assert (4, "Debit/Credit") in faults(problems)  # reported on the entry's first line
    assert any(p.message == "entry 2 is unbalanced: debit 2800,01, credit 2800,00" for p in problems)
    assert any(p.line is None and "the file is unbalanced" in p.message for p in problems)


def test_check_names_a_gap_in_numbering(good_file: Path) -> None:
    text = good_file.read_bytes().decode("iso-8859-15")
    lines = text.split("\r\n")
    renumbered = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split("\t")
        if number > 1 and len(fields) == 18 and int(fields[2]) >= 5:
            fields[2] = str(int(fields[2]) + 1)
            renumbered[number] = "\t".join(fields)
    problems = check_fec(broken_copy(good_file, renumbered))
    first_of_six = min(renumbered)
    assert faults(problems) == {(first_of_six, "EcritureNum")}
    assert problems[0].message == "numbering jumps from 4 to 6 (missing 5)"


def test_check_names_a_line_with_debit_and_credit(good_file: Path) -> None:
    problems = check_fec(set_field(good_file, 2, "Credit", "1000,00"))
    assert any(p.line == 2 and p.message == "both Debit and Credit are non-zero" for p in problems)


def test_check_names_utf8_encoding_and_bad_file_name(good_file: Path) -> None:
    path = good_file.parent / "fec-utf8.txt"
    path.write_bytes(good_file.read_bytes().decode("iso-8859-15").encode("utf-8"))
    problems = check_fec(path)
    assert any("encoded in UTF-8" in p.message for p in problems)
    assert any(p.key == "file name" for p in problems)


def test_check_names_windows_1252_bytes(good_file: Path) -> None:
    path = broken_copy(good_file, {})
    path.write_bytes(path.read_bytes().replace(b"Paie de janvier", b"Paie \x80 janvier"))
    problems = check_fec(path)
    assert {p.line for p in problems} == {4, 5, 6, 7, 8}
    assert "byte 0x80 is a control character" in problems[0].message


def test_check_names_entries_outside_the_year(good_file: Path) -> None:
    renamed = good_file.parent / fec_filename(SIREN, dt.date(2025, 12, 31))
    renamed.write_bytes(good_file.read_bytes())
    problems = check_fec(renamed)
    assert problems
    assert {p.key for p in problems} == {"EcritureDate"}


# --- errors from the ledger ---------------------------------------------------------------------------


def test_foreign_currency_is_an_input_error_with_its_location(tmp_path: Path) -> None:
    ledger = """\
2026-05-02 * "Achat en dollars"
  Charges:62-Services:626-Frais-postaux  10.00 USD
  Actif:51-Banque:512-Credit-Cooperatif  -10.00 USD
"""
    root = make_root(tmp_path, ledger, OPENS.replace(" EUR\n", "\n"))
    with pytest.raises(InputError) as caught:
        journal_of(root)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line) == ("ledger/main.beancount", 24)
    assert "USD" in problem.message


def test_account_without_pcg_number_is_an_input_error(tmp_path: Path) -> None:
    ledger = """\
2026-05-02 * "Compte sans numéro"
  Charges:Divers  10.00 EUR
  Actif:51-Banque:512-Credit-Cooperatif  -10.00 EUR
"""
    root = make_root(tmp_path, ledger, OPENS + "2025-01-01 open Charges:Divers EUR\n")
    with pytest.raises(InputError, match="Charges:Divers has no PCG number"):
        journal_of(root)


def test_loader_errors_are_listed_with_file_and_line(tmp_path: Path) -> None:
    root = make_root(
        tmp_path, '2026-05-02 * "Pas équilibrée"\n  Actif:51-Banque:512-Credit-Cooperatif  1 EUR\n'
    )
    with pytest.raises(InputError) as caught:
        journal_of(root)
    assert [(p.file, p.line) for p in caught.value.problems] == [("ledger/main.beancount", 24)]


# --- property ----------------------------------------------------------------------------------------

ACCOUNTS = [
    "Actif:41-Clients:411-baroufada",
    "Actif:41-Clients:411-fil",
    "Actif:51-Banque:512-Credit-Cooperatif",
    "Passif:42-Personnel:421-Remunerations-dues",
    "Passif:44-Etat:44571-TVA-collectee",
    "Produits:70-Ventes:7084-Mise-a-disposition-personnel",
    "Charges:64-Personnel:6411-Salaires",
    "Charges:62-Services:626-Frais-postaux",
]
KINDS = [None, "payroll", "invoice", "credit_note", "fee", "trueup", "bank", "opening"]


@st.composite
def transactions(draw: st.DrawFn) -> str:
    day = YEAR_START + dt.timedelta(days=draw(st.integers(0, 364)))
    kind = draw(st.sampled_from(KINDS))
    link = draw(st.sampled_from([None, "FAC-2026-0001", "FAC-2026-0002"]))
    label = draw(st.text(alphabet="abcdeéèàçœ€’ł -", max_size=20))
    cents = draw(st.lists(st.integers(-(10**8), 10**8).filter(bool), min_size=1, max_size=4))
    accounts = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=len(cents) + 1, max_size=len(cents) + 1))
    lines = [f'{day} * "{label}"' + (f" ^{link}" if link else "")]
    if kind:
        lines.append(f'  kind: "{kind}"')
    if kind in ("invoice", "credit_note", "fee", "trueup") and link:
        lines.append(f'  invoice: "{link}"')
    for account, amount_cents in zip(accounts, [*cents, -sum(cents)], strict=True):
        lines.append(f"  {account}  {Decimal(amount_cents) / 100:.2f} EUR")
    return "\n".join(lines) + "\n"


@settings(max_examples=30, deadline=None)
@given(st.lists(transactions(), max_size=12))
def test_random_balanced_ledgers_give_a_valid_fec(ledger: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = make_root(Path(folder), "\n".join(ledger))
        journal = journal_of(root)
        path = Path(folder) / fec_filename(SIREN, YEAR_END)
        path.write_bytes(encode_fec(build_fec(journal, YEAR_START, YEAR_END, YEAR_END)))
        assert check_fec(path) == []
        rows = rows_of(path.read_bytes().decode("iso-8859-15"))
        posted = [
            Decimal(line.split()[1]) for text in ledger for line in text.splitlines() if line.endswith(" EUR")
        ]
        assert sum(amount(r["Debit"]) for r in rows) == sum((n for n in posted if n > 0), Decimal(0))
        assert sum(amount(r["Credit"]) for r in rows) == -sum((n for n in posted if n < 0), Decimal(0))
        assert len({r["EcritureNum"] for r in rows}) == len(ledger)
        lettered: dict[tuple[str, str], Decimal] = {}
        for r in rows:
            assert bool(r["EcritureLet"]) == bool(r["DateLet"])
            if r["EcritureLet"]:
                key = (r["CompAuxNum"], r["EcritureLet"])
                lettered[key] = lettered.get(key, Decimal(0)) + amount(r["Debit"]) - amount(r["Credit"])
        assert set(lettered.values()) <= {Decimal(0)}


# --- command line ------------------------------------------------------------------------------------


def test_cli_writes_the_fec_and_prints_a_summary(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fec", "--root", str(root), "2026"]) == 0
    target = root / "reports" / "fec" / f"{SIREN}FEC20261231.txt"
    assert target.is_file()
    assert os.listdir(target.parent) == [target.name]  # no temporary file left behind
    out = capsys.readouterr().out
    assert f"reports/fec/{SIREN}FEC20261231.txt: 30 lines, 13 entries" in out
    assert "total debit 7\u202f030,50 EUR, total credit 7\u202f030,50 EUR" in out
    assert check_fec(target) == []


def test_cli_check_accepts_a_good_file_and_rejects_a_broken_one(
    good_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fec", "--check", str(good_file)]) == 0
    assert "OK" in capsys.readouterr().out
    broken = set_field(good_file, 2, "EcritureDate", "2026-01-01")
    assert main(["fec", "--check", str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:2 [EcritureDate]: '2026-01-01' is not a valid date AAAAMMJJ" in out


def test_cli_input_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fec", "--root", str(tmp_path), "2026"]) == 1
    assert "group.yaml: file not found" in capsys.readouterr().err
    root = make_root(tmp_path, '2026-05-02 * "x"\n  Actif:51-Banque:512-Credit-Cooperatif  1 EUR\n')
    assert main(["fec", "--root", str(root), "2026"]) == 1
    assert "ledger/main.beancount:24" in capsys.readouterr().err
    assert not (root / "reports" / "fec").exists()
    assert main(["fec", "--check", str(tmp_path / "missing.txt")]) == 1


def test_financial_year_closes_in_the_given_year() -> None:
    assert financial_year(2026, 1) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert financial_year(2026, 7) == (dt.date(2025, 7, 1), dt.date(2026, 6, 30))


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert main(["fec", "--root", str(tmp_path)]) == 2
    assert main(["fec", "--root", str(tmp_path), "26"]) == 2
    assert main(["fec", "--root", str(tmp_path), "2026", "--check", "x.txt"]) == 2
