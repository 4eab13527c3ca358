"""Budget vs actual statements, built from the budget and plain actual figures (pure: no file, no ledger).

*Consolidated statement* (for the board): charges and produits by rubric and sub-rubric line, in the two
sections Fonctionnement and Projets, with each line's share of the year's total budget (as in the board's
tables), the budget through the period's last month, the actual to date, the variance (actual − budget)
in EUR and %, and the year-end forecast (actual to date + the budget of the remaining months).

Nothing is dropped: an account that no budget line covers is shown on a "Non budgété" line of its side,
so the statement's actual totals are the ledger's class 6 and class 7 totals for the period.

*Member statement*: per member and service, planned vs actual hours and the amounts billed on the revenue
account (7084). A member's planned amount is its share of the budgeted billing, pro rata to its planned
hours, month by month (largest remainder, so the shares add up to the budget exactly). The statement's
billed total is the group's 7084 revenue for the period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from eage.budget.model import SECTIONS, Budget, BudgetLine, monthly_hours, revenue_budget
from eage.ledger.actuals import OVERHEAD, ActualFigure, BilledFigure
from eage.money import ZERO, split_largest_remainder

UNBUDGETED = "non_budgete"
UNBUDGETED_LABEL = "Non budgété"
NO_MEMBER = "(membre non indiqué)"


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part / whole``, or None when the whole is zero (shown as a dash, never as a division error)."""
    return None if whole == 0 else part / whole


