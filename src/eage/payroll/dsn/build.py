"""The monthly DSN of the group, built from the month's payslips (pure: no file is read here).

:func:`build_dsn` turns the payslips ``eage run`` posts from (:func:`eage.payroll.month.compute_payslips`),
the identifiers of rules/dsn.yaml and the codes of rules/payroll/dsn.yaml into the file's lines, in the
norm's block order (S10 sender, S20 declaration, S21.G00.06 company, .11 establishment with its .15
insurance contracts, .20 payments, .22/.23 the URSSAF's bordereau, one .30 individual per employee with
.40 contract (.60 sick leave, .70 affiliations, .71 complementary pension), .50 payment (.51 pay, .52
bonus, .78 bases each followed by its .79 components and .81 contributions), then the .85 user
establishments of the group's members, and the S90 totals).

Every amount is a sum of the payslips' cent amounts: an employee's 81 lines are the payslip's lines of
that code (employee and employer parts together: the norm's S21.G00.81.004 is the contribution's amount),
the 23 lines are the sums of the 81s per CTP, each payment (.20) the sum of what the journal credits to
that body (431 URSSAF, 4372 Agirc-Arrco, 4373 the insurer, 4421 the withholding), so that
:func:`reconcile` finds the DSN equal to the payroll journal to the cent.

**Corrections** (the norm's way: an issued DSN is never rewritten, its differences go into a later
month's DSN): for each earlier month of the year with an issued DSN (``DsnInput.issued``, read back) whose
payroll now (``DsnInput.earlier_payslips``) differs from what the issued files declared for it (its own
blocks and the regularisation blocks of later issued months, recognised by their period's dates), the
month's DSN carries, per employee, S21.G00.78 blocks dated with the earlier period (78.002 / .003) holding
the differences of the base and of each 81 line, a second S21.G00.22 bordereau for that period with the
differences of its 23 lines (a smaller reduction is a reprise: CTP 669), and each body's payment includes
the differences.

Not declared (see docs/research/issue-15-dsn.md): S21.G00.65 unpaid absences (the payroll variables give
hours, not the dates the norm asks for); in a correction, an employee who has no payslip this month, the
withholding (S21.G00.56) and the pay blocks (50 / 51) of the corrected month: only its bases and
contributions are declared again.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from eage.errors import InputError, Problem
from eage.ledger.model import Txn
from eage.money import ZERO
from eage.month import Month
from eage.payroll.contracts import employer_headcounts
from eage.payroll.dsn import lines as lines_format
from eage.payroll.dsn.mapping import SHOWN, ContractCodes, DsnMapping, LineCodes, check_mapping
from eage.payroll.dsn.model import Address, DsnIdentifiers, InsuranceContract, Rubric
from eage.payroll.engine import OVERTIME_CODES, RGDU_CODE, Payslip, PayslipLine
from eage.payroll.month import Payslips
from eage.payroll.params import PayrollAccounts, PayrollRules
from eage.payroll.variables import MonthVariables
from eage.rules.bundle import Rules
from eage.rules.models import Address as RulesAddress
from eage.rules.models import Employee
from eage.timesheets import TimesheetLine

#: The body key of the withholding tax (model.Organisation.key).
PAS_KEY = "pas"
URSSAF_KEY = "urssaf"
AGIRC_KEY = "agirc_arrco"
PREVOYANCE_KEY = "prevoyance"
CENT = Decimal("0.01")
#: S21.G00.51.011 of the gross, read back by :func:`dsn_summary` (the norm's code list, DSN_Renumeration_Type).
GROSS_TYPE = "001"


@dataclass(frozen=True)
class DsnInput:
    month: Month
    rules: Rules
    payroll: PayrollRules
    identifiers: DsnIdentifiers
    mapping: DsnMapping
    payslips: Payslips
    timesheet: Sequence[TimesheetLine]
    variables: MonthVariables
    test: bool
    created: dt.date
    software_version: str
    issued: Mapping[Month, Sequence[Rubric]] = field(default_factory=dict)
    #: The year's earlier months' payslips as the inputs give them now (eage.payroll.month.earlier_payslips),
    #: compared with what ``issued`` declared for them: the differences are this month's corrections.
    earlier_payslips: Mapping[Month, Payslips] = field(default_factory=dict)
    #: The day each body is paid (S21.G00.20.011), by organisation key (urssaf, agirc_arrco, prevoyance,
    #: pas): eage.payroll.charges.due_date's; a body without one has no 20.011.
    due_dates: Mapping[str, dt.date] = field(default_factory=dict)


# --- formatters: eage.payroll.dsn.lines (amounts already to the cent, dates JJMMAAAA, rates per rubric) ----


def _amount(value: Decimal) -> str:
    return lines_format.amount(value)


def _date(day: dt.date) -> str:
    return lines_format.date(day)


def _rate(value: Decimal, code: str) -> str:
    return lines_format.rate(value, code)


def _rate_if_written(value: Decimal, code: str) -> str | None:
    """The rate when the rubric's pattern writes it exactly (S21.G00.23.003 takes two decimals: the
    0,016 % of the dialogue social is not written, the URSSAF knows a fixed-rate CTP's rate)."""
    try:
        return lines_format.rate(value, code)
    except ValueError:
        return None


def _locality(city: str) -> str:
    """A locality as the norm's pattern allows it (letters, digits, spaces): accents and hyphens off."""
    plain = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode("ascii")
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split()).upper()


def _text(value: str, limit: int) -> str:
    """Free text cut to the rubric's length (ISO-8859-1 is checked when the file is rendered)."""
    return " ".join(value.replace("'", " ").split())[:limit]


# --- the build ---------------------------------------------------------------------------------------


class _Out:
    def __init__(self) -> None:
        self.lines: list[Rubric] = []

    def add(self, code: str, value: str | None) -> None:
        if value is not None and value != "":
            self.lines.append(Rubric(code, value))


