"""The eage Beancount plugin: each invariant broken in a small ledger written inline, as eage writes it.

Each test loads its ledger with Beancount's own loader (the plugin declared in it, as in main.beancount),
then expects the plugin's error on the entry at fault: its type, its words and its line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import copy_demo
from eage.allocation.core import FEE as ALLOCATION_FEE
from eage.invoicing import numbering
from eage.ledger.load import DOC_KINDS, load_ledger, validate_additions
from eage.plugins import invariants as plugin
from eage.plugins.invariants import (
    BillingError,
    ConfigError,
    CreditNoteError,
    DocumentError,
    NumberingError,
)
from eage.rules.bundle import load_rules

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

EAGE_ERRORS = (ConfigError, NumberingError, DocumentError, CreditNoteError, BillingError)
BEAN_CHECK = Path(sys.executable).with_name("bean-check")

CONFIG = "{'billing_mode': 'actual', 'excluded_accounts': ['Charges:67-Charges-exceptionnelles']}"

HEADER = """\
option "title" "GE test"
option "operating_currency" "EUR"
option "name_assets" "Actif"
option "name_liabilities" "Passif"
option "name_equity" "Capitaux"
option "name_income" "Produits"
option "name_expenses" "Charges"
plugin "eage.plugins.invariants" "{config}"

2026-01-01 open Actif:41-Clients:411-1dlab EUR
2026-01-01 open Actif:41-Clients:411-baroufada EUR
2026-01-01 open Actif:51-Banque:512-Credit-Cooperatif EUR
2026-01-01 open Passif:42-Personnel:421-Remunerations-dues EUR
2026-01-01 open Produits:70-Ventes:7084-Mise-a-disposition-personnel EUR
2026-01-01 open Produits:75-Autres-produits:756-Cotisations EUR
2026-01-01 open Charges:61-Services-exterieurs:6132-Locations-immobilieres EUR
2026-01-01 open Charges:64-Personnel:6411-Salaires EUR
2026-01-01 open Charges:67-Charges-exceptionnelles:671-Charges-exceptionnelles EUR

;; January's allocable cost: 100.00 of rent + 200.00 of payroll (the 45.00 of account 67 is excluded).
2026-01-05 * "Bailleur" "Loyer 01/2026"
  Charges:61-Services-exterieurs:6132-Locations-immobilieres  100.00 EUR
  Actif:51-Banque:512-Credit-Cooperatif

2026-01-20 * "Trésor public" "Pénalité"
  Charges:67-Charges-exceptionnelles:671-Charges-exceptionnelles  45.00 EUR
  Actif:51-Banque:512-Credit-Cooperatif

2026-01-31 * "Paie 2026-01 Claire Martin" ^PAY-2026-01-cmartin
  kind: "payroll"
  employee: "cmartin"
  Charges:64-Personnel:6411-Salaires  200.00 EUR
  Passif:42-Personnel:421-Remunerations-dues
