"""rules/payroll/dsn.yaml: which DSN codes each payslip line is declared under (pure data, validated).

For each contribution code of rules/payroll/contributions.yaml (and the payslip's own lines: the CSG of
exempt overtime, the overtime reliefs) the file gives, dated like the other payroll rules, the base code
(S21.G00.78.001), the individual contribution code (S21.G00.81.001) and, for what the URSSAF collects, the
code type de personnel and its qualifiant d'assiette (S21.G00.23.001 / .002). It also holds the codes of
the reduction (RGDU: 018 / 106, CTP 668 / 669, the SMIC component), the remuneration types (51.011) and
the contract block's constants (40.xxx). The code holds none of those codes.

:func:`load_dsn_mapping` validates the file with pydantic (every problem located by line and key) and
refuses a contribution of contributions.yaml that has no mapping (:func:`mapping_problems`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field

from eage.errors import InputError, Problem, raise_if
from eage.payroll.engine import (
    EXEMPT_CSG_CODE,
    OVERTIME_EMPLOYEE_CODE,
    OVERTIME_EMPLOYER_CODE,
    Headcounts,
)
from eage.payroll.params import PayrollRules
from eage.rules.base import Strict
from eage.rules.dated import Day, NotInForce, in_force
from eage.rules.loader import Located, load_located

DSN_MAPPING_FILE = "dsn.yaml"
SHOWN = f"rules/payroll/{DSN_MAPPING_FILE}"
#: The payslip's lines that are not contributions of contributions.yaml but are declared (engine codes).
PAYSLIP_ONLY_CODES = (EXEMPT_CSG_CODE, OVERTIME_EMPLOYEE_CODE, OVERTIME_EMPLOYER_CODE)

T = TypeVar("T")
Code2 = Annotated[str, Field(pattern=r"^[0-9]{2}$")]
Code3 = Annotated[str, Field(pattern=r"^[0-9]{3}$")]
Threshold = Literal["fnal", "peec", "rgdu", "overtime_deduction", "forfait_social"]


class CodeWhen(Strict):
    headcount_below: Annotated[int, Field(ge=1)] | None = None
    headcount_from: Annotated[int, Field(ge=1)] | None = None

    def holds(self, headcount: int) -> bool:
        if self.headcount_below is not None and headcount >= self.headcount_below:
            return False
        return not (self.headcount_from is not None and headcount < self.headcount_from)


class LineCodes(Strict):
    """The codes of one payslip line: S21.G00.78.001 ``base``, S21.G00.81.001 ``individual``; for the
    URSSAF, S21.G00.23.001 ``ctp`` and .002 ``qualifier``; for a prévoyance / health base (31), the
    S21.G00.79.001 ``component`` type. ``confirmed``: False when no page read confirmed the codes."""

    when: CodeWhen | None = None
    base: Code2
    individual: Code3
    ctp: Code3 | None = None
    qualifier: Literal["920", "921"] | None = None
    component: Code2 | None = None
    #: S21.G00.81.002 written (the body's id); False for a prévoyance / health 059, which the norm ties
    #: to its body through the affiliation (78.005 -> 70.012 -> 15.002) instead.
    body_in_81: bool = True
    confirmed: bool = True


class Dated(Strict, Generic[T]):
    """Codes by the day they come into force, with the text they come from."""

    description: str | None = None
    reference: Annotated[str, Field(min_length=1)]
    entries: Annotated[dict[Day, T], Field(alias="values", min_length=1)]

    def at(self, day: dt.date) -> T:
        return in_force(self.entries, day)


class ContributionCodes(Strict):
    reference: Annotated[str, Field(min_length=1)]
    threshold: Threshold | None = None
    entries: Annotated[
        dict[Day, LineCodes | Annotated[list[LineCodes], Field(min_length=1)]],
        Field(alias="values", min_length=1),
    ]

    def at(self, day: dt.date, headcounts: Headcounts | None, headcount: int) -> LineCodes | None:
        """The codes in force on ``day`` for the employer's headcount (of ``threshold``)."""
        value = in_force(self.entries, day)
        cases = value if isinstance(value, list) else [value]
        count = headcount
        if self.threshold is not None and headcounts is not None:
            count = getattr(headcounts, self.threshold)
        for case in cases:
            if case.when is None or case.when.holds(count):
                return case
        return None