@dataclass
class _EmployeeDsn:
    """One employee's 78 bases (code, base amount, affiliation) and their 81 lines, in order."""

    bases: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)
    contributions: dict[tuple[str, str | None], dict[tuple[str, str], list[Decimal]]] = field(
        default_factory=dict
    )
    components: dict[tuple[str, str | None], list[tuple[str, Decimal]]] = field(default_factory=dict)
    #: The 81 lines whose body id is not written (LineCodes.body_in_81 False).
    hidden_body: set[tuple[tuple[str, str | None], str, str]] = field(default_factory=set)


def _problem(message: str, key: str, fix: str) -> InputError:
    return InputError(Problem(message, file="rules/dsn.yaml", key=key, fix=fix))


def _ops(identifiers: DsnIdentifiers, key: str) -> str:
    organisation = identifiers.organisations.get(key)
    if organisation is None:
        raise _problem(
            f"no organisation {key!r} to declare and pay",
            f"organisations.{key}",
            "add its identifiant organisme de protection sociale (ops_id) and name",
        )
    return organisation.ops_id


def _contract_of(identifiers: DsnIdentifiers, code: str) -> tuple[int, InsuranceContract] | None:
    for index, contract in enumerate(identifiers.contracts, start=1):
        if code in contract.contributions:
            return index, contract
    return None


def _user_establishments(
    timesheet: Sequence[TimesheetLine], rules: Rules
) -> tuple[dict[str, str], list[str]]:
    """Each employee's member establishment of the month (most hours; ties: the lowest member id), as a
    SIRET, and the members in the order their SIRET first appears."""
    hours: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for line in timesheet:
        if line.member is not None:  # hours for the group itself make no user establishment
            hours[line.employee][line.member] += line.hours
    sirets = {m.id: m.identity.siret for m in rules.members.members if m.identity.siret}
    chosen: dict[str, str] = {}
    for employee, by_member in hours.items():
        best = min(by_member, key=lambda member: (-by_member[member], member))
        siret = sirets.get(best)
        if siret is None:
            raise InputError(
                Problem(
                    f"member {best!r} has no SIRET: the DSN names the establishment an employee is made "
                    "available to (S21.G00.40.046)",
                    file="rules/members.yaml",
                    key=f"members.{best}.identity.siret",
                    fix="add the member's SIRET (14 digits)",
                )
            )
        chosen[employee] = best
    order: list[str] = []
    for member in (chosen[e] for e in sorted(chosen)):
        if member not in order:
            order.append(member)
    return chosen, sorted(order)


def _employee_bases(
    inp: DsnInput, employee_id: str, slip: Payslip, headcounts_count: int, day: dt.date
) -> tuple[_EmployeeDsn, list[tuple[LineCodes, PayslipLine]]]:
    """The employee's 78/79/81 content of the month starting ``day`` and the URSSAF lines with their
    codes (for the 23 lines)."""
    ident = inp.identifiers
    headcounts = employer_headcounts(inp.rules.group.employer)
    out = _EmployeeDsn()
    urssaf_lines: list[tuple[LineCodes, PayslipLine]] = []
    skip = set(inp.mapping.outside_dsn)
    for line in slip.lines:
        if line.code == RGDU_CODE or line.organisation in skip:
            continue
        codes = inp.mapping.codes(line.code, day, headcounts, headcounts_count)
        if codes is None:
            raise InputError(
                Problem(
                    f"payslip line {line.code!r} of {employee_id} has no DSN codes in force in {day:%Y-%m}",
                    file=SHOWN,
                    key=f"contributions.{line.code}",
                    fix="add its base, individual code and (URSSAF) CTP with their reference",
                )
            )
        affiliation: str | None = None
        if line.organisation == URSSAF_KEY:
            ops = _ops(ident, URSSAF_KEY)
            urssaf_lines.append((codes, line))
        elif line.organisation == AGIRC_KEY:
            ops = _ops(ident, AGIRC_KEY)
        else:
            found = _contract_of(ident, line.code)
            if found is None:
                raise _problem(
                    f"no insurance contract collects {line.code!r} (payslip of {employee_id})",
                    "contracts",
                    f"add {line.code} to the contributions of the contract that collects it",
                )
            index, contract = found
            ops = contract.insurer_code
            affiliation = str(index)
        key = (codes.base, affiliation)
        out.bases.setdefault(key, line.base)
        if codes.component is not None:
            components = out.components.setdefault(key, [])
            if not any(t == codes.component for t, _ in components):
                components.append((codes.component, line.base))
        entry = out.contributions.setdefault(key, {}).setdefault((codes.individual, ops), [line.base, ZERO])
        entry[1] += line.amount
        if not codes.body_in_81:
            out.hidden_body.add((key, codes.individual, ops))
    reduction = inp.mapping.reduction.at(day)
    for organisation, part in slip.rgdu_split:
        if not part:
            continue
        codes_part = reduction.parts.get(organisation)
        if codes_part is None:
            raise InputError(
                Problem(
                    f"no DSN codes for the reduction's part on {organisation!r}",
                    file=SHOWN,
                    key=f"reduction.values.parts.{organisation}",
                    fix="add its base and individual code",
                )
            )
        key = (codes_part.base, None)
        out.bases.setdefault(key, slip.gross)
        out.contributions.setdefault(key, {})[(codes_part.individual, _ops(ident, organisation))] = [
            slip.gross,
            -part,
        ]
        if organisation == URSSAF_KEY:
            out.components.setdefault(key, []).append((reduction.smic_component, slip.rgdu_smic))
    return out, urssaf_lines


#: An aggregated URSSAF line's key: CTP, qualifier, the rate as written (None: not written).
AggregateKey = tuple[str, str, str | None]


@dataclass
class _MonthContent:
    """A month's declared content: each employee's 78/79/81, the URSSAF's 23 lines (written amounts:
    a deduction CTP's positive) and each body's total (the sum of its 81 amounts)."""

    employees: list[tuple[str, Payslip, _EmployeeDsn]]
    aggregated: dict[AggregateKey, list[Decimal]]  # [base, amount]
    bodies: dict[str, Decimal]