"""

REVENUE = "Produits:70-Ventes:7084-Mise-a-disposition-personnel"
FEES = "Produits:75-Autres-produits:756-Cotisations"


def document(
    number: str,
    member: str = "1dlab",
    *,
    day: str = "2026-01-31",
    kind: str | None = None,
    period: str = "2026-01",
    amount: str = "180.00",
    refers_to: str | None = None,
    links: Sequence[str] = (),
    pdf: str | None = "",
    directive: str | None = "",
) -> str:
    """An invoice or credit note as :func:`eage.invoicing.build.invoice_entries` renders it.

    ``pdf=None`` leaves out the pdf metadata, ``directive=None`` the document directive; an empty string
    is the PDF eage would name.
    """
    credit = number.startswith("AV-")
    kind = kind or ("credit_note" if credit else "invoice")
    fee = kind == "fee"
    sign = "-" if credit else ""
    unsigned = "" if credit else "-"
    path = f"reports/invoices/{day[:4]}/{number}-{member}.pdf"
    title = "Avoir" if credit else "Facture"
    tags = " ".join(f"^{link}" for link in (number, refers_to, *links) if link)
    lines = [
        f'{day} * "{member}" "{title} {number} — Mise à disposition de personnel" {tags}',
        f'  kind: "{kind}"',
        f'  invoice: "{number}"',
        f'  member: "{member}"',
        f'  period: "{period}"',
        f'  net: "{amount}"',
        '  vat: "0.00"',
        f'  total: "{amount}"',
    ]
    if refers_to:
        lines.append(f'  refers_to: "{refers_to}"')
    if pdf is not None:
        lines.append(f'  pdf: "{pdf or path}"')
    lines += [
        f"  Actif:41-Clients:411-{member}  {sign}{amount} EUR",
        f"  {FEES if fee else REVENUE}  {unsigned}{amount} EUR",
        f'    service: "{"fee" if fee else "comptabilite"}"',
        "",
    ]
    if directive is not None:
        lines += [f'{day} document Actif:41-Clients:411-{member} "{directive or path}" ^{number}', ""]
    return "\n".join(lines) + "\n"


#: A fee, then January billed at its cost: 180.00 + 120.00 = 300.00.
FEE_2026 = document("FAC-2026-0001", day="2026-01-01", kind="fee", period="2026", amount="50.00")
JANUARY = (
    FEE_2026
    + document("FAC-2026-0002", amount="180.00")
    + document("FAC-2026-0003", "baroufada", amount="120.00")
)


def ledger(*blocks: str, config: str = CONFIG) -> str:
    return HEADER.format(config=config) + "\n" + "".join(blocks)


def eage_errors(text: str) -> list[Any]:
    """The plugin's errors on ``text``; any other error but a PDF absent from disk fails the test."""
    _, errors, _ = loader.load_string(text)
    others = [e for e in errors if not isinstance(e, EAGE_ERRORS)]
    assert all(str(e.message).startswith("File does not exist") for e in others), others
    return [e for e in errors if isinstance(e, EAGE_ERRORS)]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The line (1-based) of the ``nth`` line of ``text`` that contains ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return found[nth - 1]


def only(errors: Sequence[Any], kind: type) -> Any:
    assert [type(e) for e in errors] == [kind], [e.message for e in errors]
    return errors[0]


# --- a clean ledger -------------------------------------------------------------------------------------


def test_a_ledger_as_eage_writes_it_has_no_error() -> None:
    # A fee, January billed at cost, then corrected: AV-2026-0001 credits FAC-2026-0003 in full and
    # FAC-2026-0004 replaces it (links both ways, as `eage run --correct` writes them).
    text = ledger(
        JANUARY,
        document(
            "AV-2026-0001",
            "baroufada",
            day="2026-02-02",
            amount="120.00",
            refers_to="FAC-2026-0003",
            links=["FAC-2026-0004"],
        ),
        document(
            "FAC-2026-0004",
            "baroufada",
            day="2026-02-02",
            amount="120.00",
            links=["FAC-2026-0003", "AV-2026-0001"],
        ),
    )
    assert eage_errors(text) == []


def test_the_plugins_definitions_are_eages_own() -> None:
    # Repeated in the plugin so that it imports neither the rules' models nor the ledger loader.
    assert plugin.FEE == ALLOCATION_FEE
    assert frozenset(DOC_KINDS) == plugin.DOC_KINDS
    assert {plugin.INVOICE, plugin.CREDIT_NOTE, plugin.TRUEUP} < plugin.DOC_KINDS
    assert plugin.format_number("AV", 2026, 7) == numbering.format_number("AV", 2026, 7) == "AV-2026-0007"


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=16),
        st.from_regex(r"[A-Z]{1,7}-[0-9]{3,5}-[0-9]{3,6}", fullmatch=True),
    )
)
def test_the_plugin_reads_numbers_as_eage_does(number: str) -> None:
    match = plugin._NUMBER.fullmatch(number)
    parsed = None if match is None else (match.group(1), int(match.group(2)), int(match.group(3)))
    assert parsed == numbering.parse_number(number)


# --- 1. numbering ---------------------------------------------------------------------------------------


