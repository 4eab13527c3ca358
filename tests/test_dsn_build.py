"""The DSN of a month (payroll.dsn.build): every amount equals the payslips and the payroll journal."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eage.app.run import load_month
from eage.errors import InputError
from eage.ledger.model import Txn
from eage.month import Month
from eage.payroll.dsn.build import DsnInput, build_dsn, dsn_summary, reconcile
from eage.payroll.dsn.identifiers import load_dsn_identifiers
from eage.payroll.dsn.mapping import DsnMapping, load_dsn_mapping, mapping_problems
from eage.payroll.dsn.model import Rubric
from eage.payroll.engine import Payslip
from eage.payroll.journal import payroll_transactions
from eage.payroll.month import compute_payslips

ROOT = Path(__file__).resolve().parent.parent
OCTOBER = Month(2026, 10)


@pytest.fixture(scope="module")
def october() -> DsnInput:
    inputs = load_month(ROOT, OCTOBER)
    payslips = compute_payslips(
        inputs.rules, inputs.payroll, OCTOBER, inputs.variables, inputs.leave_opening, inputs.contracts
    )
    return DsnInput(
        month=OCTOBER,
        rules=inputs.rules,
        payroll=inputs.payroll,
        identifiers=load_dsn_identifiers(ROOT, inputs.rules, inputs.payroll),
        mapping=load_dsn_mapping(ROOT),
        payslips=payslips,
        timesheet=inputs.timesheet(OCTOBER),
        variables=inputs.variables[OCTOBER],
        test=True,
        created=dt.date(2026, 10, 30),
        software_version="0.15",
    )


@pytest.fixture(scope="module")
def lines(october: DsnInput) -> list[Rubric]:
    return build_dsn(october)


def _journal(inp: DsnInput) -> list[Txn]:
    names = {e.id: e for e in inp.rules.staff.employees}
    return payroll_transactions(
        [(emp, names[emp].name, names[emp].service, slip) for emp, slip in inp.payslips],
        inp.payroll.accounts,
        inp.month.last_day,
    )


def _credits(txns: list[Txn]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for txn in txns:
        for posting in txn.postings:
            out[posting.account] -= posting.amount
    return out


def test_each_employee_amount_is_the_payslip(october: DsnInput, lines: list[Rubric]) -> None:
    summary = dsn_summary(lines)
    for emp, slip in october.payslips:
        declared = summary.employees[emp]
        assert (declared.gross, declared.net_paid, declared.pas) == (slip.gross, slip.net_paid, slip.pas)


def test_each_81_amount_is_the_sum_of_the_payslip_lines(october: DsnInput, lines: list[Rubric]) -> None:
    """Per employee, the 81 amounts sum to the payslip's contributions (TSS aside) less the reduction."""
    per_employee: dict[str, Decimal] = defaultdict(Decimal)
    employee = ""
    for rubric in lines:
        if rubric.code == "S21.G00.30.019":
            employee = rubric.value
        elif rubric.code == "S21.G00.81.004":
            per_employee[employee] += Decimal(rubric.value)
    for emp, slip in october.payslips:
        expected = sum((line.amount for line in slip.lines if not line.code.startswith("tss_")), Decimal(0))
        assert per_employee[emp] == expected


def test_aggregated_lines_equal_the_81_sums_per_ctp(october: DsnInput, lines: list[Rubric]) -> None:
    summary = dsn_summary(lines)
    urssaf = october.identifiers.organisations["urssaf"].ops_id
    reduction = summary.ctp.get(("668", "920"), Decimal(0)) - summary.ctp.get(("669", "920"), Decimal(0))
    others = sum((v for (ctp, _), v in summary.ctp.items() if ctp not in ("668", "669")), Decimal(0))
    assert others - reduction == summary.payments[urssaf]
    individual = sum((v for (ops, _), v in summary.contributions.items() if ops == urssaf), Decimal(0))
    insurers = {c.insurer_code for c in october.identifiers.contracts}
    for insurer in insurers:
        paid = sum((v for (ops, _), v in summary.contributions.items() if ops == insurer), Decimal(0))
        assert paid == summary.payments[insurer]
    assert individual == summary.payments[urssaf]
    assert reduction == -summary.contributions[(urssaf, "018")]


