"""``eage charges``: what a month's payroll owes, to whom, when (eage.payroll.charges, eage.app.charges).

The demo's October 2026: the amounts equal the payroll journal's credits to each body's account
(ledger/generated/2026/2026-10-payroll.beancount); due dates by headcount (5th from 50 employees, 15th
below, CSS R243-6 II); FIFO clearing of the bank's payments (hypothesis); the CLI's files, the same bytes
on a second run; a bad month refused with nothing written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import tree_digest
from eage.app.charges import build, load_echeances, read_inputs
from eage.errors import InputError
from eage.month import Month
from eage.payroll.charges import (
    LATE,
    PAID,
    TO_PAY,
    EcheancesFile,
    Movement,
    Payment,
    all_dues,
    clear,
    dsn_due_date,
    due_date,
    next_working_day,
    tss_periodicity,
)
from groups import run_eage

REPO = Path(__file__).resolve().parent.parent
OCTOBER = Month(2026, 10)
URSSAF = "Passif:43-Organismes-sociaux:431-Securite-sociale"
AGIRC = "Passif:43-Organismes-sociaux:4372-Retraite-complementaire"
PREV = "Passif:43-Organismes-sociaux:4373-Prevoyance"
PAS = "Passif:44-Etat:4421-Prelevement-a-la-source"
ACCOUNTS = {"urssaf": URSSAF, "agirc_arrco": AGIRC, "prevoyance": PREV, "pas": PAS}


@pytest.fixture(scope="module")
def echeances() -> EcheancesFile:
    return load_echeances(REPO / "rules")


# --- the demo's October -----------------------------------------------------------------------------


def test_october_amounts_are_the_journal_credits(demo_rules_root: Path) -> None:
    out = build(demo_rules_root, "2026-10", dt.date(2026, 11, 1))
    by_key = {d.body: d for d in out.dues}
    # 2026-10-payroll.beancount: the three payslips' credits to each account.
    assert by_key["urssaf"].amount == Decimal("1532.84") + Decimal("456.01") + Decimal("661.09")
    assert by_key["agirc_arrco"].amount == Decimal("292.28") + Decimal("87.57") + Decimal("129.49")
    assert by_key["prevoyance"].amount == Decimal("127.06") + Decimal("78.00") + Decimal("78.00")
    assert by_key["pas"].amount == Decimal("144.47") + Decimal("22.78")
    # 447: the tax (605.07) and the associations' abattement (CGI 1679 A) net to zero: not listed.
    assert "sie" not in by_key
    assert [d.body for d in out.dues] == ["urssaf", "agirc_arrco", "prevoyance", "pas"]
    assert out.total == Decimal("3609.59")
    assert by_key["urssaf"].accounts == (URSSAF,)
    # The demo's headcount for the thresholds is 0 (staff made available, L130-1 III): the 15th, a
    # Sunday in November 2026, moved to Monday 16th (report_jour_ouvrable).
    assert by_key["urssaf"].due == dt.date(2026, 11, 16)
    assert by_key["prevoyance"].due == dt.date(2026, 11, 16)
    assert by_key["pas"].due == dt.date(2026, 11, 18)
    assert by_key["agirc_arrco"].due == dt.date(2026, 11, 25)
    # Nothing of October is paid in the demo's bank statement (it ends in October).
    assert all(d.paid == 0 and d.status == TO_PAY for d in out.dues)


def test_september_is_paid_by_the_october_statement(demo_rules_root: Path) -> None:
    out = build(demo_rules_root, "2026-09", dt.date(2026, 11, 1))
    by_key = {d.body: d for d in out.dues}
    # ledger/bank/2026-10.beancount: PRLV URSSAF … 09/2026 2 614,95 on 15 October.
    assert by_key["urssaf"].paid == by_key["urssaf"].amount == Decimal("2614.95")
    assert by_key["urssaf"].status == PAID


def test_october_overdue_after_its_due_dates(demo_rules_root: Path) -> None:
    out = build(demo_rules_root, "2026-10", dt.date(2026, 11, 20))
    status = {d.body: d.status for d in out.dues}
    assert status == {"urssaf": LATE, "prevoyance": LATE, "pas": LATE, "agirc_arrco": TO_PAY}


def test_every_month_owes_what_its_journal_credits(demo_rules_root: Path) -> None:
    """For each body and month, amount = - (sum of the month's payroll postings to its account)."""
    inputs = read_inputs(demo_rules_root)
    dues = all_dues(
        echeances=inputs.echeances,
        accounts=inputs.accounts,
        headcount=inputs.headcount,
        movements=inputs.movements,
        today=dt.date(2027, 1, 1),
    )
    for due in dues:
        credited = -sum(
            (
                m.amount
                for m in inputs.movements
                if m.kind == "payroll" and m.account == due.accounts[0] and Month.of(m.date) == due.month
            ),
            Decimal(0),
        )
        assert due.amount == credited
        assert Decimal(0) <= due.paid <= due.amount


# --- due dates ----------------------------------------------------------------------------------------


@given(
    headcount=st.integers(min_value=0, max_value=5000),
    year=st.integers(min_value=2019, max_value=2040),
    number=st.integers(min_value=1, max_value=12),
    holidays=st.frozensets(
        st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2041, 2, 28)), max_size=30
    ),
)
@settings(max_examples=200, deadline=None)
def test_urssaf_due_5th_from_50_else_15th(
    echeances: EcheancesFile, headcount: int, year: int, number: int, holidays: frozenset[dt.date]
) -> None:
    month = Month(year, number)
    dsn = dsn_due_date(month, echeances, headcount)
    assert Month.of(dsn) == month.next()
    assert dsn.day == (5 if headcount >= 50 else 15)
    due = due_date("urssaf", month, echeances, headcount, holidays=holidays)
    # On that day, or the first working day after it (no Saturday, Sunday or holiday in between).
    assert due >= dsn and due.weekday() < 5 and due not in holidays
    skipped = [dsn + dt.timedelta(days=n) for n in range((due - dsn).days)]
    assert all(d.weekday() >= 5 or d in holidays for d in skipped)
    assert due == next_working_day(dsn, holidays)
    # The withholding is debited 3 days after the DSN's due date; the insurers default to that date.
    pas = due_date("pas", month, echeances, headcount, holidays=holidays)
    assert pas == next_working_day(dsn + dt.timedelta(days=3), holidays)
    assert due_date("prevoyance", month, echeances, headcount, holidays=holidays) == due
    last = next_working_day(month.next().last_day, holidays)
    assert due_date("prevoyance", month, echeances, headcount, due_day=31, holidays=holidays) == last
    agirc = next_working_day(dt.date(dsn.year, dsn.month, 25), holidays)
    assert due_date("agirc_arrco", month, echeances, headcount, holidays=holidays) == agirc


