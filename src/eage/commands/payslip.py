"""``eage payslip``: simulate one month's payslip from a gross salary, with the rules under --root.

Defaults for the employer (profile, headcount, AT/MP and versement mobilité rates) come from
rules/group.yaml when it exists, else: company subject to VAT, headcount 1, AT/MP 2.08 %, no versement
mobilité (the profile of URSSAF's reference payslips). Flags override both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eage.errors import UsageError

if TYPE_CHECKING:
    from eage.app.payslip import Payslip

HELP = "simulate one payslip (lines, reduction, net, employer cost) for a gross salary and a month"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gross", required=True, help="monthly contractual gross salary in EUR, e.g. 2200.00"
    )
    parser.add_argument("--month", required=True, help="month of the payslip, YYYY-MM")
    parser.add_argument("--cadre", action="store_true", help="the employee has cadre status")
    parser.add_argument("--hours-per-week", default="35", help="contract hours a week (default 35)")
    parser.add_argument("--headcount", help="employer headcount (default: group.yaml, else 1)")
    parser.add_argument("--atmp-rate", help="AT/MP rate in percent (default: group.yaml, else 2.08)")
    parser.add_argument("--vm-rate", help="versement mobilité rate in percent (default: group.yaml, else 0)")
    parser.add_argument(
        "--employer",
        choices=["company", "association"],
        help="company (subject to VAT, taxe d'apprentissage) or association (taxe sur les salaires)",
    )
    parser.add_argument("--pas-rate", default="0", help="withholding tax rate in percent (default 0)")
    parser.add_argument(
        "--mutuelle",
        default="0",
        help="monthly health cover premium, employer + employee, in EUR (default 0)",
    )
    parser.add_argument(
        "--mutuelle-employer-share",
        default="50",
        help="percent of the health premium paid by the employer, at least 50 (default 50)",
    )
    parser.add_argument(
        "--overtime-hours",
        default="0",
        help="overtime hours of the month at 25 %% (for a part-timer: complementary hours, 10 %% / 25 %%)",
    )
    parser.add_argument(
        "--leave-days",
        default="0",
        help="jours ouvrables of paid leave taken this month, valued by salary maintained (default 0)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


#: A flag's number: ASCII digits, an optional ``.`` and at most six decimals; no sign, exponent, ``_``,
#: comma, ``inf`` or ``nan`` (``Decimal`` reads them all, and ``1e400`` overflows the payslip).
NUMBER_PATTERN = re.compile(r"([0-9]{1,12})(?:\.([0-9]{1,6}))?")
#: The largest monthly gross simulated: ten million euros, minus a cent (a longer figure is a typo).
MAX_GROSS = Decimal("9999999.99")


def _decimal(
    text: str,
    flag: str,
    *,
    minimum: Decimal = Decimal(0),
    maximum: Decimal = Decimal(100),
    decimals: int = 4,
) -> Decimal:
    """The flag's value, matching :data:`NUMBER_PATTERN` with at most ``decimals`` decimals and within
    [minimum, maximum], or a :class:`UsageError` naming the flag, the value and what is allowed."""
    match = NUMBER_PATTERN.fullmatch(text.strip())
    bounds = (
        f"a number from {minimum} to {maximum} with at most {decimals} decimals, written with digits "
        "and an optional '.' (e.g. 2200.00)"
    )
    if match is None or len(match.group(2) or "") > decimals:
        raise UsageError(f"{flag}: {text!r} is not {bounds}")
    value = Decimal(match.group(0))
    if value < minimum or value > maximum:
        raise UsageError(f"{flag}: {text!r} must be {bounds}")
    return value


def _month(text: str) -> dt.date:
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UsageError(f"--month: {text!r} is not a month, use YYYY-MM (e.g. 2026-01)")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def _text(value: Decimal) -> str:
    return f"{value:.2f}"


def _rate_text(value: Decimal) -> str:
    """Rates keep their significant decimals (0.016 %), with at least two."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def payslip_json(slip: Payslip) -> dict[str, Any]:
    return {
        "month": f"{slip.month:%Y-%m}",
        "gross": _text(slip.gross),
        "employee_contributions": _text(slip.employee_contributions),
        "employer_contributions": _text(slip.employer_contributions),
        "rgdu": _text(slip.rgdu),
        "rgdu_coefficient": f"{slip.rgdu_coefficient:.4f}",
        "net_before_tax": _text(slip.net_before_tax),
        "net_taxable": _text(slip.net_taxable),
        "pas": _text(slip.pas),
        "net_paid": _text(slip.net_paid),
        "employer_cost": _text(slip.employer_cost),
        "net_social": _text(slip.net_social),
        "employer_total": _text(slip.employer_total),
        "tss": _text(slip.tss),
        "smic_month": _text(slip.smic_month),
        "rgdu_smic": _text(slip.rgdu_smic),
        "overtime_exempt": _text(slip.overtime_exempt),
        "lines": [
            {
                "side": line.side,
                "code": line.code,
                "label": line.label,
                "base": _text(line.base),
                "rate": _rate_text(line.rate),
                "amount": _text(line.amount),
                "group": line.group,
            }
            for line in slip.lines
        ],
    }