def test_payments_equal_the_posted_journal(october: DsnInput, lines: list[Rubric]) -> None:
    """The demo's posted October journal: 431, 4372, 4373, 4421 credited as the DSN pays."""
    text = (ROOT / "ledger" / "generated" / "2026" / "2026-10-payroll.beancount").read_text(encoding="utf-8")
    posted: dict[str, Decimal] = defaultdict(Decimal)
    for account, amount in re.findall(r"^  (\S+)\s+(-?[0-9.]+) EUR$", text, flags=re.MULTILINE):
        posted[account] -= Decimal(amount)
    summary = dsn_summary(lines)
    assert reconcile(summary, _journal(october), october.payroll.accounts) == []
    credits = _credits(_journal(october))
    accounts = october.payroll.accounts
    for account in (
        *(accounts.organisations[k] for k in ("urssaf", "agirc_arrco", "prevoyance")),
        accounts.pas,
    ):
        assert posted[account] == credits[account], account
    accounts = october.payroll.accounts
    ident = october.identifiers
    assert summary.payments[ident.organisations["urssaf"].ops_id] == credits[accounts.organisations["urssaf"]]
    assert (
        summary.payments[ident.organisations["agirc_arrco"].ops_id]
        == credits[accounts.organisations["agirc_arrco"]]
    )
    insurers = {c.insurer_code for c in ident.contracts}
    assert sum(summary.payments[i] for i in insurers) == credits[accounts.organisations["prevoyance"]]
    assert {summary.bodies[i] for i in insurers} == {"prevoyance"}
    assert summary.payments["DGFIP"] == credits[accounts.pas]
    # The demo's figures (ledger/generated/2026/2026-10-payroll.beancount).
    assert summary.payments[ident.organisations["urssaf"].ops_id] == Decimal("2649.94")
    assert summary.payments["DGFIP"] == Decimal("167.25")


def test_payment_dates_are_the_due_dates(october: DsnInput) -> None:
    due = {"urssaf": dt.date(2026, 11, 16), "pas": dt.date(2026, 11, 18)}
    built = build_dsn(_replace(october, due_dates=due))
    urssaf = october.identifiers.organisations["urssaf"].ops_id
    body = ""
    paid: dict[str, str] = {}
    for rubric in built:
        if rubric.code == "S21.G00.20.001":
            body = rubric.value
        elif rubric.code == "S21.G00.20.011":
            paid[body] = rubric.value
    assert paid == {urssaf: "16112026", "DGFIP": "18112026"}


def test_same_inputs_same_lines(october: DsnInput, lines: list[Rubric]) -> None:
    assert build_dsn(october) == lines


def test_blocks_and_totals(october: DsnInput, lines: list[Rubric]) -> None:
    codes = [r.code for r in lines]
    assert codes[0] == "S10.G00.00.001" and codes[-1] == "S90.G00.90.002"
    assert lines[-2].value == str(len(lines))
    values = {r.code: r.value for r in lines}
    assert values["S10.G00.00.005"] == "01"  # --test
    assert values["S20.G00.05.005"] == "01102026"
    assert values["S10.G00.00.006"] == "P26V01"
    assert codes.count("S21.G00.30.001") == len(october.payslips)
    assert codes.count("S21.G00.40.074") == len(october.payslips)
    # Each user establishment (S21.G00.40.046) is described once in an S21.G00.85.
    users = {r.value for r in lines if r.code == "S21.G00.40.046"}
    assert users == {r.value for r in lines if r.code == "S21.G00.85.001"}
    assert codes.count("S21.G00.85.001") == len(users)


def test_user_establishment_is_the_member_with_most_hours(october: DsnInput, lines: list[Rubric]) -> None:
    hours: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in october.timesheet:
        if line.member is not None:
            hours[line.employee][line.member] += line.hours
    sirets = {m.id: m.identity.siret for m in october.rules.members.members}
    declared = [r.value for r in lines if r.code == "S21.G00.40.046"]
    expected = [sirets[min(hours[emp], key=lambda m: (-hours[emp][m], m))] for emp, _ in october.payslips]
    assert declared == expected


def test_structure_problems_none(lines: list[Rubric]) -> None:
    norm = pytest.importorskip("eage.payroll.dsn.norm")
    assert norm.structure_problems(lines, source="test") == []


def test_every_contribution_has_codes(october: DsnInput) -> None:
    assert mapping_problems(october.mapping, october.payroll, OCTOBER.first_day) == []