def test_no_move_when_the_calendar_says_so(echeances: EcheancesFile) -> None:
    fixed = echeances.model_copy(update={"report_jour_ouvrable": None})
    assert due_date("urssaf", Month(2026, 10), fixed, 0) == dt.date(2026, 11, 15)  # a Sunday, kept


def test_month_before_the_calendar_is_a_located_error(echeances: EcheancesFile) -> None:
    with pytest.raises(InputError) as caught:
        due_date("pas", Month(2018, 6), echeances, 0)
    problem = caught.value.problems[0]
    assert (problem.file, problem.key) == ("rules/payroll/echeances.yaml", "pas.values")


def test_taxe_sur_les_salaires_periodicity(echeances: EcheancesFile) -> None:
    calendar = echeances.sie.at(dt.date(2026, 1, 1))
    assert tss_periodicity(Decimal("3999.99"), calendar) == "yearly"
    assert tss_periodicity(Decimal("4000"), calendar) == "quarterly"
    assert tss_periodicity(Decimal("10000"), calendar) == "quarterly"
    assert tss_periodicity(Decimal("10000.01"), calendar) == "monthly"
    may = Month(2026, 5)
    assert due_date("sie", may, echeances, 0) == dt.date(2027, 1, 15)  # a Friday
    assert due_date("sie", may, echeances, 0, previous_year_tax=Decimal(5000)) == dt.date(2026, 7, 15)
    assert due_date("sie", may, echeances, 0, previous_year_tax=Decimal(20000)) == dt.date(2026, 6, 15)


# --- FIFO clearing ------------------------------------------------------------------------------------

_months = st.builds(Month, st.just(2026), st.integers(min_value=1, max_value=12))
_amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@st.composite
def _payments(draw: st.DrawFn) -> list[Payment]:
    out = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(min_value=0, max_value=420)))
        settles = draw(st.one_of(st.none(), _months))
        out.append(Payment(day, draw(_amount), settles))
    return out


@given(
    owed=st.dictionaries(_months, _amount, max_size=12),
    payments=_payments(),
    order=st.randoms(use_true_random=False),
)
@settings(max_examples=300, deadline=None)
def test_fifo_never_clears_more_than_owed(
    owed: dict[Month, Decimal], payments: list[Payment], order: object
) -> None:
    paid = clear(owed, payments)
    assert set(paid) == set(owed)
    for month, amount in owed.items():
        assert Decimal(0) <= paid[month] <= amount
    assert sum(paid.values(), Decimal(0)) <= sum((p.amount for p in payments), Decimal(0))
    remaining = {m: owed[m] - paid[m] for m in owed}
    assert sum(remaining.values(), Decimal(0)) == sum(owed.values(), Decimal(0)) - sum(
        paid.values(), Decimal(0)
    )
    # In any order: the same bounds hold, and the total cleared is the same when no payment is tagged.
    shuffled = list(payments)
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    again = clear(owed, shuffled)
    assert all(Decimal(0) <= again[m] <= owed[m] for m in owed)
    if all(p.settles is None for p in payments):
        assert sum(again.values(), Decimal(0)) == sum(paid.values(), Decimal(0))


