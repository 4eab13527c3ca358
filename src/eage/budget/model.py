"""The group's yearly budget, rules/budget/YYYY.yaml: rubrics mapped to PCG accounts, phased by month.

Shape (all amounts in EUR, positive for charges and for produits, as the board writes them)::

    year: 2026
    title: "Budget prévisionnel 2026"
    charges:                       # rubrics in the order the board reads them
      charges_externes:
        label: "Charges externes"
        lines:                     # sub-rubric lines
          - label: "Loyers et charges"
            accounts: ["Charges:61-Services-exterieurs:613"]   # prefixes of ledger account names
            fonctionnement: 7800.00                           # a yearly amount, phased evenly...
            projets: [0, 0, 0, 500, 500, 0, 0, 0, 0, 0, 0, 0]  # ...or 12 monthly amounts
    produits:
      subventions:
        label: "Subventions"
        lines:
          - label: "Région Auvergne-Rhône-Alpes"
            accounts: ["Produits:74"]
            funder: region-aura    # only postings whose `funder` metadata says so
            projets: 2000.00
    hours:                         # planned hours by member and service (rules/members.yaml,
      le-fil:                      # rules/allocation.yaml), yearly (phased evenly) or 12 monthly values
        comptabilite: 330
        paie: [15, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 15]

An account prefix matches an account whose name starts with it, so ``Charges:64-Personnel:641`` covers
6411, 6412 and 6413, as an accountant reads PCG numbers. When several lines match an account, the one
naming the posting's funder wins, then the longest prefix. Even phasing splits the yearly amount over the
twelve months by largest remainder, so the months always sum to the year exactly, to the cent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, model_validator

from eage.errors import InputError, Problem
from eage.money import ZERO, split_largest_remainder
from eage.rules.base import Strict
from eage.rules.loader import _line_of, _read, load_model

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Amount = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
Hours = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
#: A yearly figure phased evenly, or the twelve monthly figures (January first).
Phased = Amount | Annotated[list[Amount], Field(min_length=12, max_length=12)]
PhasedHours = Hours | Annotated[list[Hours], Field(min_length=12, max_length=12)]

SECTIONS = ("fonctionnement", "projets")
SECTION_LABELS = {"fonctionnement": "Fonctionnement", "projets": "Projets"}
MONTHS = tuple(range(1, 13))


class _Strict(Strict):
    """The rules models' one base (unknown keys refused, frozen)."""


class BudgetLine(_Strict):
    """A sub-rubric line: the accounts it covers and its yearly budget in each section."""

    label: Annotated[str, Field(min_length=1)]
    accounts: Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z][^\s]*$")]], Field(min_length=1)]
    funder: Slug | None = None
    #: The account Fava's budget is attached to; default: the first opened account the line covers.
    fava_account: str | None = None
    fonctionnement: Phased = ZERO
    projets: Phased = ZERO

    def monthly(self, section: str) -> tuple[Decimal, ...]:
        """The twelve monthly amounts of a section (January first)."""
        return phase(self.fonctionnement if section == "fonctionnement" else self.projets)

    def matches(self, account: str, funder: str | None) -> int:
        """How well the line covers a posting: 0 not at all, higher is more specific."""
        if self.funder is not None and self.funder != funder:
            return 0
        best = max((len(p) for p in self.accounts if account.startswith(p)), default=0)
        if best == 0:
            return 0
        # A line naming the funder beats any line that does not; then the longest prefix wins.
        return best + (10_000 if self.funder is not None else 0)


class Rubric(_Strict):
    label: Annotated[str, Field(min_length=1)]
    lines: list[BudgetLine] = Field(default_factory=list)