def test_a_gap_in_the_invoice_sequence_is_reported_on_the_number_after_it() -> None:
    text = ledger(FEE_2026, document("FAC-2026-0003", amount="300.00"))
    error = only(eage_errors(text), NumberingError)
    assert error.source["lineno"] == line_of(text, '"Facture FAC-2026-0003 ')
    assert "jumps to FAC-2026-0003: FAC-2026-0002 is missing" in error.message
    assert error.entry.meta["invoice"] == "FAC-2026-0003"


def test_a_duplicate_number_is_reported_on_its_second_entry() -> None:
    text = ledger(
        JANUARY,
        document("FAC-2026-0003", "1dlab", day="2026-01-31", kind="fee", period="2026", amount="10.00"),
    )
    error = only(eage_errors(text), NumberingError)
    assert error.source["lineno"] == line_of(text, '"Facture FAC-2026-0003 ', nth=2)
    assert "FAC-2026-0003 is issued twice (first at <string>:" in error.message


def test_a_number_dated_before_the_one_it_follows_is_out_of_order() -> None:
    text = ledger(
        FEE_2026,
        document("FAC-2026-0002", day="2026-01-31", amount="180.00"),
        document("FAC-2026-0003", "baroufada", day="2026-01-30", amount="120.00"),
    )
    error = only(eage_errors(text), NumberingError)
    assert error.source["lineno"] == line_of(text, '"Facture FAC-2026-0003 ')
    assert "dated 2026-01-30, before FAC-2026-0002 of 2026-01-31" in error.message


def test_a_credit_note_sequence_is_checked_on_its_own() -> None:
    # AV-2026-0002 without AV-2026-0001, while the FAC sequence is whole.
    text = ledger(
        JANUARY,
        document("AV-2026-0002", "baroufada", amount="120.00", refers_to="FAC-2026-0003"),
    )
    errors = eage_errors(text)
    numbering = [e for e in errors if isinstance(e, NumberingError)]
    assert len(numbering) == 1
    assert "the AV sequence of 2026 jumps to AV-2026-0002: AV-2026-0001 is missing" in numbering[0].message
    assert numbering[0].source["lineno"] == line_of(text, '"Avoir AV-2026-0002 ')


def test_a_number_of_another_year_or_shape_is_reported() -> None:
    text = ledger(
        FEE_2026,
        document("FAC-2025-0001", day="2026-01-31", kind="fee", period="2026", amount="1.00"),
        document("FAC-26-7", day="2026-01-31", kind="fee", period="2026", amount="1.00"),
    )
    messages = [e.message for e in eage_errors(text)]
    assert any("FAC-2025-0001 is dated 2026-01-31" in m for m in messages)
    assert any("'FAC-26-7' is not a number eage issues" in m for m in messages)


# --- 2. documents ---------------------------------------------------------------------------------------


def test_an_invoice_without_its_document_directive() -> None:
    text = ledger(FEE_2026, document("FAC-2026-0002", amount="300.00", directive=None))
    error = only(eage_errors(text), DocumentError)
    assert error.source["lineno"] == line_of(text, '"Facture FAC-2026-0002 ')
    assert "FAC-2026-0002 has no document directive" in error.message


def test_an_invoice_without_its_pdf_metadata() -> None:
    text = ledger(FEE_2026, document("FAC-2026-0002", amount="300.00", pdf=None))
    error = only(eage_errors(text), DocumentError)
    assert error.source["lineno"] == line_of(text, '"Facture FAC-2026-0002 ')
    assert "FAC-2026-0002 has no pdf metadata" in error.message


def test_a_document_directive_attaching_another_pdf() -> None:
    text = ledger(
        FEE_2026,
        document("FAC-2026-0002", amount="300.00", directive="reports/invoices/2026/FAC-2026-0001-1dlab.pdf"),
    )
    error = only(eage_errors(text), DocumentError)
    assert (
        "attaches FAC-2026-0001-1dlab.pdf, not its pdf reports/invoices/2026/FAC-2026-0002" in error.message
    )


# --- 3. credit notes ------------------------------------------------------------------------------------


def test_a_credit_note_of_an_invoice_that_does_not_exist() -> None:
    text = ledger(JANUARY, document("AV-2026-0001", amount="10.00", period="2026", refers_to="FAC-2026-0042"))
    error = only(eage_errors(text), CreditNoteError)
    assert error.source["lineno"] == line_of(text, '"Avoir AV-2026-0001 ')
    assert "AV-2026-0001 credits FAC-2026-0042, which is not in the ledger" in error.message


