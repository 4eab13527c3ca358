"""The invoice a member reads: an A4 PDF/A-3b in French, carrying its Factur-X XML (``factur-x.xml``).

HTML from a Jinja template (``templates/invoice.html.j2`` + ``invoice.css``, which a group can override
file by file with ``template_dir``), laid out by WeasyPrint, which also writes the PDF/A-3b structure, the
embedded XML with ``AFRelationship /Data`` and the Factur-X XMP properties (level EN 16931). Everything is
done in one WeasyPrint pass: ``facturx.generate_from_binary`` would stamp the current time into the PDF
and its XMP, and the bytes would change at every run.

Determinism: the same invoice and XML give the same bytes. Dates in the PDF come from ``inv.issue_date``,
the file identifier is a hash of the invoice number and XML, and no clock or random value is read.

Only the invoice's own data is printed (no other member, no salary): the template receives the
``Invoice`` and the few values derived from it here.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import jinja2

from eage.money import NBSP, cents, fr_eur, fr_hours, fr_number, fr_percent
from eage.render_pool import Pending, RenderPool

from .facturx_xml import DEFAULT_DISCOUNT_TEXT, DEFAULT_LATE_PAYMENT_TEXT
from .model import Invoice, InvoiceLine

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "invoice.html.j2"
CSS_NAME = "invoice.css"
FACTURX_FILENAME = "factur-x.xml"
DEFAULT_ACCENT = "#1f4e79"
GROUP_MENTION = "Groupement d'employeurs (art. L1253-1 du Code du travail)"
NATURE = "Prestations de services — mise à disposition de personnel"
EXEMPTION_261B = "Exonération de TVA – article 261 B du CGI"

#: XMP properties a Factur-X reader looks for (Factur-X 1.0 spec, § "PDF/A-3 metadata"), with the PDF/A
#: extension schema that declares them (PDF/A forbids undeclared XMP properties).
_FX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
_FX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)
_FACTURX_XMP = (
    '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
    ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
    ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
    '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
    "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>"
    f"<pdfaSchema:namespaceURI>{_FX_NS}</pdfaSchema:namespaceURI>"
    "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"
    "<pdfaSchema:property><rdf:Seq>"
    + "".join(
        f'<rdf:li rdf:parseType="Resource"><pdfaProperty:name>{name}</pdfaProperty:name>'
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
        for name, description in _FX_PROPERTIES
    )
    + "</rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>\n"
    f'<rdf:Description rdf:about="" xmlns:fx="{_FX_NS}">'
    "<fx:DocumentType>INVOICE</fx:DocumentType>"
    f"<fx:DocumentFileName>{FACTURX_FILENAME}</fx:DocumentFileName>"
    "<fx:Version>1.0</fx:Version>"
    "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>"
    "</rdf:Description>\n"
).encode()

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# A colour goes into a <style> element: accept only what cannot break out of a CSS declaration.
_SAFE_COLOR = re.compile(r"#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,20}|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)")


def render_invoice_pdf(inv: Invoice, xml: bytes, *, template_dir: Path | None = None) -> bytes:
    """The Factur-X PDF/A-3b of ``inv`` with ``xml`` embedded as ``factur-x.xml``; deterministic bytes."""
    # WeasyPrint is imported here: it takes a second to import and the rest of eage does not need it.
    from weasyprint import HTML, Attachment

    html = render_invoice_html(inv, template_dir=template_dir, embed_css=False)
    # Only local files (logo, fonts) and data: URLs: an invoice never fetches anything from the network.
    fetcher = _fetcher()
    if template_dir is None:
        font_config, stylesheet = _font_config(), _shipped_stylesheet()
    else:  # a group's own CSS may declare @font-face: a fresh configuration, and its CSS parsed with it
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        env = _environment(template_dir)
        assert env.loader is not None
        source, path, _ = env.loader.get_source(
            env, CSS_NAME
        )  # the group's invoice.css, else the shipped one
        base = Path(path).parent if path else template_dir
        stylesheet = CSS(string=source, base_url=f"{base}/", url_fetcher=fetcher, font_config=font_config)
    document = HTML(
        string=html, base_url=str(template_dir or TEMPLATE_DIR) + "/", url_fetcher=fetcher
    ).render(stylesheets=[stylesheet], font_config=font_config)
    stamp = dt.datetime.combine(inv.issue_date, dt.time(0, 0))
    attachment = Attachment(
        string=xml,
        name=FACTURX_FILENAME,
        description="Factur-X invoice (EN 16931)",
        created=stamp,
        modified=stamp,
        relationship="Data",
        url_fetcher=fetcher,
    )
    identifier = hashlib.sha256(inv.number.encode() + b"\0" + xml).hexdigest()[:32].encode()
    pdf: bytes = document.write_pdf(
        pdf_variant="pdf/a-3b",
        pdf_identifier=identifier,
        attachments=[attachment],
        finisher=_finish_facturx,
    )
    return pdf


def render_invoice_html(inv: Invoice, *, template_dir: Path | None = None, embed_css: bool = True) -> str:
    """The HTML the PDF is laid out from (autoescaped: names are text, never markup).

    ``embed_css``: the stylesheet (``invoice.css``) inside the page's ``<style>``, for a page that stands on
    its own. The PDF renderer asks for it without and applies the stylesheet itself, parsed once per
    process instead of once per invoice (same cascade: the template sets no other style).
    """
    return _environment(template_dir).get_template(TEMPLATE_NAME).render(**_context(inv), embed_css=embed_css)


def _finish_facturx(document: Any, pdf: Any) -> None:
    """Last touches on WeasyPrint's PDF objects, before they are written.

    - Factur-X wants the embedded XML typed ``text/xml``; WeasyPrint guesses ``application/xml``.
    - The Factur-X XMP properties go *inside* WeasyPrint's ``rdf:RDF`` element: its ``xmp_metadata``
      option would add a second ``rdf:RDF``, which XMP does not allow and PDF/A validators reject.
    - WeasyPrint 70 lists the attachment twice in the catalog's ``/AF`` array; once is right.
    """
    for obj in pdf.objects:
        extra = getattr(obj, "extra", None)
        if not isinstance(extra, dict):
            continue
        if extra.get("Type") == "/EmbeddedFile":
            extra["Subtype"] = "/text#2Fxml"
        elif extra.get("Type") == "/Metadata":
            content = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in obj.stream)
            head, sep, tail = content.partition(b"</rdf:RDF>")
            if not sep:
                raise RuntimeError("WeasyPrint's XMP metadata has no rdf:RDF element")
            obj.stream = [head + _FACTURX_XMP + sep + tail]
    files = pdf.catalog.get("AF")
    if files is not None:
        unique = list(dict.fromkeys(files))
        files.clear()
        files.extend(unique)


def warm_up() -> None:
    """Import WeasyPrint and build what every invoice shares (fonts, stylesheet, template) now."""
    _font_config()
    _shipped_stylesheet()
    _environment(None).get_template(TEMPLATE_NAME)


def warm_up_documents() -> None:
    """A render worker's initializer for invoices and payslips: WeasyPrint imported, the invoice
    stylesheet parsed, the XSD and both schematrons compiled, before the first job."""
    from eage.invoicing.validate import warm_up as warm_up_validation

    warm_up()
    warm_up_validation()


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"file", "data"})


@functools.cache
def _shipped_stylesheet() -> Any:
    """The shipped ``invoice.css``, parsed once per process and applied to every invoice.

    Parsing it took a tenth of an invoice's time. A WeasyPrint ``CSS`` is read-only once built, so one
    serves every document laid out with :func:`_font_config` (it declares no ``@font-face``).
    """
    from weasyprint import CSS

    return CSS(
        string=(TEMPLATE_DIR / CSS_NAME).read_text(encoding="utf-8"),
        base_url=str(TEMPLATE_DIR) + "/",
        url_fetcher=_fetcher(),
        font_config=_font_config(),
    )


@functools.cache
def _font_config() -> Any:
    """One WeasyPrint font configuration per process, shared by every invoice.

    Creating one per document sets up fontconfig and Pango again each time. Shared only with the shipped
    templates, which declare no ``@font-face``: the configuration then holds nothing of a previous
    invoice. A group's own templates (which may add fonts) get a fresh configuration per invoice.
    """
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _environment(template_dir: Path | None) -> jinja2.Environment:
    # Cached per folder: building the environment anew for every invoice compiled the template anew
    # (a tenth of a second each). Jinja still reloads a template whose file changed on disk.
    # The override folder first, the shipped templates behind it: a group may replace only the CSS.
    search = [str(template_dir), str(TEMPLATE_DIR)] if template_dir else [str(TEMPLATE_DIR)]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        eur=fr_eur,
        hours=fr_hours,
        number=fr_number,
        percent=lambda r: fr_percent(r, 0 if r * 100 == int(r * 100) else 1),
        date_fr=date_fr,
        price=fr_price,
        iban=format_iban,
    )
    return env


def _context(inv: Invoice) -> dict[str, Any]:
    accent = inv.accent_color.strip()
    logo_uri = None
    if inv.seller_logo:
        logo = Path(inv.seller_logo).expanduser()
        if logo.is_file():
            logo_uri = logo.resolve().as_uri()
    credit = inv.kind == "credit_note"
    return {
        "inv": inv,
        "title": "AVOIR" if credit else "FACTURE",
        "is_credit": credit,
        "accent": accent if _SAFE_COLOR.fullmatch(accent) else DEFAULT_ACCENT,
        "logo_uri": logo_uri,
        "group_mention": GROUP_MENTION,
        "nature": NATURE,
        "period": period_fr(inv.period_start, inv.period_end),
        "lines": [_line_view(line) for line in inv.lines],
        "rounded_rates": any(_rate_is_rounded(line) for line in inv.lines),
        "exemption_text": inv.vat.exemption_reason or EXEMPTION_261B,
        "indemnity": _eur_plain(inv.recovery_indemnity),
        # The same wording as the XML notes, so the PDF and the XML never say two different things.
        "late_payment_text": inv.late_payment_text or DEFAULT_LATE_PAYMENT_TEXT,
        "discount_terms": inv.discount_terms or DEFAULT_DISCOUNT_TEXT,
        "pdf_date": inv.issue_date.isoformat() + "T00:00:00Z",
    }


def _line_view(line: InvoiceLine) -> dict[str, Any]:
    is_lump_sum = line.unit == "C62" and line.quantity == 1
    return {
        "label": line.label,
        "quantity": "—"
        if is_lump_sum
        else fr_hours(line.quantity)
        if line.unit == "HUR"
        else fr_number(line.quantity),
        "rate": "forfait" if is_lump_sum else fr_price(line.unit_price),
        "amount": fr_eur(line.amount),
        "rounded": _rate_is_rounded(line),
    }


def _rate_is_rounded(line: InvoiceLine) -> bool:
    """True when hours x printed rate does not give the line amount (the amount is the exact share)."""
    return cents(line.quantity * line.unit_price) != cents(line.amount)


def fr_price(value: Decimal) -> str:
    """A unit price with 2 to 4 decimals, as many as it has: ``31,4567 €``, ``28,10 €``."""
    exponent = value.normalize().as_tuple().exponent
    places = min(max(-exponent if isinstance(exponent, int) else 2, 2), 4)
    return f"{fr_number(value, places)}{NBSP}€"


def date_fr(day: dt.date) -> str:
    """``2026-09-01`` -> ``1er septembre 2026``, with no-break spaces so a date never wraps."""
    return f"{'1er' if day.day == 1 else day.day}{NBSP}{_MONTHS[day.month - 1]}{NBSP}{day.year}"


def period_fr(start: dt.date, end: dt.date) -> str:
    """``du 1er au 30 septembre 2026``, or the full dates when the months or years differ."""
    if (start.year, start.month) == (end.year, end.month):
        first = "1er" if start.day == 1 else str(start.day)
        return f"du {first} au{NBSP}{date_fr(end)}"
    return f"du {date_fr(start)} au {date_fr(end)}"


def format_iban(iban: str) -> str:
    """IBAN in groups of four, joined by no-break spaces so it never wraps."""
    compact = iban.replace(" ", "")
    return NBSP.join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _eur_plain(value: Decimal) -> str:
    """``40`` -> ``40 €`` (the legal mention's own wording), ``12.5`` -> ``12,50 €``."""
    return f"{fr_number(value, 0)}{NBSP}€" if value == value.to_integral_value() else fr_eur(value)


class RenderedInvoice(NamedTuple):
    """One invoice's Factur-X XML, the EN 16931 / BR-FR rules it breaks (none: valid) and its PDF."""

    xml: bytes
    failed: list[str]
    pdf: bytes | None  # None when the XML is invalid: nothing is laid out


def render_invoice(inv: Invoice, template_dir: Path | None = None) -> RenderedInvoice:
    """Build and validate the XML of ``inv``, then render its PDF if the XML is valid."""
    from .facturx_xml import build_cii_xml
    from .validate import validate_facturx_xml

    xml = build_cii_xml(inv)
    failed = [str(f) for f in validate_facturx_xml(xml)]
    if failed:
        return RenderedInvoice(xml, failed, None)
    return RenderedInvoice(xml, failed, render_invoice_pdf(inv, xml, template_dir=template_dir))


def render_invoices(
    invoices: Sequence[Invoice], template_dir: Path | None = None, *, pool: RenderPool | None = None
) -> Iterator[RenderedInvoice]:
    """:func:`render_invoice` of each invoice, in order, in ``pool`` (or a pool sized for these invoices).

    In a pool of processes every invoice is queued at once and the results are read in order; in process
    (a small month) each is rendered when read, so a caller that stops at the first invalid invoice
    renders nothing after it. The bytes do not depend on the process that renders them.
    """
    if pool is None:
        with RenderPool(len(invoices), warm_up=warm_up_documents) as own:
            yield from render_invoices(invoices, template_dir, pool=own)
        return
    for job in queue_invoices(invoices, template_dir, pool):
        yield job.result()


def queue_invoices(
    invoices: Sequence[Invoice], template_dir: Path | None, pool: RenderPool
) -> list[Pending[RenderedInvoice]]:
    """:func:`render_invoice` of each invoice queued in ``pool`` now, to be read in order (in process:
    each is rendered when read)."""
    return [pool.submit(render_invoice, inv, template_dir) for inv in invoices]
