"""Budget vs actual: the figures against beanquery, the statements' totals against the ledger, the budget's
checks, the documents (privacy, formula injection, determinism) and the ``eage budget`` command.

Everything runs on a copy of the demo group (January to October 2026 run); nothing is written into the
repository.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

from conftest import copy_demo
from eage.budget.directives import budget_directives, representative_account
from eage.budget.model import Budget, load_budget, phase
from eage.budget.render import (
    CONSOLIDATED_HEADER,
    consolidated_rows,
    to_csv,
    to_xlsx,
)
from eage.budget.statements import UNBUDGETED_LABEL, consolidated, member_statement
from eage.cli import main
from eage.csvsafe import safe_cell
from eage.errors import InputError
from eage.ledger.actuals import (
    account_month_totals,
    billed_by_member,
    class_totals,
    query_account_month_totals,
    query_billed_by_member,
    query_class_totals,
)
from eage.ledger.load import Ledger, load_ledger
from eage.rules.bundle import Rules, load_rules

YEAR = 2026
BUDGET_FILE = "rules/budget/2026.yaml"


# --- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo group on which ``eage budget 2026`` has run once (read-only for the tests)."""
    root = copy_demo(tmp_path_factory.mktemp("budget") / "group")
    assert main(["budget", "2026", "--root", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def loaded(group: Path) -> tuple[Rules, Ledger, Budget]:
    rules = load_rules(group)
    ledger, problems = load_ledger(group)
    assert problems == []
    budget = _load(group, rules, ledger).budget
    return rules, ledger, budget


def _load(root: Path, rules: Rules, ledger: Ledger) -> Any:
    return load_budget(
        root,
        YEAR,
        members=[m.id for m in rules.members.members],
        services=list(rules.allocation.services),
        open_accounts=ledger.open_accounts(),
        revenue_account=rules.accounts.revenue,
    )


def _statement(ledger: Ledger, budget: Budget, through: int) -> Any:
    return consolidated(
        budget,
        account_month_totals(ledger, YEAR, through),
        through=through,
        expenses_root="Charges",
        income_root="Produits",
        account_names=ledger.account_names(),
    )


def _members(rules: Rules, ledger: Ledger, budget: Budget, through: int) -> Any:
    return member_statement(
        budget,
        billed_by_member(ledger, rules.accounts.revenue, YEAR, through),
        through=through,
        revenue_account=rules.accounts.revenue,
        services={k: v.label for k, v in rules.allocation.services.items()},
        member_names={m.id: m.identity.name for m in rules.members.members},
        overhead_label=rules.allocation.overhead.label,
    )


def _budget_data(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((root / BUDGET_FILE).read_text(encoding="utf-8"))
    return data


# --- actual figures == beanquery ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("through", [1, 6, 10, 12])
def test_every_actual_figure_equals_a_beanquery_query(
    loaded: tuple[Rules, Ledger, Budget], through: int
) -> None:
    rules, ledger, _ = loaded
    figures = account_month_totals(ledger, YEAR, through)
    assert figures, "the demo has postings"
    assert figures == query_account_month_totals(ledger, YEAR, through)
    billed = billed_by_member(ledger, rules.accounts.revenue, YEAR, through)
    assert billed and billed == query_billed_by_member(ledger, rules.accounts.revenue, YEAR, through)
    assert class_totals(ledger, YEAR, through) == query_class_totals(ledger, YEAR, through)


@pytest.mark.slow
def test_statement_totals_equal_the_ledger_class_6_and_7_totals(loaded: tuple[Rules, Ledger, Budget]) -> None:
    _, ledger, budget = loaded
    for through in (3, 10):
        statement = _statement(ledger, budget, through)
        charges, produits = query_class_totals(ledger, YEAR, through)
        assert statement.total_charges.actual_total == charges
        assert statement.total_produits.actual_total == -produits
        # And the month-by-month chart adds up to the same totals.
        assert sum(m.actual_charges or 0 for m in statement.months) == charges


@pytest.mark.slow
def test_an_account_no_line_covers_shows_on_a_non_budgete_line(
    group: Path, loaded: tuple[Rules, Ledger, Budget]
) -> None:
    _, ledger, _ = loaded
    data = _budget_data(group)
    lines = data["charges"]["charges_externes"]["lines"]
    data["charges"]["charges_externes"]["lines"] = [x for x in lines if x["label"] != "Honoraires"]
    budget = Budget.model_validate(data)
    statement = _statement(ledger, budget, 10)
    unbudgeted = [r for r in statement.charges if r.unbudgeted]
    assert unbudgeted[0].label == UNBUDGETED_LABEL and unbudgeted[0].level == "rubric"
    fees = [r for r in unbudgeted if r.accounts == ("Charges:62-Autres-services-exterieurs:6226-Honoraires",)]
    assert fees and fees[0].label == "6226 Honoraires"
    assert fees[0].figures.actual_total == Decimal("1500.00")  # 10 months of 150.00
    assert unbudgeted[0].figures.actual_total == Decimal("1500.00")
    # Still nothing dropped: the total is the ledger's.
    assert statement.total_charges.actual_total == query_class_totals(ledger, YEAR, 10)[0]


@pytest.mark.slow
def test_the_non_budgete_line_is_shown_even_when_empty(loaded: tuple[Rules, Ledger, Budget]) -> None:
    _, ledger, budget = loaded
    statement = _statement(ledger, budget, 10)
    for rows in (statement.charges, statement.produits):
        assert [r.label for r in rows if r.unbudgeted and r.level == "rubric"] == [UNBUDGETED_LABEL]


@pytest.mark.slow
def test_projets_section_and_funder_come_from_metadata(loaded: tuple[Rules, Ledger, Budget]) -> None:
    budget = loaded[2]
    from eage.ledger.actuals import ActualFigure

    figures = [
        ActualFigure(
            "Produits:74-Subventions:74-Subventions-exploitation", 6, "projets", "region-aura", Decimal(-1600)
        ),
        ActualFigure(
            "Produits:74-Subventions:74-Subventions-exploitation", 6, "projets", "autre", Decimal(-100)
        ),
        ActualFigure(
            "Charges:62-Autres-services-exterieurs:6226-Honoraires", 4, "projets", None, Decimal(380)
        ),
    ]
    statement = consolidated(
        budget, figures, through=10, expenses_root="Charges", income_root="Produits", account_names={}
    )
    region = next(r for r in statement.produits if r.label == "Région Auvergne-Rhône-Alpes")
    assert region.figures.actual == (Decimal(0), Decimal(1600))
    assert region.figures.variance == Decimal(0)
    # A funder no line names is not silently put on another funder's line.
    assert any(r.unbudgeted and r.figures.actual_total == Decimal(100) for r in statement.produits)
    fees = next(r for r in statement.charges if r.label == "Honoraires")
    assert fees.figures.actual == (Decimal(0), Decimal(380))
    assert fees.figures.forecast == Decimal(380) + fees.figures.year_total - fees.figures.budget_total


# --- member statement --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_member_statement_total_equals_the_7084_revenue(loaded: tuple[Rules, Ledger, Budget]) -> None:
    rules, ledger, budget = loaded
    for through in (2, 10):
        statement = _members(rules, ledger, budget, through)
        _, rows = _bql(ledger, rules.accounts.revenue, through)
        assert statement.billed == -rows
        assert statement.billed > 0
        # The planned billing is the revenue budget through the period, shared exactly.
        revenue_line = budget.produits["chiffre_affaires"].lines[0]
        assert statement.planned == sum(revenue_line.monthly("fonctionnement")[:through], Decimal(0))


def _bql(ledger: Ledger, account: str, through: int) -> tuple[Any, Decimal]:
    from beanquery import query

    end = f"{YEAR}-{through + 1:02d}-01" if through < 12 else f"{YEAR + 1}-01-01"
    types, rows = query.run_query(
        ledger.entries,
        ledger.options,
        f"SELECT sum(number) WHERE account = '{account}' AND date >= {YEAR}-01-01 AND date < {end}",
    )
    return types, Decimal(rows[0][0])


@pytest.mark.slow
def test_member_hours_come_from_the_7084_postings(loaded: tuple[Rules, Ledger, Budget]) -> None:
    rules, ledger, budget = loaded
    statement = _members(rules, ledger, budget, 10)
    block = next(b for b in statement.blocks if b.member == "le-fil")
    compta = next(r for r in block.services if r.service == "comptabilite")
    expected = sum(
        (f.hours for f in query_billed_by_member(ledger, rules.accounts.revenue, YEAR, 10) if
         f.member == "le-fil" and f.service == "comptabilite"),
        Decimal(0),
    )  # fmt: skip
    assert compta.hours_actual == expected > 0
    assert compta.hours_year == Decimal(330)
    assert compta.hours_budget == Decimal(270)  # the 12-value phasing, January to October


@pytest.mark.slow
def test_a_member_statement_shows_nothing_of_another_member(
    group: Path, loaded: tuple[Rules, Ledger, Budget]
) -> None:
    rules, _, _ = loaded
    folder = group / "reports" / "budget" / "2026" / "membres"
    members = rules.members.members
    staff = rules.staff.employees
    checked = 0
    for member in members:
        html = folder / f"{member.id}.html"
        if not html.exists():
            continue
        texts = [
            html.read_text(encoding="utf-8"),
            (folder / f"{member.id}.csv").read_text(encoding="utf-8-sig"),
        ]
        pdf_text = subprocess.run(
            ["pdftotext", str(folder / f"{member.id}.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        texts.append(pdf_text)
        for text in texts:
            assert member.identity.name.split(" ")[-1] in text
            for other in members:
                if other.id != member.id:
                    assert other.identity.name not in text, (member.id, other.id)
                    assert f">{other.id}<" not in text and f"{other.id};" not in text
            for employee in staff:  # no salary, no employee's name
                assert employee.name not in text
            assert "Salaire" not in text and "Rémunération" not in text and "Charges:64" not in text
        checked += 1
    assert checked >= 13


# --- the budget's checks -----------------------------------------------------------------------------------


def _write_budget(root: Path, data: dict[str, Any]) -> None:
    (root / BUDGET_FILE).write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


@pytest.fixture
def scratch(group: Path, tmp_path: Path) -> Path:
    """A copy of the group without the budget statements, to break the budget in."""
    root = tmp_path / "g"
    for name in ("rules", "ledger", "reports"):
        # The invoices' PDFs are copied too: the ledger's document entries point at them.
        shutil.copytree(group / name, root / name)
    shutil.rmtree(root / "reports" / "budget")
    return root


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda d: d["hours"].update({"ghost": {"paie": 10}}), "hours.ghost", "unknown member 'ghost'"),
        (lambda d: d["hours"]["le-fil"].update({"jardinage": 5}), "hours.le-fil.jardinage", "unknown service"),
        (
            lambda d: d["charges"]["achats"]["lines"][0].update({"accounts": ["Charges:60-Achats", "Charges:68-Dotations"]}),
            "charges.achats.lines[0].accounts[1]",
            "matches no account opened",
        ),
        (lambda d: d["charges"]["achats"]["lines"][0].update({"montant": 5}), "charges.achats.lines[0].montant", "unknown key"),
        (lambda d: d["produits"]["autres_produits"]["lines"][0].update({"projets": [1, 2, 3]}), "produits.autres_produits.lines[0].projets", ""),
    ],
)  # fmt: skip
def test_a_bad_budget_is_an_input_error_naming_file_and_key(
    scratch: Path, loaded: tuple[Rules, Ledger, Budget], edit: Any, key: str, words: str
) -> None:
    rules, ledger, _ = loaded
    data = copy.deepcopy(_budget_data(scratch))
    edit(data)
    _write_budget(scratch, data)
    with pytest.raises(InputError) as raised:
        _load(scratch, rules, ledger)
    problems = [p for p in raised.value.problems if p.key is not None and p.key.startswith(key)]
    assert problems, raised.value.problems
    assert problems[0].file == BUDGET_FILE
    assert problems[0].line is not None
    assert words in problems[0].message
    assert problems[0].fix


@pytest.mark.slow
def test_the_same_prefix_budgeted_twice_is_refused(
    scratch: Path, loaded: tuple[Rules, Ledger, Budget]
) -> None:
    rules, ledger, _ = loaded
    data = _budget_data(scratch)
    data["charges"]["achats"]["lines"].append({"label": "Encore", "accounts": ["Charges:60-Achats"]})
    _write_budget(scratch, data)
    with pytest.raises(InputError, match="budgeted twice"):
        _load(scratch, rules, ledger)


@pytest.mark.slow
def test_the_cli_refuses_a_bad_budget_with_exit_1_and_writes_nothing(
    scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _budget_data(scratch)
    data["hours"]["ghost"] = {"paie": 1}
    _write_budget(scratch, data)
    before = (scratch / "ledger" / "main.beancount").read_bytes()
    assert main(["budget", "2026", "--root", str(scratch)]) == 1
    err = capsys.readouterr().err
    assert "rules/budget/2026.yaml" in err and "[hours.ghost]" in err and "Traceback" not in err
    assert not (scratch / "reports" / "budget").exists()
    assert (scratch / "ledger" / "main.beancount").read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["budget", "26"], 2),
        (["budget", "2026", "--through", "2026-13"], 2),
        (["budget", "2026", "--through", "2025-10"], 2),
        (["budget"], 2),
        (["budget", "2027"], 1),  # no rules/budget/2027.yaml
    ],
)
def test_cli_exit_codes(scratch: Path, argv: list[str], code: int) -> None:
    assert main([*argv, "--root", str(scratch)]) == code


# --- documents ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_spreadsheet_text_never_starts_like_a_formula(
    loaded: tuple[Rules, Ledger, Budget], tmp_path: Path
) -> None:
    _, ledger, budget = loaded
    data = budget.model_dump(mode="json")
    data["charges"]["achats"]["lines"][0]["label"] = '=HYPERLINK("http://evil.example","x")'
    data["charges"]["achats"]["label"] = "@SUM(A1:A9)"
    data["produits"]["autres_produits"]["lines"][1]["label"] = "-2+3"
    data["produits"]["autres_produits"]["label"] = "+cmd"
    statement = _statement(ledger, Budget.model_validate(data), 10)
    rows = consolidated_rows(statement)
    text = to_csv(CONSOLIDATED_HEADER, rows).decode("utf-8-sig")
    cells = [cell for line in text.splitlines() for cell in line.split(";")]
    for cell in cells:
        bare = cell.strip('"')
        assert not bare.startswith(("=", "+", "@")), cell
        if bare.startswith("-"):
            Decimal(bare.replace(",", "."))  # a negative number, never text
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'-2+3" in text and "'+cmd" in text

    import io

    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(to_xlsx("Budget", "t", CONSOLIDATED_HEADER, rows, stamp=statement_date()))
    )
    for row in book.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@"))
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("Loyers") == "Loyers"