def test_a_credit_note_of_an_invoice_already_fully_credited() -> None:
    credit = {"amount": "50.00", "period": "2026", "refers_to": "FAC-2026-0001", "day": "2026-02-01"}
    text = ledger(
        JANUARY,
        document("AV-2026-0001", **credit),
        document("AV-2026-0002", **credit),
    )
    error = only(eage_errors(text), CreditNoteError)
    assert error.source["lineno"] == line_of(text, '"Avoir AV-2026-0002 ')
    assert (
        "AV-2026-0002 credits 50.00 EUR of FAC-2026-0001, of which 0.00 EUR remains "
        "(already credited by AV-2026-0001" in error.message
    )


def test_a_credit_note_of_more_than_the_invoice() -> None:
    text = ledger(
        JANUARY,
        document("AV-2026-0001", amount="60.00", period="2026", refers_to="FAC-2026-0001", day="2026-02-01"),
    )
    error = only(eage_errors(text), CreditNoteError)
    assert "credits 60.00 EUR of FAC-2026-0001, of which 50.00 EUR remains" in error.message


def test_a_credit_note_of_another_members_invoice_or_dated_before_it() -> None:
    text = ledger(
        JANUARY,
        document("AV-2026-0001", "baroufada", amount="50.00", period="2026", refers_to="FAC-2026-0001"),
        document("AV-2026-0002", amount="10.00", day="2026-01-01", period="2026", refers_to="FAC-2026-0002"),
    )
    messages = sorted(e.message for e in eage_errors(text) if isinstance(e, CreditNoteError))
    assert "is addressed to 'baroufada' but credits FAC-2026-0001 of '1dlab'" in messages[0]
    assert "is dated 2026-01-01, before the invoice it credits (FAC-2026-0002 of 2026-01-31)" in messages[1]


def test_a_true_up_credit_note_names_an_invoice_without_crediting_it() -> None:
    # BR-FR-CO-05: the true-up credit note names the member's last invoice, even one credited already.
    text = ledger(
        JANUARY,
        document("AV-2026-0001", amount="50.00", period="2026", refers_to="FAC-2026-0001", day="2026-02-01"),
        document(
            "AV-2026-0002",
            day="2026-12-31",
            kind="trueup",
            amount="75.00",
            period="2026",
            refers_to="FAC-2026-0001",
        ),
    )
    assert eage_errors(text) == []


# --- 4. billing equals cost -----------------------------------------------------------------------------


def test_a_month_billed_short_of_its_cost() -> None:
    text = ledger(
        FEE_2026,
        document("FAC-2026-0002", amount="180.00"),
        document("FAC-2026-0003", "baroufada", amount="110.00"),
    )
    error = only(eage_errors(text), BillingError)
    assert error.source["lineno"] == line_of(text, '"Facture FAC-2026-0002 ')  # the month's first invoice
    assert (
        "the billing of 2026-01 (290.00 EUR: invoices minus credit notes) differs from its allocable cost "
        "(300.00 EUR) by -10.00 EUR" in error.message
    )
    assert "`eage run 2026-01 --correct`" in error.message


def test_a_cost_posted_after_the_month_was_billed() -> None:
    late = (
        '2026-01-31 * "Papeterie" "Fournitures"\n'
        "  Charges:61-Services-exterieurs:6132-Locations-immobilieres  12.50 EUR\n"
        "  Actif:51-Banque:512-Credit-Cooperatif\n\n"
    )
    error = only(eage_errors(ledger(JANUARY, late)), BillingError)
    assert "allocable cost (312.50 EUR) by -12.50 EUR" in error.message


def test_excluded_accounts_come_from_the_configuration() -> None:
    error = only(eage_errors(ledger(JANUARY, config="{'billing_mode': 'actual'}")), BillingError)
    assert "allocable cost (345.00 EUR)" in error.message