def _month_content(inp: DsnInput, month: Month, payslips: Payslips) -> _MonthContent:
    day = month.first_day
    headcount = inp.rules.group.employer.headcount
    reduction = inp.mapping.reduction.at(day)
    employees: list[tuple[str, Payslip, _EmployeeDsn]] = []
    by_rate: dict[tuple[str, str, Decimal], list[Decimal]] = {}
    deduction_ctps: set[str] = set()
    reduction_urssaf = ZERO
    for employee_id, slip in payslips:
        content, lines = _employee_bases(inp, employee_id, slip, headcount, day)
        employees.append((employee_id, slip, content))
        groups: dict[tuple[str, str], list[Decimal]] = {}
        for line_codes, line in lines:
            if line_codes.ctp is None:
                # An URSSAF contribution the URSSAF's table gives no CTP for here (e.g. the PEEC): eage
                # cannot declare it, and says so rather than leave it out of the bordereau.
                raise InputError(
                    Problem(
                        f"{line.code!r} ({line.label}) is due to the URSSAF but has no CTP",
                        file=SHOWN,
                        key=f"contributions.{line.code}",
                        fix="give its code type de personnel (ctp) and qualifier from the URSSAF's CTP "
                        "table, with the reference",
                    )
                )
            qualifier: str = line_codes.qualifier or ""
            entry = groups.setdefault((line_codes.ctp, qualifier), [line.base, ZERO, ZERO])
            entry[1] += line.rate
            entry[2] += line.amount
            if line.amount < 0:
                deduction_ctps.add(line_codes.ctp)
        for (ctp, qualifier), (base, rate, amount) in groups.items():
            total = by_rate.setdefault((ctp, qualifier, rate), [ZERO, ZERO])
            total[0] += base
            total[1] += amount
        reduction_urssaf += dict(slip.rgdu_split).get(URSSAF_KEY, ZERO)
    aggregated: dict[AggregateKey, list[Decimal]] = {}
    for (ctp, qualifier, rate), (base, amount) in sorted(by_rate.items()):
        if ctp in inp.mapping.ctp_rates:
            written = _rate_if_written(inp.mapping.ctp_rates[ctp].rate, "S21.G00.23.003")
        elif ctp in deduction_ctps:
            written = None
        else:
            written = _rate_if_written(rate, "S21.G00.23.003")
        entry = aggregated.setdefault((ctp, qualifier, written), [ZERO, ZERO])
        entry[0] += base
        entry[1] += abs(amount) if ctp in deduction_ctps else amount
    part = reduction.parts.get(URSSAF_KEY)
    if reduction_urssaf and part is not None and part.ctp is not None:
        # The reduction: CTP 668 with its amount, 669 for a reprise (URSSAF, « les modalités déclaratives »
        # of the réduction générale): both positive, the CTP says the sign; no base.
        ctp = part.ctp if reduction_urssaf > 0 else (part.regularisation_ctp or part.ctp)
        aggregated[(ctp, part.qualifier or "", None)] = [ZERO, abs(reduction_urssaf)]
    bodies: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for _, _slip, content in employees:
        for contributions in content.contributions.values():
            for (_, ops), (_, amount) in contributions.items():
                bodies[ops] += amount
    return _MonthContent(employees, aggregated, dict(bodies))


def _reduction_ctps(inp: DsnInput, day: dt.date) -> set[str]:
    parts = inp.mapping.reduction.at(day).parts.values()
    return {c for p in parts for c in (p.ctp, p.regularisation_ctp) if c is not None}


def _bordereau(
    out: _Out,
    inp: DsnInput,
    urssaf_ops: str,
    start: dt.date,
    end: dt.date,
    total: Decimal,
    aggregated: Mapping[AggregateKey, Sequence[Decimal]],
) -> None:
    """An S21.G00.22 bordereau for the period ``start``-``end`` and its S21.G00.23 lines."""
    no_base = _reduction_ctps(inp, start)
    out.add("S21.G00.22.001", urssaf_ops)
    out.add("S21.G00.22.003", _date(start))
    out.add("S21.G00.22.004", _date(end))
    out.add("S21.G00.22.005", _amount(total))
    for (ctp, qualifier, rate), (base, amount) in aggregated.items():
        out.add("S21.G00.23.001", ctp)
        out.add("S21.G00.23.002", qualifier)
        out.add("S21.G00.23.003", rate)
        if ctp not in no_base:
            out.add("S21.G00.23.004", _amount(base))
        out.add("S21.G00.23.005", _amount(amount))


# --- corrections of an earlier month -------------------------------------------------------------------

#: A 78 block's key (78.001 base code, 78.005 affiliation) and an 81 line's (81.001 code, 81.002 body).
BaseKey = tuple[str, str | None]
LineKey = tuple[str, str]


@dataclass
class _Correction:
    """What month M's DSN declares for an earlier ``month`` whose payroll differs from its issued DSN:
    per employee and base, the base's and each 81 line's differences ([assiette, amount]); the URSSAF's
    aggregated differences; each body's difference (in the payment)."""

    month: Month
    employees: dict[str, dict[BaseKey, tuple[Decimal, dict[LineKey, list[Decimal]]]]]
    aggregated: dict[AggregateKey, list[Decimal]]
    bodies: dict[str, Decimal]


@dataclass
class _Declared:
    employees: dict[str, dict[BaseKey, list[object]]] = field(default_factory=dict)  # [base, {line: [a, m]}]
    aggregated: dict[AggregateKey, list[Decimal]] = field(default_factory=dict)