@dataclass(frozen=True)
class Figures:
    """Budget and actual figures of one line, by section (Fonctionnement, Projets)."""

    year: tuple[Decimal, Decimal] = (ZERO, ZERO)  # the year's budget
    budget: tuple[Decimal, Decimal] = (ZERO, ZERO)  # budget through the period
    actual: tuple[Decimal, Decimal] = (ZERO, ZERO)

    def __add__(self, other: Figures) -> Figures:
        def add(a: tuple[Decimal, Decimal], b: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
            return (a[0] + b[0], a[1] + b[1])

        return Figures(
            add(self.year, other.year), add(self.budget, other.budget), add(self.actual, other.actual)
        )

    @property
    def year_total(self) -> Decimal:
        return self.year[0] + self.year[1]

    @property
    def budget_total(self) -> Decimal:
        return self.budget[0] + self.budget[1]

    @property
    def actual_total(self) -> Decimal:
        return self.actual[0] + self.actual[1]

    @property
    def variance(self) -> Decimal:
        return self.actual_total - self.budget_total

    @property
    def variance_ratio(self) -> Decimal | None:
        return ratio(self.variance, self.budget_total)

    @property
    def forecast(self) -> Decimal:
        """Actual to date plus what the budget still plans for the remaining months."""
        return self.actual_total + (self.year_total - self.budget_total)


@dataclass(frozen=True)
class Row:
    """A line of the consolidated statement: a rubric, one of its lines, or a total."""

    level: str  # "rubric" | "line" | "total"
    label: str
    figures: Figures
    unbudgeted: bool = False
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonthPoint:
    month: int
    budget_charges: Decimal
    actual_charges: Decimal | None  # None after the period: not known yet
    budget_produits: Decimal
    actual_produits: Decimal | None


@dataclass(frozen=True)
class Consolidated:
    title: str
    year: int
    through: int
    charges: tuple[Row, ...]
    produits: tuple[Row, ...]
    total_charges: Figures
    total_produits: Figures
    months: tuple[MonthPoint, ...]
    first: int = 1  # first month of the period (the board's statements always start in January)

    @property
    def grand_year_charges(self) -> Decimal:
        return self.total_charges.year_total

    @property
    def grand_year_produits(self) -> Decimal:
        return self.total_produits.year_total


@dataclass
class _Acc:
    year: list[Decimal] = field(default_factory=lambda: [ZERO, ZERO])
    budget: list[Decimal] = field(default_factory=lambda: [ZERO, ZERO])
    actual: list[Decimal] = field(default_factory=lambda: [ZERO, ZERO])

    def figures(self) -> Figures:
        return Figures(
            (self.year[0], self.year[1]), (self.budget[0], self.budget[1]), (self.actual[0], self.actual[1])
        )


def match_line(lines: Sequence[tuple[str, BudgetLine]], account: str, funder: str | None) -> str | None:
    """The id of the line covering a posting (the most specific one), or None if no line does."""
    best, best_score = None, 0
    for line_id, line in lines:
        score = line.matches(account, funder)
        if score > best_score:
            best, best_score = line_id, score
    return best


def consolidated(
    budget: Budget,
    actuals: Iterable[ActualFigure],
    *,
    through: int,
    expenses_root: str,
    income_root: str,
    account_names: Mapping[str, str],
    first: int = 1,
) -> Consolidated:
    """The consolidated statement of months ``first`` (default January) to ``through``.

    ``eage budget`` always starts in January; Fava's Budget page passes the months of its time filter
    (one month, a quarter...). The year's budget is the whole year's either way; the budget "à date" and
    the actual are those of the period's months only.
    """
    if not 1 <= first <= through <= 12:
        raise ValueError(f"months {first} to {through} are not a period of one year")
    figures = list(actuals)
    sides = {"charges": (expenses_root, Decimal(1)), "produits": (income_root, Decimal(-1))}
    built: dict[str, tuple[Row, ...]] = {}
    totals: dict[str, Figures] = {}
    monthly_actual: dict[str, list[Decimal]] = {s: [ZERO] * 12 for s in sides}
    for side, (root, sign) in sides.items():
        ids = [(f"{key}/{i}", line) for key, _, i, line in budget.lines(side)]
        accs: dict[str, _Acc] = defaultdict(_Acc)
        unbudgeted: dict[str, _Acc] = defaultdict(_Acc)
        for line_id, line in ids:
            for s, section in enumerate(SECTIONS):
                months = line.monthly(section)
                accs[line_id].year[s] += sum(months, ZERO)
                accs[line_id].budget[s] += sum(months[first - 1 : through], ZERO)
        for fig in figures:
            if not fig.account.startswith(root + ":") or not first <= fig.month <= through:
                continue
            s = SECTIONS.index(fig.section)
            amount = sign * fig.amount  # produits read positive
            monthly_actual[side][fig.month - 1] += amount
            matched = match_line(ids, fig.account, fig.funder)
            if matched is None:
                unbudgeted[fig.account].actual[s] += amount
            else:
                accs[matched].actual[s] += amount
        rows: list[Row] = []
        total = Figures()
        rubrics = budget.charges if side == "charges" else budget.produits
        for key, rubric in rubrics.items():
            sub = [
                Row("line", line.label, accs[f"{key}/{i}"].figures(), accounts=tuple(line.accounts))
                for i, line in enumerate(rubric.lines)
            ]
            head = sum((r.figures for r in sub), Figures())
            rows.append(Row("rubric", rubric.label, head))
            # A rubric with a single line of the same name needs no sub-line.
            if not (len(sub) == 1 and sub[0].label == rubric.label):
                rows.extend(sub)
            total = total + head
        extra = [
            Row("line", _account_label(a, account_names), unbudgeted[a].figures(), True, (a,))
            for a in sorted(unbudgeted)
        ]
        head = sum((r.figures for r in extra), Figures())
        # Always shown, even when empty: the board sees that nothing escaped the budget.
        rows.append(Row("rubric", UNBUDGETED_LABEL, head, unbudgeted=True))
        rows.extend(extra)
        built[side] = tuple(rows)
        totals[side] = total + head
    points = _month_points(budget, monthly_actual, first, through)
    return Consolidated(
        budget.title,
        budget.year,
        through,
        built["charges"],
        built["produits"],
        totals["charges"],
        totals["produits"],
        points,
        first,
    )


def _month_points(
    budget: Budget, actual: Mapping[str, list[Decimal]], first: int, through: int
) -> tuple[MonthPoint, ...]:
    planned = {}
    for side in ("charges", "produits"):
        months = [ZERO] * 12
        for _, _, _, line in budget.lines(side):
            for section in SECTIONS:
                for i, value in enumerate(line.monthly(section)):
                    months[i] += value
        planned[side] = months
    return tuple(
        MonthPoint(
            m,
            planned["charges"][m - 1],
            actual["charges"][m - 1] if first <= m <= through else None,
            planned["produits"][m - 1],
            actual["produits"][m - 1] if first <= m <= through else None,
        )
        for m in range(1, 13)
    )


def _account_label(account: str, names: Mapping[str, str]) -> str:
    number = account.rsplit(":", 1)[-1].split("-", 1)[0]
    name = names.get(account)
    return f"{number} {name}" if name else account


# --- member statement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    """One service of one member: hours planned and actual, amount billed."""

    service: str
    label: str
    hours_year: Decimal  # planned for the year
    hours_budget: Decimal  # planned through the period
    hours_actual: Decimal
    billed: Decimal
    has_hours: bool = True  # False for the overhead line, whose hours repeat the services' hours

    @property
    def hours_variance(self) -> Decimal:
        return self.hours_actual - self.hours_budget

    @property
    def hours_variance_ratio(self) -> Decimal | None:
        return ratio(self.hours_variance, self.hours_budget)

    @property
    def hours_forecast(self) -> Decimal:
        return self.hours_actual + (self.hours_year - self.hours_budget)


@dataclass(frozen=True)
class MemberBlock:
    member: str
    name: str
    services: tuple[ServiceRow, ...]
    planned_year: Decimal  # share of the year's budgeted billing
    planned: Decimal  # share of the budgeted billing through the period

    @property
    def hours_year(self) -> Decimal:
        return sum((r.hours_year for r in self.services if r.has_hours), ZERO)

    @property
    def hours_budget(self) -> Decimal:
        return sum((r.hours_budget for r in self.services if r.has_hours), ZERO)

    @property
    def hours_actual(self) -> Decimal:
        return sum((r.hours_actual for r in self.services if r.has_hours), ZERO)

    @property
    def hours_forecast(self) -> Decimal:
        return self.hours_actual + (self.hours_year - self.hours_budget)

    @property
    def billed(self) -> Decimal:
        return sum((r.billed for r in self.services), ZERO)

    @property
    def variance(self) -> Decimal:
        return self.billed - self.planned

    @property
    def variance_ratio(self) -> Decimal | None:
        return ratio(self.variance, self.planned)

    @property
    def forecast(self) -> Decimal:
        return self.billed + (self.planned_year - self.planned)


@dataclass(frozen=True)
class MemberStatement:
    title: str
    year: int
    through: int
    blocks: tuple[MemberBlock, ...]

    @property
    def billed(self) -> Decimal:
        return sum((b.billed for b in self.blocks), ZERO)

    @property
    def planned(self) -> Decimal:
        return sum((b.planned for b in self.blocks), ZERO)

    @property
    def planned_year(self) -> Decimal:
        return sum((b.planned_year for b in self.blocks), ZERO)

    def only(self, member: str) -> MemberStatement:
        """The statement restricted to one member: what that member may read, nothing of the others."""
        return MemberStatement(
            self.title, self.year, self.through, tuple(b for b in self.blocks if b.member == member)
        )


def member_statement(
    budget: Budget,
    billed: Iterable[BilledFigure],
    *,
    through: int,
    revenue_account: str,
    services: Mapping[str, str],
    member_names: Mapping[str, str],
    overhead_label: str,
) -> MemberStatement:
    """Planned vs actual hours and billing, per member and service, for months 1 to ``through``."""
    hours: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for fig in billed:
        if fig.month > through:
            continue
        hours[(fig.member, fig.service)] += fig.hours
        amounts[(fig.member, fig.service)] += fig.amount
    planned_month = _planned_amounts(budget, revenue_account)
    members = sorted(set(budget.hours) | {m for m, _ in amounts})
    blocks = []
    for member in members:
        known = [s for s in services if s in budget.hours.get(member, {}) or (member, s) in amounts]
        others = sorted({s for m, s in amounts if m == member and s not in services and s != OVERHEAD})
        rows = []
        for service in [*known, *others]:
            months = budget.planned_hours(member, service)
            rows.append(
                ServiceRow(
                    service,
                    services.get(service, service or "(service non indiqué)"),
                    sum(months, ZERO),
                    sum(months[:through], ZERO),
                    hours[(member, service)],
                    amounts[(member, service)],
                )
            )
        if (member, OVERHEAD) in amounts:
            rows.append(
                ServiceRow(
                    OVERHEAD, overhead_label, ZERO, ZERO, ZERO, amounts[(member, OVERHEAD)], has_hours=False
                )
            )
        shares = planned_month.get(member, [ZERO] * 12)
        blocks.append(
            MemberBlock(
                member,
                member_names.get(member, member or NO_MEMBER),
                tuple(rows),
                sum(shares, ZERO),
                sum(shares[:through], ZERO),
            )
        )
    # In the order of names, as a reader looks a member up; the id breaks ties.
    blocks.sort(key=lambda b: (b.name.casefold(), b.member))
    return MemberStatement(budget.title, budget.year, through, tuple(blocks))


def _planned_amounts(budget: Budget, revenue_account: str) -> dict[str, list[Decimal]]:
    """Each member's monthly share of the budgeted billing, pro rata to its planned hours that month."""
    out: dict[str, list[Decimal]] = {m: [ZERO] * 12 for m in budget.hours}
    totals = monthly_hours(budget)
    for index, amount in enumerate(revenue_budget(budget, revenue_account)):
        if totals[index] == 0:
            continue  # no billing budgeted without hours: the budget's cross-check refuses it
        weights = {
            m: sum((budget.planned_hours(m, s)[index] for s in by_service), ZERO)
            for m, by_service in budget.hours.items()
        }
        for member, share in split_largest_remainder(amount, weights).items():
            out[member][index] += share
    return out