def test_a_month_not_billed_yet_and_a_cancelled_invoice_are_not_gaps() -> None:
    # February has a cost and no billing yet; FAC-2026-0003 is credited with no replacement
    # (`eage credit-note`): January's billing is 180.00, and 300.00 once the cancellation is added back.
    february = (
        '2026-02-05 * "Bailleur" "Loyer 02/2026"\n'
        "  Charges:61-Services-exterieurs:6132-Locations-immobilieres  100.00 EUR\n"
        "  Actif:51-Banque:512-Credit-Cooperatif\n\n"
    )
    cancelled = document(
        "AV-2026-0001", "baroufada", day="2026-02-03", amount="120.00", refers_to="FAC-2026-0003"
    )
    assert eage_errors(ledger(JANUARY, february, cancelled)) == []


def test_standard_rate_months_are_settled_by_the_year_end_true_up() -> None:
    config = "{'billing_mode': 'standard_rate', 'excluded_accounts': ['Charges:67-Charges-exceptionnelles']}"
    short = FEE_2026 + document("FAC-2026-0002", amount="250.00")
    assert eage_errors(ledger(short, config=config)) == []  # billed at budgeted rates until the close
    trueup = document("FAC-2026-0003", day="2026-12-31", kind="trueup", period="2026", amount="40.00")
    error = only(eage_errors(ledger(short, trueup, config=config)), BillingError)
    assert error.source["lineno"] == line_of(ledger(short, trueup, config=config), '"Facture FAC-2026-0003 ')
    assert "after its true-up, the billing of 2026 (290.00 EUR" in error.message
    settled = document("FAC-2026-0003", day="2026-12-31", kind="trueup", period="2026", amount="50.00")
    assert eage_errors(ledger(short, settled, config=config)) == []


def test_year_to_date_pools_are_settled_by_the_year_end_true_up_in_actual_mode() -> None:
    config = (
        "{'billing_mode': 'actual', 'rate_method': {'overhead': 'year_to_date'}, "
        "'excluded_accounts': ['Charges:67-Charges-exceptionnelles']}"
    )
    short = FEE_2026 + document("FAC-2026-0002", amount="250.00")
    assert eage_errors(ledger(short, config=config)) == []  # the rate to date x hours, until the close
    trueup = document("FAC-2026-0003", day="2026-12-31", kind="trueup", period="2026", amount="40.00")
    error = only(eage_errors(ledger(short, trueup, config=config)), BillingError)
    assert "after its true-up, the billing of 2026 (290.00 EUR" in error.message
    assert "billing at the year-to-date rate is settled by the year-end true-up" in error.message
    settled = document("FAC-2026-0003", day="2026-12-31", kind="trueup", period="2026", amount="50.00")
    assert eage_errors(ledger(short, settled, config=config)) == []
    monthly = config.replace("'year_to_date'", "'monthly'")
    assert only(eage_errors(ledger(short, config=monthly)), BillingError)  # monthly: each month its cost


def test_a_rate_method_the_plugin_cannot_read_is_a_located_error(tmp_path: Path) -> None:
    wrong = RULES + "rate_method:\n  overhead: yearly\n"
    error = only(group_errors(tmp_path, bare(JANUARY), wrong), ConfigError)
    assert "rate_method must map services and overhead" in error.message
    assert error.source["lineno"] == RULES.count("\n") + 1


def test_a_configuration_it_cannot_read_is_an_error_and_skips_the_billing_check() -> None:
    short = FEE_2026 + document("FAC-2026-0002", amount="1.00")
    for config in (
        "[1, 2]",
        "{[1]: 2}",
        "{'billing_mode': 'monthly'}",
        "{'exclude': []}",
        "{'excluded_accounts': 'x'}",
    ):
        error = only(eage_errors(ledger(short, config=config)), ConfigError)
        assert error.message.startswith("eage.plugins.invariants: ")
        assert "the billing check is skipped" in error.message


# --- the configuration read from the group's rules ------------------------------------------------------

BARE = 'plugin "eage.plugins.invariants"\n'
RULES = """\
# How the group's costs are re-invoiced.
billing_mode: actual  # or standard_rate
services:
  comptabilite:
    label: "Comptabilité"
excluded_accounts:
  - "Charges:67-Charges-exceptionnelles"  # not re-invoiced
max_hours_per_day: 12
"""


