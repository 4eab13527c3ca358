"""The statements as documents a board member reads: HTML and PDF (WeasyPrint), CSV and XLSX.

- French throughout, French number formats. The PDF and HTML show whole euros (as the board's own tables
  do); CSV and XLSX keep the cents for whoever recomputes.
- The chart is an inline SVG drawn here (no JavaScript): budget vs actual, month by month.
- Spreadsheet safety: a text cell never starts with ``= + - @`` (it would run as a formula when opened);
  such text gets a leading apostrophe. Numbers are written as numbers (XLSX) or bare numbers (CSV).
- Determinism: no clock is read. The PDF's dates are the last day of the period, its identifier a hash
  of its HTML; the XLSX's document dates and zip timestamps are fixed the same way.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import html
import io
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from eage.budget.statements import Consolidated, MemberBlock, MemberStatement, Row
from eage.csvsafe import safe_cell
from eage.money import MONTHS_FR, NBSP, fr_eur, fr_hours, fr_number, fr_percent

TEMPLATE_DIR = Path(__file__).parent / "templates"
MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
DASH = "—"


# --- formats ------------------------------------------------------------------------------------------


def eur0(value: Decimal | None) -> str:
    """Whole euros, French style: ``12 345 €`` (the PDF's tables)."""
    return DASH if value is None else f"{fr_number(value, 0)}{NBSP}€"


def eur(value: Decimal | None) -> str:
    return DASH if value is None else fr_eur(value)


def pct(value: Decimal | None) -> str:
    return DASH if value is None else fr_percent(value)


def signed_pct(value: Decimal | None) -> str:
    return _plus(pct(value), value)


def hours(value: Decimal | None) -> str:
    return DASH if value is None else fr_hours(value)


def _plus(text: str, value: Decimal | None) -> str:
    """A variance reads better with its sign: ``+325 €`` over budget, ``-208 €`` under (never ``+0 €``)."""
    shows_nonzero = any(c in "123456789" for c in text)
    return f"+{text}" if value is not None and value > 0 and shows_nonzero else text


def signed_eur0(value: Decimal | None) -> str:
    return _plus(eur0(value), value)


def signed_eur(value: Decimal | None) -> str:
    return _plus(eur(value), value)


def signed_hours(value: Decimal | None) -> str:
    return _plus(hours(value), value)


def period_end(year: int, through: int) -> dt.date:
    return dt.date(year, through, calendar.monthrange(year, through)[1])


def period_label(year: int, through: int) -> str:
    end = period_end(year, through)
    first = "1er" if end.day == 1 else str(end.day)
    return f"au {first} {MONTHS_FR[through - 1]} {year}"


# --- chart ----------------------------------------------------------------------------------------------


def _nice_step(top: Decimal) -> Decimal:
    """A round grid step giving four to six lines up to ``top``."""
    if top <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(top))) - 1)
    for factor in (Decimal("0.1"), Decimal("0.2"), Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal(2),
                   Decimal("2.5"), Decimal(5), Decimal(10)):  # fmt: skip
        step = magnitude * factor
        if top / step <= 6:
            return step
    return magnitude * 10