def run(args: argparse.Namespace) -> int:
    from eage.app.payslip import group_defaults, group_headcounts, simulate

    gross = _decimal(args.gross, "--gross", minimum=Decimal("0.01"), maximum=MAX_GROSS, decimals=2)
    month = _month(args.month)
    hours = _decimal(
        args.hours_per_week, "--hours-per-week", minimum=Decimal("0.01"), maximum=Decimal(48), decimals=2
    )
    pas_rate = _decimal(args.pas_rate, "--pas-rate")
    profile, headcount, atmp, vm = group_defaults(args.root, month)
    if args.employer is not None:
        profile = args.employer
    if args.headcount is not None:
        if not re.fullmatch(r"[0-9]{1,7}", args.headcount.strip()) or int(args.headcount) < 1:
            raise UsageError(f"--headcount: {args.headcount!r} must be a whole number from 1 to 9999999")
        headcount = int(args.headcount)
    if args.atmp_rate is not None:
        atmp = _decimal(args.atmp_rate, "--atmp-rate")
    if args.vm_rate is not None:
        vm = _decimal(args.vm_rate, "--vm-rate")
    headcounts = None if args.headcount is not None else group_headcounts(args.root)
    mutuelle = _decimal(args.mutuelle, "--mutuelle", maximum=Decimal(100000), decimals=2)
    share = _decimal(
        args.mutuelle_employer_share, "--mutuelle-employer-share", minimum=Decimal(50), decimals=2
    )
    overtime = _decimal(args.overtime_hours, "--overtime-hours", maximum=Decimal(400), decimals=2)
    leave_days = _decimal(args.leave_days, "--leave-days", maximum=Decimal(31), decimals=1)

    slip = simulate(
        args.root,
        month=month,
        gross=gross,
        weekly_hours=hours,
        cadre=args.cadre,
        pas_rate=pas_rate,
        profile=profile,
        headcount=headcount,
        atmp_rate=atmp,
        vm_rate=vm,
        headcounts=headcounts,
        mutuelle=mutuelle,
        mutuelle_employer_share=share,
        overtime_hours=overtime,
        leave_days=leave_days,
    )
    if args.json:
        print(json.dumps(payslip_json(slip), ensure_ascii=False, indent=2))
    else:
        _print_table(slip)
    return 0


def _print_table(slip: Payslip) -> None:
    from rich.console import Console
    from rich.table import Table

    from eage.money import fr_eur, fr_number

    table = Table(title=f"Bulletin simulé — {slip.month:%m/%Y}", show_lines=False)
    table.add_column("Part")
    table.add_column("Cotisation")
    for column in ("Base", "Taux %", "Montant"):
        table.add_column(column, justify="right")
    for earning in slip.earnings:
        table.add_row("brut", earning.label, "", "", fr_eur(earning.amount))
    table.add_row("", "[bold]Salaire brut[/bold]", "", "", f"[bold]{fr_eur(slip.gross)}[/bold]")
    for line in slip.lines:
        rate = _rate_text(line.rate).replace(".", ",")
        table.add_row(line.side, line.label, fr_number(line.base), rate, fr_eur(line.amount))
    console = Console()
    console.print(table)
    summary = (
        ("Cotisations salariales", slip.employee_contributions),
        ("Cotisations patronales (après réduction)", slip.employer_contributions),
        (f"{slip.rgdu_label} (coefficient {slip.rgdu_coefficient:.4f})", slip.rgdu),
        ("Net avant impôt", slip.net_before_tax),
        ("Montant net social", slip.net_social),
        ("Net imposable", slip.net_taxable),
        ("Prélèvement à la source", slip.pas),
        ("Net payé", slip.net_paid),
        ("Total versé par l'employeur", slip.employer_total),
        ("Coût employeur (taxe sur les salaires comprise)", slip.employer_cost),
    )
    for label, value in summary:
        console.print(f"{label:<60} {fr_eur(value):>16}")