def group_errors(tmp_path: Path, text: str, rules: str | None = RULES) -> list[Any]:
    """The plugin's errors on ``text`` loaded as a group's ledger/main.beancount, beside ``rules``."""
    (tmp_path / "ledger").mkdir(exist_ok=True)
    (tmp_path / "rules").mkdir(exist_ok=True)
    if rules is not None:
        (tmp_path / "rules" / "allocation.yaml").write_text(rules, encoding="utf-8")
    main = tmp_path / "ledger" / "main.beancount"
    main.write_text(text, encoding="utf-8")
    _, errors, _ = loader.load_file(str(main))
    others = [e for e in errors if not isinstance(e, EAGE_ERRORS)]
    assert all(str(e.message).startswith("File does not exist") for e in others), others
    return [e for e in errors if isinstance(e, EAGE_ERRORS)]


def bare(*blocks: str) -> str:
    return ledger(*blocks).replace(f'plugin "eage.plugins.invariants" "{CONFIG}"\n', BARE)


def test_declared_bare_the_plugin_reads_the_groups_rules(tmp_path: Path) -> None:
    assert BARE in bare(JANUARY)
    assert group_errors(tmp_path, bare(JANUARY)) == []  # account 67 excluded, as rules/allocation.yaml says
    no_exclusion = RULES.replace('  - "Charges:67-Charges-exceptionnelles"  # not re-invoiced\n', "")
    error = only(group_errors(tmp_path, bare(JANUARY), no_exclusion), ConfigError)
    assert error.source["filename"] == str(tmp_path / "rules" / "allocation.yaml")
    assert error.source["lineno"] == 6  # excluded_accounts with no item: null, not a list
    standard = RULES.replace("billing_mode: actual", "billing_mode: standard_rate")
    short = FEE_2026 + document("FAC-2026-0002", amount="250.00")
    assert group_errors(tmp_path, bare(short), standard) == []  # months settled by the true-up
    year_to_date = RULES + "rate_method:\n  services: monthly\n  overhead: year_to_date  # smoothed\n"
    assert plugin._plain_keys(year_to_date) is not None  # the block form eage writes: no PyYAML
    assert group_errors(tmp_path, bare(short), year_to_date) == []


def test_a_configuration_string_overrides_the_rules(tmp_path: Path) -> None:
    text = ledger(JANUARY, config="{'billing_mode': 'actual'}")
    error = only(group_errors(tmp_path, text), BillingError)
    assert "allocable cost (345.00 EUR)" in error.message


def test_without_a_rules_file_the_defaults(tmp_path: Path) -> None:
    error = only(group_errors(tmp_path, bare(JANUARY), rules=None), BillingError)
    assert "allocable cost (345.00 EUR)" in error.message  # nothing excluded


def test_an_invalid_rules_file_is_a_located_error(tmp_path: Path) -> None:
    path = str(tmp_path / "rules" / "allocation.yaml")
    for rules, line, words in (
        (RULES.replace("billing_mode: actual", "billing_mode: monthly"), 2, "billing_mode must be one of"),
        (RULES.replace('  - "Charges:67', "  - [Charges:67"), 8, "is not valid YAML"),  # where YAML stops
        ("- a list\n", 1, "top level is not a mapping"),
        ("excluded_accounts: Charges:67\n", 1, "excluded_accounts must be a list"),
        ("billing_mode: [actual\n", 2, "is not valid YAML"),
    ):
        error = only(group_errors(tmp_path, bare(JANUARY), rules), ConfigError)
        assert (error.source["filename"], error.source["lineno"]) == (path, line), error.message
        assert words in error.message and "the billing check is skipped" in error.message
    (tmp_path / "rules" / "allocation.yaml").unlink()
    (tmp_path / "rules" / "allocation.yaml").mkdir()
    error = only(group_errors(tmp_path, bare(JANUARY), rules=None), ConfigError)
    assert "cannot be read" in error.message


def test_eage_reports_the_rules_error_at_its_file_and_line(tmp_path: Path) -> None:
    group_errors(tmp_path, bare(JANUARY), RULES.replace("billing_mode: actual", "billing_mode: monthly"))
    _, problems = load_ledger(tmp_path, allow_errors=True)
    found = [p for p in problems if "does not exist" not in p.message]  # the PDFs are not on disk here
    assert [(p.file, p.line) for p in found] == [("rules/allocation.yaml", 2)]


