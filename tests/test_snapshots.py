"""Large HTML outputs compared with snapshot files (tests/snapshots/), after normalisation (tests/snapshot.py).

- The eage pages in Fava (Répartition, Factures, Contrôles, Budget) on the demo as committed, through
  Fava's Flask test client, for January to October 2026 (a time filter, so that the as-of date of the
  overdue days is the period's last day, not today). What is compared is the page's own part: its
  ``<title>`` and the ``<article>`` the extension renders. Fava's shell around it (the ``ledger-data``
  JSON, translations, asset links) is Fava's, and holds the temporary paths and entry hashes of the copy.
- The HTML an invoice's PDF is laid out from (``render_invoice_html``, without the embedded stylesheet,
  as the PDF renderer asks for it), for the values of the demo's FAC-2026-0140 written inline.

A snapshot that changes is a change of what the user reads: review the diff, then ``pytest
--update-snapshots`` if it is meant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import copy_demo
from eage.invoicing.model import Invoice, InvoiceLine, Party, VatInfo
from eage.invoicing.pdf import render_invoice_html
from snapshot import normalise

PERIOD = "time=2026-01+-+2026-10"
PAGES = {
    "repartition": "page=repartition",
    "repartition-mars": "page=repartition&month=2026-03",
    "factures": "page=factures",
    "controles": "page=controles",
    "budget": "page=budget",
}
_TITLE = re.compile(r"<title>.*?</title>", re.DOTALL)
_ARTICLE = re.compile(r"<article>.*?</article>", re.DOTALL)


class FavaPages:
    """Fava's test client on a copy of the demo; ``page(query)`` is the eage page's normalised HTML."""

    def __init__(self, root: Path) -> None:
        from fava.application import create_app

        self.root = root
        self.client = create_app([root / "ledger" / "main.beancount"]).test_client()
        location = self.client.get("/").headers["Location"]
        self.prefix = "/" + location.strip("/").split("/")[0]

    def page(self, query: str) -> str:
        response = self.client.get(f"{self.prefix}/extension/Eage/?{query}&{PERIOD}")
        assert response.status_code == 200, response.data[:2000]
        html = response.data.decode("utf-8")
        title, article = _TITLE.search(html), _ARTICLE.search(html)
        assert title is not None and article is not None, html[:2000]
        return normalise(title.group(0) + "\n" + article.group(0), roots=[self.root])


@pytest.fixture(scope="module")
def fava(tmp_path_factory: pytest.TempPathFactory) -> FavaPages:
    return FavaPages(copy_demo(tmp_path_factory.mktemp("snapshots") / "group"))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_eage_page_in_fava(fava: FavaPages, snapshot: Callable[[str, str], None], name: str) -> None:
    snapshot(f"fava-{name}.html", fava.page(PAGES[name]))


def test_a_page_is_the_same_from_one_build_to_the_next(fava: FavaPages, tmp_path: Path) -> None:
    # Another copy in another folder, another app: after normalisation, the same text.
    other = FavaPages(copy_demo(tmp_path / "group"))
    for query in ("page=factures", "page=controles"):
        assert other.page(query) == fava.page(query)


# The demo's FAC-2026-0140: La Baroufada (association, exempt under CGI 261 B), October 2026.
SELLER = Party(
    name="L'équipe associée",
    legal_form="Association loi 1901",
    siren="917535908",
    siret="91753590800011",
    vat_number="FR33917535908",
    address_line1="Culture & Coopération — Manufacture Plaine Achille",
    address_line2="3 rue Javelin-Pagnon",
    postcode="42000",
    city="Saint-Étienne",
    email="contact@equipe-associee.example",
)
BAROUFADA = Party(
    name="La Baroufada",
    legal_form="Association loi 1901",
    siren="999485949",
    siret="99948594900013",
    vat_number=None,
    address_line1="14 rue Roger Salengro",
    address_line2=None,
    postcode="42000",
    city="Saint-Étienne",
    email="compta@baroufada.example",
)
D = Decimal
LINES = (
    InvoiceLine(
        "comptabilite", "Comptabilité et contrôle de gestion", D("13.00"), "HUR", D("27.5205"), D("357.77")
    ),
    InvoiceLine("paie", "Paie", D("6.50"), "HUR", D("17.0753"), D("110.99")),
    InvoiceLine(
        "administration_sociale", "Administration sociale", D("3.50"), "HUR", D("20.7114"), D("72.49")
    ),
    InvoiceLine("overhead", "Frais de fonctionnement mutualisés", D("23.00"), "HUR", D("3.6170"), D("83.19")),
)
FAC_2026_0140 = Invoice(
    number="FAC-2026-0140",
    kind="invoice",
    issue_date=dt.date(2026, 10, 31),
    due_date=dt.date(2026, 11, 30),
    period_start=dt.date(2026, 10, 1),
    period_end=dt.date(2026, 10, 31),
    seller=SELLER,
    buyer=BAROUFADA,
    member_id="baroufada",
    lines=LINES,
    vat=VatInfo("E", D("0"), "Exonération de TVA – article 261 B du CGI", "VATEX-EU-132-1F"),
    net_total=D("624.44"),
    vat_total=D("0.00"),
    gross_total=D("624.44"),
    iban="FR55 1027 8073 0000 2001 2345 645",
    bic="CMCIFR2A",
    bank_name="Crédit Coopératif (fictif)",
    payment_terms="Paiement à 30 jours, par virement.",
    late_payment_text="Pénalités de retard : trois fois le taux d'intérêt légal en vigueur "
    "(art. L441-10 du Code de commerce).",
    recovery_indemnity=D("40.00"),
    discount_terms="Pas d'escompte pour paiement anticipé.",
)


def test_invoice_html(snapshot: Callable[[str, str], None]) -> None:
    assert sum(line.amount for line in LINES) == FAC_2026_0140.net_total
    html = render_invoice_html(FAC_2026_0140, embed_css=False)
    assert render_invoice_html(FAC_2026_0140, embed_css=False) == html  # nothing volatile in it
    # its dcterms dates are the invoice's date (from the ledger, never the clock): content, kept
    assert '<meta name="dcterms.created" content="2026-10-31T00:00:00Z">' in html
    snapshot("invoice-FAC-2026-0140.html", normalise(html, timestamps=False))
