"""The payslip as a French PDF (WeasyPrint), for the group's records.

The bytes depend only on the inputs: the PDF creation and modification dates are the last day of the
payslip's month (never the clock), and the document identifier is derived from the content, so that
re-rendering a month gives the same file.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from eage.money import MONTHS_FR, fr_eur, fr_number
from eage.payroll.engine import EMPLOYEUR, SALARIE, Payslip


@dataclass
class _Row:
    label: str
    base: str
    ee_rate: str = ""
    ee_amount: str = ""
    er_rate: str = ""
    er_amount: str = ""


def _rate(value: Decimal) -> str:
    """A percent rate with its significant decimals (0,016 %), at least two."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole},{frac.ljust(2, '0')}\u00a0%"


@functools.cache
def _environment() -> Environment:
    """One per process: a new one for every payslip compiled the template again."""
    return Environment(
        loader=PackageLoader("eage.payroll", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def payslip_html(slip: Payslip, employee: Mapping[str, Any], employer: Mapping[str, Any]) -> str:
    """The payslip as HTML (what the PDF is rendered from).

    ``employee``: name (required), id, post, contract, start. ``employer``: name (required), legal_form,
    address_lines, siret, naf, convention, urssaf; optional ``pay_day``.
    """
    rows: dict[str, _Row] = {}
    for line in slip.lines:
        row = rows.setdefault(line.code, _Row(line.label, fr_number(line.base)))
        if line.side == SALARIE:
            row.ee_rate, row.ee_amount = _rate(line.rate), fr_number(line.amount)
        elif line.side == EMPLOYEUR:
            row.er_rate, row.er_amount = _rate(line.rate), fr_number(line.amount)
    last_day = calendar.monthrange(slip.month.year, slip.month.month)[1]
    created = dt.datetime(slip.month.year, slip.month.month, last_day, tzinfo=dt.UTC)
    employer_data = {
        "legal_form": "",
        "address_lines": [],
        "siret": "",
        "naf": "",
        "convention": "",
        "urssaf": "",
    }
    employer_data.update(employer)
    employee_data = {"id": "", "post": "", "contract": "", "start": ""}
    employee_data.update(employee)
    return (
        _environment()
        .get_template("payslip.html.j2")
        .render(
            slip=slip,
            employee=employee_data,
            employer=employer_data,
            period=f"{slip.month:%Y-%m}",
            period_label=f"{MONTHS_FR[slip.month.month - 1]} {slip.month.year}",
            created=created.isoformat(),
            hours=fr_number(slip.weekly_hours),
            earnings=[
                {
                    "label": e.label,
                    "quantity": "" if e.quantity is None else fr_number(e.quantity),
                    "rate": "" if e.rate is None else fr_number(e.rate, 4),
                    "amount": fr_number(e.amount),
                }
                for e in slip.earnings
            ],
            gross=fr_eur(slip.gross),
            rows=list(rows.values()),
            employee_total=fr_eur(slip.employee_contributions),
            employer_total=fr_eur(slip.employer_contributions),
            net_before_tax=fr_eur(slip.net_before_tax),
            net_taxable=fr_eur(slip.net_taxable),
            pas_rate=_rate(slip.pas_rate),
            pas=fr_eur(slip.pas),
            pay_day=employer_data.get("pay_day", ""),
            net_paid=fr_eur(slip.net_paid),
            employer_cost=fr_eur(slip.employer_cost),
            rgdu_label=slip.rgdu_label,
            rgdu_coefficient=fr_number(slip.rgdu_coefficient, 4),
            rgdu=fr_eur(slip.rgdu),
            pss=fr_eur(slip.pss),
            smic=fr_eur(slip.smic_month),
        )
    )


def render_payslip_pdf(slip: Payslip, employee: Mapping[str, Any], employer: Mapping[str, Any]) -> bytes:
    """The payslip as PDF bytes, identical for identical inputs."""
    from weasyprint import HTML

    html = payslip_html(slip, employee, employer)
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    data: bytes = HTML(string=html).write_pdf(pdf_identifier=identifier, font_config=_font_config())
    return data


@functools.cache
def _font_config() -> Any:
    """One WeasyPrint font configuration per process, shared by every payslip (a fifth of a payslip's
    time went into setting up fontconfig and Pango again). The template declares no ``@font-face``, so
    the configuration holds nothing of a previous payslip: the bytes are the same."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