@pytest.mark.parametrize(
    "rules",
    [
        RULES,
        RULES.replace("billing_mode: actual", 'billing_mode: "standard_rate"'),
        RULES.replace('  - "Charges:67-Charges-exceptionnelles"', "- 'Charges:67-Charges-exceptionnelles'"),
        RULES + "excluded_accounts_note: x\n",
        "billing_mode: actual\nexcluded_accounts: []\n",
        "billing_mode: actual\nexcluded_accounts: [a, 'b']\n",  # a flow list: PyYAML reads it
        "---\nbilling_mode: actual\n",
        "billing_mode: &m actual\nother: *m\n",
        "billing_mode: yes\n",
        "excluded_accounts:\n  - 67\n",
        RULES + "rate_method:\n  services: monthly\n  overhead: year_to_date\n",
        RULES + "rate_method: {overhead: year_to_date}\n",  # a flow mapping: PyYAML reads it
        RULES + "rate_method:\n",
        RULES + "rate_method:\n  overhead:\n    deep: 1\n",
        "",
    ],
)
def test_the_line_reader_reads_what_yaml_reads(rules: str) -> None:
    import yaml

    plain = plugin._plain_keys(rules)
    loaded = yaml.safe_load(rules) or {}
    expected = {k: loaded[k] for k in plugin.RULES_KEYS if k in loaded}
    assert {k: v for k, (v, _) in plugin._yaml_keys(rules).items()} == expected
    if plain is not None:  # None: not the plain form, PyYAML reads it
        assert {k: v for k, (v, _) in plain.items()} == expected
    assert plugin._plain_keys(RULES) is not None  # the form eage writes never needs PyYAML


# --- properties -----------------------------------------------------------------------------------------


def fees(numbers: Sequence[int], days: Sequence[dt.date] | None = None) -> str:
    """One fee per number (in this order), each with its PDF: nothing for the billing check."""
    return "".join(
        document(
            f"FAC-2026-{n:04d}",
            day=(days[i] if days else dt.date(2026, 1, 1)).isoformat(),
            kind="fee",
            period="2026",
            amount="10.00",
        )
        for i, n in enumerate(numbers)
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9), max_size=8))
def test_a_gap_or_duplicate_is_reported_exactly_when_the_numbers_are_not_one_to_n(numbers: list[int]) -> None:
    errors = eage_errors(ledger(fees(numbers)))
    assert all(isinstance(e, NumberingError) for e in errors)
    continuous = sorted(numbers) == list(range(1, len(numbers) + 1))
    assert (errors == []) == continuous
    assert all(e.entry.meta["kind"] == "fee" for e in errors)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=28), min_size=1, max_size=6))
def test_dates_out_of_number_order_are_reported_exactly_when_they_go_back(days: list[int]) -> None:
    dates = [dt.date(2026, 3, d) for d in days]
    errors = eage_errors(ledger(fees(range(1, len(days) + 1), dates)))
    goes_back = any(later < earlier for earlier, later in itertools.pairwise(dates))
    assert (errors != []) == goes_back
    assert all("numbers follow the dates" in e.message for e in errors)


# --- the demo -------------------------------------------------------------------------------------------

DUPLICATE = """
2026-10-31 * "1Dlab" "Facture FAC-2026-0151 — Cotisation annuelle 2026" ^FAC-2026-0151
  kind: "fee"
  invoice: "FAC-2026-0151"
  member: "1dlab"
  period: "2026"
  net: "10.00"
  vat: "0.00"
  total: "10.00"
  pdf: "reports/invoices/2026/FAC-2026-0151-yes-high-tech.pdf"
  Actif:41-Clients:411-1dlab                      10.00 EUR
  Produits:75-Autres-produits:756-Cotisations    -10.00 EUR

2026-10-31 document Actif:41-Clients:411-1dlab "../reports/invoices/2026/FAC-2026-0151-yes-high-tech.pdf" ^FAC-2026-0151
"""


