"""The payslip as a French PDF (WeasyPrint): the document an employer hands out (C. trav. R3243-1).

Page 1 is the official simplified layout (présentation simplifiée, C. trav. R3243-2 and the model of the
arrêté of 25 February 2016 as amended by the arrêté of 31 January 2023): the earnings and the gross, the
contributions grouped by risk, one line per heading, in the model's order (``templates/layout.yaml``, the
heading of each line comes from the rules: ``group``), their total, the exemptions, the net before tax,
the montant net social, the net taxable, the income tax withheld, the net paid and its date, the total paid
by the employer (gross + employer contributions after reductions, the taxe sur les salaires apart), the
year's cumulated figures and the paid-leave counters. Page 2 is the detail the law allows beside the
model: every contribution line with its base and rates.

A field another part of the payroll has not filled (the leave counters, the year to date, an identity
field of the group) prints nothing: the payslip never shows an invented value.

The bytes depend only on the inputs: the PDF creation and modification dates are the last day of the
payslip's month (never the clock), and the document identifier is derived from the content, so that
re-rendering a month gives the same file.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import functools
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import Field, model_validator

from eage.errors import InputError
from eage.money import MONTHS_FR, ZERO, cents, fr_eur, fr_number
from eage.payroll.contracts import CONTRACTS_FILE, load_contracts
from eage.payroll.engine import EMPLOYEUR, SALARIE, Payslip, PayslipLine
from eage.payroll.leave import LeaveCounters
from eage.rules.base import Strict
from eage.rules.loader import load_model
from eage.rules.models import Employee, Group, Urssaf

LAYOUT_FILE = Path(__file__).with_name("templates") / "layout.yaml"
#: Where a line's heading comes from, for the message when it is not one of the model's.
GROUP_SOURCES = "rules/payroll/contributions.yaml (or reductions.yaml, taxe_sur_salaires.yaml)"

GroupKind = Literal["mandatory", "exemption", "optional", "information"]


class LayoutGroup(Strict):
    label: str
    kind: GroupKind
    aliases: list[str] = Field(default_factory=list)


class Layout(Strict):
    """The model's headings in order (``templates/layout.yaml``)."""

    reference: str
    total_label: str
    groups: list[LayoutGroup]

    @model_validator(mode="after")
    def _unique(self) -> Layout:
        seen: set[str] = set()
        for group in self.groups:
            for name in (group.label, *group.aliases):
                if name in seen:
                    raise ValueError(f"heading {name!r} appears twice")
                seen.add(name)
        return self

    def find(self, name: str) -> tuple[int, LayoutGroup] | None:
        """The position and heading of a line's ``group`` (its label or one of its aliases)."""
        for index, group in enumerate(self.groups):
            if name == group.label or name in group.aliases:
                return index, group
        return None


@functools.cache
def layout() -> Layout:
    return load_model(LAYOUT_FILE, Layout)


@dataclass(frozen=True)
class GroupRow:
    """One heading of the simplified layout: the sums of its lines, employee and employer.

    ``base`` is shown when every line of the heading has the same base; a side's ``rate`` is the sum of its
    lines' rates when they all apply to that base (else the detail page has them).
    """

    label: str
    kind: GroupKind
    base: Decimal | None
    employee_rate: Decimal | None
    employee: Decimal
    employer_rate: Decimal | None
    employer: Decimal
    has_employee: bool
    has_employer: bool