def _declared(issued: Mapping[Month, Sequence[Rubric]], period: dt.date) -> _Declared:
    """What the issued DSNs declared for the period starting ``period``: its own month's blocks and the
    regularisation blocks of later issued months dated with that period (78.002 / 22.003)."""
    out = _Declared()
    for month in sorted(issued):
        employee = ""
        base: list[object] | None = None
        line: list[Decimal] | None = None
        line_code = ops = ""
        in_period_22 = False
        block: dict[str, str] = {}
        for rubric in issued[month]:
            code, value = rubric.code, rubric.value
            if code.endswith(".001"):
                block = {}
            block[code] = value
            if code == "S21.G00.30.019":
                employee = value
            elif code == "S21.G00.78.001":
                base, line = None, None
            elif code == "S21.G00.78.004":
                if block.get("S21.G00.78.002") == _date(period):
                    key = (block["S21.G00.78.001"], None)
                    bases = out.employees.setdefault(employee, {})
                    base = bases.setdefault(key, [ZERO, {}])
                    base[0] = Decimal(str(base[0])) + Decimal(value)
            elif code == "S21.G00.78.005" and base is not None:
                # The affiliation comes after the amount: move the base under its affiliation's key.
                bases = out.employees[employee]
                moved = bases.pop((block["S21.G00.78.001"], None))
                target = bases.setdefault((block["S21.G00.78.001"], value), [ZERO, {}])
                target[0] = Decimal(str(target[0])) + Decimal(str(moved[0]))
                base = target
            elif code == "S21.G00.81.001":
                line_code, ops, line = value, "", None
            elif code == "S21.G00.81.002":
                ops = value
            elif code in ("S21.G00.81.003", "S21.G00.81.004") and base is not None:
                if line is None:
                    lines = base[1]
                    assert isinstance(lines, dict)
                    line = lines.setdefault((line_code, ops), [ZERO, ZERO])
                line[0 if code.endswith(".003") else 1] += Decimal(value)
            elif code == "S21.G00.22.003":
                in_period_22 = value == _date(period)
            elif code == "S21.G00.23.005" and in_period_22:
                key23 = (
                    block.get("S21.G00.23.001", ""),
                    block.get("S21.G00.23.002", ""),
                    block.get("S21.G00.23.003"),
                )
                entry = out.aggregated.setdefault(key23, [ZERO, ZERO])
                entry[0] += Decimal(block.get("S21.G00.23.004", "0"))
                entry[1] += Decimal(value)
    return out


def _corrections(inp: DsnInput, staff: Mapping[str, Employee]) -> list[_Correction]:
    """The differences between each earlier month's payroll now and what its issued DSNs declared."""
    out: list[_Correction] = []
    current_ids = {emp for emp, _ in inp.payslips}
    for month in sorted(inp.earlier_payslips):
        if month >= inp.month or month.year != inp.month.year or month not in inp.issued:
            continue
        payslips = [(e, s) for e, s in inp.earlier_payslips[month] if e in staff]
        now = _month_content(inp, month, payslips)
        declared = _declared(inp.issued, month.first_day)
        employees: dict[str, dict[BaseKey, tuple[Decimal, dict[LineKey, list[Decimal]]]]] = {}
        bodies: dict[str, Decimal] = defaultdict(lambda: ZERO)
        insurer_of = {str(i): c.insurer_code for i, c in enumerate(inp.identifiers.contracts, start=1)}
        for employee_id, _slip, content in now.employees:
            if employee_id not in current_ids:
                continue  # no S21.G00.30 this month to carry it (see the report of issue 15)
            before = declared.employees.get(employee_id, {})
            now_bases: dict[BaseKey, tuple[Decimal, dict[LineKey, list[Decimal]]]] = {}
            payment_body: dict[tuple[BaseKey, LineKey], str] = {}
            for key, amount in content.bases.items():
                lines: dict[LineKey, list[Decimal]] = {}
                for (individual, ops), (assiette, value) in content.contributions.get(key, {}).items():
                    written_ops = "" if (key, individual, ops) in content.hidden_body else ops
                    lines[(individual, written_ops)] = [assiette, value]
                    payment_body[(key, (individual, written_ops))] = ops
                now_bases[key] = (amount, lines)
            deltas: dict[BaseKey, tuple[Decimal, dict[LineKey, list[Decimal]]]] = {}
            for key in sorted(set(now_bases) | set(before), key=lambda k: (k[0], k[1] or "")):
                amount_now, lines_now = now_bases.get(key, (ZERO, {}))
                raw = before.get(key, [ZERO, {}])
                amount_before = Decimal(str(raw[0]))
                lines_before = raw[1]
                assert isinstance(lines_before, dict)
                line_deltas: dict[LineKey, list[Decimal]] = {}
                for line_key in list(lines_now) + [k for k in lines_before if k not in lines_now]:
                    a_now, v_now = lines_now.get(line_key, [ZERO, ZERO])
                    a_before, v_before = lines_before.get(line_key, [ZERO, ZERO])
                    if v_now != v_before or a_now != a_before:
                        line_deltas[line_key] = [a_now - a_before, v_now - v_before]
                        body = (
                            payment_body.get((key, line_key))
                            or line_key[1]
                            or insurer_of.get(key[1] or "", "")
                        )
                        bodies[body] += v_now - v_before
                if line_deltas or amount_now != amount_before:
                    deltas[key] = (amount_now - amount_before, line_deltas)
            if deltas:
                employees[employee_id] = deltas
        aggregated: dict[AggregateKey, list[Decimal]] = {}
        reduction_part = inp.mapping.reduction.at(month.first_day).parts.get(URSSAF_KEY)
        swap = (
            {reduction_part.ctp: reduction_part.regularisation_ctp}
            if reduction_part is not None and reduction_part.ctp and reduction_part.regularisation_ctp
            else {}
        )
        # 668 and 669 are one signed quantity (a reduction, a reprise): folded onto 668 before the
        # difference, unfolded after it (a smaller reduction than declared is a reprise, CTP 669).
        folded_now = _fold(now.aggregated, swap)
        folded_before = _fold(declared.aggregated, swap)
        for key23 in list(folded_now) + [k for k in folded_before if k not in folded_now]:
            base_now, amount_now = folded_now.get(key23, [ZERO, ZERO])
            base_before, amount_before = folded_before.get(key23, [ZERO, ZERO])
            if base_now == base_before and amount_now == amount_before:
                continue
            ctp, qualifier, rate = key23
            delta_amount = amount_now - amount_before
            if ctp in swap and delta_amount < 0:
                ctp, delta_amount = swap[ctp] or ctp, -delta_amount
            entry = aggregated.setdefault((ctp, qualifier, rate), [ZERO, ZERO])
            entry[0] += base_now - base_before
            entry[1] += delta_amount
        if employees or aggregated:
            out.append(_Correction(month, employees, aggregated, dict(bodies)))
    return out