def test_bean_check_reports_a_hand_added_duplicate_in_the_demo(tmp_path: Path) -> None:
    root = copy_demo(tmp_path / "group")
    main = root / "ledger" / "main.beancount"
    assert 'plugin "eage.plugins.invariants"' in main.read_text(encoding="utf-8")
    clean = subprocess.run([str(BEAN_CHECK), str(main)], capture_output=True, text=True)
    assert (clean.returncode, clean.stdout + clean.stderr) == (0, "")

    entries = root / "ledger" / "entries.beancount"
    before = entries.read_text(encoding="utf-8")
    entries.write_text(before + DUPLICATE, encoding="utf-8")
    line = before.count("\n") + 2  # DUPLICATE starts with an empty line
    checked = subprocess.run([str(BEAN_CHECK), str(main)], capture_output=True, text=True)
    assert checked.returncode == 1
    output = checked.stdout + checked.stderr
    assert f"{entries}:{line}: eage: FAC-2026-0151 is issued twice (first at " in output
    assert "generated/2026/2026-10-allocation.beancount:" in output

    # eage loads the ledger through Beancount: the same error, as a located problem.
    _, problems = load_ledger(root, allow_errors=True)
    assert [(p.file, p.line) for p in problems] == [("ledger/entries.beancount", line)]
    assert "FAC-2026-0151 is issued twice" in problems[0].message


def test_the_demos_plugin_configuration_mirrors_its_allocation_rules(demo_rules_root: Path) -> None:
    _, _, options = loader.load_file(str(demo_rules_root / "ledger" / "main.beancount"))
    configs = [config for name, config in options["plugin"] if name == "eage.plugins.invariants"]
    assert len(configs) == 1
    parsed, errors = plugin.parse_config(configs[0], options)
    allocation = load_rules(demo_rules_root).allocation
    assert errors == []
    method = allocation.rate_method
    assert parsed == plugin.Config(
        billing_mode=allocation.billing_mode,
        excluded_accounts=tuple(allocation.excluded_accounts),
        year_to_date="year_to_date" in (method.services, method.overhead),
    )


def test_new_entries_that_break_an_invariant_are_refused_before_commit(demo_rules_root: Path) -> None:
    ledger, problems = load_ledger(demo_rules_root)
    assert problems == []
    rel = "generated/2026/2026-10-extra.beancount"
    # Each file repeats the root names (Beancount parses each file with its own options).
    names = "".join(line + "\n" for line in HEADER.splitlines() if line.startswith('option "name_'))
    refused = validate_additions(ledger, {rel: names + DUPLICATE})
    assert [(p.file, p.line) for p in refused] == [(f"ledger/{rel}", names.count("\n") + 2)]
    assert "FAC-2026-0151 is issued twice (first at " in refused[0].message
    gap = validate_additions(ledger, {rel: names + DUPLICATE.replace("FAC-2026-0151", "FAC-2026-0999")})
    assert len(gap) == 1 and "jumps to FAC-2026-0999" in gap[0].message
    # the next number, with its document directive: the plugin has nothing to say
    following = DUPLICATE.replace("FAC-2026-0151", next_number(ledger))
    assert validate_additions(ledger, {rel: names + following}) == []


def next_number(ledger: Any) -> str:
    numbers = [d.number for d in ledger.issued_documents() if d.number.startswith("FAC-2026-")]
    return f"FAC-2026-{max(int(n[-4:]) for n in numbers) + 1:04d}"


@pytest.mark.slow
def test_eage_check_accepts_the_bare_line_and_flags_a_string_that_differs_from_the_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from eage.cli import main

    root = copy_demo(tmp_path / "group")
    assert main(["check", "--root", str(root)]) == 0  # the bare line: the plugin reads the rules
    main_file = root / "ledger" / "main.beancount"
    text = main_file.read_text(encoding="utf-8")
    main_file.write_text(
        text.replace(BARE, "plugin \"eage.plugins.invariants\" \"{'billing_mode': 'actual'}\"\n"),
        encoding="utf-8",
    )
    capsys.readouterr()
    main(["check", "--root", str(root)])
    captured = capsys.readouterr()
    assert "differs from rules/allocation.yaml" in captured.out + captured.err