def test_a_contribution_without_codes_is_located(october: DsnInput) -> None:
    data = october.mapping.model_dump(by_alias=True)
    del data["contributions"]["maladie"]
    mapping = DsnMapping.model_validate(data)
    problems = mapping_problems(mapping, october.payroll, OCTOBER.first_day)
    assert [(p.file, p.key) for p in problems] == [("rules/payroll/dsn.yaml", "contributions.maladie")]
    with pytest.raises(InputError) as caught:
        build_dsn(_replace(october, mapping=mapping))
    assert "contributions.maladie" in str(caught.value.problems[0])


def test_missing_employee_identity_is_refused(october: DsnInput) -> None:
    ident = october.identifiers
    employees = dict(ident.employees)
    del employees["cmartin"]
    from dataclasses import replace

    with pytest.raises(InputError) as caught:
        build_dsn(_replace(october, identifiers=replace(ident, employees=employees)))
    assert caught.value.problems[0].key == "employees.cmartin"


def _replace(inp: DsnInput, **changes: object) -> DsnInput:
    from dataclasses import replace

    return replace(inp, **changes)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grosses=st.lists(
        st.decimals(min_value=Decimal("1900"), max_value=Decimal("20000"), places=2), min_size=3, max_size=3
    )
)
def test_property_per_body_totals_equal_the_journal(october: DsnInput, grosses: list[Decimal]) -> None:
    """For random gross salaries, the DSN's payment to each body equals the journal's credit."""
    from dataclasses import replace

    payslips = [(emp, replace(slip, gross=slip.gross)) for emp, slip in october.payslips]
    from eage.payroll.engine import PayslipInput, compute_payslip

    rebuilt = []
    for (emp, slip), gross in zip(payslips, grosses, strict=True):
        inp = PayslipInput(
            month=OCTOBER.first_day,
            base_gross=gross,
            weekly_hours=slip.weekly_hours,
            cadre=slip.cadre,
            pas_rate=slip.pas_rate,
            employer_profile=october.rules.group.employer.profile,
            headcount=october.rules.group.employer.headcount,
            atmp_rate=october.rules.group.employer.atmp.at(OCTOBER.first_day),
            mutuelle_total=Decimal("78.00"),
        )
        rebuilt.append((emp, compute_payslip(october.payroll, inp)))
    changed = _replace(october, payslips=rebuilt)
    summary = dsn_summary(build_dsn(changed))
    assert reconcile(summary, _journal(changed), october.payroll.accounts) == []


SEPTEMBER = Month(2026, 9)


def _input_of(month: Month) -> DsnInput:
    inputs = load_month(ROOT, month)
    payslips = compute_payslips(
        inputs.rules, inputs.payroll, month, inputs.variables, inputs.leave_opening, inputs.contracts
    )
    return DsnInput(
        month=month,
        rules=inputs.rules,
        payroll=inputs.payroll,
        identifiers=load_dsn_identifiers(ROOT, inputs.rules, inputs.payroll),
        mapping=load_dsn_mapping(ROOT),
        payslips=payslips,
        timesheet=inputs.timesheet(month),
        variables=inputs.variables[month],
        test=False,
        created=month.last_day,
        software_version="0.15",
    )


@pytest.fixture(scope="module")
def september() -> DsnInput:
    return _input_of(SEPTEMBER)


def _raised(inp: DsnInput, employee: str, gross: Decimal) -> list[tuple[str, Payslip]]:
    """``inp``'s payslips with ``employee``'s recomputed on another gross (a corrected month)."""
    from eage.payroll.engine import PayslipInput, compute_payslip

    out = []
    for emp, slip in inp.payslips:
        if emp == employee:
            employer = inp.rules.group.employer
            slip = compute_payslip(
                inp.payroll,
                PayslipInput(
                    month=inp.month.first_day,
                    base_gross=gross,
                    weekly_hours=slip.weekly_hours,
                    cadre=slip.cadre,
                    pas_rate=slip.pas_rate,
                    employer_profile=employer.profile,
                    headcount=employer.headcount,
                    atmp_rate=employer.atmp.at(inp.month.first_day),
                    mutuelle_total=Decimal("78.00"),
                ),
            )
        out.append((emp, slip))
    return out


def test_an_unchanged_issued_month_adds_nothing(
    october: DsnInput, september: DsnInput, lines: list[Rubric]
) -> None:
    issued = {SEPTEMBER: build_dsn(september)}
    same = _replace(october, issued=issued, earlier_payslips={SEPTEMBER: september.payslips})
    assert build_dsn(same) == lines


