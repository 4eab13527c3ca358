"""Fava's Budget page shows ``eage budget``'s figures: every line and total, for any period.

The expected figures are computed here with the library calls of ``eage budget`` (load_budget,
account_month_totals, consolidated) and compared with the page's HTML, cell by cell; the page's total
charges are also compared with the sum of the ledger's class 6 postings of the period.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

from eage.budget.model import load_budget
from eage.budget.statements import Consolidated, Figures, consolidated
from eage.ledger.actuals import account_month_totals, last_invoiced_month
from eage.ledger.load import load_ledger
from eage.money import fr_eur, fr_percent
from eage.rules.bundle import load_rules
from test_fava_ext import Client


def statement(root: Path, year: int, first: int, through: int) -> Consolidated:
    """The statement as ``eage budget`` builds it (commands/budget.py), for months first..through."""
    rules = load_rules(root)
    ledger, _ = load_ledger(root)
    budget = load_budget(
        root,
        year,
        members=[m.id for m in rules.members.members],
        services=list(rules.allocation.services),
        open_accounts=ledger.open_accounts(),
        revenue_account=rules.accounts.revenue,
    ).budget
    return consolidated(
        budget,
        account_month_totals(ledger, year, through),
        through=through,
        first=first,
        expenses_root=str(ledger.options["name_expenses"]),
        income_root=str(ledger.options["name_income"]),
        account_names=ledger.account_names(),
    )


def class_total(root: Path, prefix: str, begin: dt.date, end: dt.date) -> Decimal:
    """The sum of the ledger's postings under ``prefix`` dated in [begin, end), read with Beancount."""
    entries, errors, _ = loader.load_file(str(root / "ledger" / "main.beancount"))
    assert not errors
    return sum(
        (
            Decimal(str(p.units.number if p.units is not None else 0))
            for e in entries
            if isinstance(e, data.Transaction) and begin <= e.date < end
            for p in e.postings
            if p.account.startswith(prefix + ":")
        ),
        Decimal(0),
    )


def cells(figures: Figures, from_january: bool) -> list[str]:
    out = [
        fr_eur(figures.year_total),
        fr_eur(figures.budget_total),
        fr_eur(figures.actual[0]),
        fr_eur(figures.actual[1]),
        fr_eur(figures.actual_total),
        fr_eur(figures.variance),
        "—" if figures.variance_ratio is None else fr_percent(figures.variance_ratio),
    ]
    return out + ([fr_eur(figures.forecast)] if from_january else [])


def expected_rows(s: Consolidated, side: str) -> list[list[str]]:
    rows = s.charges if side == "charges" else s.produits
    total = s.total_charges if side == "charges" else s.total_produits
    out = [[row.label, " ".join(row.accounts), *cells(row.figures, s.first == 1)] for row in rows]
    out.append([f"Total {side}", "", *cells(total, s.first == 1)])
    return out


def page_rows(page: str, table_id: str) -> list[list[str]]:
    """The rows of one table of the page: label, accounts, then the figures, as text."""
    table = re.search(rf'<table[^>]*id="{re.escape(table_id)}"[^>]*>(.*?)</table>', page, re.S)
    assert table is not None, table_id
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]:  # the header row left out
        tds = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        first = tds[0]
        accounts = re.search(r'<span class="sub">(.*)</span>', first, re.S)
        label = re.sub(r'<span class="sub">.*</span>', "", first, flags=re.S)
        text = [
            re.sub(r"[ \t\r\n]+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", c))).strip() for c in tds[1:]
        ]
        account_text = "" if accounts is None else re.sub(r"<[^>]+>", "", accounts.group(1)).strip()
        rows.append([htmllib.unescape(re.sub(r"<[^>]+>", "", label)).strip(), account_text, *text])
    return rows


@pytest.fixture(scope="module")
def demo_client(demo_rules_root: Path) -> Client:
    return Client(demo_rules_root)