def _fold(
    aggregated: Mapping[AggregateKey, Sequence[Decimal]], swap: Mapping[str, str | None]
) -> dict[AggregateKey, list[Decimal]]:
    """``aggregated`` with each regularisation CTP (669) counted negatively on its CTP (668)."""
    back = {reprise: ctp for ctp, reprise in swap.items() if reprise}
    out: dict[AggregateKey, list[Decimal]] = {}
    for (ctp, qualifier, rate), (base, amount) in aggregated.items():
        sign = 1
        if ctp in back:
            ctp, sign = back[ctp], -1
        entry = out.setdefault((ctp, qualifier, rate), [ZERO, ZERO])
        entry[0] += base
        entry[1] += sign * amount
    return out


def _regularisation(out: _Out, correction: _Correction, employee_id: str) -> None:
    """The employee's S21.G00.78 / .81 differences for the corrected period (its dates in 78.002/.003)."""
    for (base_code, affiliation), (amount, lines) in correction.employees.get(employee_id, {}).items():
        out.add("S21.G00.78.001", base_code)
        out.add("S21.G00.78.002", _date(correction.month.first_day))
        out.add("S21.G00.78.003", _date(correction.month.last_day))
        out.add("S21.G00.78.004", _amount(amount))
        out.add("S21.G00.78.005", affiliation)
        for (individual, ops), (assiette, value) in lines.items():
            out.add("S21.G00.81.001", individual)
            out.add("S21.G00.81.002", ops or None)
            out.add("S21.G00.81.003", _amount(assiette))
            out.add("S21.G00.81.004", _amount(value))