def test_fifo_clears_the_oldest_month_first() -> None:
    jan, feb = Month(2026, 1), Month(2026, 2)
    owed = {jan: Decimal(100), feb: Decimal(100)}
    # 150 paid in March: January in full, then 50 of February.
    assert clear(owed, [Payment(dt.date(2026, 3, 15), Decimal(150))]) == {jan: 100, feb: 50}
    # Tagged for February: February first, the rest to January.
    assert clear(owed, [Payment(dt.date(2026, 3, 15), Decimal(150), feb)]) == {jan: 50, feb: 100}
    # A payment dated within February cannot settle February.
    assert clear(owed, [Payment(dt.date(2026, 2, 20), Decimal(150))]) == {jan: 100, feb: 0}
    # One dated on February's last day (the payroll's date) can.
    assert clear(owed, [Payment(dt.date(2026, 2, 28), Decimal(150))]) == {jan: 100, feb: 50}


def test_opening_balance_is_cleared_before_the_first_month(echeances: EcheancesFile) -> None:
    movements = [
        Movement(dt.date(2026, 1, 1), URSSAF, Decimal(-300), "opening"),
        Movement(dt.date(2026, 1, 31), URSSAF, Decimal(-200), "payroll"),
        Movement(dt.date(2026, 1, 15), URSSAF, Decimal(300), "bank"),
        Movement(dt.date(2026, 2, 15), URSSAF, Decimal(150), "bank"),
    ]
    dues = all_dues(
        echeances=echeances, accounts=ACCOUNTS, headcount=0, movements=movements, today=dt.date(2026, 3, 1)
    )
    assert [(d.month, d.amount, d.paid, d.status) for d in dues] == [
        (Month(2026, 1), Decimal(200), Decimal(150), LATE)
    ]


# --- the command --------------------------------------------------------------------------------------


def test_cli_writes_csv_and_xlsx_the_same_bytes_twice(demo: Path) -> None:
    args = ["charges", "2026-10", "--root", str(demo), "--date", "2026-11-20"]
    first = run_eage(args)
    assert first.code == 0, first.err
    csv_path = demo / "reports/charges/2026-10.csv"
    xlsx_path = demo / "reports/charges/2026-10.xlsx"
    csv_bytes, xlsx_bytes = csv_path.read_bytes(), xlsx_path.read_bytes()
    text = csv_bytes.decode("utf-8-sig")
    assert text.splitlines()[0] == "Organisme;Montant;Échéance;Comptes;Payé;Reste;Statut"
    assert ";2649,94;16/11/2026;" + URSSAF + ";0,00;2649,94;en retard" in text
    assert "Organisme" in first.out and "en retard" in first.out
    second = run_eage(args)
    assert second.code == 0, second.err
    assert csv_path.read_bytes() == csv_bytes
    assert xlsx_path.read_bytes() == xlsx_bytes


def test_cli_json(demo: Path) -> None:
    out = run_eage(["charges", "2026-10", "--root", str(demo), "--date", "2026-11-01", "--json"])
    assert out.code == 0, out.err
    data = out.json()
    assert data["month"] == "2026-10"
    assert data["total"] == "3609.59"
    first = data["dues"][0]
    assert set(first) >= {"body", "amount", "due", "accounts", "paid", "remaining", "status"}
    assert (first["amount"], first["due"], first["paid"], first["remaining"], first["status"]) == (
        "2649.94", "2026-11-16", "0.00", "2649.94", "à payer",
    )  # fmt: skip
    assert first["accounts"] == [URSSAF]


@pytest.mark.parametrize(
    ("month", "message"),
    [("2026-13", "is not YYYY-MM"), ("2026", "is not YYYY-MM"), ("2027-03", "no payroll posted for 2027-03")],
)
def test_bad_month_refused_nothing_written(demo: Path, month: str, message: str) -> None:
    before = tree_digest(demo)
    out = run_eage(["charges", month, "--root", str(demo)])
    assert out.code == 1
    assert message in out.err
    assert "Nothing was written." in out.err
    assert "Traceback" not in out.err
    assert tree_digest(demo) == before


def test_missing_calendar_is_located(demo: Path) -> None:
    (demo / "rules/payroll/echeances.yaml").unlink()
    before = tree_digest(demo)
    out = run_eage(["charges", "2026-10", "--root", str(demo)])
    assert out.code == 1
    assert "rules/payroll/echeances.yaml" in out.err
    assert tree_digest(demo) == before


def test_bad_calendar_value_is_located(demo: Path) -> None:
    path = demo / "rules/payroll/echeances.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("day_below: 15", "day_below: 40"), encoding="utf-8"
    )
    out = run_eage(["charges", "2026-10", "--root", str(demo)])
    assert out.code == 1
    assert "rules/payroll/echeances.yaml" in out.err
    assert "urssaf" in out.err


def test_charges_is_a_writer_refused_while_another_holds_the_lock(demo: Path) -> None:
    """``eage charges`` writes reports: it takes the group's lock, and waits for no other writer."""
    from eage.ledger.lock import exclusive

    with exclusive(demo, "eage budget 2026"):
        before = tree_digest(demo)
        out = run_eage(["charges", "2026-10", "--root", str(demo), "--date", "2026-11-20"])
        assert out.code == 1
        assert "another eage command is writing in this group" in out.err
        assert tree_digest(demo) == before
