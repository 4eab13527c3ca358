"""The bank reader's parsers and the matcher's split, on inline values: what is accepted is exactly the
declared pattern, what is refused is located, and a payment split over several invoices sums exactly."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eage.bank import reader
from eage.bank.config import Layout, date_format_problem
from eage.bank.matching import Accounts, Payers, match_lines, named_numbers, split_over_invoices
from eage.bank.reader import BankLine, parse_amount, parse_date, read_statement
from eage.bank.receivables import InvoiceStatus
from eage.errors import InputError

SPACES = (" ", "\u00a0", "\u202f")
ACCOUNTS = Accounts(
    bank="Actif:51-Banque:512-Banque",
    suspense="Actif:47-Attente:471-Compte-attente",
    receivable_parent="Actif:41-Clients",
)
PAYERS = Payers({"alpha": "Alpha SARL", "beta": "Association Beta"}, {})


# ------------------------------------------------------------------------------------------- amounts


def reference_amount(text: str, decimal: str, thousands: str | None) -> Decimal | None:
    """What the declared pattern means, written without a regular expression (the oracle)."""
    value = text.strip()
    negative = False
    if value[:1] in "+-" and value:
        negative, value = value[0] == "-", value[1:]
    elif value.endswith("-"):
        negative, value = True, value[:-1]
    integer, _, frac = value.partition(decimal) if decimal in value else (value, "", "")
    if decimal in value and not (1 <= len(frac) <= 2 and all(c in "0123456789" for c in frac)):
        return None
    groups = [integer]
    if thousands is not None:
        seps = SPACES if thousands == " " else (thousands,)
        for sep in seps:
            integer = integer.replace(sep, "\x00")
        groups = integer.split("\x00")
    if not all(g and all(c in "0123456789" for c in g) for g in groups):
        return None
    if len(groups) > 1 and not (len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        return None
    digits = "".join(groups)
    if len(digits.lstrip("0")) > reader.MAX_INTEGER_DIGITS:
        return None
    number = Decimal(f"{digits}.{frac or '0'}").quantize(Decimal("0.01"))
    return -number if negative else number


FORMATS = st.sampled_from(
    [(True, None), (False, None), (True, " "), (True, "."), (False, ","), (False, "'"), (True, "'")]
)


@given(FORMATS, st.text(alphabet="0123456789,.-+ e_\u00a0\u202f'٣Na", max_size=14))
def test_an_amount_is_accepted_exactly_when_it_matches_the_declared_pattern(
    fmt: tuple[bool, str | None], text: str
) -> None:
    comma, thousands = fmt
    expected = reference_amount(text, "," if comma else ".", thousands) if text.strip() else None
    try:
        got = parse_amount(text, decimal_comma=comma, thousands_separator=thousands)
    except ValueError as exc:
        assert expected is None and text.strip(), f"{text!r} refused: {exc}"
        assert "is not an amount" in str(exc)
        return
    assert got == expected, text


def written(amount: Decimal, comma: bool, thousands: str | None, trailing_sign: bool) -> str:
    """``amount`` as a bank following this format prints it."""
    sign = "-" if amount < 0 else ""
    integer, frac = f"{abs(amount):.2f}".split(".")
    if thousands is not None:
        groups: list[str] = []
        while len(integer) > 3:
            groups.insert(0, integer[-3:])
            integer = integer[:-3]
        integer = thousands.join([integer, *groups])
    text = f"{integer}{',' if comma else '.'}{frac}"
    return f"{text}{sign}" if trailing_sign else f"{sign}{text}"


@given(
    st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2),
    FORMATS,
    st.booleans(),
)
def test_an_amount_round_trips_through_the_declared_format(
    amount: Decimal, fmt: tuple[bool, str | None], trailing: bool
) -> None:
    comma, thousands = fmt
    text = written(amount, comma, thousands, trailing)
    assert parse_amount(text, decimal_comma=comma, thousands_separator=thousands) == amount


@pytest.mark.parametrize(
    ("text", "comma", "thousands"),
    [
        ("1,180.85", True, None),  # was read as 1.18
        ("624,445", True, None),  # was read as 624.45
        ("1e3", True, None),  # was read as 1000.00
        ("NaN", True, None),  # was a traceback
        ("Infinity", False, None),
        ("1_000", False, None),
        ("٣", True, None),
        ("1 234,56", True, None),  # a thousands separator that was not declared
        ("12 34,56", True, " "),  # groups of 3 only
        ("1 2345,00", True, " "),
        ("1.234.56", True, "."),
        ("-1,00-", True, None),
        ("12,", True, None),
        (",5", True, None),
        ("12,30 €", True, None),
        ("0x10", False, None),
    ],
)
def test_misreads_are_refused(text: str, comma: bool, thousands: str | None) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount(text, decimal_comma=comma, thousands_separator=thousands)


def test_declared_separators_are_read() -> None:
    assert parse_amount(" 1\u202f234,5 ", decimal_comma=True, thousands_separator=" ") == Decimal("1234.50")
    assert parse_amount("1\u00a0234 567,89", decimal_comma=True, thousands_separator=" ") == Decimal(
        "1234567.89"
    )
    assert parse_amount("1234567,89", decimal_comma=True, thousands_separator=" ") == Decimal("1234567.89")
    assert parse_amount("+12", decimal_comma=False) == Decimal("12.00")
    assert parse_amount("12.30-", decimal_comma=False) == Decimal("-12.30")
    assert parse_amount("   ", decimal_comma=True) is None


# --------------------------------------------------------------------------------------------- dates


DATE_FORMATS = st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%Y%m%d", "%m/%d/%Y", "%d %m %Y"])


@given(st.dates(min_value=dt.date(1000, 1, 1)), DATE_FORMATS)
def test_a_date_round_trips_through_its_format(day: dt.date, fmt: str) -> None:
    assert parse_date(day.strftime(fmt), fmt) == day


@given(st.text(alphabet="0123456789/-. ٢", max_size=12), DATE_FORMATS)
def test_a_date_is_accepted_only_as_its_format_writes_it(text: str, fmt: str) -> None:
    try:
        day = parse_date(text, fmt)
    except ValueError:
        return
    assert day.strftime(fmt) == text.strip()


@pytest.mark.parametrize(
    "text", ["20261102", "2026-11-02", "2/11/2026", "02/11/26", "02/11/2026 10:00", "٠٢/١١/٢٠٢٦"]
)
def test_other_ways_of_writing_a_date_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape("is not a date written %d/%m/%Y (e.g. 02/11/2026)")):
        parse_date(text, "%d/%m/%Y")


def test_an_impossible_day_says_so() -> None:
    with pytest.raises(ValueError, match="day is out of range for month"):
        parse_date("31/02/2026", "%d/%m/%Y")


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%d/%m/%y", "%y not supported"),
        ("%d/%m", "%Y must appear exactly once"),
        ("%d/%m/%Y %H:%M", "%H, %M not supported"),
        ("%d/%m/%Y%", "a lone %"),
        ("%dT%m/%Y", "letters and digits"),
        ("%d/%d/%Y", "%d must appear exactly once"),
    ],
)
def test_date_formats_the_reader_cannot_apply_strictly(fmt: str, problem: str) -> None:
    assert problem in (date_format_problem(fmt) or "")


# ---------------------------------------------------------------------------------------- statements


def layout(**changes: object) -> Layout:
    base: dict[str, object] = {
        "date": "Date",
        "label": ["Libellé", "Détail"],
        "debit": "Débit",
        "credit": "Crédit",
    }
    return Layout.model_validate({**base, **changes})


def statement(tmp_path: Path, text: str | bytes, **changes: object) -> list[BankLine]:
    path = tmp_path / "releve.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return list(read_statement(path, layout(**changes), shown="releve.csv").lines)


def refused(tmp_path: Path, text: str | bytes, **changes: object) -> list[str]:
    with pytest.raises(InputError) as caught:
        statement(tmp_path, text, **changes)
    return [str(p) for p in caught.value.problems]


HEAD = "Date;Libellé;Détail;Débit;Crédit\r\n"


def test_lines_keep_their_number_with_crlf_bom_skipped_lines_and_blank_lines(tmp_path: Path) -> None:
    text = (
        "\ufeffRelevé du compte 123\r\n\r\n"
        + HEAD
        + "02/11/2026;VIR A;x;;10,00\r\n\r\n03/11/2026;PRLV B;;5,00;\r\n"
    )
    lines = statement(tmp_path, text, skip_lines=2)
    assert [(x.line, x.amount, x.label) for x in lines] == [
        (4, Decimal("10.00"), "VIR A x"),
        (6, Decimal("-5.00"), "PRLV B"),
    ]


def test_every_bad_line_is_reported_at_once_with_its_column(tmp_path: Path) -> None:
    text = HEAD + "02/11/2026;A;;;1e3\r\n03/11/2026;B;;;1,00\r\n2026-11-04;C;;;2,00\r\n05/11/2026;D;;NaN;\r\n"
    assert refused(tmp_path, text) == [
        "releve.csv:2: column 'Crédit': '1e3' is not an amount — write amounts as digits, a decimal comma "
        "and at most 2 decimals, no thousands separator (e.g. 1234,56, -12,30), or declare the bank's format "
        "in rules/bank.yaml (layout.decimal_comma, layout.thousands_separator)",
        "releve.csv:4: column 'Date': '2026-11-04' is not a date written %d/%m/%Y (e.g. 02/11/2026) — write "
        "the date as layout.date_format says ('%d/%m/%Y') or correct that setting in rules/bank.yaml",
        "releve.csv:5: column 'Débit': 'NaN' is not an amount — write amounts as digits, a decimal comma "
        "and at most 2 decimals, no thousands separator (e.g. 1234,56, -12,30), or declare the bank's format "
        "in rules/bank.yaml (layout.decimal_comma, layout.thousands_separator)",
    ]


def test_the_number_of_problems_shown_is_bounded(tmp_path: Path) -> None:
    text = HEAD + "02/11/2026;A;;;x\n" * (reader.MAX_PROBLEMS + 7)
    problems = refused(tmp_path, text)
    assert len(problems) == reader.MAX_PROBLEMS + 1
    assert problems[-1] == "releve.csv: and 7 more line(s) with a problem"


def test_a_field_over_the_csv_modules_own_limit_is_located(tmp_path: Path) -> None:
    text = HEAD + "02/11/2026;VIR;;;1,00\n" + "03/11/2026;" + "A" * 140_000 + ";;;1,00\n"
    assert refused(tmp_path, text) == [
        "releve.csv:3: a field is more than 1024 characters long (the limit) — is it the bank's CSV export? "
        "Check the quotes and layout.delimiter in rules/bank.yaml"
    ]


def test_a_field_over_the_limit_is_located(tmp_path: Path) -> None:
    text = HEAD + "03/11/2026;VIR;" + "A" * (reader.MAX_FIELD_CHARS + 1) + ";;1,00\n"
    assert (
        "releve.csv:2: field 3 is 1025 characters long, more than the limit of 1024"
        in refused(tmp_path, text)[0]
    )


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 100)
    text = HEAD + "02/11/2026;VIR;;;1,00\n" * 5
    assert refused(tmp_path, text)[0].startswith(
        f"releve.csv: the file is {len(text.encode())} bytes, more than the limit of 100"
    )


def test_an_unclosed_quote_is_located_where_it_opens(tmp_path: Path) -> None:
    text = HEAD + '02/11/2026;VIR A;;;1,00\n03/11/2026;"VIR B;;;2,00\n04/11/2026;VIR C;;;3,00\n'
    assert refused(tmp_path, text)[0].startswith(
        "releve.csv:3: cannot split this line into fields (unexpected end"
    )
    text = HEAD + '02/11/2026;"VIR A;;;1,00\n03/11/2026;VIR B";;;2,00\n'
    assert refused(tmp_path, text)[0].startswith("releve.csv:2: a quoted field runs from line 2 to line 3")


def test_a_quoted_field_with_the_delimiter_is_read(tmp_path: Path) -> None:
    lines = statement(tmp_path, HEAD + '02/11/2026;"VIR A; B ""C""";;;"1,00"\n')
    assert [(x.label, x.amount) for x in lines] == [('VIR A; B "C"', Decimal("1.00"))]


