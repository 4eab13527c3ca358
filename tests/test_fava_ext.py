"""The eage pages in Fava, through Fava's own test client, on a copy of the demo with its bank statement."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eage.cli import main
from eage.ledger.store import read_includes, with_includes
from eage.money import fr_eur, fr_month
from test_bank import DEMO_CSV, fresh_demo

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

HOSTILE = '<script>alert("x")</script> & Cie'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cie"
PERIOD = "time=2026-01+-+2026-10"  # as-of date 31/10/2026: days overdue do not depend on today


def make_group(root: Path) -> Path:
    """The demo, one member renamed to a hostile name, a hostile bank label, the statement imported."""
    fresh_demo(root)
    members = root / "rules" / "members.yaml"
    text = members.read_text(encoding="utf-8")
    members.write_text(text.replace('name: "Gaga Jazz"', "name: '" + HOSTILE + "'"), encoding="utf-8")
    source = root / DEMO_CSV
    csv = root / "ledger" / "bank-statements" / "test.csv"
    lines = source.read_text(encoding="utf-8") if source.exists() else "Date;Libellé;Détail;Débit;Crédit\n"
    lines += '20/05/2026;VIR <b>"HOSTILE"</b> & CO;<img src=x>;;12,34\n'
    csv.write_text(lines, encoding="utf-8")
    assert main(["import-bank", "--root", str(root), str(csv)]) == 0
    return root


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_group(tmp_path_factory.mktemp("fava") / "group")


class Client:
    """Fava's test client on a ledger, with the URL prefix of its slug."""

    def __init__(self, root: Path) -> None:
        from fava.application import create_app

        self.app = create_app([root / "ledger" / "main.beancount"])
        self.client = self.app.test_client()
        location = self.client.get("/").headers["Location"]
        self.prefix = "/" + location.strip("/").split("/")[0]

    def get(self, path: str) -> Any:
        return self.client.get(self.prefix + path)

    def page(self, page: str, query: str = PERIOD) -> str:
        response = self.get(f"/extension/Eage/?page={page}&{query}")
        assert response.status_code == 200, response.data[:2000]
        return str(response.data.decode("utf-8"))


@pytest.fixture(scope="module")
def client(group: Path) -> Iterator[Client]:
    yield Client(group)


def test_report_is_listed_with_title_eage(client: Client) -> None:
    html = client.page("repartition")
    assert "<title>eage - " in html
    for label in ("Répartition", "Factures", "Contrôles", "Budget"):
        assert f">{label}</a>" in html


YEAR_TO_DATE_MONTH = "taux de l&#39;année à date : régularisé en fin d'année par « eage close 2026 »"


def test_repartition_matrix_pools_and_check(client: Client) -> None:
    html = client.page("repartition", PERIOD + "&month=2026-03")
    assert "Membres × services — mars 2026" in html
    assert "Comptabilité et contrôle de gestion" in html and "Frais de fonctionnement mutualisés" in html
    # the demo bills every pool at the year-to-date rate: March bills rate x hours, not its own cost, and
    # the difference is information (the close settles it), never an alert
    check = re.search(r'<p id="eage-check">(.*?)</p>', html, re.S)
    assert check is not None
    assert "Facturé et coût pour mars 2026" in check.group(1) and "facturé = coût" not in check.group(1)
    assert f'<span class="info">écart {fr_eur(Decimal("183.69"))} ({YEAR_TO_DATE_MONTH})</span>' in html
    pools = re.search(r'<table id="eage-pools">(.*?)</table>', html, re.S)
    assert pools is not None and "alerte" not in pools.group(1) and pools.group(1).count('"num info"') == 5
    # the demo's March billing and cost (payroll variables in March), French format, in the check and
    # the totals of the matrix and of the pools
    assert html.count(fr_eur(Decimal("11679.93"))) == 3
    assert html.count(fr_eur(Decimal("11496.24"))) == 2
    assert re.search(r"\d+,\d\d h", html)
    assert ESCAPED in html
    # the month select keeps the time filter
    assert '<option value="2026-03" selected>mars 2026</option>' in html
    assert 'name="time" value="2026-01 - 2026-10"' in html