PERIODS = [
    ("time=2026", 1, 12),  # the full year
    ("time=2026-01+-+2026-10", 1, 10),  # the year to date, as `eage budget 2026`
    ("time=2026-03", 3, 3),  # one month
    ("time=2026-Q2", 4, 6),  # a quarter
    ("time=2026-09+-+2026-12", 9, 12),  # to the year's end (November and December not run yet)
]


@pytest.mark.parametrize(("query", "first", "through"), PERIODS)
def test_every_line_and_total_is_the_cli_figure(
    demo_client: Client, demo_rules_root: Path, query: str, first: int, through: int
) -> None:
    page = demo_client.page("budget", query)
    expected = statement(demo_rules_root, 2026, first, through)
    for side in ("charges", "produits"):
        assert page_rows(page, f"eage-budget-2026-{side}") == expected_rows(expected, side), side
    assert any(r.label == "Non budgété" for r in expected.charges)  # always shown, even when empty
    # the page's total charges are the ledger's class 6 total for the period
    begin = dt.date(2026, first, 1)
    end = dt.date(2027, 1, 1) if through == 12 else dt.date(2026, through + 1, 1)
    assert expected.total_charges.actual_total == class_total(demo_rules_root, "Charges", begin, end)
    assert -expected.total_produits.actual_total == class_total(demo_rules_root, "Produits", begin, end)


def test_year_to_date_is_eage_budget_summary(demo_client: Client) -> None:
    """The figures `eage budget 2026` prints for the demo (January to October)."""
    page = demo_client.page("budget")
    charges = page_rows(page, "eage-budget-2026-charges")[-1]
    produits = page_rows(page, "eage-budget-2026-produits")[-1]
    assert charges[2:] == [
        fr_eur(Decimal("123030.00")),
        fr_eur(Decimal("102525.02")),
        fr_eur(Decimal("98793.89")),
        fr_eur(Decimal("0")),
        fr_eur(Decimal("98793.89")),
        fr_eur(Decimal("-3731.13")),
        fr_percent(Decimal("-3731.13") / Decimal("102525.02")),
        fr_eur(Decimal("119298.87")),
    ]
    assert produits[6] == fr_eur(Decimal("122868.24"))
    assert "Budget prévisionnel 2026 — janvier à octobre 2026" in page
    assert "Prévision fin d'année" in page


def test_without_time_filter_the_last_invoiced_year_to_date(
    demo_client: Client, demo_rules_root: Path
) -> None:
    """No time filter: `eage budget YYYY` without --through, YYYY the year of the last invoiced month."""
    ledger, _ = load_ledger(demo_rules_root)
    through = last_invoiced_month(ledger, 2026)
    assert through == 10
    page = demo_client.page("budget", "")
    expected = statement(demo_rules_root, 2026, 1, through)
    assert page_rows(page, "eage-budget-2026-charges") == expected_rows(expected, "charges")
    assert "Sans filtre de période : l&#39;exercice 2026" in page


def test_a_month_has_no_forecast_and_says_its_months(demo_client: Client) -> None:
    page = demo_client.page("budget", "time=2026-03")
    assert "Budget prévisionnel 2026 — mars 2026" in page
    assert "Prévision fin d'année" not in page  # a forecast only makes sense from January


def test_partial_months_are_taken_whole_and_said(demo_client: Client, demo_rules_root: Path) -> None:
    page = demo_client.page("budget", "time=2026-03-15+-+2026-04-10")
    assert "les chiffres portent sur les mois entiers, de mars 2026 à avril 2026" in page
    expected = statement(demo_rules_root, 2026, 3, 4)
    assert page_rows(page, "eage-budget-2026-charges") == expected_rows(expected, "charges")