class Budget(_Strict):
    year: Annotated[int, Field(ge=2000, le=2100)]
    title: str = "Budget prévisionnel"
    charges: dict[Slug, Rubric]
    produits: dict[Slug, Rubric]
    hours: dict[str, dict[str, PhasedHours]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_ambiguous_lines(self) -> Budget:
        seen: dict[tuple[str, str | None], str] = {}
        for side in (self.charges, self.produits):
            for key, rubric in side.items():
                for index, line in enumerate(rubric.lines):
                    for prefix in line.accounts:
                        where = f"{key}.lines[{index}]"
                        other = seen.setdefault((prefix, line.funder), where)
                        if other != where:
                            raise ValueError(
                                f"account prefix {prefix!r} is budgeted twice ({other} and {where}): "
                                "a posting must fall in one line only"
                            )
        return self

    def lines(self, side: str) -> list[tuple[str, Rubric, int, BudgetLine]]:
        rubrics = self.charges if side == "charges" else self.produits
        return [(key, r, i, line) for key, r in rubrics.items() for i, line in enumerate(r.lines)]

    def planned_hours(self, member: str, service: str) -> tuple[Decimal, ...]:
        value = self.hours.get(member, {}).get(service)
        return phase(value) if value is not None else (ZERO,) * 12


def phase(value: Decimal | list[Decimal]) -> tuple[Decimal, ...]:
    """Twelve monthly figures: the list as given, or the yearly figure split evenly by largest remainder."""
    if isinstance(value, list):
        return tuple(Decimal(v) for v in value)
    # Zero-padded keys: the split breaks ties by key order, so the odd cents go to the first months.
    shares = split_largest_remainder(Decimal(value), {f"{m:02d}": Decimal(1) for m in MONTHS})
    return tuple(shares[f"{m:02d}"] for m in MONTHS)


@dataclass(frozen=True)
class BudgetFile:
    """A validated budget and where it was read from (for messages)."""

    budget: Budget
    file: str  # relative to the group's root, e.g. "rules/budget/2026.yaml"


def budget_path(root: Path, year: int) -> Path:
    return root / "rules" / "budget" / f"{year}.yaml"


def load_budget(
    root: Path,
    year: int,
    *,
    members: Iterable[str],
    services: Iterable[str],
    open_accounts: Iterable[str],
    revenue_account: str,
) -> BudgetFile:
    """Load rules/budget/YYYY.yaml and check it against the rules and the ledger's opened accounts.

    Every problem (unknown member, unknown service, a prefix that covers no opened account...) is collected
    and raised together as one :class:`InputError` naming the file, the key path and the line.
    """
    path = budget_path(root, year)
    rel = f"rules/budget/{year}.yaml"
    if not path.exists():
        raise InputError.at(
            "no budget for this year",
            file=rel,
            fix=f"write the {year} budget (copy last year's file and edit it)",
        )
    try:
        budget = load_model(path, Budget)
    except InputError as exc:
        raise InputError([Problem(p.message, rel, p.line, p.key, p.fix) for p in exc.problems]) from None
    _, node = _read(path)
    problems = cross_check(
        budget, year, set(members), set(services), set(open_accounts), revenue_account, rel, node
    )
    if problems:
        raise InputError(problems)
    return BudgetFile(budget, rel)


def cross_check(
    budget: Budget,
    year: int,
    members: set[str],
    services: set[str],
    open_accounts: set[str],
    revenue_account: str,
    file: str,
    node: yaml.Node | None = None,
) -> list[Problem]:
    """Checks that need the other rules files and the ledger."""
    problems: list[Problem] = []

    def problem(message: str, loc: tuple[str | int, ...], fix: str) -> None:
        key = ".".join(str(p) for p in loc)
        key = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key)
        problems.append(Problem(message, file, _line_of(node, loc), key, fix))

    if budget.year != year:
        problem(f"the file is for {year} but says year {budget.year}", ("year",), f"write year: {year}")
    for side, rubrics in (("charges", budget.charges), ("produits", budget.produits)):
        for key, rubric in rubrics.items():
            for index, line in enumerate(rubric.lines):
                loc: tuple[str | int, ...] = (side, key, "lines", index)
                for j, prefix in enumerate(line.accounts):
                    if not any(a.startswith(prefix) for a in open_accounts):
                        problem(
                            f"account prefix {prefix!r} matches no account opened in the ledger",
                            (*loc, "accounts", j),
                            "correct the prefix (e.g. Charges:61-Services-exterieurs:6132) or open the account",
                        )
                if line.fava_account is not None and line.fava_account not in open_accounts:
                    problem(
                        f"fava_account {line.fava_account!r} is not an opened account",
                        (*loc, "fava_account"),
                        "name an account opened in the ledger, or remove the key",
                    )
    for member, by_service in budget.hours.items():
        if member not in members:
            problem(
                f"unknown member {member!r}",
                ("hours", member),
                f"use a member id of rules/members.yaml ({', '.join(sorted(members))})",
            )
        for service in by_service:
            if service not in services:
                problem(
                    f"unknown service {service!r}",
                    ("hours", member, service),
                    f"use a service of rules/allocation.yaml ({', '.join(sorted(services))})",
                )
    problems.extend(_check_revenue_has_hours(budget, revenue_account, file, node))
    return problems


def revenue_budget(budget: Budget, revenue_account: str) -> tuple[Decimal, ...]:
    """The monthly budget of the lines that cover the revenue account (mise à disposition, 7084)."""
    months = [ZERO] * 12
    for _, _, _, line in budget.lines("produits"):
        if line.funder is None and line.matches(revenue_account, None):
            for section in SECTIONS:
                for i, value in enumerate(line.monthly(section)):
                    months[i] += value
    return tuple(months)


def monthly_hours(budget: Budget) -> tuple[Decimal, ...]:
    months = [ZERO] * 12
    for member, by_service in budget.hours.items():
        for service in by_service:
            for i, value in enumerate(budget.planned_hours(member, service)):
                months[i] += value
    return tuple(months)


def _check_revenue_has_hours(budget: Budget, revenue_account: str, file: str, node: Any) -> list[Problem]:
    """A month with billing budgeted but no hours planned could not be shared among the members."""
    out = []
    hours = monthly_hours(budget)
    for index, (amount, planned) in enumerate(
        zip(revenue_budget(budget, revenue_account), hours, strict=True)
    ):
        if amount != 0 and planned == 0:
            out.append(
                Problem(
                    f"month {index + 1:02d} budgets {amount} EUR of {revenue_account} but plans no hours",
                    file,
                    _line_of(node, ("hours",)),
                    "hours",
                    "plan the members' hours of that month (the billing budget is shared pro rata to them)",
                )
            )
    return out


def totals_by_section(lines: Iterable[BudgetLine], months: int = 12) -> Mapping[str, Decimal]:
    """Budget of the first ``months`` months, by section."""
    return {s: sum((sum(line.monthly(s)[:months], ZERO) for line in lines), ZERO) for s in SECTIONS}
