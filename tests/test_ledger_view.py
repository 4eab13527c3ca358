"""The typed read model (eage.ledger.view): a small ledger inline, then the values the view gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from eage.errors import InputError
from eage.ledger.load import Ledger, load_ledger
from eage.ledger.view import (
    CostLine,
    DocumentLine,
    LedgerOptions,
    LedgerView,
    Payment,
    PaymentPosting,
    receivable_account,
)

LEDGER = """\
option "title" "GE test"
option "operating_currency" "EUR"
option "name_assets" "Actif"
option "name_liabilities" "Passif"
option "name_equity" "Capitaux"
option "name_income" "Produits"
option "name_expenses" "Charges"

2026-01-01 open Actif:41-Clients:411-1dlab EUR
  name: "1Dlab"
2026-01-01 open Actif:51-Banque:512-Credit-Cooperatif EUR
2026-01-01 open Produits:70-Ventes:7084-Mise-a-disposition-personnel EUR
2026-01-01 open Charges:61-Services-exterieurs:6132-Locations-immobilieres
2026-01-01 open Passif:47-Attente:471-Compte-attente EUR

2026-01-05 * "Bailleur" "Loyer 01/2026"
  Charges:61-Services-exterieurs:6132-Locations-immobilieres  100.00 EUR
  Actif:51-Banque:512-Credit-Cooperatif

2026-01-31 * "1Dlab" "Facture FAC-2026-0001 — janvier 2026" ^FAC-2026-0001
  kind: "invoice"
  invoice: "FAC-2026-0001"
  member: "1dlab"
  period: "2026-01"
  net: "100.00"
  vat: "0.00"
  total: "100.00"
  due: 2026-02-28
  pdf: "reports/invoices/2026/FAC-2026-0001-1dlab.pdf"
  vat_category: "E"
  vat_rate: "0"
  Actif:41-Clients:411-1dlab  100.00 EUR
  Produits:70-Ventes:7084-Mise-a-disposition-personnel  -100.00 EUR
    service: "overhead"
    hours: "10.00"
    label: "Frais de fonctionnement mutualisés"
    price: "10.00"

2026-02-10 * "1Dlab" "Virement" ^FAC-2026-0001
  kind: "bank"
  bank_ref: "B-1"
  source: "releve.csv:2"
  Actif:51-Banque:512-Credit-Cooperatif  60.00 EUR
  Actif:41-Clients:411-1dlab  -60.00 EUR
    invoice: "FAC-2026-0001"

2026-02-15 * "AV" "Avoir AV-2026-0001 — janvier 2026" ^AV-2026-0001 ^FAC-2026-0001
  kind: "credit_note"
  invoice: "AV-2026-0001"
  member: "1dlab"
  period: "2026-01"
  refers_to: "FAC-2026-0001"
  reason: "erreur"
  net: "-40.00"
  vat: "0.00"
  total: "-40.00"
  Actif:41-Clients:411-1dlab  -40.00 EUR
  Produits:70-Ventes:7084-Mise-a-disposition-personnel  40.00 EUR
    service: "overhead"

2026-02-20 ! "?" "Inconnu"
  source: "releve.csv:3"
  Actif:51-Banque:512-Credit-Cooperatif  5.00 EUR
  Passif:47-Attente:471-Compte-attente  -5.00 EUR
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "main.beancount").write_text(LEDGER, encoding="utf-8")
    loaded, problems = load_ledger(tmp_path)
    assert problems == []
    return loaded


def test_the_ledger_is_a_view(ledger: Ledger) -> None:
    view: LedgerView = ledger
    assert view.root == ledger.root
    settings = view.settings
    assert isinstance(settings, LedgerOptions)
    assert (settings.name_expenses, settings.name_income, settings.title) == (
        "Charges",
        "Produits",
        "GE test",
    )
    assert settings.operating_currency == ("EUR",)
    assert settings.plugin_config("eage.plugins.invariants") == (False, None)


def test_costs_are_eur_lines(ledger: Ledger) -> None:
    costs = ledger.costs(dt.date(2026, 1, 1), dt.date(2026, 2, 1), "Charges")
    assert costs == [
        CostLine(
            dt.date(2026, 1, 5),
            "Charges:61-Services-exterieurs:6132-Locations-immobilieres",
            Decimal("100.00"),
            None,
            None,
            None,
            "ledger/main.beancount",
            costs[0].line,
        )
    ]