def grouped_lines(slip: Payslip) -> list[GroupRow]:
    """The payslip's lines summed per heading, in the model's order; unknown heading -> InputError."""
    model = layout()
    by_index: dict[int, list[PayslipLine]] = {}
    for line in slip.lines:
        found = model.find(line.group)
        if found is None:
            known = ", ".join(f"« {g.label} »" for g in model.groups)
            raise InputError.at(
                f"the payslip line {line.code!r} ({line.label}) has the heading {line.group!r}, which is not "
                "one of the simplified payslip model's",
                file=GROUP_SOURCES,
                key=f"{line.code}.group",
                fix=f"use one of {known}",
            )
        by_index.setdefault(found[0], []).append(line)
    rows = []
    for index in sorted(by_index):
        heading = model.groups[index]
        lines = by_index[index]
        bases = {line.base for line in lines}
        base = next(iter(bases)) if len(bases) == 1 else None
        ee = [line for line in lines if line.side == SALARIE]
        er = [line for line in lines if line.side == EMPLOYEUR]
        rows.append(
            GroupRow(
                label=heading.label,
                kind=heading.kind,
                base=base,
                employee_rate=_sum_rates(ee) if base is not None else None,
                employee=sum((line.amount for line in ee), ZERO),
                employer_rate=_sum_rates(er) if base is not None else None,
                employer=sum((line.amount for line in er), ZERO),
                has_employee=bool(ee),
                has_employer=bool(er),
            )
        )
    return rows


def _sum_rates(lines: Sequence[PayslipLine]) -> Decimal | None:
    """The heading's rate on one side: the sum of its lines' percent rates (None when a line is not a
    percent of the base, e.g. an amount per hour)."""
    if not lines or not all(_is_percent(line) for line in lines):
        return None
    return sum((line.rate for line in lines), ZERO)


def _is_percent(line: PayslipLine) -> bool:
    """Whether the line's amount is its base x rate / 100 (else its rate is an amount per unit)."""
    return cents(line.base * line.rate / 100) == line.amount


def employer_total(slip: Payslip) -> Decimal:
    """Total versé par l'employeur: gross + employer contributions after reductions, without the
    information headings (the taxe sur les salaires). The engine's ``employer_total`` when it has one."""
    if slip.employer_total:
        return slip.employer_total
    return slip.gross + sum(
        (
            row.employer
            for row in grouped_lines(slip)
            if row.kind != "information"  # the TSS is a tax (CGI 231), not a contribution
        ),
        ZERO,
    )


# --- the parties: what the payslip says of the employer and the employee ---------------------------


