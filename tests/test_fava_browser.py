"""End to end in a real headless Chromium: Fava served on 127.0.0.1, each eage page opened and checked,
a screenshot saved to tests/artifacts/ (gitignored) for a person to look at.

Skipped only where /usr/bin/chromium is absent *and* CI is not set: in CI these tests must run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_fava_ext import HOSTILE, PERIOD, make_group

os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ERRORS: list[str] = []  # JavaScript errors and dialogs seen in the browser: any is a failure
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium (these tests are never skipped in CI)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Fava on the demo copy (statement imported, one hostile member name), on 127.0.0.1, a free port."""
    from fava.application import create_app
    from werkzeug.serving import make_server

    root = make_group(tmp_path_factory.mktemp("browser") / "group")
    app = create_app([root / "ledger" / "main.beancount"], read_only=True)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="fr-FR")
        tab = context.new_page()
        tab.on("pageerror", lambda exc: ERRORS.append(str(exc)))
        tab.on("dialog", lambda dialog: ERRORS.append(f"dialog: {dialog.message}"))  # an alert() = XSS
        tab.goto(server + "/")
        yield tab
        context.close()
        browser.close()


def shoot(tab: Any, name: str) -> None:
    """A screenshot of the whole page: Fava scrolls inside <article>, so grow the viewport to fit it."""
    height = int(tab.evaluate("document.querySelector('article').scrollHeight")) + 80
    tab.set_viewport_size({"width": 1500, "height": max(height, 1000)})
    tab.screenshot(path=str(ARTIFACTS / name), full_page=True)
    tab.set_viewport_size({"width": 1500, "height": 1000})


def open_page(tab: Any, server: str, name: str, extra: str = "") -> str:
    slug = tab.url.split("/")[3]
    tab.goto(f"{server}/{slug}/extension/Eage/?page={name}&{PERIOD}{extra}")
    tab.wait_for_selector(".eage h2")
    shoot(tab, f"fava-{name}.png")
    assert ERRORS == []
    return str(tab.inner_text(".eage"))


def test_repartition(page: Any, server: str) -> None:
    text = open_page(page, server, "repartition")
    assert "Répartition des coûts" in text
    assert "Membres × services — octobre 2026" in text
    # the demo bills at the year-to-date rate: October's difference is the close's, shown as information
    assert "Facturé et coût pour octobre 2026" in text
    assert "(taux de l'année à date : régularisé en fin d'année par « eage close 2026 »)" in text
    assert page.locator("#eage-check .alerte").count() == 0 and page.locator("#eage-check .info").count() == 1
    assert HOSTILE in text  # shown as text, never run
    assert page.locator("#eage-matrix tbody tr").count() >= 10
    # choosing a month in the select reloads the page on that month, time filter kept
    page.select_option("#eage-month", "2026-03")
    page.wait_for_selector("text=Membres × services — mars 2026")
    assert "time=2026-01" in page.url
    shoot(page, "fava-repartition-mars.png")


def test_factures(page: Any, server: str) -> None:
    text = open_page(page, server, "factures")
    assert "Statuts et retards au 31/10/2026" in text
    assert "partiellement payée" in text and "impayée" in text
    assert "Cotisation 2026" in text and "mars 2026" in text  # what each document bills: fee or month
    assert "Balance âgée des créances" in text and "> 90 j" in text
    assert "\u202f" in text and "€" in text
    assert HOSTILE in text  # the member's name, as text
    assert page.locator("script", has_text="alert").count() == 0
    pdf = page.locator("#eage-invoices a", has_text="PDF").first
    href = pdf.get_attribute("href")
    assert href is not None and "/extension/Eage/pdf?path=reports%2Finvoices" in href
    response = page.request.get(server + href)
    assert response.status == 200 and response.body().startswith(b"%PDF")
    assert page.request.get(server + href.split("?")[0] + "?path=../rules/group.yaml").status == 404


def test_controles(page: Any, server: str) -> None:
    text = open_page(page, server, "controles")
    for title in (
        "Facturé et coût, par mois",  # the demo bills at the year-to-date rate, settled at the close
        "Dettes de paie non réglées",
        "Lignes bancaires en compte d'attente (471)",
        "Factures échues non payées",
        "Fichiers générés modifiés à la main",
        "Erreurs Beancount",
    ):
        assert title in text
    assert '"HOSTILE"' in text  # the hostile bank label, as text
    assert page.locator("#eage-ctl-suspense b").count() == 0


def test_budget(page: Any, server: str) -> None:
    text = open_page(page, server, "budget")
    assert "Budget et réalisé" in text


def test_tabs_navigate_through_fava_router(page: Any, server: str) -> None:
    open_page(page, server, "repartition")
    page.click("nav.eage-tabs >> text=Contrôles")
    page.wait_for_selector("#eage-ctl-billing")
    assert "page=controles" in page.url and "time=2026-01" in page.url
    assert ERRORS == []