def test_a_cost_not_in_eur_is_located(tmp_path: Path) -> None:
    (tmp_path / "ledger").mkdir()
    text = LEDGER.replace(
        "  Charges:61-Services-exterieurs:6132-Locations-immobilieres  100.00 EUR\n"
        "  Actif:51-Banque:512-Credit-Cooperatif\n",
        "  Charges:61-Services-exterieurs:6132-Locations-immobilieres  100.00 USD\n"
        "  Actif:51-Banque:512-Credit-Cooperatif  -100.00 USD\n",
    )
    (tmp_path / "ledger" / "main.beancount").write_text(
        text.replace(
            "2026-01-01 open Actif:51-Banque:512-Credit-Cooperatif EUR",
            "2026-01-01 open Actif:51-Banque:512-Credit-Cooperatif",
        ),
        encoding="utf-8",
    )
    ledger, _ = load_ledger(tmp_path, allow_errors=True)
    with pytest.raises(InputError, match="cost in USD") as caught:
        ledger.costs(dt.date(2026, 1, 1), dt.date(2026, 2, 1), "Charges")
    assert caught.value.problems[0].file == "ledger/main.beancount"


def test_documents_record_what_a_credit_note_repeats(ledger: Ledger) -> None:
    invoice, credit = ledger.issued_documents()
    assert (invoice.number, invoice.kind, invoice.member, invoice.period) == (
        "FAC-2026-0001",
        "invoice",
        "1dlab",
        "2026-01",
    )
    assert (invoice.net, invoice.total, invoice.due) == (
        Decimal("100.00"),
        Decimal("100.00"),
        dt.date(2026, 2, 28),
    )
    assert (invoice.vat_category, invoice.vat_rate, invoice.purpose) == ("E", Decimal(0), "janvier 2026")
    assert invoice.links == ("FAC-2026-0001",)
    assert invoice.lines[1] == DocumentLine(
        "Produits:70-Ventes:7084-Mise-a-disposition-personnel",
        "overhead",
        Decimal("100.00"),
        Decimal("10.00"),
        "Frais de fonctionnement mutualisés",
        Decimal("10.00"),
    )
    assert (credit.refers_to, credit.reason, credit.total) == ("FAC-2026-0001", "erreur", Decimal("-40.00"))
    assert ledger.credit_notes_of() == {"FAC-2026-0001": (credit,)}


def test_payments_are_the_entries_linking_another_document(ledger: Ledger) -> None:
    payment, credit = ledger.payments()
    assert payment == Payment(
        dt.date(2026, 2, 10),
        None,
        ("FAC-2026-0001",),
        (
            PaymentPosting("Actif:51-Banque:512-Credit-Cooperatif", Decimal("60.00"), None),
            PaymentPosting("Actif:41-Clients:411-1dlab", Decimal("-60.00"), "FAC-2026-0001"),
        ),
        "ledger/main.beancount",
        payment.line,
    )
    assert (credit.own, credit.links) == ("AV-2026-0001", ("FAC-2026-0001",))
    assert ledger.bank_refs() == frozenset({"B-1"})


def test_postings_accounts_and_dates(ledger: Ledger) -> None:
    lines = ledger.postings(lambda account: account.startswith("Passif:47"))
    assert [(p.date, p.amount, p.source, p.narration) for p in lines] == [
        (dt.date(2026, 2, 20), Decimal("-5.00"), "releve.csv:3", "Inconnu")
    ]
    assert ledger.posting_dates("Charges") == frozenset({dt.date(2026, 1, 5)})
    assert ledger.date_range() == (dt.date(2026, 1, 5), dt.date(2026, 2, 20))
    assert "Actif:41-Clients:411-1dlab" in ledger.open_accounts()
    assert ledger.account_names() == {"Actif:41-Clients:411-1dlab": "1Dlab"}
    assert ledger.balance("Actif:41-Clients") == Decimal(0)


def test_one_name_for_a_members_receivable() -> None:
    assert receivable_account("Actif:41-Clients", "1dlab") == "Actif:41-Clients:411-1dlab"


def test_account_dates_and_count(ledger: Ledger) -> None:
    dates = ledger.account_dates()
    assert dates["Actif:41-Clients:411-1dlab"] == (dt.date(2026, 1, 1), None)
    assert ledger.entry_count() == len(ledger.entries)


def test_a_ledger_without_a_files_entries(tmp_path: Path) -> None:
    (tmp_path / "ledger").mkdir()
    head, _, tail = LEDGER.partition("2026-01-05 * ")
    (tmp_path / "ledger" / "main.beancount").write_text(head + 'include "rent.beancount"\n', encoding="utf-8")
    names = "".join(line + "\n" for line in head.splitlines() if line.startswith('option "name_'))
    rent = names + "2026-01-05 * " + tail.split("\n\n")[0] + "\n"
    (tmp_path / "ledger" / "rent.beancount").write_text(rent, encoding="utf-8")
    ledger, problems = load_ledger(tmp_path)
    assert problems == []
    assert len(ledger.costs(dt.date(2026, 1, 1), dt.date(2027, 1, 1), "Charges")) == 1
    kept = ledger.without_files([tmp_path / "ledger" / "." / "rent.beancount"])
    assert kept.costs(dt.date(2026, 1, 1), dt.date(2027, 1, 1), "Charges") == []
    assert kept.entry_count() == ledger.entry_count() - 1