def test_repartition_defaults_to_last_billed_month(client: Client) -> None:
    assert "Membres × services — octobre 2026" in client.page("repartition")


def test_factures_status_overdue_and_aging(client: Client) -> None:
    html = client.page("factures")
    assert "Statuts et retards au 31/10/2026 (dernier jour de la période filtrée)" in html
    assert "FAC-2026-0001" in html
    assert "<td>FAC-2026-0001</td>\n          <td>Cotisation 2026</td>" in html  # the fee, not a month
    assert "<td>FAC-2026-0015</td>\n          <td>janvier 2026</td>" in html
    for status in ("payée", "partiellement payée", "impayée"):
        assert f">{status}</span>" in html
    assert "Balance âgée des créances" in html
    for bucket in ("non échu", "0-30 j", "31-60 j", "61-90 j", "&gt; 90 j"):
        assert bucket in html
    assert re.search(r'class="alerte">\d+ j<', html)  # days overdue of the late payer
    assert ESCAPED in html
    assert "€" in html and "\u202f" in html  # 1 234,56 € with French separators


def test_pdf_endpoint_serves_manifest_invoices_only(client: Client, group: Path) -> None:
    html = client.page("factures")
    link = re.search(r'href="([^"]+/extension/Eage/pdf\?path=[^"]+)"', html)
    assert link is not None
    response = client.client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    for bad in (
        "../rules/group.yaml",
        "reports/invoices/../../rules/group.yaml",
        "reports/invoices/2026/../../../ledger/main.beancount",
        "/etc/passwd",
        "ledger/main.beancount",
        "ledger/generated/manifest.json",
        "reports/invoices/2026/FAC-2026-0001-1dlab.xml",
        "reports/invoices/2026/FAC-2026-9999-nobody.pdf",
        "reports\\invoices\\2026\\FAC-2026-0001-1dlab.pdf",
        "",
    ):
        assert client.get(f"/extension/Eage/pdf?path={bad}").status_code == 404, bad


def test_pdf_endpoint_refuses_a_pdf_changed_since_it_was_issued(demo: Path) -> None:
    pdf = demo / "reports/invoices/2026/FAC-2026-0015-1dlab.pdf"
    assert pdf.is_file()
    own = Client(demo)
    path = "/extension/Eage/pdf?path=reports/invoices/2026/FAC-2026-0015-1dlab.pdf"
    assert own.get(path).status_code == 200
    pdf.write_bytes(pdf.read_bytes() + b"%altered\n")
    response = own.get(path)
    assert response.status_code == 409
    assert "modifié depuis son émission" in response.get_data(as_text=True)


def billing_section(html: str) -> str:
    section = re.search(r'id="eage-ctl-billing">(.*?)</section>', html, re.S)
    assert section is not None
    return section.group(1)


def test_controles_on_the_imported_demo(client: Client) -> None:
    html = client.page("controles")
    assert "Soldes au 31/10/2026" in html
    # every pool at the year-to-date rate: the months bill rate x hours, their differences are the close's
    billing = billing_section(html)
    assert "Facturé et coût, par mois" in billing and "Chaque mois facturé égale son coût" not in billing
    assert (
        "Les mois sont facturés au taux de l&#39;année à date" in billing and "« eage close 2026 »" in billing
    )
    assert "✓ Aucun écart à corriger sur les 10 mois" in billing and "alerte" not in billing
    rows = re.findall(r"<tr>\s*<td><a [^>]*>([^<]*)</a></td>(.*?)</tr>", billing, re.S)
    assert [month for month, _ in rows] == [fr_month(f"2026-{m:02d}") for m in range(2, 11)]  # January: cost
    assert all("taux de l&#39;année à date : régularisation annuelle" in row for _, row in rows)
    october = dict(rows)["octobre 2026"]
    for figure in ("9647.20", "10447.05", "799.85"):  # cost, billed, difference
        assert fr_eur(Decimal(figure)) in october
    assert "✓ Les dettes des mois précédents sont réglées." in html
    assert "Lignes bancaires en compte d'attente (471)" in html
    assert "VIR SEPA RECU /DE ASSOC LES AMIS DU JAZZ" in html
    assert "VIR &lt;b&gt;&#34;HOSTILE&#34;&lt;/b&gt; &amp; CO &lt;img src=x&gt;" in html
    assert "<b>" not in html and "<img src=x>" not in html
    assert "Factures échues non payées" in html and ESCAPED in html
    assert "✓ Tous les fichiers générés sont conformes au manifeste." in html
    assert "✓ Aucune erreur." in html