def test_a_latin1_byte_is_located_by_line_and_column(tmp_path: Path) -> None:
    text = (HEAD + "02/11/2026;VIR;;;1,00\n").encode() + "03/11/2026;VIR REÇU;;;1,00\n".encode("latin-1")
    assert refused(tmp_path, text)[0].startswith("releve.csv:3: not valid utf-8 (byte 0xc7 at column 18)")
    latin1 = (HEAD + "02/11/2026;VIR;;;1,00\n03/11/2026;VIR REÇU;;;1,00\n").encode("latin-1")
    lines = statement(tmp_path, latin1, encoding="iso-8859-1")
    assert lines[1].label == "VIR REÇU"


def test_an_amount_column_and_indexes_without_a_header(tmp_path: Path) -> None:
    text = "02/11/2026|VIR A|1 234.50\n03/11/2026|PRLV|-2.00\n"
    lines = statement(
        tmp_path,
        text,
        header=False,
        delimiter="|",
        date=0,
        label=[1],
        debit=None,
        credit=None,
        amount=2,
        decimal_comma=False,
        thousands_separator=" ",
    )
    assert [x.amount for x in lines] == [Decimal("1234.50"), Decimal("-2.00")]
    short = refused(
        tmp_path,
        "02/11/2026|VIR A\n",
        header=False,
        delimiter="|",
        date=0,
        label=[1],
        debit=None,
        credit=None,
        amount=2,
    )
    assert short[0].startswith("releve.csv:1: only 2 field(s) on this line, the layout reads 3")