def test_a_corrected_month_is_declared_in_the_next_dsn(october: DsnInput, september: DsnInput) -> None:
    """September issued, then lpetit's September gross corrected: October's DSN carries the differences,
    dated September, and each body's payment includes them."""
    issued = {SEPTEMBER: build_dsn(september)}
    corrected = _raised(september, "lpetit", Decimal("2500.00"))
    built = build_dsn(_replace(october, issued=issued, earlier_payslips={SEPTEMBER: corrected}))
    plain = dsn_summary(build_dsn(october))
    summary = dsn_summary(built)
    # The differences per body: what the corrected September's journal credits more than the issued one.
    before = _credits(_journal(september))
    after = _credits(_journal(_replace(september, payslips=corrected)))
    accounts = october.payroll.accounts
    urssaf = october.identifiers.organisations["urssaf"].ops_id
    agirc = october.identifiers.organisations["agirc_arrco"].ops_id
    delta_431 = after[accounts.organisations["urssaf"]] - before[accounts.organisations["urssaf"]]
    delta_4372 = after[accounts.organisations["agirc_arrco"]] - before[accounts.organisations["agirc_arrco"]]
    assert delta_431 > 0
    assert summary.payments[urssaf] == plain.payments[urssaf] + delta_431
    assert summary.payments[agirc] == plain.payments[agirc] + delta_4372
    assert summary.corrections[urssaf] == delta_431
    assert summary.corrections[agirc] == delta_4372
    # The month's own part still equals the month's journal.
    assert reconcile(summary, _journal(october), accounts) == []
    # A second bordereau for September, its total the URSSAF's difference.
    bordereaux = [i for i, r in enumerate(built) if r.code == "S21.G00.22.001"]
    assert len(bordereaux) == 2
    second = {r.code: r.value for r in built[bordereaux[1] : bordereaux[1] + 4]}
    assert second["S21.G00.22.003"] == "01092026" and second["S21.G00.22.004"] == "30092026"
    assert Decimal(second["S21.G00.22.005"]) == delta_431
    # The regularisation blocks are lpetit's only, dated September.
    employee = ""
    dated: set[str] = set()
    for rubric in built:
        if rubric.code == "S21.G00.30.019":
            employee = rubric.value
        elif rubric.code == "S21.G00.78.002" and rubric.value == "01092026":
            dated.add(employee)
    assert dated == {"lpetit"}
    # Declared once, the correction is not declared again the month after.
    issued_both = {SEPTEMBER: issued[SEPTEMBER], OCTOBER: built}
    again = _correction_lines(_replace(october, month=Month(2026, 11), issued=issued_both), corrected)
    assert again == []
    norm = pytest.importorskip("eage.payroll.dsn.norm")
    assert norm.structure_problems(built, source="t") == []


def _correction_lines(inp: DsnInput, corrected: list[tuple[str, Payslip]]) -> list[Rubric]:
    """The lines of ``inp``'s DSN dated with September (its corrections of September)."""
    from eage.payroll.dsn.build import _corrections

    staff = {e.id: e for e in inp.rules.staff.employees}
    done = _corrections(_replace(inp, earlier_payslips={SEPTEMBER: corrected}), staff)
    return [Rubric(c.month.__str__(), "") for c in done]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    employee=st.sampled_from(["cmartin", "sbernard", "lpetit"]),
    gross=st.decimals(min_value=Decimal("1900"), max_value=Decimal("9000"), places=2),
)
def test_property_corrections_equal_the_journal_differences(
    october: DsnInput, september: DsnInput, employee: str, gross: Decimal
) -> None:
    """For a random correction of September, October's payments to the URSSAF, Agirc-Arrco and the
    insurers grow by what the corrected September journal credits them more, and the month after
    declares nothing again."""
    issued = {SEPTEMBER: build_dsn(september)}
    weekly = next(s.weekly_hours for e, s in september.payslips if e == employee)
    corrected = _raised(september, employee, gross * weekly / 35)
    built = build_dsn(_replace(october, issued=issued, earlier_payslips={SEPTEMBER: corrected}))
    plain, summary = dsn_summary(build_dsn(october)), dsn_summary(built)
    before = _credits(_journal(september))
    after = _credits(_journal(_replace(september, payslips=corrected)))
    accounts = october.payroll.accounts
    for key in ("urssaf", "agirc_arrco", "prevoyance"):
        account = accounts.organisations[key]
        bodies = [b for b, o in summary.bodies.items() if o == key]
        declared = sum((summary.payments[b] - plain.payments.get(b, Decimal(0)) for b in bodies), Decimal(0))
        assert declared == after[account] - before[account], key
    later = _replace(
        october,
        month=Month(2026, 11),
        issued={SEPTEMBER: issued[SEPTEMBER], OCTOBER: built},
        earlier_payslips={SEPTEMBER: corrected},
    )
    assert _correction_lines(later, corrected) == []