def test_no_raw_hostile_markup_on_any_page(client: Client) -> None:
    for page in ("repartition", "factures", "controles", "budget"):
        html = client.page(page)
        assert "<script>alert" not in html, page


def test_budget_of_the_demo(client: Client) -> None:
    """The demo's budget (rules/budget/2026.yaml, as `eage budget 2026`) against its actuals, January-October;
    tests/test_fava_budget.py compares every line with the command line's statement."""
    html = client.page("budget")
    assert "Budget prévisionnel 2026 — janvier à octobre 2026" in html
    assert "Cotisations sociales (après réduction générale)" in html and "Charges:64-Personnel:645" in html
    honoraires = budget_row(html, "Charges:62-Autres-services-exterieurs:622")
    assert fr_eur(Decimal("3500.00")) in honoraires  # 5 x 150 + 5 x 550 (project months)
    assert "Non budgété" in html and "Total charges" in html and "Total produits" in html
    assert fr_eur(Decimal("102525.02")) in html and fr_eur(Decimal("121758.36")) in html
    assert fr_eur(Decimal("98793.89")) in html  # the ledger's class 6 total, January to October


def budget_row(html: str, account: str) -> str:
    row = re.search(r"<tr[^>]*>((?:(?!</tr>).)*?" + re.escape(account) + r"<.*?)</tr>", html, re.S)
    assert row is not None, account
    return row.group(1)