def statement_date() -> Any:
    import datetime as dt

    return dt.date(2026, 10, 31)


@pytest.mark.slow
def test_two_runs_give_the_same_bytes_and_the_second_writes_nothing(
    group: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sorted(p for p in (group / "reports" / "budget").rglob("*") if p.is_file())
    assert {p.suffix for p in files} == {".html", ".pdf", ".csv", ".xlsx"}
    before = {p: p.read_bytes() for p in files}
    main_before = (group / "ledger" / "main.beancount").read_bytes()
    capsys.readouterr()
    assert main(["budget", "2026", "--root", str(group)]) == 0
    assert "0 file(s) written" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in files} == before
    assert (group / "ledger" / "main.beancount").read_bytes() == main_before


@pytest.mark.slow
def test_the_ledger_loads_with_the_fava_budget_and_fava_reads_it(
    group: Path, loaded: tuple[Rules, Ledger, Budget]
) -> None:
    from beancount.core import data
    from fava.core.budgets import parse_budgets

    _, ledger, budget = loaded
    main_text = (group / "ledger" / "main.beancount").read_text(encoding="utf-8")
    assert 'include "generated/budget-2026.beancount"' in main_text
    customs = [e for e in ledger.entries if isinstance(e, data.Custom) and e.type == "budget"]
    budgets, errors = parse_budgets(customs)  # type: ignore[arg-type]  # Fava types its own protocol
    assert errors == []
    rent = budgets["Charges:61-Services-exterieurs:6132-Locations-immobilieres"]
    assert len(rent) == 12 and sum(b.number for b in rent) == Decimal("7800.00")
    # Every line's year lands on its representative account, produits with the ledger's sign.
    directives = budget_directives(budget, ledger.open_accounts())
    year_total = sum(v[2][0] for d in directives for v in [d.values] if isinstance(v[2], tuple))
    charges = sum(
        sum(line.monthly(s), Decimal(0))
        for _, _, _, line in budget.lines("charges")
        for s in ("fonctionnement", "projets")
    )
    produits = sum(
        sum(line.monthly(s), Decimal(0))
        for _, _, _, line in budget.lines("produits")
        for s in ("fonctionnement", "projets")
    )
    assert year_total == charges - produits
    salaries = budget.charges["remunerations"].lines[0]
    assert representative_account(salaries, ledger.open_accounts()) == "Charges:64-Personnel:6411-Salaires"


# --- phasing -----------------------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2, allow_nan=False)


@given(amounts)
@settings(max_examples=300, deadline=None)
def test_even_phasing_sums_exactly_to_the_year_and_each_month_is_within_a_cent(year: Decimal) -> None:
    months = phase(year)
    assert len(months) == 12
    assert sum(months, Decimal(0)) == year
    assert all(abs(m - year / 12) < Decimal("0.01") for m in months)
    assert all(m == m.quantize(Decimal("0.01")) for m in months)


@given(st.lists(amounts, min_size=12, max_size=12))
@settings(max_examples=100, deadline=None)
def test_a_12_value_phasing_is_kept_as_given(values: list[Decimal]) -> None:
    assert phase(values) == tuple(values)
    assert sum(phase(values), Decimal(0)) == sum(values, Decimal(0))