def _n(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'))}"


def bar_chart(
    title: str,
    budget: Sequence[Decimal],
    actual: Sequence[Decimal | None],
    *,
    actual_color: str = "#1f4e79",
    budget_color: str = "#b8c7d9",
) -> Markup:
    """Grouped bars, budget vs actual for the twelve months, as an inline SVG (with a text alternative)."""
    width, height = Decimal(560), Decimal(205)
    left, right, top, bottom = Decimal(72), Decimal(6), Decimal(34), Decimal(26)
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max([*budget, *(a for a in actual if a is not None), Decimal(1)])
    step = _nice_step(highest)
    ceiling = (highest / step).to_integral_value(rounding="ROUND_CEILING") * step
    slot = plot_w / 12
    bar = slot * Decimal("0.36")

    def y(value: Decimal) -> Decimal:
        return top + plot_h - plot_h * max(value, Decimal(0)) / ceiling

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}" class="chart">',
        f"<title>{html.escape(title)}</title>",
    ]
    tick = Decimal(0)
    while tick <= ceiling:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(tick))}" y2="{_n(y(tick))}" '
            f'stroke="{"#888" if tick == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_n(y(tick) + 4)}" text-anchor="end" font-size="12" fill="#444">'
            f"{html.escape(eur0(tick))}</text>"
        )
        tick += step
    for index in range(12):
        x0 = left + slot * index + (slot - 2 * bar) / 2
        b = budget[index]
        parts.append(
            f'<rect x="{_n(x0)}" y="{_n(y(b))}" width="{_n(bar)}" height="{_n(top + plot_h - y(b))}" '
            f'fill="{budget_color}"><title>{MONTHS_FR[index]} — budget {html.escape(eur0(b))}</title></rect>'
        )
        a = actual[index]
        if a is not None:
            parts.append(
                f'<rect x="{_n(x0 + bar)}" y="{_n(y(a))}" width="{_n(bar)}" height="{_n(top + plot_h - y(a))}" '
                f'fill="{actual_color}"><title>{MONTHS_FR[index]} — réalisé {html.escape(eur0(a))}</title></rect>'
            )
        parts.append(
            f'<text x="{_n(left + slot * index + slot / 2)}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="12" fill="#333">{MONTHS_SHORT[index]}</text>'
        )
    legend_x = left
    for label, color in (("Budget", budget_color), ("Réalisé", actual_color)):
        parts.append(
            f'<rect x="{legend_x}" y="8" width="16" height="16" fill="{color}"/>'
            f'<text x="{legend_x + 22}" y="21" font-size="14" fill="#222">{label}</text>'
        )
        legend_x += 100
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built above from numbers and escaped labels only


# --- HTML and PDF ---------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,  # member names and labels are text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        eur0=eur0,
        eur=eur,
        pct=pct,
        hours=hours,
        signed_pct=signed_pct,
        signed_eur0=signed_eur0,
        signed_eur=signed_eur,
        signed_hours=signed_hours,
    )
    return env


def _common(group_name: str, year: int, through: int) -> dict[str, Any]:
    return {
        "group_name": group_name,
        "year": year,
        "through": through,
        "period": period_label(year, through),
        "months_label": f"janvier à {MONTHS_FR[through - 1]} {year}" if through > 1 else f"janvier {year}",
        "pdf_date": period_end(year, through).isoformat(),
    }


def consolidated_html(statement: Consolidated, group_name: str) -> str:
    months = statement.months
    charts = [
        bar_chart(
            "Charges : budget et réalisé par mois",
            [m.budget_charges for m in months],
            [m.actual_charges for m in months],
        ),
        bar_chart(
            "Produits : budget et réalisé par mois",
            [m.budget_produits for m in months],
            [m.actual_produits for m in months],
            actual_color="#2e7d4f",
            budget_color="#bfdcc9",
        ),
    ]
    result = (
        statement.total_produits.year_total - statement.total_charges.year_total,
        statement.total_produits.budget_total - statement.total_charges.budget_total,
        statement.total_produits.actual_total - statement.total_charges.actual_total,
        statement.total_produits.forecast - statement.total_charges.forecast,
    )
    return (
        _environment()
        .get_template("consolidated.html.j2")
        .render(
            s=statement,
            charts=charts,
            result=result,
            **_common(group_name, statement.year, statement.through),
        )
    )


def members_html(statement: MemberStatement, group_name: str, *, single: bool) -> str:
    return (
        _environment()
        .get_template("members.html.j2")
        .render(s=statement, single=single, **_common(group_name, statement.year, statement.through))
    )


def html_to_pdf(text: str) -> bytes:
    """Lay out the HTML as a PDF; same HTML, same bytes."""
    from weasyprint import HTML  # a second to import: only when a PDF is asked for
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"file", "data"})  # never the network
    identifier = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32].encode()
    pdf: bytes = HTML(string=text, base_url=str(TEMPLATE_DIR) + "/", url_fetcher=fetcher).write_pdf(
        pdf_identifier=identifier
    )
    return pdf


# --- CSV and XLSX ---------------------------------------------------------------------------------------

Cell = str | Decimal | None

CONSOLIDATED_HEADER = (
    "Côté",
    "Niveau",
    "Rubrique",
    "Comptes",
    "Budget annuel Fonctionnement",
    "Budget annuel Projets",
    "Budget annuel total",
    "% du total",
    "Budget à date",
    "Réalisé Fonctionnement",
    "Réalisé Projets",
    "Réalisé total",
    "Écart (réalisé − budget)",
    "Écart %",
    "Prévision fin d'année",
)
LEVELS = {"rubric": "Rubrique", "line": "Ligne", "total": "Total"}


