"""``eage charges YYYY-MM [--json] [--date YYYY-MM-DD]``: what the month's payroll owes, to whom, when.

Prints the schedule (body, amount, due date, accounts it clears, paid, remaining, status) and writes
``reports/charges/YYYY-MM.csv`` and ``.xlsx``; the work is :mod:`eage.app.charges`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from eage.errors import UsageError

HELP = "what a month's payroll owes to each body (URSSAF, Agirc-Arrco, insurers, DGFiP), when; CSV and XLSX"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("month", metavar="YYYY-MM", help="the payroll month")
    parser.add_argument("--json", action="store_true", help="print the schedule as JSON")
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="the day the statuses (paid, overdue) are computed at (default: today)",
    )


def _today(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()  # the one clock read: the app and the pure schedule take the day given
    from eage.rules.dated import parse_day

    day = parse_day(text)
    if day is None:
        raise UsageError(f"--date {text!r} is not YYYY-MM-DD")
    return day


def run(args: argparse.Namespace) -> int:
    from eage.app.charges import as_json, build, write

    today = _today(args.date)
    output = build(args.root, args.month, today)
    written = write(args.root, output)
    if args.json:
        print(json.dumps(as_json(output), ensure_ascii=False, indent=2))
        return 0
    from rich.table import Table

    from eage.cli_output import console
    from eage.money import fr_eur

    table = Table(title=f"Charges de la paie {output.month} (au {today:%d/%m/%Y})", title_justify="left")
    for header, justify in (
        ("Organisme", "left"), ("Montant", "right"), ("Échéance", "left"), ("Comptes", "left"),
        ("Payé", "right"), ("Reste", "right"), ("Statut", "left"),
    ):  # fmt: skip
        table.add_column(header, justify="right" if justify == "right" else "left")
    for due in output.dues:
        table.add_row(
            due.name, fr_eur(due.amount), due.due.strftime("%d/%m/%Y"), " ".join(due.accounts),
            fr_eur(due.paid), fr_eur(due.remaining), due.status,
        )  # fmt: skip
    table.add_section()
    paid = sum((d.paid for d in output.dues), output.total * 0)
    table.add_row("Total", fr_eur(output.total), "", "", fr_eur(paid), fr_eur(output.total - paid), "")
    out = console()
    out.print(table)
    for rel in written:
        print(rel)
    return 0