def test_a_bad_code_in_the_mapping_is_located(tmp_path: Path) -> None:
    """An unknown CTP shape (two digits) is refused at its line and key, nothing else read."""
    folder = tmp_path / "rules" / "payroll"
    folder.mkdir(parents=True)
    text = (ROOT / "rules" / "payroll" / "dsn.yaml").read_text(encoding="utf-8")
    bad = text.replace('individual: "075", ctp: "100"', 'individual: "075", ctp: "10"', 1)
    assert bad != text
    (folder / "dsn.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_dsn_mapping(tmp_path)
    problem = caught.value.problems[0]
    assert problem.file == "rules/payroll/dsn.yaml"
    assert (
        problem.line
        == bad.splitlines().index(next(line for line in bad.splitlines() if 'ctp: "10"' in line)) + 1
    )
    assert "maladie" in (problem.key or "")


def test_a_missing_mapping_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_dsn_mapping(tmp_path)
    assert caught.value.problems[0].file == "rules/payroll/dsn.yaml"


def test_sick_leave_is_declared(october: DsnInput) -> None:
    from eage.payroll.variables import EmployeeVariables, MonthVariables, SickLeave

    leave = SickLeave.model_validate({"from": "2026-10-12", "to": "2026-10-16", "kind": "non_professional"})
    variables = MonthVariables(employees={"lpetit": EmployeeVariables(sick_leave=[leave])})
    built = build_dsn(_replace(october, variables=variables))
    values = [(r.code, r.value) for r in built if r.block == "S21.G00.60"]
    assert values == [
        ("S21.G00.60.001", "01"),
        ("S21.G00.60.002", "11102026"),
        ("S21.G00.60.003", "16102026"),
    ]


def test_the_taxe_sur_les_salaires_is_not_in_the_dsn(october: DsnInput, lines: list[Rubric]) -> None:
    """The association's taxe sur les salaires (its tss_ lines, paid to the SIE) is declared elsewhere."""
    assert any(line.code.startswith("tss_") for _, slip in october.payslips for line in slip.lines)
    total = sum((Decimal(r.value) for r in lines if r.code == "S21.G00.20.005"), Decimal(0))
    owed = sum(
        (
            line.amount
            for _, slip in october.payslips
            for line in slip.lines
            if not line.code.startswith("tss_")
        ),
        Decimal(0),
    ) + sum((slip.pas for _, slip in october.payslips), Decimal(0))
    assert total == owed


def test_independent_parser_accepts_the_month_and_its_correction(
    october: DsnInput, september: DsnInput, lines: list[Rubric], tmp_path: Path
) -> None:
    """dsn-tools (its own environment) reads October's DSN, and October with a correction of September."""
    from dsn_tools import dsn_tools_validate
    from eage.payroll.dsn.lines import render

    corrected = _raised(september, "lpetit", Decimal("2500.00"))
    with_correction = build_dsn(
        _replace(october, issued={SEPTEMBER: build_dsn(september)}, earlier_payslips={SEPTEMBER: corrected})
    )
    for name, built in (("plain", lines), ("corrected", with_correction)):
        path = tmp_path / f"{name}.dsn"
        path.write_bytes(render(built))
        summary = dsn_tools_validate(path)
        assert summary["ok"], (name, summary["errors"])
        assert summary["individus"] == len(october.payslips)


def test_unconfirmed_codes_are_listed(october: DsnInput) -> None:
    from eage.payroll.dsn.mapping import unconfirmed_codes

    listed = unconfirmed_codes(october.mapping, OCTOBER.first_day)
    assert "contributions.rc_T1" in listed and "reduction" in listed and "ctp_rates.027" in listed
    assert "contributions.maladie" not in listed