def consolidated_rows(statement: Consolidated) -> list[tuple[Cell, ...]]:
    out: list[tuple[Cell, ...]] = []

    def add(side: str, row: Row, whole: Decimal) -> None:
        f = row.figures
        share = f.year_total / whole if whole else None
        out.append(
            (
                side,
                LEVELS[row.level],
                row.label,
                " ".join(row.accounts),
                f.year[0],
                f.year[1],
                f.year_total,
                _q4(share),
                f.budget_total,
                f.actual[0],
                f.actual[1],
                f.actual_total,
                f.variance,
                _q4(f.variance_ratio),
                f.forecast,
            )
        )

    for side, rows, total in (
        ("Charges", statement.charges, statement.total_charges),
        ("Produits", statement.produits, statement.total_produits),
    ):
        for row in rows:
            add(side, row, total.year_total)
        add(side, Row("total", f"Total {side.lower()}", total), total.year_total)
    return out


MEMBER_HEADER = (
    "Membre",
    "Nom",
    "Service",
    "Heures prévues (année)",
    "Heures prévues à date",
    "Heures réalisées",
    "Écart heures",
    "Prévision heures fin d'année",
    "Facturation prévue (année)",
    "Facturation prévue à date",
    "Montant facturé",
    "Écart montant",
    "Écart %",
    "Prévision facturation fin d'année",
)


def member_rows(statement: MemberStatement) -> list[tuple[Cell, ...]]:
    out: list[tuple[Cell, ...]] = []
    for block in statement.blocks:
        for r in block.services:
            h = r.has_hours
            out.append(
                (
                    block.member,
                    block.name,
                    r.label,
                    r.hours_year if h else None,
                    r.hours_budget if h else None,
                    r.hours_actual if h else None,
                    r.hours_variance if h else None,
                    r.hours_forecast if h else None,
                    None,
                    None,
                    r.billed,
                    None,
                    None,
                    None,
                )
            )
        out.append(_member_total(block))
    return out


def _member_total(block: MemberBlock) -> tuple[Cell, ...]:
    return (
        block.member,
        block.name,
        "Total",
        block.hours_year,
        block.hours_budget,
        block.hours_actual,
        block.hours_actual - block.hours_budget,
        block.hours_forecast,
        block.planned_year,
        block.planned,
        block.billed,
        block.variance,
        _q4(block.variance_ratio),
        block.forecast,
    )


def _q4(value: Decimal | None) -> Decimal | None:
    """A ratio kept to four decimals (0,1234 = 12,34 %) in the spreadsheets."""
    return None if value is None else value.quantize(Decimal("0.0001"))


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        # A bare number with a decimal comma: French spreadsheets read it as a number, never as a formula.
        return f"{value:f}".replace(".", ",")
    return safe_cell(value)


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """Semicolon-separated, UTF-8 with a BOM (what a French spreadsheet expects), numbers with a comma."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    sheet_title: str,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    stamp: dt.date,
    ratio_columns: Sequence[int] = (),
    hour_columns: Sequence[int] = (),
) -> bytes:
    """One sheet: a title row, a header row, then the rows; numbers as numbers, formats in French style."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title[:31]
    sheet.append([safe_cell(title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([safe_cell(h) for h in header])
    for cell in sheet[2]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
    for column in sheet.iter_cols(min_row=3):
        for cell in column:
            if not isinstance(cell.value, Decimal):
                continue
            index = cell.column - 1
            if index in ratio_columns:
                cell.number_format = "0.0 %"
            elif index in hour_columns:
                cell.number_format = "# ##0.00"
            else:
                cell.number_format = '# ##0.00 "€"'
    for index in range(len(header)):
        letter = sheet.cell(row=2, column=index + 1).column_letter
        sheet.column_dimensions[letter].width = 34 if index in (2, 3) else 16
    sheet.freeze_panes = "A3"
    stamp_dt = dt.datetime.combine(stamp, dt.time(0, 0))
    book.properties.creator = "eage"
    book.properties.created = stamp_dt
    book.properties.modified = stamp_dt
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue(), stamp_dt)


def _fixed_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """The same archive with every member dated ``stamp``: zip entries carry the clock time, and openpyxl
    stamps ``dcterms:modified`` with it whatever the workbook's properties say."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + when + rb"\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, content)
    return out.getvalue()
