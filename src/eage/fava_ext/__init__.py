"""The eage extension for Fava: the group's own pages next to Fava's reports, in French.

Declared in main.beancount with ``custom "fava-extension" "eage.fava_ext"``. One report, "eage", with four
pages chosen by the ``page`` query parameter (Fava gives an extension one report title):

- Répartition: for a month, hours and amounts billed per member and service, the pools' costs, and the
  check "facturé = coût" for the pools billed at the month's cost (a pool billed at a standard or
  year-to-date rate shows its difference as information: the close settles it); standalone credit notes
  listed apart;
- Factures: every invoice and credit note with its status (payée, impayée, annulée par avoir AV-…), days
  overdue and PDF, and the receivables aged by member;
- Contrôles: billed ≠ cost where a month must bill its cost, the credit notes issued (« Avoirs émis »), unsettled payroll liabilities, the
  payroll's dues past their date (« Charges sociales en retard », ``eage charges``' schedule), bank lines waiting in 471, overdue invoices, generated files edited by hand, Beancount errors;
- Budget: ``eage budget``'s consolidated statement for the months of the period (same library calls,
  same figures, a « Non budgété » row so that the total charges are the ledger's).

Which documents are listed follows Fava's filters (``g.filtered``); the months of Répartition, Contrôles
and Budget follow its time filter. Statuses and balances are computed on the whole ledger up to the as-of
date, the last day of the filtered period (or today when no time filter is set), so "days overdue" has
one meaning on every page. The figures are computed once per ledger reload
(:class:`eage.fava_ext.state.LedgerState`, built in ``after_load_file``) and laid out by
:mod:`eage.fava_ext.reports`; this module only wires them to Fava and Flask. Templates are autoescaped
(their names end in .html): names from the ledger are text, never markup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from fava.beans.abc import Transaction
from fava.context import g
from fava.core import FavaLedger
from fava.ext import FavaExtensionBase, extension_endpoint
from flask import abort, request
from flask.wrappers import Response

from eage.errors import InputError
from eage.fava_ext import reports
from eage.fava_ext.state import ErrorRow, LedgerState, Stamp, input_stamp
from eage.ledger.load import Ledger
from eage.ledger.store import read_manifest, sha256
from eage.money import fr_eur, fr_hours, fr_percent
from eage.rules.bundle import Rules, load_rules

PAGES = (
    ("repartition", "Répartition"),
    ("factures", "Factures"),
    ("controles", "Contrôles"),
    ("budget", "Budget"),
)
INVOICE_DIR = "reports/invoices"
#: When every page's figures are computed after a reload: "1" in after_load_file itself (a longer reload),
#: "0" at the first view of each page, otherwise (the default) in a background thread started by
#: after_load_file, so that neither the reload nor the first views wait for them.
PRECOMPUTE = "EAGE_FAVA_PRECOMPUTE"
#: Rows of a long table shown by default (the page links to all of them).
ROW_LIMIT = 1000
T = TypeVar("T")


class Eage(FavaExtensionBase):
    """Fava extension: eage's pages (report "eage") and the invoice PDF endpoint."""

    report_title = "eage"

    def __init__(self, ledger: FavaLedger, config: str | None = None) -> None:
        super().__init__(ledger, config)
        self._rules: tuple[Stamp, Rules | None, str | None] | None = None
        self._state: LedgerState | None = None
        self._lock = threading.Lock()
        self._pdf_base: dict[str, str] = {}
        self._local = threading.local()  # per request thread: the stamp of the files beside the ledger

    # --- context ---------------------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The group's folder: the parent of the ledger directory holding main.beancount."""
        return Path(self.ledger.beancount_file_path).resolve().parent.parent

    def after_load_file(self) -> None:
        """Fava reloaded the ledger: the derived state of the old entries is dropped, a new one built.

        The new state walks the entries once here. What the pages show without a time filter (the hash
        of every locked file, the costs and check of every month, receivables, the budget) is then computed
        once, in a background thread by default: a page asking for a figure the thread is computing waits
        for that computation (the state's lock), never computes it twice. ``EAGE_FAVA_PRECOMPUTE=1``
        computes it here instead (every reload takes longer), ``EAGE_FAVA_PRECOMPUTE=0`` at each page's
        first view.
        """
        with self._lock:
            self._state = None
            self._state = self._build_state(input_stamp(self.root))
            state = self._state
        if state is None:
            return
        mode = os.environ.get(PRECOMPUTE, "")
        if mode == "1":
            reports.precompute(state, dt.date.today())
        elif mode != "0":
            threading.Thread(
                target=_precompute_quietly, args=(state,), name="eage-precompute", daemon=True
            ).start()

    def _build_state(self, stamp: Stamp) -> LedgerState | None:
        rules = self._load_rules(stamp)
        if rules is None:
            return None
        view = Ledger(self.root, list(self.ledger.all_entries), dict(self.ledger.options))
        return LedgerState(self.root, view, error_rows(self.ledger.errors, self.root), rules, stamp)

    def _load_rules(self, stamp: Stamp) -> Rules | None:
        if self._rules is None or self._rules[0] != stamp:
            try:
                self._rules = (stamp, load_rules(self.root), None)
            except InputError as exc:
                self._rules = (stamp, None, str(exc))
        return self._rules[1]

    def before_request(self) -> None:
        """A new request: the files beside the ledger are looked at again (once, when a page asks)."""
        self._local.stamp = None

    def state(self) -> LedgerState | None:
        """This load's derived state; built again when rules, timesheets or the manifest changed on disk
        (Fava does not watch them), else kept until the next reload."""
        stamp: Stamp | None = getattr(self._local, "stamp", None)
        if stamp is None:
            stamp = self._local.stamp = input_stamp(self.root)
        with self._lock:
            if self._state is None or self._state.stamp != stamp:
                self._state = self._build_state(stamp)
            return self._state

    def rules(self) -> Rules | None:
        state = self.state()
        return None if state is None else state.rules

    def rules_error(self) -> str | None:
        self.state()
        return None if self._rules is None else self._rules[2]

    def page(self) -> str:
        wanted = request.args.get("page", "")
        return wanted if wanted in dict(PAGES) else PAGES[0][0]

    def pages(self) -> tuple[tuple[str, str], ...]:
        return PAGES

    def as_of(self) -> dt.date:
        date_range = g.filtered.date_range
        return date_range.end_inclusive if date_range else dt.date.today()

    def as_of_reason(self) -> str:
        return (
            "dernier jour de la période filtrée"
            if g.filtered.date_range
            else "aujourd'hui (aucun filtre de période)"
        )

    def _range(self) -> tuple[dt.date | None, dt.date | None]:
        date_range = g.filtered.date_range
        return (date_range.begin, date_range.end) if date_range else (None, None)

    def _listed(self, state: LedgerState) -> frozenset[str]:
        """Numbers of the documents among Fava's filtered entries dated up to the as-of date (once per
        filter and reload: Fava keeps the filtered ledger of the same filter for the same load)."""
        filtered = g.filtered
        as_of = self.as_of()

        def compute() -> tuple[Any, frozenset[str]]:
            numbers = frozenset(
                str(t.meta["invoice"])
                for t in filtered.entries
                if isinstance(t, Transaction) and "invoice" in t.meta and t.date <= as_of
            )
            return filtered, numbers

        kept, numbers = state.memo(("listed", id(filtered), as_of), compute)
        if kept is not filtered:  # another filtered ledger reusing the id of a dead one
            kept, numbers = compute()
        return numbers

    # --- pages -----------------------------------------------------------------------------------------

    def months(self) -> list[str]:
        """Months with billing or costs in the filtered period, oldest first."""
        state = self.state()
        return [] if state is None else state.index.months(*self._range())

    def selected_month(self) -> str | None:
        """The month asked for, else the last month of the period that was billed, else the last one."""
        state = self.state()
        months = self.months()
        if state is None or not months:
            return None
        wanted = request.args.get("month", "")
        if wanted in months:
            return wanted
        return ([m for m in months if state.billed(m)] or months)[-1]

    def repartition(self) -> reports.Repartition | None:
        state, month = self.state(), self.selected_month()
        if state is None or month is None:
            return None
        return reports.repartition(state, month)

    def _manifest(self) -> dict[str, str]:
        """The lock manifest; a corrupt one serves no PDF (Contrôles and `eage check` report it)."""
        try:
            return read_manifest(self.root / "ledger")
        except InputError:
            return {}

    def factures(self) -> reports.Factures | None:
        state = self.state()
        if state is None:
            return None
        return reports.factures(state, self._listed(state), self.as_of())

    def controles(self) -> reports.Controles | None:
        state = self.state()
        if state is None:
            return None
        return reports.controles(state, self.months(), self._listed(state), self.as_of())

    def budget(self) -> reports.BudgetPage | None:
        state = self.state()
        if state is None:
            return None
        return reports.budget(state, *self._range())

    def limited(self, rows: list[T], *, latest: bool) -> list[T]:
        """At most ROW_LIMIT rows of a long list (the latest ones when ``latest``, else the first),
        unless the reader asked for all of them (``tout=1``): ten years of invoices are 36 000 rows."""
        if request.args.get("tout") == "1" or len(rows) <= ROW_LIMIT:
            return rows
        return rows[-ROW_LIMIT:] if latest else rows[:ROW_LIMIT]

    def other_filters(self) -> bool:
        """An account or advanced filter is set: the budget ignores it (it is ``eage budget``'s)."""
        return bool(request.args.get("account") or request.args.get("filter"))

    # --- formatting and links (called from the templates) ---------------------------------------------

    def eur(self, value: Decimal) -> str:
        return fr_eur(value)

    def hours(self, value: Decimal) -> str:
        return fr_hours(value)

    def percent(self, value: Decimal | None) -> str:
        return "—" if value is None else fr_percent(value)

    def date(self, value: dt.date | None) -> str:
        return "—" if value is None else value.strftime("%d/%m/%Y")

    def month_label(self, month: str) -> str:
        return reports.month_label(month)

    def invoice_object(self, kind: str, period: str) -> str:
        """What a document bills, in words: "Cotisation 2026", "mars 2026", "Régularisation 2026", "Avoir"."""
        when = reports.month_label(period) if len(period) == 7 and period[4] == "-" else period
        label = {"fee": "Cotisation", "trueup": "Régularisation", "credit_note": "Avoir"}.get(kind)
        if label is None:
            return when or "—"
        return f"{label} {when}".strip()

    def page_url(self, page: str, **params: str) -> str:
        from fava.application import url_for

        return url_for("extension_report", extension_name=self.name, page=page, **params)

    def pdf_url(self, path: str) -> str:
        from fava.application import url_for

        # Fava's route names its parameter "endpoint", which url_for() takes as its own first argument.
        # The base is the same for every row of a page (thousands on a large group): built once per root.
        key = request.script_root
        base = self._pdf_base.get(key)
        if base is None:
            base = self._pdf_base[key] = f"{url_for('index')}extension/{quote(self.name)}/pdf?"
        return base + urlencode({"path": path})

    def account_url(self, account: str) -> str:
        from fava.application import url_for

        return url_for("account", name=account)

    # --- endpoints -------------------------------------------------------------------------------------

    # fava types the decorator with a TypeVar bound inside TYPE_CHECKING, which mypy cannot resolve here.
    @extension_endpoint("pdf")  # type: ignore[arg-type,untyped-decorator]
    def pdf(self) -> Response:
        """An invoice PDF, only if eage generated it: listed in the lock manifest, under reports/invoices, and
        still the bytes the manifest locks (a PDF changed on disk since it was issued is refused, not shown)."""

        requested = request.args.get("path", "")
        # The state's manifest: read once per reload, and the state is built again when manifest.json
        # changes on disk (its stamp), so a PDF request never parses the whole manifest again.
        state = self.state()
        manifest = self._manifest() if state is None else state.manifest()
        path = safe_invoice_path(self.root, requested, manifest)
        if path is None:
            abort(404)
        data = path.read_bytes()  # hashed and served from the same bytes: no window between check and send
        if sha256(data) != manifest[requested]:
            return Response(
                "Ce document a été modifié depuis son émission (son empreinte ne correspond plus au manifeste) : "
                "lancez `eage check`.",
                status=409,
                mimetype="text/plain",
            )
        response = Response(data, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f"inline; filename={quote(path.name)}"
        return response


def _precompute_quietly(state: LedgerState) -> None:
    """:func:`reports.precompute` in the background. A figure that fails here is not kept (the state keeps
    only what was computed), so the page that shows it computes it again and reports the failure itself;
    and a state replaced by a newer reload, or a group folder removed meanwhile, only ends the thread."""
    with contextlib.suppress(Exception):
        reports.precompute(state, dt.date.today())


def error_rows(errors: Iterable[Any], root: Path) -> list[ErrorRow]:
    """Fava's load errors (Beancount's error tuples, the eage plugin's among them) as Contrôles lists them."""
    rows = []
    for error in errors:
        source = getattr(error, "source", None) or {}
        filename = str(source.get("filename", "") or "")
        with contextlib.suppress(ValueError):
            filename = str(Path(filename).resolve().relative_to(root.resolve()))
        where = f"{filename}:{source.get('lineno')}" if filename else ""
        rows.append(ErrorRow(str(getattr(error, "message", error)).strip(), where))
    return rows


def safe_invoice_path(root: Path, requested: str, manifest: dict[str, str]) -> Path | None:
    """The file to serve for ``requested`` (a root-relative path), or None when it must not be served.

    Three locks, each enough on its own against ``../``: the path must be a manifest key (eage wrote it),
    look like ``reports/invoices/....pdf`` with no ``..`` part, and resolve inside reports/invoices.
    """
    parts = PurePosixPath(requested).parts
    if not requested or requested not in manifest or ".." in parts or "\\" in requested:
        return None
    if not requested.startswith(INVOICE_DIR + "/") or not requested.endswith(".pdf"):
        return None
    base = (root / INVOICE_DIR).resolve()
    path = (root / requested).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path