@pytest.fixture(scope="module")
def no_budget(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """The demo without its budget file in the include block."""
    root = fresh_demo(tmp_path_factory.mktemp("nobudget") / "group")
    main_path = root / "ledger" / "main.beancount"
    text = main_path.read_text(encoding="utf-8")
    kept = [i for i in read_includes(text, main_path) if not i.startswith("generated/budget-")]
    assert len(kept) == len(read_includes(text, main_path)) - 1
    main_path.write_text(with_includes(text, main_path, kept), encoding="utf-8")
    return Client(root)


def test_budget_does_not_need_fava_budget_entries(no_budget: Client) -> None:
    """The page reads rules/budget/2026.yaml as `eage budget` does, not Fava's custom "budget" entries."""
    html = no_budget.page("budget")
    assert "Budget et réalisé" in html and "Total charges" in html
    assert fr_eur(Decimal("102525.02")) in html


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """The demo without bank lines, with a budget, an extra October cost, a hand-edited generated file and
    an entry Beancount rejects."""
    root = fresh_demo(tmp_path_factory.mktemp("broken") / "group")
    entries = root / "ledger" / "entries.beancount"
    entries.write_text(
        entries.read_text(encoding="utf-8")
        + '\n2026-01-01 custom "budget" Charges:61-Services-exterieurs "monthly" 1000.00 EUR\n'
        + '2026-01-01 custom "budget" Produits:70-Ventes "monthly" -10000.00 EUR\n'
        + '\n2026-10-20 * "Imprévu" "Réparation"\n'
        + "  Charges:61-Services-exterieurs:6156-Maintenance  99.99 EUR\n"
        + "  Actif:51-Banque:512-Credit-Cooperatif\n"
        + '\n2026-10-21 * "Erreur" "Compte inconnu"\n'
        + "  Charges:99-Inconnu  1.00 EUR\n"
        + "  Actif:51-Banque:512-Credit-Cooperatif\n",
        encoding="utf-8",
    )
    generated = root / "ledger" / "generated" / "2026" / "2026-03-payroll.beancount"
    generated.write_text(generated.read_text(encoding="utf-8") + "; retouche\n", encoding="utf-8")
    return Client(root)


def test_controles_report_every_problem(broken: Client) -> None:
    html = broken.page("controles")
    # October's cost cannot be read (a cost on an account of no pool): an alert, even at the year-to-date
    # rate (a cost posted late in a pool is the close's there: see the monthly group below for that gap)
    october = re.search(r"octobre 2026</a></td>(.*?)</tr>", html, re.S)
    assert october is not None and "alerte" in october.group(1)
    assert "coût du mois illisible" in october.group(1) and "Aucun écart à corriger" not in html
    assert "octobre 2026 : ledger/entries.beancount:" in html and "feeds no cost pool" in html
    assert "Dettes de paie non réglées" in html and "janvier 2026" in html  # no salaries paid
    assert "ledger/generated/2026/2026-03-payroll.beancount : modifié à la main" in html
    assert "Erreurs Beancount" in html and "Charges:99-Inconnu" in html
    assert "entries.beancount" in html


def test_budget_counts_every_cost(broken: Client) -> None:
    """Hand-added Fava budget entries change nothing; the extra October cost is in its line's actual and
    in the total charges (the ledger's class 6 total)."""
    html = broken.page("budget")
    maintenance = budget_row(html, "Charges:61-Services-exterieurs:615")
    assert fr_eur(Decimal("2703.99")) in maintenance  # the demo's 2 604,00 € + the extra October 99,99 €
    cell = r"\s*<td[^>]*>([^<]*)</td>"
    charges = re.search(r"Total charges</td>" + cell * 5, html)
    assert charges is not None
    assert charges.group(2) == fr_eur(Decimal("102525.02"))
    # and the 1,00 € on an account never opened (a Beancount error, still in the entries): non budgété
    assert charges.group(5) == fr_eur(Decimal("98793.89") + Decimal("99.99") + Decimal("1.00"))
    assert fr_eur(Decimal("1.00")) in budget_row(html, "Charges:99-Inconnu")


def test_as_of_is_today_without_time_filter(broken: Client) -> None:
    html = broken.page("factures", "")
    assert "aujourd&#39;hui (aucun filtre de période)" in html


def test_fava_command_listens_on_loopback_only(group: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fava.application
    import werkzeug.serving

    from eage.commands import fava as fava_cmd

    seen: dict[str, Any] = {}

    class FakeServer:
        server_port = 5999

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            seen["closed"] = True

    def fake_make_server(host: str, port: int, app: Any, **kwargs: Any) -> FakeServer:
        seen.update(host=host, port=port)
        return FakeServer()

    real_create_app = fava.application.create_app

    def spy_create_app(files: Any, **kwargs: Any) -> Any:
        seen["read_only"] = kwargs.get("read_only")
        return real_create_app(files, **kwargs)

    monkeypatch.setattr(werkzeug.serving, "make_server", fake_make_server)
    monkeypatch.setattr(fava.application, "create_app", spy_create_app)
    assert main(["fava", "--root", str(group), "--port", "5999", "--read-only"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 5999 and seen["closed"]
    assert seen["read_only"] is True
    assert fava_cmd.HOST == "127.0.0.1"


# --- credit notes ------------------------------------------------------------------------------------

CREDITED = "FAC-2026-0151"  # Yes High Tech, October 2026: 1 353,81 € on 7084, 1 624,57 € with VAT


@pytest.fixture(scope="module")
def credited(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """The demo after `eage credit-note FAC-2026-0151 --reason x`: a standalone credit note, AV-2026-0001."""
    from conftest import copy_demo

    root = copy_demo(tmp_path_factory.mktemp("credited") / "group").resolve()
    assert main(["credit-note", CREDITED, "--reason", "x", "--root", str(root)]) == 0
    return Client(root)


def invoice_row(html: str, number: str) -> str:
    row = re.search(r"<tr>\s*<td>" + re.escape(number) + r"(?:</td>| <span).*?</tr>", html, re.S)
    assert row is not None, number
    return row.group(0)


@pytest.mark.slow
def test_a_credited_invoice_is_cancelled_never_paid(credited: Client) -> None:
    html = credited.page("factures")
    row = invoice_row(html, CREDITED)
    assert '<span class="badge avoir">annulée par avoir AV-2026-0001</span>' in row
    assert "payée" not in row
    note = invoice_row(html, "AV-2026-0001")
    assert "(sur FAC-2026-0151)" in note and ">avoir</span>" in note


def test_a_standalone_credit_note_is_no_billing_gap(credited: Client) -> None:
    """October still bills what its invoices billed (10 447,05 €, as without the credit note): the credit
    note is listed apart. The same on a group billed at its months' cost: see below."""
    html = credited.page("controles")
    billing = billing_section(html)
    assert "✓ Aucun écart à corriger sur les 10 mois" in billing and "alerte" not in billing
    row = re.search(r"octobre 2026</a></td>(.*?)</tr>", billing, re.S)
    assert row is not None and fr_eur(Decimal("10447.05")) in row.group(1)
    section = re.search(r'id="eage-ctl-credit-notes">(.*?)</section>', html, re.S)
    assert section is not None
    assert "Avoirs émis" in section.group(1)
    assert "AV-2026-0001" in section.group(1) and CREDITED in section.group(1)
    assert "octobre 2026" in section.group(1) and fr_eur(Decimal("-1353.81")) in section.group(1)
    october = credited.page("repartition", PERIOD + "&month=2026-10")
    assert f'<span class="info">écart {fr_eur(Decimal("799.85"))} ({YEAR_TO_DATE_MONTH})</span>' in october
    assert "AV-2026-0001 sur FAC-2026-0151" in october


def test_no_credit_note_no_avoirs_line(client: Client) -> None:
    assert "✓ Aucun avoir isolé dans la période" in client.page("controles")


# --- a group billed at its months' cost ---------------------------------------------------------------

MONTHLY = "time=2025-01"
LATE_COST = """
2025-01-20 * "Logiciels Coop" "Licence oubliée"
  Charges:61-Services-exterieurs:6156-Maintenance  99.99 EUR
  Actif:51-Banque:512-Credit-Cooperatif
"""


def small_group_billed(root: Path, services: str, overhead: str) -> Path:
    """A small group (tests/groups.py) with its pools' ``rate_method`` set before any run, January 2025
    run: its ledger is the one these rules bill."""
    from groups import FIRST_MONTH, run_month, small_group

    small_group(root, months=1)
    path = root / "rules" / "allocation.yaml"
    text = re.sub(r"^rate_method:\n(?:[ #].*\n)*", "", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text + f"rate_method:\n  services: {services}\n  overhead: {overhead}\n", "utf-8")
    run_month(root, FIRST_MONTH)
    return root


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every pool billed at its month's cost (rate_method monthly)."""
    return small_group_billed(tmp_path_factory.mktemp("monthly") / "group", "monthly", "monthly")


def copy_of(root: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(root, target)
    return target


def test_a_month_billed_at_its_cost_says_billed_equals_cost(monthly: Path) -> None:
    client = Client(monthly)
    html = client.page("repartition", MONTHLY + "&month=2025-01")
    assert "Contrôle « facturé = coût » pour janvier 2025" in html and "✓ facturé = coût" in html
    check = re.search(r'<p id="eage-check">(.*?)</p>', html, re.S)
    pools = re.search(r'<table id="eage-pools">(.*?)</table>', html, re.S)
    assert check is not None and pools is not None
    assert "alerte" not in check.group(1) + pools.group(1) and "régularis" not in html
    billing = billing_section(client.page("controles", MONTHLY))
    assert "Facturé = coût, par mois" in billing
    assert "✓ Chaque mois facturé égale son coût (1 mois)." in billing


def test_a_cost_posted_after_billing_is_a_gap(monthly: Path, tmp_path: Path) -> None:
    """Billed at its cost, January must bill its cost: a cost posted after the run is an alert."""
    root = copy_of(monthly, tmp_path / "group")
    entries = root / "ledger" / "entries.beancount"
    entries.write_text(entries.read_text(encoding="utf-8") + LATE_COST, encoding="utf-8")
    client = Client(root)
    billing = billing_section(client.page("controles", MONTHLY))
    january = re.search(r"janvier 2025</a></td>(.*?)</tr>", billing, re.S)
    assert january is not None
    assert f'<td class="num alerte">{fr_eur(Decimal("-99.99"))}</td>' in january.group(1)
    assert "Aucun écart à corriger" not in billing and "régularisation" not in billing
    html = client.page("repartition", MONTHLY + "&month=2025-01")
    assert f'<span class="alerte">✗ écart {fr_eur(Decimal("-99.99"))}</span>' in html
    pools = re.search(r'<table id="eage-pools">(.*?)</table>', html, re.S)
    assert pools is not None and pools.group(1).count(f'"num alerte">{fr_eur(Decimal("-99.99"))}<') == 2


def test_a_standalone_credit_note_on_a_month_billed_at_its_cost(monthly: Path, tmp_path: Path) -> None:
    """`eage credit-note` cancels an invoice on purpose: listed apart, the month still bills its cost."""
    root = copy_of(monthly, tmp_path / "group")
    assert main(["credit-note", "FAC-2025-0002", "--reason", "x", "--root", str(root)]) == 0
    client = Client(root)
    html = client.page("controles", MONTHLY)
    assert "✓ Chaque mois facturé égale son coût (1 mois)." in billing_section(html)
    section = re.search(r'id="eage-ctl-credit-notes">(.*?)</section>', html, re.S)
    assert section is not None and "AV-2025-0001" in section.group(1) and "FAC-2025-0002" in section.group(1)
    january = client.page("repartition", MONTHLY + "&month=2025-01")
    assert "✓ facturé = coût" in january and "AV-2025-0001 sur FAC-2025-0002" in january


def test_a_pool_billed_at_its_cost_beside_year_to_date_pools_keeps_its_check(tmp_path: Path) -> None:
    """Services at the year-to-date rate, the overhead at its month's cost: a cost posted late in the
    overhead is a gap even though the services' differences are the close's."""
    root = small_group_billed(tmp_path / "group", "year_to_date", "monthly")
    entries = root / "ledger" / "entries.beancount"
    entries.write_text(entries.read_text(encoding="utf-8") + LATE_COST, encoding="utf-8")
    client = Client(root)
    billing = billing_section(client.page("controles", MONTHLY))
    assert "Les mois sont facturés au taux de l&#39;année à date" in billing
    january = re.search(r"janvier 2025</a></td>(.*?)</tr>", billing, re.S)
    assert january is not None and "num alerte" in january.group(1)
    assert f"écart de {fr_eur(Decimal('-99.99'))} sur les pools facturés au coût du mois" in january.group(1)
    assert "Aucun écart à corriger" not in billing
    html = client.page("repartition", MONTHLY + "&month=2025-01")
    assert f"(dont {fr_eur(Decimal('-99.99'))} sur les pools facturés au coût du mois)" in html
    pools = re.search(r'<table id="eage-pools">(.*?)</table>', html, re.S)
    assert pools is not None
    overhead = re.search(r"Frais de fonctionnement mutualisés</td>(.*?)</tr>", pools.group(1), re.S)
    assert overhead is not None and f'"num alerte">{fr_eur(Decimal("-99.99"))}<' in overhead.group(1)
    assert "num info" not in overhead.group(1)


CORRECTION = """
2026-10-31 * "M" "Facture FAC-2026-0010" ^FAC-2026-0010
  kind: "invoice"
  invoice: "FAC-2026-0010"
  member: "m"
  period: "2026-10"
  total: "100.00"
  Assets:411-m  100.00 EUR
  Income:7084  -100.00 EUR
    service: "compta"
    hours: "10.00"
"""
CORRECTION_FILE = """
2026-11-05 * "M" "Avoir AV-2026-0001" ^AV-2026-0001 ^FAC-2026-0010 ^FAC-2026-0011
  kind: "credit_note"
  invoice: "AV-2026-0001"
  member: "m"
  period: "2026-10"
  total: "100.00"
  refers_to: "FAC-2026-0010"
  Assets:411-m  -100.00 EUR
  Income:7084  100.00 EUR
    service: "compta"
    hours: "10.00"

2026-11-05 * "M" "Facture FAC-2026-0011" ^FAC-2026-0011 ^FAC-2026-0010 ^AV-2026-0001
  kind: "invoice"
  invoice: "FAC-2026-0011"
  member: "m"
  period: "2026-10"
  total: "120.00"
  Assets:411-m  120.00 EUR
  Income:7084  -120.00 EUR
    service: "compta"
    hours: "12.00"
"""
STANDALONE_FILE = CORRECTION_FILE.split("\n\n")[0].replace("^FAC-2026-0011", "").replace("0001", "0002")


def parsed(text: str, filename: str) -> list[Any]:
    from beancount.parser import parser

    entries, errors, _ = parser.parse_string(text, report_filename=filename)
    assert not errors
    return list(entries)


def test_a_correction_nets_out_and_a_standalone_credit_note_is_apart() -> None:
    """A correction's credit note (in YYYY-MM-correction-N.beancount) with its replacement invoice is the
    month's billing: it nets to the replacement. A credit note of `eage credit-note` (its own
    AV-….beancount file) is counted apart."""
    from eage.fava_ext.state import build_index, fee_and_total
    from eage.ledger.load import Ledger

    entries = parsed(CORRECTION, "/g/ledger/generated/2026/2026-10-allocation.beancount")
    entries += parsed(CORRECTION_FILE, "/g/ledger/generated/2026/2026-10-correction-1.beancount")
    index = build_index(Ledger(Path("/g"), entries, {}), "Income:7084", "Expenses")
    assert fee_and_total(index.billed["2026-10"]) == (Decimal(0), Decimal("120.00"), Decimal(0))
    assert not index.documents["AV-2026-0001"].standalone

    entries += parsed(STANDALONE_FILE, "/g/ledger/generated/2026/AV-2026-0002.beancount")
    index = build_index(Ledger(Path("/g"), entries, {}), "Income:7084", "Expenses")
    assert index.documents["AV-2026-0002"].standalone
    assert fee_and_total(index.billed["2026-10"]) == (Decimal(0), Decimal("120.00"), Decimal("-100.00"))
    assert [d.number for d in index.credit_notes_of["FAC-2026-0010"]] == ["AV-2026-0001", "AV-2026-0002"]


# --- derived state: once per reload ------------------------------------------------------------------


def mine(root: Path, args: tuple[Any, ...]) -> int:
    """1 for a call about this test's group: another test's Fava may still be computing in the background."""
    return int(bool(args) and Path(args[0]).resolve() == root.resolve())


@pytest.mark.slow
def test_pages_compute_once_per_reload(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second request re-reads no timesheet and re-hashes no locked file; a reload computes again."""
    import eage.fava_ext.state as state_module

    calls = {"tampered": 0, "timesheet": 0}
    real_tampered, real_read = getattr(state_module, "tampered"), getattr(state_module, "read_timesheet")  # noqa: B009

    def counting_tampered(*args: Any) -> Any:
        calls["tampered"] += mine(demo, args)
        return real_tampered(*args)

    def counting_read(*args: Any) -> Any:
        calls["timesheet"] += mine(demo, args)
        return real_read(*args)

    monkeypatch.setattr(state_module, "tampered", counting_tampered)
    monkeypatch.setattr(state_module, "read_timesheet", counting_read)
    own = Client(demo)
    for _ in range(2):
        for page in ("repartition", "factures", "controles", "budget"):
            own.page(page)
    assert calls == {"tampered": 1, "timesheet": 1}  # Contrôles' check needs no timesheet; Répartition one
    ledger = own.app.config["LEDGERS"].ledgers[0]
    ledger.load_file()  # what Fava does when a ledger file changes
    own.page("controles")
    own.page("repartition")
    assert calls == {"tampered": 2, "timesheet": 2}
    # a timesheet changed on disk (Fava does not watch it): the state is built again
    sheet = demo / "ledger" / "timesheets" / "2026-10.csv"
    sheet.write_bytes(sheet.read_bytes())
    os.utime(sheet, ns=(sheet.stat().st_atime_ns, sheet.stat().st_mtime_ns + 1_000_000_000))
    own.page("repartition")
    assert calls["timesheet"] == 3


def test_long_lists_are_limited_with_a_link_to_all(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    import eage.fava_ext as ext

    monkeypatch.setattr(ext, "ROW_LIMIT", 5)
    html = client.page("factures")
    assert "Les 5 pièces les plus récentes sur" in html and "tout=1" in html
    assert len(re.findall(r"<tr>\s*<td>(?:FAC|AV)-", html)) == 5
    everything = client.page("factures", PERIOD + "&tout=1")
    assert "pièces les plus récentes" not in everything
    assert len(re.findall(r"<tr>\s*<td>(?:FAC|AV)-", everything)) > 5


def test_bench_fava_on_a_tiny_synthetic_group(tmp_path: Path) -> None:
    """benchmarks/bench_fava.py: every eage page and Fava's income statement, timed, side by side."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_fava

    root = tmp_path / "group"
    bench_fava.ensure_group(root, 5, 3, 1, months=2)  # 5 members, 3 staff, two months of history
    figures = bench_fava.measure(root, 2, None)
    assert set(figures["pages"]) == {"api/income_statement", *bench_fava.PAGES}
    assert all(len(p["seconds"]) == 2 and p["bytes"] > 0 for p in figures["pages"].values())
    table = bench_fava.table(figures)
    assert "ratio" in table and "controles" in table and "api/income_statement" in table


def test_precompute_at_reload(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EAGE_FAVA_PRECOMPUTE=1: the locked files are hashed in after_load_file, and no page hashes them again."""
    import eage.fava_ext.state as state_module

    calls: list[int] = []
    real_tampered = getattr(state_module, "tampered")  # noqa: B009

    def counting_tampered(*args: Any) -> Any:
        calls.extend([1] * mine(demo, args))
        return real_tampered(*args)

    monkeypatch.setattr(state_module, "tampered", counting_tampered)
    monkeypatch.setenv("EAGE_FAVA_PRECOMPUTE", "1")
    own = Client(demo)  # Fava loads the ledger at the first request, before the page is built
    assert len(calls) == 1
    assert "✓ Tous les fichiers générés sont conformes au manifeste." in own.page("controles", "")
    assert len(calls) == 1


def test_by_default_the_figures_are_computed_in_the_background_once(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No EAGE_FAVA_PRECOMPUTE: after_load_file starts a thread that computes the figures; the pages then
    compute nothing again (a page asking meanwhile waits for the thread's computation)."""
    import threading

    import eage.fava_ext.state as state_module

    calls: list[int] = []
    real_tampered = getattr(state_module, "tampered")  # noqa: B009

    def counting_tampered(*args: Any) -> Any:
        calls.extend([1] * mine(demo, args))
        return real_tampered(*args)

    monkeypatch.setattr(state_module, "tampered", counting_tampered)
    monkeypatch.delenv("EAGE_FAVA_PRECOMPUTE", raising=False)
    own = Client(demo)
    for thread in threading.enumerate():
        if thread.name == "eage-precompute":
            thread.join(timeout=60)
    assert len(calls) == 1
    assert "✓ Tous les fichiers générés sont conformes au manifeste." in own.page("controles", "")
    own.page("factures", "")
    assert len(calls) == 1