def test_trailing_empty_fields_are_not_columns(tmp_path: Path) -> None:
    assert len(statement(tmp_path, HEAD + "02/11/2026;VIR;;;1,00;;\n")) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"thousands_separator": ","}, "thousands_separator ',' is also the decimal separator"),
        ({"thousands_separator": "."}, None),
        ({"decimal_comma": False, "thousands_separator": "."}, "also the decimal separator"),
        ({"date_format": "%Y-%m-%d %H"}, "%H not supported"),
        ({"header": False}, "header: false, so columns are 0-based indexes"),
        ({"delimiter": '"'}, "cannot separate fields"),
        ({"encoding": "no-such-codec"}, "unknown encoding"),
        ({"decimal_comma": "true"}, "valid boolean"),
        ({"skip_lines": "1"}, "valid integer"),
        ({"thousand_separator": " "}, "Extra inputs are not permitted"),
    ],
)
def test_the_layout_is_validated(changes: dict[str, object], message: str | None) -> None:
    if message is None:
        layout(**changes)
        return
    with pytest.raises(ValueError, match=re.escape(message)):
        layout(**changes)


# ------------------------------------------------------------------------------------------ matching


def invoice(number: str, member: str, total: str, paid: str = "0", day: int = 1) -> InvoiceStatus:
    return InvoiceStatus(
        number=number,
        kind="invoice",
        member=member,
        date=dt.date(2026, 10, day),
        period="2026-10",
        net=Decimal(total),
        vat=Decimal(0),
        total=Decimal(total),
        due=None,
        pdf=None,
        refers_to=None,
        paid=Decimal(paid),
    )