def build_dsn(inp: DsnInput) -> list[Rubric]:
    """The month's DSN, S90 totals included (see the module docstring)."""
    check_mapping(inp.mapping, inp.payroll, inp.month.first_day)
    rules, ident, month = inp.rules, inp.identifiers, inp.month
    day = month.first_day
    group = rules.group.identity
    siren = group.siren
    codes = inp.mapping.contract.at(day)
    remuneration = inp.mapping.remuneration.at(day)
    staff = {e.id: e for e in rules.staff.employees}
    pay_date = rules.group.employer.payment.date_for(month.year, month.number)
    missing = [emp for emp, _ in inp.payslips if emp not in ident.employees]
    if missing:
        raise InputError(
            [
                Problem(
                    f"no DSN identity for employee {emp!r}",
                    file="rules/dsn.yaml",
                    key=f"employees.{emp}",
                    fix="add the employee's NIR, names, birth data, address and contract codes",
                )
                for emp in missing
            ]
        )

    current = _month_content(inp, month, inp.payslips)
    per_employee = current.employees
    corrections = _corrections(inp, staff)
    body_totals: dict[str, Decimal] = defaultdict(lambda: ZERO, current.bodies)
    for correction in corrections:
        for ops, amount in correction.bodies.items():
            body_totals[ops] += amount
    pas_total = sum((slip.pas for _, slip, _ in per_employee), ZERO)

    out = _Out()
    # S10 sender
    out.add("S10.G00.00.001", _text(ident.software_name, 20))
    out.add("S10.G00.00.002", _text(ident.software_editor, 20))
    out.add("S10.G00.00.003", _text(inp.software_version, 10))
    out.add("S10.G00.00.004", inp.mapping.conformity_code)
    out.add("S10.G00.00.005", "01" if inp.test else "02")
    out.add("S10.G00.00.006", inp.mapping.norm.at(day))
    out.add("S10.G00.00.008", "01")
    out.add("S10.G00.01.001", siren)
    out.add("S10.G00.01.002", ident.nic)
    out.add("S10.G00.01.003", _text(group.name, 60))
    _address(out, "S10.G00.01", group.address, ("004", "005", "006"))
    contact = ident.sender_contact
    out.add("S10.G00.02.001", contact.civility)
    out.add("S10.G00.02.002", _text(contact.name, 80))
    out.add("S10.G00.02.004", contact.email)
    out.add("S10.G00.02.005", contact.phone)
    # S20 declaration
    out.add("S20.G00.05.001", "01")
    out.add("S20.G00.05.002", "01")
    out.add("S20.G00.05.003", "11")
    out.add("S20.G00.05.004", f"{month.year}{month.number:02d}")
    out.add("S20.G00.05.005", f"01{month.number:02d}{month.year}")
    out.add("S20.G00.05.007", _date(inp.created))
    out.add("S20.G00.05.008", "01")
    out.add("S20.G00.05.010", "01")
    declared = ident.declared_contact
    out.add("S20.G00.07.001", _text(declared.name, 80))
    out.add("S20.G00.07.002", declared.phone)
    out.add("S20.G00.07.003", declared.email)
    # S21.G00.06 company, .11 establishment
    out.add("S21.G00.06.001", siren)
    out.add("S21.G00.06.002", ident.nic)
    out.add("S21.G00.06.003", ident.apen)
    _address(out, "S21.G00.06", group.address, ("004", "005", "006"))
    out.add("S21.G00.11.001", ident.nic)
    out.add("S21.G00.11.002", ident.apet)
    _address(out, "S21.G00.11", group.address, ("003", "004", "005"))
    out.add("S21.G00.11.022", ident.idcc)
    for contract in ident.contracts:
        out.add("S21.G00.15.001", contract.reference)
        out.add("S21.G00.15.002", contract.insurer_code)
        out.add("S21.G00.15.005", contract.id)
    # S21.G00.20 payments: URSSAF, Agirc-Arrco, each insurer, the DGFIP
    urssaf_ops = _ops(ident, URSSAF_KEY)
    end = month.last_day
    payments: list[tuple[str, str, Decimal]] = []  # (key, ops, amount)
    if urssaf_ops in body_totals:
        payments.append((URSSAF_KEY, urssaf_ops, body_totals[urssaf_ops]))
    agirc = ident.organisations.get(AGIRC_KEY)
    if agirc is not None and agirc.ops_id in body_totals:
        payments.append((AGIRC_KEY, agirc.ops_id, body_totals[agirc.ops_id]))
    seen: set[str] = set()
    for contract in ident.contracts:
        if contract.insurer_code in body_totals and contract.insurer_code not in seen:
            seen.add(contract.insurer_code)
            payments.append((PREVOYANCE_KEY, contract.insurer_code, body_totals[contract.insurer_code]))
    if pas_total:
        payments.append((PAS_KEY, _ops(ident, PAS_KEY), pas_total))
    for key, ops, amount in payments:
        paid = inp.due_dates.get(key)
        out.add("S21.G00.20.001", ops)
        out.add("S21.G00.20.003", ident.bic)
        out.add("S21.G00.20.004", ident.iban)
        out.add("S21.G00.20.005", _amount(amount))
        out.add("S21.G00.20.006", _date(day))
        out.add("S21.G00.20.007", _date(end))
        out.add("S21.G00.20.010", ident.payment_mode)
        out.add("S21.G00.20.011", _date(paid) if paid is not None else None)
    # S21.G00.22 URSSAF bordereau and its .23 aggregated lines; then one per corrected earlier period
    if urssaf_ops in current.bodies:
        _bordereau(out, inp, urssaf_ops, day, end, current.bodies[urssaf_ops], current.aggregated)
    for correction in corrections:
        if correction.aggregated or correction.bodies.get(urssaf_ops):
            period = correction.month
            _bordereau(
                out,
                inp,
                urssaf_ops,
                period.first_day,
                period.last_day,
                correction.bodies.get(urssaf_ops, ZERO),
                correction.aggregated,
            )
    # One S21.G00.30 per employee
    chosen, members = _user_establishments(inp.timesheet, rules)
    member_siret = {m.id: m.identity.siret or "" for m in rules.members.members}
    sick = {emp: v.sick_leave for emp, v in inp.variables.employees.items()}
    for employee_id, slip, content in per_employee:
        employee = staff[employee_id]
        identity = ident.employees[employee_id]
        out.add("S21.G00.30.001", identity.nir[:13])
        out.add("S21.G00.30.002", _text(identity.family_name, 80))
        out.add("S21.G00.30.003", _text(identity.usage_name, 80) if identity.usage_name else None)
        out.add("S21.G00.30.004", _text(identity.first_names, 80))
        out.add("S21.G00.30.005", identity.sex)
        out.add("S21.G00.30.006", _date(identity.birth_date))
        out.add("S21.G00.30.007", _text(identity.birth_place, 30))
        out.add("S21.G00.30.008", _text(identity.address.street, 50))
        out.add("S21.G00.30.009", identity.address.postcode)
        out.add("S21.G00.30.010", _locality(identity.address.city))
        if identity.address.country != "FR":
            out.add("S21.G00.30.011", identity.address.country)
        out.add("S21.G00.30.013", identity.eu_codification)
        out.add("S21.G00.30.014", identity.birth_department)
        out.add("S21.G00.30.015", identity.birth_country)
        out.add("S21.G00.30.018", identity.email)
        out.add("S21.G00.30.019", employee_id)
        _contract_block(out, inp, employee, identity.pcs_ese, identity.contract_number, slip, codes)
        out.add("S21.G00.40.036", codes.multiple_jobs)
        out.add("S21.G00.40.037", identity.multiple_employers)
        out.add("S21.G00.40.039", codes.accident_regime)
        out.add("S21.G00.40.040", ident.at_risk_code)
        out.add("S21.G00.40.043", _rate(rules.group.employer.atmp.at(day), "S21.G00.40.043"))
        if employee_id in chosen:
            out.add("S21.G00.40.046", member_siret[chosen[employee_id]])
            out.add("S21.G00.40.074", codes.made_available)
        for leave in sick.get(employee_id, []):
            out.add("S21.G00.60.001", codes.sick_leave[leave.kind])
            out.add("S21.G00.60.002", _date(leave.start - dt.timedelta(days=1)))
            out.add("S21.G00.60.003", _date(leave.end))
        for index, contract in enumerate(ident.contracts, start=1):
            if any(line.code in contract.contributions for line in slip.lines):
                out.add("S21.G00.70.004", contract.option)
                out.add("S21.G00.70.005", contract.population)
                out.add("S21.G00.70.012", str(index))
                out.add("S21.G00.70.013", contract.id)
        out.add("S21.G00.71.002", codes.complementary_regime)
        # S21.G00.50 payment
        out.add("S21.G00.50.001", _date(pay_date))
        out.add("S21.G00.50.002", _amount(slip.net_taxable))
        out.add("S21.G00.50.004", _amount(slip.net_paid))
        out.add("S21.G00.50.006", _rate(slip.pas_rate, "S21.G00.50.006"))
        out.add("S21.G00.50.007", codes.pas_rate_type)
        out.add("S21.G00.50.009", _amount(slip.pas))
        out.add("S21.G00.50.013", _amount(slip.net_taxable))
        number = identity.contract_number
        _pay(out, day, end, number, remuneration.gross, None, slip.gross)
        _pay(out, day, end, number, remuneration.unemployment_gross, None, slip.gross)
        extra_hours = sum((e.quantity or ZERO for e in slip.earnings if e.code in OVERTIME_CODES), ZERO)
        extra_pay = sum((e.amount for e in slip.earnings if e.code in OVERTIME_CODES), ZERO)
        base_pay = slip.gross - slip.bonus - extra_pay
        _pay(out, day, end, number, remuneration.base_salary, slip.hours - extra_hours, base_pay)
        if extra_pay:
            _pay(out, day, end, number, remuneration.extra_hours, extra_hours, extra_pay)
        if slip.bonus:
            out.add("S21.G00.52.001", remuneration.bonus)
            out.add("S21.G00.52.002", _amount(slip.bonus))
            out.add("S21.G00.52.006", number)
        out.add("S21.G00.58.001", _date(day))
        out.add("S21.G00.58.002", _date(end))
        out.add("S21.G00.58.003", codes.net_social_type)
        out.add("S21.G00.58.004", _amount(slip.net_social))
        for base_key in sorted(content.bases, key=lambda k: (k[0], k[1] or "")):
            base_code, affiliation = base_key
            out.add("S21.G00.78.001", base_code)
            out.add("S21.G00.78.002", _date(day))
            out.add("S21.G00.78.003", _date(end))
            out.add("S21.G00.78.004", _amount(content.bases[base_key]))
            out.add("S21.G00.78.005", affiliation)
            for kind, value in content.components.get(base_key, []):
                out.add("S21.G00.79.001", kind)
                out.add("S21.G00.79.004", _amount(value))
            for (individual, ops), (base, amount) in content.contributions[base_key].items():
                out.add("S21.G00.81.001", individual)
                if (base_key, individual, ops) not in content.hidden_body:
                    out.add("S21.G00.81.002", ops)
                out.add("S21.G00.81.003", _amount(base))
                out.add("S21.G00.81.004", _amount(amount))
        for correction in corrections:
            _regularisation(out, correction, employee_id)
        # S21.G00.86 seniority in the company, in whole months at the end of the month
        start = employee.contract.start
        months = (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)
        out.add("S21.G00.86.001", codes.seniority_type)
        out.add("S21.G00.86.002", codes.seniority_unit)
        out.add("S21.G00.86.003", str(max(months, 0)))
        out.add("S21.G00.86.005", number)
    # S21.G00.85 the member establishments the staff is made available to
    by_id = {m.id: m for m in rules.members.members}
    for member_id in members:
        member = by_id[member_id]
        out.add("S21.G00.85.001", member.identity.siret)
        out.add("S21.G00.85.002", member.identity.naf)
        _address(out, "S21.G00.85", member.identity.address, ("003", "004", "005"))
        out.add("S21.G00.85.006", member.identity.address.country)
    return lines_format.with_totals(out.lines)