class ReductionPart(Strict):
    base: Code2
    individual: Code3
    ctp: Code3 | None = None
    regularisation_ctp: Code3 | None = None
    qualifier: Literal["920", "921"] | None = None


class ReductionCodes(Strict):
    #: By the payslip's organisation of the reduction's part (Payslip.rgdu_split: urssaf, agirc_arrco).
    parts: dict[str, ReductionPart]
    smic_component: Code2  # S21.G00.79.001 for the SMIC retenu
    confirmed: bool = True


class RemunerationCodes(Strict):
    gross: Code3  # 51.011 rémunération brute non plafonnée
    unemployment_gross: Code3  # 51.011 salaire brut chômage
    base_salary: Code3  # 51.011 salaire de base
    extra_hours: Code3  # 51.011 heures supplémentaires / complémentaires
    bonus: Code3  # 52.001 type of the month's bonus


class ContractCodes(Strict):
    public_scheme: Code2  # 40.008
    unit: Code2  # 40.011
    reference_hours: Decimal  # 40.012
    full_time: Code2  # 40.014
    part_time: Code2
    base_extension: Code2  # 40.016
    health_regime: Code3  # 40.018
    pension_regime: Code3  # 40.020
    accident_regime: Code3  # 40.039
    abroad: Code2  # 40.024
    employment_status: Code2  # 40.026
    made_available: Code2  # 40.074
    cadre_category: Code2  # 40.003
    non_cadre_category: Code2
    multiple_jobs: Code2  # 40.036
    complementary_regime: str  # 71.002
    pas_rate_type: Code2  # 50.007
    net_social_type: Code2  # 58.003 montant net social
    seniority_type: Code2  # 86.001 ancienneté dans l'entreprise
    seniority_unit: Code2  # 86.002 (months)
    nature: dict[str, Code2]  # 40.007 by rules/staff.yaml contract kind
    sick_leave: dict[str, Code2]  # 60.001 by sick leave kind
    unpaid_absence: Code3  # 65.001


class CtpRate(Strict):
    """The rate a CTP takes in S21.G00.23.003 when it is not the sum of the payslip lines' rates."""

    rate: Annotated[Decimal, Field(ge=0, le=100)]
    confirmed: bool = True


