"""The demo year's FEC: ``eage fec 2026`` passes ``eage fec --check``, matches the ledger, balances.

The file is exported once (module fixture) from a copy of the demo (January to October 2026 run).
Its debit and credit totals equal the sums of the positive and the negative postings of the ledger's 2026
transactions, and every entry (EcritureNum) balances, to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import copy_demo
from eage.cli import main
from eage.ledger.load import load_ledger

FIELDS = 18


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = copy_demo(tmp_path_factory.mktemp("fec") / "group")
    assert main(["fec", "2026", "--root", str(root)]) == 0
    files = sorted((root / "reports" / "fec").glob("*FEC*.txt"))
    assert len(files) == 1
    return root, files[0]


def rows(path: Path) -> list[list[str]]:
    lines = path.read_bytes().decode("iso-8859-15").split("\r\n")
    assert lines[-1] == ""
    table = [line.split("\t") for line in lines[:-1]]
    assert all(len(row) == FIELDS for row in table)
    return table


def amount(text: str) -> Decimal:
    assert "." not in text and " " not in text, text
    return Decimal(text.replace(",", ".") or "0")


def test_the_file_is_named_and_passes_the_checker(
    exported: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = exported
    assert path.name == "917535908FEC20261231.txt"
    capsys.readouterr()
    assert main(["fec", "--check", str(path)]) == 0
    assert "OK, a well-formed FEC" in capsys.readouterr().out


def test_totals_equal_the_ledger(exported: tuple[Path, Path]) -> None:
    root, path = exported
    table = rows(path)
    header, body = table[0], table[1:]
    debit_col, credit_col = header.index("Debit"), header.index("Credit")
    debit = sum((amount(r[debit_col]) for r in body), Decimal(0))
    credit = sum((amount(r[credit_col]) for r in body), Decimal(0))

    ledger, _ = load_ledger(root)
    positive = negative = Decimal(0)
    for txn in ledger.transactions():
        if not dt.date(2026, 1, 1) <= txn.date <= dt.date(2026, 12, 31):
            continue
        for posting in txn.postings:
            number = Decimal(posting.units.number)
            if number > 0:
                positive += number
            else:
                negative -= number
    assert debit == credit
    assert debit == positive
    assert credit == negative


def test_every_entry_balances_and_numbers_are_continuous(exported: tuple[Path, Path]) -> None:
    _, path = exported
    table = rows(path)
    header, body = table[0], table[1:]
    num, debit_col, credit_col = header.index("EcritureNum"), header.index("Debit"), header.index("Credit")
    balance: dict[str, Decimal] = defaultdict(Decimal)
    order: list[str] = []
    for row in body:
        if row[num] not in balance:
            order.append(row[num])
        balance[row[num]] += amount(row[debit_col]) - amount(row[credit_col])
    unbalanced = {n: b for n, b in balance.items() if b != 0}
    assert unbalanced == {}
    assert [int(n) for n in order] == list(range(1, len(order) + 1))