def _address(out: _Out, block: str, address: RulesAddress | Address, fields: tuple[str, str, str]) -> None:
    street = address.line1 if isinstance(address, RulesAddress) else address.street
    if isinstance(address, RulesAddress) and address.line2:
        street = address.line2  # the street; line1 is a building or a name (rules/group.yaml)
    out.add(f"{block}.{fields[0]}", _text(street, 50))
    out.add(f"{block}.{fields[1]}", address.postcode)
    out.add(f"{block}.{fields[2]}", _locality(address.city))


def _pay(
    out: _Out, start: dt.date, end: dt.date, number: str, kind: str, hours: Decimal | None, amount: Decimal
) -> None:
    out.add("S21.G00.51.001", _date(start))
    out.add("S21.G00.51.002", _date(end))
    out.add("S21.G00.51.010", number)
    out.add("S21.G00.51.011", kind)
    if hours is not None:
        out.add("S21.G00.51.012", _amount(hours))
    out.add("S21.G00.51.013", _amount(amount))


def _contract_block(
    out: _Out,
    inp: DsnInput,
    employee: Employee,
    pcs: str,
    number: str,
    slip: Payslip,
    codes: ContractCodes,
) -> None:
    identity = inp.identifiers.employees[employee.id]
    contract = employee.contract
    legal = inp.payroll.parameters.duree_legale.at(inp.month.first_day)
    weekly = Decimal(contract.weekly_hours)
    monthly = (weekly * legal.weeks_per_year / legal.months_per_year).quantize(CENT, rounding=ROUND_HALF_UP)
    full = weekly >= Decimal(legal.weekly_hours)
    out.add("S21.G00.40.001", _date(contract.start))
    out.add("S21.G00.40.002", identity.conventional_status)
    out.add("S21.G00.40.003", codes.cadre_category if slip.cadre else codes.non_cadre_category)
    out.add("S21.G00.40.004", pcs)
    out.add("S21.G00.40.006", _text(employee.job or employee.post, 120))
    nature = codes.nature.get(contract.kind)
    if nature is None:
        raise InputError(
            Problem(
                f"no S21.G00.40.007 code for contract kind {contract.kind!r}",
                file=SHOWN,
                key="contract.values.nature",
                fix=f"add {contract.kind}: <code>",
            )
        )
    out.add("S21.G00.40.007", nature)
    out.add("S21.G00.40.008", codes.public_scheme)
    out.add("S21.G00.40.009", number)
    out.add("S21.G00.40.010", _date(contract.end) if contract.end is not None else None)
    out.add("S21.G00.40.011", codes.unit)
    out.add("S21.G00.40.012", _amount(codes.reference_hours))
    out.add("S21.G00.40.013", _amount(monthly))
    out.add("S21.G00.40.014", codes.full_time if full else codes.part_time)
    out.add("S21.G00.40.016", codes.base_extension)
    out.add("S21.G00.40.017", inp.identifiers.idcc)
    out.add("S21.G00.40.018", codes.health_regime)
    out.add("S21.G00.40.019", inp.rules.group.identity.siret)
    out.add("S21.G00.40.020", codes.pension_regime)
    out.add("S21.G00.40.024", codes.abroad)
    out.add("S21.G00.40.026", codes.employment_status)


# --- reading a DSN back: the summary, and the reconciliation with the journal -------------------------


@dataclass(frozen=True)
class EmployeeSummary:
    gross: Decimal
    net_paid: Decimal
    pas: Decimal