class DsnMapping(Strict):
    norm: Dated[str]
    contributions: dict[str, ContributionCodes]
    reduction: Dated[ReductionCodes]
    remuneration: Dated[RemunerationCodes]
    contract: Dated[ContractCodes]
    outside_dsn: list[str] = Field(default_factory=list)
    ctp_rates: dict[Code3, CtpRate] = Field(default_factory=dict)
    #: The URSSAF's codes types de personnel the group declares (code -> the table's label): a CTP the
    #: codes above name that is not listed is refused (a typo would otherwise reach the URSSAF).
    ctp_table: Annotated[dict[Code3, Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    #: S10.G00.00.004, the code a pre-control certification gives the software ("00000": none).
    conformity_code: Annotated[str, Field(min_length=1, max_length=50)] = "00000"

    def codes(
        self, code: str, day: dt.date, headcounts: Headcounts | None, headcount: int
    ) -> LineCodes | None:
        """The codes of the payslip line ``code`` on ``day`` (None: the line has no mapping in force)."""
        entry = self.contributions.get(code)
        if entry is None:
            return None
        try:
            return entry.at(day, headcounts, headcount)
        except NotInForce:
            return None


def mapping_problems(mapping: DsnMapping, payroll: PayrollRules, day: dt.date) -> list[Problem]:
    """A contribution of contributions.yaml (or a payslip-only line) with no DSN codes in force on
    ``day``, and a dated table with no value in force: one located problem each."""
    problems: list[Problem] = []
    for code in [c.code for c in payroll.contributions.contributions] + list(PAYSLIP_ONLY_CODES):
        entry = mapping.contributions.get(code)
        if entry is None:
            problems.append(
                Problem(
                    f"contribution {code!r} has no DSN codes",
                    file=SHOWN,
                    key=f"contributions.{code}",
                    fix="add its base (S21.G00.78.001), individual code (S21.G00.81.001) and, for the "
                    "URSSAF, its CTP and qualifier, with the reference they come from",
                )
            )
            continue
        try:
            entry.at(day, None, 0)
        except NotInForce as exc:
            problems.append(
                Problem(
                    f"contribution {code!r} has no DSN codes in force on {day.isoformat()} ({exc})",
                    file=SHOWN,
                    key=f"contributions.{code}.values",
                    fix="add a value dated on or before that day",
                )
            )
    for key in ("norm", "reduction", "remuneration", "contract"):
        table: Dated[object] = getattr(mapping, key)
        try:
            table.at(day)
        except NotInForce as exc:
            problems.append(
                Problem(
                    f"no value in force on {day.isoformat()} ({exc})",
                    file=SHOWN,
                    key=f"{key}.values",
                    fix="add a value dated on or before that day",
                )
            )
    return problems


def unknown_ctps(located: Located[DsnMapping]) -> list[Problem]:
    """Each CTP named by the codes (contributions, the reduction's parts, the written rates) that the file's
    ``ctp_table`` does not list: one problem each, located by line and key."""
    mapping = located.value
    named: list[tuple[str, tuple[int | str, ...]]] = []
    for code, entry in mapping.contributions.items():
        for day, value in entry.entries.items():
            cases = value if isinstance(value, list) else [value]
            for index, case in enumerate(cases):
                where: tuple[int | str, ...] = ("contributions", code, "values", day.isoformat())
                if isinstance(value, list):
                    where = (*where, index)
                if case.ctp is not None:
                    named.append((case.ctp, (*where, "ctp")))
    for day, reduction in mapping.reduction.entries.items():
        for org, part in reduction.parts.items():
            for field_name in ("ctp", "regularisation_ctp"):
                ctp = getattr(part, field_name)
                if ctp is not None:
                    named.append((ctp, ("reduction", "values", day.isoformat(), "parts", org, field_name)))
    named += [(ctp, ("ctp_rates", ctp)) for ctp in mapping.ctp_rates]
    return [
        Problem(
            f"CTP {ctp!r} is not in the table of CTPs (ctp_table)",
            file=SHOWN,
            line=located.line(loc),
            key=".".join(str(part) for part in loc),
            fix="correct the code from the URSSAF's CTP table, or add it to ctp_table with its label",
        )
        for ctp, loc in named
        if ctp not in mapping.ctp_table
    ]


def load_dsn_mapping(root: Path) -> DsnMapping:
    """rules/payroll/dsn.yaml of the group's folder ``root``, validated; :class:`InputError` with every
    problem located (file, line, key) otherwise."""
    path = root / "rules" / "payroll" / DSN_MAPPING_FILE
    if not path.exists():
        raise InputError.at(
            "no DSN mapping",
            file=SHOWN,
            fix="copy rules/payroll/dsn.yaml from the demo (eage init ships it) and check its codes",
        )
    try:
        located = load_located(path, DsnMapping)
    except InputError as exc:
        raise InputError([Problem(p.message, SHOWN, p.line, p.key, p.fix) for p in exc.problems]) from None
    raise_if(unknown_ctps(located))
    return located.value


def check_mapping(mapping: DsnMapping, payroll: PayrollRules, day: dt.date) -> None:
    """:func:`mapping_problems`, raised."""
    problems = mapping_problems(mapping, payroll, day)
    if problems:
        raise InputError(problems)


def unconfirmed_codes(mapping: DsnMapping, day: dt.date) -> list[str]:
    """The keys of rules/payroll/dsn.yaml whose codes in force on ``day`` no page read confirmed
    (``confirmed: false``), for the note of ``eage dsn``: a group checks them before a real filing."""
    out: list[str] = []
    for code, entry in mapping.contributions.items():
        try:
            value = in_force(entry.entries, day)
        except NotInForce:
            continue
        cases = value if isinstance(value, list) else [value]
        if any(not case.confirmed for case in cases):
            out.append(f"contributions.{code}")
    try:
        if not mapping.reduction.at(day).confirmed:
            out.append("reduction")
    except NotInForce:
        pass
    out += [f"ctp_rates.{ctp}" for ctp, rate in mapping.ctp_rates.items() if not rate.confirmed]
    return out