def line(label: str, amount: str) -> BankLine:
    return BankLine(dt.date(2026, 11, 5), label, Decimal(amount), 7, "ref")


def match(
    label: str, amount: str, statuses: list[InvoiceStatus]
) -> tuple[str, list[tuple[str, Decimal]], str | None]:
    (found,) = match_lines(
        [line(label, amount)],
        statuses,
        accounts=ACCOUNTS,
        payers=PAYERS,
        debit_rules=[],
        prefix="FAC",
        source="r.csv",
    )
    assert found.txn.balance() == 0
    return found.how, [(p.account, p.amount) for p in found.txn.postings[1:]], found.reason


OPEN = [
    invoice("FAC-2026-0150", "alpha", "300.00", day=1),
    invoice("FAC-2026-0151", "beta", "250.50", paid="50.00", day=2),
    invoice("FAC-2026-0152", "alpha", "99.99", paid="99.99", day=3),
]


def test_a_payment_naming_two_members_invoices_is_split_when_it_is_their_exact_sum() -> None:
    how, postings, reason = match("VIR GROUPE FAC-2026-0151 FAC 2026 0150", "500.50", OPEN)
    assert (how, reason) == ("numéro", None)
    assert postings == [
        ("Actif:41-Clients:411-alpha", Decimal("-300.00")),
        ("Actif:41-Clients:411-beta", Decimal("-200.50")),
    ]
    (found,) = match_lines(
        [line("FAC-2026-0150 FAC-2026-0151", "500.50")],
        OPEN,
        accounts=ACCOUNTS,
        payers=PAYERS,
        debit_rules=[],
        prefix="FAC",
        source="r.csv",
    )
    assert [dict(p.meta)["invoice"] for p in found.txn.postings[1:]] == ["FAC-2026-0150", "FAC-2026-0151"]
    assert found.txn.links == ("FAC-2026-0150", "FAC-2026-0151")
    assert found.txn.payee is None  # two payers


def test_a_payment_that_is_not_the_exact_sum_goes_to_suspense_with_the_reason() -> None:
    how, postings, reason = match("FAC-2026-0150 FAC-2026-0151", "500.00", OPEN)
    assert how == "attente" and postings == [(ACCOUNTS.suspense, Decimal("-500.00"))]
    assert reason == (
        "names FAC-2026-0150 (open 300.00), FAC-2026-0151 (open 200.50): 500.00 received, their open balances "
        "sum to 500.50; not split, to be settled by hand"
    )


def test_a_paid_or_unknown_invoice_among_those_named_sends_the_line_to_suspense() -> None:
    how, _, reason = match("FAC-2026-0150 FAC-2026-0152", "300.00", OPEN)
    assert how == "attente" and reason is not None and "FAC-2026-0152 already paid" in reason
    how, _, reason = match("FAC-2026-0150 FAC-2026-0999", "300.00", OPEN)
    assert how == "attente"
    assert (
        reason
        == "names FAC-2026-0150, FAC-2026-0999: FAC-2026-0999 not issued by eage; not matched by number"
    )