@dataclass(frozen=True)
class DsnSummary:
    """What a DSN declares: each payment (S21.G00.20) by body id and the payroll organisation that body
    is (``bodies``), the URSSAF's aggregated lines by CTP and qualifier, each individual contribution
    code's total by body, and per employee (by matricule, S21.G00.30.019) the gross, net paid and
    withholding."""

    payments: Mapping[str, Decimal]
    bodies: Mapping[str, str]  # body id (S21.G00.20.001) -> urssaf, agirc_arrco, prevoyance, pas
    ctp: Mapping[tuple[str, str], Decimal]
    contributions: Mapping[tuple[str, str], Decimal]  # (body id, 81.001) -> sum of 81.004
    employees: Mapping[str, EmployeeSummary]
    #: Per body id, the part of its payment that corrects earlier months (the 81 amounts of the S21.G00.78
    #: blocks dated with another period than the declared month's).
    corrections: Mapping[str, Decimal] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "payments": {
                body: {"organisation": self.bodies.get(body), "amount": str(amount)}
                for body, amount in self.payments.items()
            },
            "ctp": {f"{c}/{q}": str(v) for (c, q), v in self.ctp.items()},
            "contributions": {f"{o}/{c}": str(v) for (o, c), v in self.contributions.items()},
            "corrections": {k: str(v) for k, v in self.corrections.items()},
            "employees": {
                e: {"gross": str(s.gross), "net_paid": str(s.net_paid), "pas": str(s.pas)}
                for e, s in self.employees.items()
            },
        }


#: The withholding tax's body id in S21.G00.20.001 (the norm's value for the DGFiP).
DGFIP = "DGFIP"


def dsn_summary(lines: Iterable[Rubric]) -> DsnSummary:
    """The amounts of a DSN's lines (built, or parsed back from an issued file).

    Which payroll organisation each payment's body is, the file says itself: the URSSAF is the body of
    the bordereau (S21.G00.22.001), an insurer is the organisme of an adhésion (S21.G00.15.002), the
    withholding's body is ``DGFIP``; any other body is the complementary pension institution."""
    payments: dict[str, Decimal] = defaultdict(lambda: ZERO)
    ctp: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    contributions: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    corrections: dict[str, Decimal] = defaultdict(lambda: ZERO)
    employees: dict[str, dict[str, Decimal]] = {}
    urssaf: set[str] = set()
    insurers: set[str] = set()
    insurer_of_adhesion: dict[str, str] = {}  # 15.005 -> 15.002
    adhesion_of: dict[str, str] = {}  # the employee's 70.012 -> 70.013
    current: dict[str, str] = {}
    employee = month_start = base_period = affiliation = ""
    for rubric in lines:
        code, value = rubric.code, rubric.value
        if code.endswith(".001"):
            current = {}
        current[code] = value
        if code == "S20.G00.05.005":
            month_start = value
        elif code == "S21.G00.15.002":
            insurers.add(value)
        elif code == "S21.G00.15.005":
            insurer_of_adhesion[value] = current.get("S21.G00.15.002", "")
        elif code == "S21.G00.22.001":
            urssaf.add(value)
        elif code == "S21.G00.20.005":
            payments[current.get("S21.G00.20.001", "")] += Decimal(value)
        elif code == "S21.G00.23.005":
            ctp[(current.get("S21.G00.23.001", ""), current.get("S21.G00.23.002", ""))] += Decimal(value)
        elif code == "S21.G00.30.019":
            employee = value
            employees[employee] = {"gross": ZERO, "net_paid": ZERO, "pas": ZERO}
            adhesion_of = {}
        elif code == "S21.G00.70.013":
            adhesion_of[current.get("S21.G00.70.012", "")] = value
        elif code == "S21.G00.50.004" and employee:
            employees[employee]["net_paid"] += Decimal(value)
        elif code == "S21.G00.50.009" and employee:
            employees[employee]["pas"] += Decimal(value)
        elif code == "S21.G00.51.013" and employee and current.get("S21.G00.51.011") == GROSS_TYPE:
            employees[employee]["gross"] += Decimal(value)
        elif code == "S21.G00.78.001":
            base_period, affiliation = "", ""
        elif code == "S21.G00.78.002":
            base_period = value
        elif code == "S21.G00.78.005":
            affiliation = value
        elif code == "S21.G00.81.004":
            body = current.get("S21.G00.81.002") or insurer_of_adhesion.get(
                adhesion_of.get(affiliation, ""), ""
            )
            contributions[(body, current.get("S21.G00.81.001", ""))] += Decimal(value)
            if base_period and base_period != month_start:
                corrections[body] += Decimal(value)
    bodies = {
        body: URSSAF_KEY
        if body in urssaf
        else PREVOYANCE_KEY
        if body in insurers
        else PAS_KEY
        if body == DGFIP
        else AGIRC_KEY
        for body in payments
    }
    return DsnSummary(
        dict(payments),
        bodies,
        dict(ctp),
        dict(contributions),
        {e: EmployeeSummary(v["gross"], v["net_paid"], v["pas"]) for e, v in employees.items()},
        dict(corrections),
    )


def _account(accounts: PayrollAccounts, organisation: str) -> str | None:
    return accounts.pas if organisation == PAS_KEY else accounts.organisations.get(organisation)


def reconcile(
    summary: DsnSummary, journal_entries: Iterable[object], payroll_accounts: PayrollAccounts
) -> list[Problem]:
    """The DSN's payment to each body, less its corrections of earlier months (:attr:`DsnSummary.
    corrections`), equals what the month's payroll journal credits that body's account (431 URSSAF, 4372
    Agirc-Arrco, 4373 the insurers, 4421 the withholding), to the cent; one problem per account that
    differs."""
    declared: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for body, amount in summary.payments.items():
        account = _account(payroll_accounts, summary.bodies.get(body, ""))
        if account is not None:
            # The month's own part: the corrections of earlier months are those months' journals'.
            declared[account] += amount - summary.corrections.get(body, ZERO)
    wanted = {
        account
        for key in (URSSAF_KEY, AGIRC_KEY, PREVOYANCE_KEY, PAS_KEY)
        if (account := _account(payroll_accounts, key)) is not None
    }
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in journal_entries:
        if not isinstance(entry, Txn):
            continue
        for posting in entry.postings:
            if posting.account in wanted:
                credits[posting.account] -= posting.amount
    problems = []
    for account in sorted(set(credits) | set(declared)):
        if credits[account] != declared[account]:
            problems.append(
                Problem(
                    f"the DSN pays {declared[account]} EUR to the body of {account}, the payroll journal "
                    f"credits it {credits[account]} EUR",
                    key=account,
                    fix="run the month again (eage run YYYY-MM --correct) so that the journal and the DSN "
                    "come from the same payslips",
                )
            )
    return problems