@pytest.fixture(scope="module")
def unbudgeted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Client]:
    """The demo with Cotisations budgeted on 6451 only: 6452, 6453, 6454 and 6458 are not budgeted."""
    from conftest import copy_demo

    root = copy_demo(tmp_path_factory.mktemp("unbudgeted") / "group")
    path = root / "rules" / "budget" / "2026.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count('["Charges:64-Personnel:645"]') == 1
    path.write_text(text.replace('["Charges:64-Personnel:645"]', '["Charges:64-Personnel:6451"]'), "utf-8")
    return root, Client(root)


def test_non_budgete_collects_what_no_line_covers(unbudgeted: tuple[Path, Client]) -> None:
    root, client = unbudgeted
    page = client.page("budget", "time=2026-01+-+2026-10")
    expected = statement(root, 2026, 1, 10)
    rows = page_rows(page, "eage-budget-2026-charges")
    assert rows == expected_rows(expected, "charges")
    lines = [r for r in expected.charges if r.unbudgeted and r.level == "line"]
    numbers = {r.accounts[0].rsplit(":", 1)[-1][:4] for r in lines}
    assert {"6452", "6453", "6454"} <= numbers and "6451" not in numbers
    non_budgete = next(r for r in rows if r[0] == "Non budgété")
    assert non_budgete[6] != fr_eur(Decimal(0))
    # nothing escapes: the total is still the ledger's class 6 total
    total = class_total(root, "Charges", dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    assert rows[-1][6] == fr_eur(total) == fr_eur(Decimal("98793.89"))


def test_a_year_without_budget_file_shows_everything_unbudgeted(unbudgeted: tuple[Path, Client]) -> None:
    root, client = unbudgeted
    (root / "rules" / "budget" / "2026.yaml").rename(root / "rules" / "budget" / "2026.yaml.off")
    try:
        page = client.page("budget", "time=2026-01+-+2026-10")  # rules/ changed: the state is rebuilt
        assert "Aucun budget pour 2026 (rules/budget/2026.yaml)" in page
        rows = page_rows(page, "eage-budget-2026-charges")
        assert rows[0][0] == "Non budgété" and rows[-1][6] == fr_eur(Decimal("98793.89"))
    finally:
        (root / "rules" / "budget" / "2026.yaml.off").rename(root / "rules" / "budget" / "2026.yaml")
    assert "Aucun budget pour 2026" not in client.page("budget", "time=2026-01+-+2026-10")


def csv_number(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text else Decimal(0)


@pytest.mark.slow
@pytest.mark.parametrize(("query", "through"), [("time=2026-01+-+2026-10", 10), ("time=2026", 12)])
def test_the_page_shows_the_statement_eage_budget_writes(
    demo_client: Client, tmp_path: Path, query: str, through: int
) -> None:
    """The page against the consolidated statement the command writes (reports/budget/2026/consolide.csv),
    line by line: same rows, same figures, for the year to date and the full year."""
    from conftest import copy_demo
    from eage.cli import main

    root = copy_demo(tmp_path / "group")
    assert main(["budget", "2026", "--through", f"2026-{through:02d}", "--root", str(root)]) == 0
    text = (root / "reports" / "budget" / "2026" / "consolide.csv").read_text(encoding="utf-8-sig")
    written = [line.split(";") for line in text.splitlines()[1:]]
    page = demo_client.page("budget", query)
    for side, title in (("charges", "Charges"), ("produits", "Produits")):
        shown = page_rows(page, f"eage-budget-2026-{side}")
        rows = [r for r in written if r[0] == title]
        assert [r[2] for r in rows] == [r[0] for r in shown], side
        for row, cells_shown in zip(rows, shown, strict=True):
            # the CSV rounds the ratio to four places: the page's is the variance over the budget to date
            ratio = "—" if row[13] == "" else fr_percent(csv_number(row[12]) / csv_number(row[8]))
            expected = [csv_number(row[i]) for i in (6, 8, 9, 10, 11, 12)]
            assert cells_shown[2:8] == [fr_eur(v) for v in expected], row[2]
            assert cells_shown[8] == ratio, row[2]
            assert cells_shown[9] == fr_eur(csv_number(row[14])), row[2]  # the year-end forecast