def test_one_invoice_named_takes_the_whole_payment_even_in_part() -> None:
    assert match("FAC-2026-0150", "100.00", OPEN)[:2] == (
        "numéro",
        [("Actif:41-Clients:411-alpha", Decimal("-100.00"))],
    )


def test_named_numbers_are_told_apart_from_numbers_never_issued() -> None:
    assert named_numbers("FAC20260150, FAC-2026-150 ET FAC 2026 7", "FAC", ["FAC-2026-0150"]) == (
        ["FAC-2026-0150"],
        ["FAC-2026-7"],
    )


balances = st.lists(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2), min_size=2, max_size=8
)


@given(
    balances,
    st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("900000"), places=2)),
)
def test_a_split_always_sums_exactly_to_the_bank_amount(opens: list[Decimal], other: Decimal | None) -> None:
    statuses = [
        invoice(f"FAC-2026-{i + 1:04d}", ("alpha", "beta")[i % 2], f"{b}", day=i + 1)
        for i, b in enumerate(opens)
    ]
    amount = sum(opens, Decimal(0)) if other is None else other
    label = "VIR " + " ".join(s.number for s in reversed(statuses))
    (found,) = match_lines(
        [line(label, f"{amount}")],
        statuses,
        accounts=ACCOUNTS,
        payers=PAYERS,
        debit_rules=[],
        prefix="FAC",
        source="r",
    )
    parts = list(found.txn.postings[1:])
    assert -sum((p.amount for p in parts), Decimal(0)) == amount  # every cent of the line, booked once
    if amount == sum(opens, Decimal(0)):
        assert found.how == "numéro"
        assert [-p.amount for p in parts] == opens  # each invoice exactly its open balance, oldest first
    else:
        assert found.how == "attente" and found.reason is not None
    split = split_over_invoices(amount, [(s.number, s.open) for s in statuses])
    assert (split is not None) == (amount == sum(opens, Decimal(0)))


labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda t: bool(t.split()))
rows = st.lists(
    st.tuples(
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
        labels,
        st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2).filter(
            lambda d: d != 0
        ),
    ),
    min_size=1,
    max_size=12,
)


@given(rows, FORMATS, st.sampled_from([";", ",", "\t"]))
def test_a_statement_written_as_declared_reads_back_line_for_line(
    tmp_path_factory: pytest.TempPathFactory,
    content: list[tuple[dt.date, str, Decimal]],
    fmt: tuple[bool, str | None],
    delimiter: str,
) -> None:
    import csv
    import io

    comma, thousands = fmt
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    out.writerow(["Date", "Libellé", "Montant"])
    for day, label, amount in content:
        out.writerow([day.strftime("%d/%m/%Y"), label, written(amount, comma, thousands, False)])
    path = tmp_path_factory.mktemp("st") / "releve.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    shape = layout(
        delimiter=delimiter,
        label=["Libellé"],
        debit=None,
        credit=None,
        amount="Montant",
        decimal_comma=comma,
        thousands_separator=thousands,
    )
    read = read_statement(path, shape, duplicates="keep", shown="releve.csv").lines
    assert [(x.date, x.label, x.amount, x.line) for x in read] == [
        (day, " ".join(label.split()), amount, index + 2)
        for index, (day, label, amount) in enumerate(content)
    ]


def test_a_ledger_error_in_a_generated_entry_is_told_on_the_statement_line() -> None:
    from eage.bank.importer import _on_statement, _render
    from eage.errors import Problem

    lines = [line("VIR A", "1.00"), BankLine(dt.date(2026, 11, 6), "VIR B", Decimal("2.00"), 9, "ref2")]
    matches = match_lines(
        lines, [], accounts=ACCOUNTS, payers=PAYERS, debit_rules=[], prefix="FAC", source="r.csv"
    )
    body, spans = _render(matches, first_line=5)
    second = body.splitlines().index('2026-11-06 ! "VIR B"') + 5
    problem = Problem("Invalid reference", file="ledger/bank/2026-11.beancount", line=second + 3)
    told = _on_statement(problem, {"bank/2026-11.beancount": spans}, "releve.csv")
    assert (told.file, told.line) == ("releve.csv", 9)
    assert "in the entry this line would add to ledger/bank/2026-11.beancount" in told.message
    elsewhere = Problem("x", file="ledger/main.beancount", line=3)
    assert _on_statement(elsewhere, {"bank/2026-11.beancount": spans}, "releve.csv") == elsewhere