def employer_info(
    group: Group, month: dt.date | None = None, agreement: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The employer block from ``rules/group.yaml``.

    ``month``: any day of the payslip's month, for the payment date of ``employer.payment`` (without it
    the payslip prints the month's last day). ``agreement``: the collective agreement's title and IDCC
    (rules/payroll/contracts.yaml ``convention``). A field the rules leave out (NAF, URSSAF account) is
    printed as nothing: nothing is invented.
    """
    ident = group.identity
    address = ident.address
    lines = [address.line1, *([address.line2] if address.line2 else []), f"{address.postcode} {address.city}"]
    info: dict[str, Any] = {
        "name": ident.name,
        "legal_form": ident.legal_form,
        "address_lines": lines,
        "siret": ident.siret or "",
        "naf": ident.naf or "",
        "urssaf": _urssaf_text(group.employer.urssaf),
    }
    if agreement is not None:
        info["convention"], info["idcc"] = agreement
    if month is not None:
        info["pay_date"] = group.employer.payment.date_for(month.year, month.month)
    return info


def agreement_of(root: Path, day: dt.date) -> tuple[tuple[str, str] | None, dict[str, str]]:
    """The collective agreement (title, IDCC) in force on ``day`` and its classification grid (code ->
    printed position: label and coefficient when the grid has one), from rules/payroll/contracts.yaml;
    (None, {}) when the group has no such file."""
    rules_dir = root / "rules" / "payroll"
    if not (rules_dir / CONTRACTS_FILE).is_file():
        return None, {}
    contracts = load_contracts(rules_dir, shown=f"rules/payroll/{CONTRACTS_FILE}")
    agreement = contracts.agreement(day)
    grid = {
        level.code: level.label
        if level.coefficient is None
        else f"{level.label}, coefficient {format(level.coefficient.normalize(), 'f').replace('.', ',')}"
        for level in contracts.grid(day)
    }
    return (agreement.name, agreement.idcc), grid


def _urssaf_text(urssaf: Urssaf | None) -> str:
    """``427 0000917535 08 (Urssaf Rhône-Alpes)``; nothing for None."""
    if urssaf is None:
        return ""
    number = urssaf.account.replace(" ", "\u00a0")  # the account number never breaks across lines
    return f"{number} ({urssaf.office})"


def employee_info(employee: Employee, classification: str | None = None) -> dict[str, Any]:
    """The employee block from ``rules/staff.yaml``.

    ``classification``: the position in the agreement's grid as printed (its label), when the caller has
    it; else the employee's ``classification`` code as it is.
    """
    contract = employee.contract
    # A rate of the employee's own (staff.yaml pas_rate, the rate the DGFiP sends) is personalised; without
    # one the group's default applies, the non-personalised rate.
    personalised = len(employee.pas_rate) > 0
    return {
        "id": employee.id,
        "name": employee.name,
        "post": employee.job_label,
        "classification": classification if classification is not None else employee.classification or "",
        "contract": contract.kind,
        "start": contract.start,
        "end": contract.end,
        "pas_kind": "taux personnalisé" if personalised else "taux non personnalisé",
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# --- rendering -------------------------------------------------------------------------------------


def _rate(value: Decimal | None, unit: str = "%") -> str:
    """A rate with its significant decimals (0,016 %), at least two; empty for None."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole},{frac.ljust(2, '0')}\u00a0{unit}"


def _line_rate(line: PayslipLine) -> str:
    """A line's rate as a percent when it gives the line's amount (base x rate / 100); else the line is
    an amount per unit of its base (the overtime deduction, 1,50 EUR an hour) and the rate says so."""
    if _is_percent(line) or cents(line.base * line.rate) != line.amount:
        return _rate(line.rate)
    return _rate(line.rate, "€")


def _day(value: Any) -> str:
    """A date as on a payslip, 31/03/2026; a text is kept as it is."""
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return _text(value)


def _days(value: Decimal) -> str:
    """A number of days of leave: 2,50."""
    return fr_number(value)


@dataclass
class _Row:
    label: str
    base: str
    ee_rate: str = ""
    ee_amount: str = ""
    er_rate: str = ""
    er_amount: str = ""
    heading: str = ""


def _heading_label(model: Layout, line: PayslipLine) -> str:
    found = model.find(line.group)
    return line.group if found is None else found[1].label


def _heading_index(model: Layout, line: PayslipLine) -> int:
    found = model.find(line.group)
    return len(model.groups) if found is None else found[0]


@functools.cache
def _environment() -> Environment:
    """One per process: a new one for every payslip compiled the template again."""
    return Environment(
        loader=PackageLoader("eage.payroll", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _detail_rows(lines: Iterable[PayslipLine]) -> list[_Row]:
    """Every line, one row per code (employee and employer side by side), in the model's heading order."""
    model = layout()
    ordered = sorted(lines, key=lambda line: _heading_index(model, line))  # stable: the rules' order within
    rows: dict[str, _Row] = {}
    for line in ordered:
        row = rows.setdefault(
            line.code, _Row(line.label, fr_number(line.base), heading=_heading_label(model, line))
        )
        if line.side == SALARIE:
            row.ee_rate, row.ee_amount = _line_rate(line), fr_number(line.amount)
        elif line.side == EMPLOYEUR:
            row.er_rate, row.er_amount = _line_rate(line), fr_number(line.amount)
    return list(rows.values())


def _group_row(row: GroupRow) -> dict[str, str]:
    return {
        "label": row.label,
        "base": "" if row.base is None else fr_number(row.base),
        "ee_rate": _rate(row.employee_rate) if row.has_employee else "",
        "ee_amount": fr_number(row.employee) if row.has_employee else "",
        "er_rate": _rate(row.employer_rate) if row.has_employer else "",
        "er_amount": fr_number(row.employer) if row.has_employer else "",
    }


def _leave_context(slip: Payslip) -> dict[str, Any] | None:
    """The paid-leave block from ``slip.leave`` (:class:`~eage.payroll.leave.LeaveCounters`, set by the
    year's payroll sequence), None when the payslip has none."""
    leave = slip.leave
    if not isinstance(leave, LeaveCounters):
        return None
    counters = [
        {
            "title": title,
            "period": _period(period),
            "acquired": _days(acquired),
            "taken": _days(taken),
            "balance": _days(balance),
        }
        for title, period, acquired, taken, balance in (
            ("N-1", leave.period_n1, leave.acquired_n1, leave.taken_n1, leave.balance_n1),
            ("N", leave.period_n, leave.acquired_n, leave.taken_n, leave.balance_n),
        )
    ]
    # Leave taken ahead of its acquisition (when conges.yaml allows it) leaves the N counter negative.
    ahead = -min(leave.balance_n, ZERO)
    return {
        "counters": counters,
        "anticipated": _days(ahead) if ahead else "",
        "ranges": [
            f"du {_day(first)} au {_day(last)}" if first != last else f"le {_day(first)}"
            for first, last in leave.taken_this_month
        ],
    }


def _period(text: str) -> str:
    """``2025-06-01/2026-05-31`` -> ``du 01/06/2025 au 31/05/2026``."""
    start, _, end = text.partition("/")
    try:
        return f"du {_day(dt.date.fromisoformat(start))} au {_day(dt.date.fromisoformat(end))}"
    except ValueError:
        return text


def payslip_html(slip: Payslip, employee: Mapping[str, Any], employer: Mapping[str, Any]) -> str:
    """The payslip as HTML (what the PDF is rendered from).

    ``employee`` (see :func:`employee_info`): name (required), id, post, classification, contract, start,
    end, pas_kind. ``employer`` (see :func:`employer_info`): name (required), legal_form, address_lines
    (or one ``address`` text), siret, naf, urssaf, convention, idcc, pay_date (a date; the last day of the
    month when absent).
    """
    year, month = slip.month.year, slip.month.month
    last_day = dt.date(year, month, calendar.monthrange(year, month)[1])
    created = dt.datetime(year, month, last_day.day, tzinfo=dt.UTC)
    employer_data: dict[str, Any] = {
        "legal_form": "",
        "address_lines": [],
        "siret": "",
        "naf": "",
        "convention": "",
        "idcc": "",
        "urssaf": "",
    }
    employer_data.update(employer)
    if not employer_data["address_lines"] and employer_data.get("address"):
        employer_data["address_lines"] = [employer_data["address"]]
    employee_data: dict[str, Any] = {
        "id": "",
        "post": "",
        "classification": "",
        "contract": "",
        "start": "",
        "end": None,
        "pas_kind": "",
    }
    employee_data.update(employee)
    employee_data["start"] = _day(employee_data["start"])
    employee_data["end"] = _day(employee_data["end"]) if employee_data["end"] else ""
    pay_date = employer_data.get("pay_date") or employer_data.get("pay_day") or last_day

    groups = grouped_lines(slip)
    mandatory = [row for row in groups if row.kind == "mandatory"]
    exemptions = [row for row in groups if row.kind == "exemption"]
    optional = [row for row in groups if row.kind == "optional"]
    information = [row for row in groups if row.kind == "information"]
    total_ee = sum((row.employee for row in mandatory), ZERO)
    total_er = sum((row.employer for row in mandatory), ZERO)
    relief_employer = -sum((row.employer for row in exemptions), ZERO)
    tss = slip.tss or sum((row.employer for row in information), ZERO)
    cumulative = slip.cumulative
    cumul = None
    if cumulative.months:  # 0: the caller computed no year to date
        cumul = {
            "gross": fr_eur(cumulative.gross),
            "net_taxable": fr_eur(cumulative.net_taxable),
            "hours": fr_number(cumulative.hours) if cumulative.hours else "",
        }
    hours, leave_indemnity, leave_days = slip.hours, slip.leave_indemnity, slip.leave_days
    return (
        _environment()
        .get_template("payslip.html.j2")
        .render(
            slip=slip,
            layout=layout(),
            employee=employee_data,
            employer=employer_data,
            period=f"{slip.month:%Y-%m}",
            period_label=f"{MONTHS_FR[month - 1]} {year}",
            period_start=_day(dt.date(year, month, 1)),
            period_end=_day(last_day),
            pay_date=_day(pay_date),
            created=created.isoformat(),
            weekly_hours=fr_number(slip.weekly_hours),
            hours=fr_number(hours) if hours else "",
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
            mandatory=[_group_row(row) for row in mandatory],
            total_ee=fr_number(total_ee),
            total_er=fr_number(total_er),
            exemptions=[_group_row(row) for row in exemptions],
            optional=[_group_row(row) for row in optional],
            detail=_detail_rows(line for line in slip.lines if _kind(line.group) != "information"),
            information_detail=_detail_rows(
                line for line in slip.lines if _kind(line.group) == "information"
            ),
            employee_contributions=fr_eur(slip.employee_contributions),
            net_before_tax=fr_eur(slip.net_before_tax),
            net_social=fr_eur(slip.net_social),
            net_taxable=fr_eur(slip.net_taxable),
            overtime_exempt=fr_eur(slip.overtime_exempt) if slip.overtime_exempt else "",
            pas_base=fr_number(slip.net_taxable),
            pas_rate=_rate(slip.pas_rate),
            pas=fr_number(slip.pas),
            net_paid=fr_eur(slip.net_paid),
            employer_total=fr_eur(employer_total(slip)),
            relief_employer=fr_eur(relief_employer),
            tss=fr_eur(tss) if tss else "",
            rgdu_label=slip.rgdu_label,
            rgdu_coefficient=fr_number(slip.rgdu_coefficient, 4),
            rgdu=fr_eur(slip.rgdu),
            pss=fr_eur(slip.pss),
            cumul=cumul,
            leave=_leave_context(slip),
            leave_days=_days(leave_days) if leave_days else "",
            leave_indemnity=fr_eur(leave_indemnity) if leave_indemnity else "",
        )
    )


def _kind(name: str) -> GroupKind | None:
    found = layout().find(name)
    return None if found is None else found[1].kind


def render_payslip_pdf(slip: Payslip, employee: Mapping[str, Any], employer: Mapping[str, Any]) -> bytes:
    """The payslip as PDF bytes, identical for identical inputs."""
    from weasyprint import HTML

    html = payslip_html(slip, employee, employer)
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    year, month = slip.month.year, slip.month.month
    stamp = dt.datetime(year, month, calendar.monthrange(year, month)[1], tzinfo=dt.UTC)
    with _fixed_font_timestamp(stamp):
        data: bytes = HTML(string=html).write_pdf(pdf_identifier=identifier, font_config=_font_config())
    return data


@contextlib.contextmanager
def _fixed_font_timestamp(stamp: dt.datetime) -> Iterator[None]:
    """Without HarfBuzz-Subset, WeasyPrint subsets the fonts with fontTools, which writes the clock's time
    into each embedded font (``head.modified``): two renderings a second apart differed. fontTools takes
    the time from ``SOURCE_DATE_EPOCH`` when it is set (reproducible builds), so it is set, for the
    rendering only, to the payslip's date (a value the caller set is kept)."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(int(stamp.timestamp()))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


@functools.cache
def _font_config() -> Any:
    """One WeasyPrint font configuration per process, shared by every payslip (a fifth of a payslip's
    time went into setting up fontconfig and Pango again). The template declares no ``@font-face``, so
    the configuration holds nothing of a previous payslip: the bytes are the same."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
