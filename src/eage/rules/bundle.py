"""All of a group's rules, loaded and cross-checked together.

Every file is read and every problem is collected before raising, so that ``eage check`` lists them all.
:func:`load_bundle` is the one entry point for every file under rules/: the group's rules
(:func:`load_rules`), rules/payroll/ (:func:`~eage.payroll.params.load_payroll_rules`; the group's
contracts, :func:`~eage.payroll.contracts.load_contracts`, checked against the staff), rules/bank.yaml
(:func:`~eage.bank.config.load_bank_config`) and each rules/budget/YYYY.yaml (its model; the checks
against the ledger's accounts are :func:`~eage.budget.model.load_budget`'s). Every one is read by
:mod:`eage.rules.loader`, which keeps the lines. A file under rules/ that eage does not read is a warning
(:func:`unknown_files`): a misnamed file (``rules/satff.yaml``) would otherwise be silently ignored.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from eage.errors import InputError, Problem
from eage.rules.loader import Located, load_located
from eage.rules.models import Accounts, Allocation, Fees, Group, Members, Staff, Vat

if TYPE_CHECKING:
    from eage.bank.config import BankConfig
    from eage.budget.model import Budget
    from eage.payroll.contracts import Contracts
    from eage.payroll.params import PayrollRules

FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "group": ("group.yaml", Group),
    "members": ("members.yaml", Members),
    "staff": ("staff.yaml", Staff),
    "allocation": ("allocation.yaml", Allocation),
    "accounts": ("accounts.yaml", Accounts),
    "vat": ("vat.yaml", Vat),
    "fees": ("fees.yaml", Fees),
}


@dataclass(frozen=True)
class Rules:
    root: Path
    group: Group
    members: Members
    staff: Staff
    allocation: Allocation
    accounts: Accounts
    vat: Vat
    fees: Fees

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"

    def file(self, name: str) -> str:
        """A rules file's path as shown in messages (relative to the root)."""
        return f"rules/{FILES[name][0]}"


def load_rules(root: Path) -> Rules:
    """Load and cross-check rules/*.yaml under ``root``; raise InputError listing every problem."""
    rules, _, problems = _load_rules(root)
    if problems or rules is None:
        raise InputError(problems)
    return rules


def _load_rules(root: Path) -> tuple[Rules | None, dict[str, BaseModel], list[Problem]]:
    """The group's rules (None when a file is invalid), every file that is valid, and every problem."""
    problems: list[Problem] = []
    loaded: dict[str, BaseModel] = {}
    located: dict[str, Located[BaseModel]] = {}
    for name, (filename, model) in FILES.items():
        path = root / "rules" / filename
        try:
            located[name] = load_located(path, model)
        except InputError as exc:
            problems.extend(_relative(exc.problems, root))
        else:
            loaded[name] = located[name].value
    if problems:
        return None, loaded, problems
    rules = Rules(root=root, **loaded)  # type: ignore[arg-type]
    problems.extend(cross_check(rules, located))
    return (None if problems else rules), loaded, problems


def _relative(problems: list[Problem], root: Path) -> list[Problem]:
    out = []
    for p in problems:
        file = p.file
        if file is not None:
            with contextlib.suppress(ValueError):
                file = str(Path(file).relative_to(root))
        out.append(Problem(p.message, file, p.line, p.key, p.fix))
    return out


def cross_check(rules: Rules, located: dict[str, Located[BaseModel]] | None = None) -> list[Problem]:
    """Checks that span several items or files: services named by staff exist, no two members (nor a
    member and the group) share a SIREN or a SIRET. ``located`` gives the lines, when known."""

    def line(name: str, loc: tuple[int | str, ...]) -> int | None:
        return located[name].line(loc) if located is not None and name in located else None

    problems: list[Problem] = []
    services = set(rules.allocation.services)
    for index, emp in enumerate(rules.staff.employees):
        for service in emp.all_services():
            if service not in services:
                problems.append(
                    Problem(
                        f"unknown service {service!r} (id {emp.id})",
                        file=rules.file("staff"),
                        line=line("staff", ("employees", index, "service")),
                        key=f"employees[{index}].service",
                        fix=f"use one of {sorted(services)} (declared in rules/allocation.yaml)",
                    )
                )
    members = rules.members.members
    for field, first, later in rules.members.shared_identifiers():
        one, two = members[first], members[later]
        first_line = line("members", ("members", first, "identity", field))
        problems.append(
            Problem(
                f"members {one.id} and {two.id} share the {field.upper()} {getattr(two.identity, field)} "
                f"(members[{first}].identity.{field}"
                + (f", line {first_line}" if first_line is not None else "")
                + ")",
                file=rules.file("members"),
                line=line("members", ("members", later, "identity", field)),
                key=f"members[{later}].identity.{field}",
                fix="one legal person is one member: correct the number, or merge the two members",
            )
        )
    group = rules.group.identity
    for index, member in enumerate(members):
        for field in ("siren", "siret"):
            value = getattr(member.identity, field)
            if value is not None and value == getattr(group, field):
                problems.append(
                    Problem(
                        f"member {member.id} has the group's own {field.upper()} {value} (rules/group.yaml)",
                        file=rules.file("members"),
                        line=line("members", ("members", index, "identity", field)),
                        key=f"members[{index}].identity.{field}",
                        fix="the group does not invoice itself: give the member's own number",
                    )
                )
    return problems


# --- the bundle: every file under rules/ --------------------------------------------------------------

BANK_FILE = "bank.yaml"
#: The DSN's identifiers (read by ``eage dsn`` and ``eage check``: eage.payroll.dsn.identifiers).
DSN_FILE = "dsn.yaml"
PAYROLL_DIR = "payroll"
BUDGET_DIR = "budget"
TEMPLATES_DIR = "templates"
_BUDGET_FILE = re.compile(r"[0-9]{4}\.yaml")
#: The group's own payroll files of rules/payroll/, beside the law's (PAYROLL_FILES): its contracts
#: (agreement, health, prévoyance; eage.payroll.contracts) and its paid-leave rules (eage.payroll.leave).
CONTRACTS_FILE = "contracts.yaml"
CONGES_FILE = "conges.yaml"
#: The DSN's codes (eage.payroll.dsn.mapping) and the bodies' due dates (eage.payroll.charges).
DSN_MAPPING_FILE = "dsn.yaml"
ECHEANCES_FILE = "echeances.yaml"
GROUP_PAYROLL_FILES = (CONTRACTS_FILE, CONGES_FILE, DSN_MAPPING_FILE, ECHEANCES_FILE)


@dataclass(frozen=True)
class Bundle:
    """Every rules file of a group, validated: what each command reads, loaded once."""

    rules: Rules
    payroll: PayrollRules
    #: rules/bank.yaml, or None when the group has none (only ``eage import-bank`` needs it).
    bank: BankConfig | None
    #: Each rules/budget/YYYY.yaml by year, validated as a budget (not yet against the ledger).
    budgets: dict[int, Budget]
    #: Files under rules/ that eage does not read (not errors: nothing is wrong with what is read).
    warnings: list[Problem] = dataclass_field(default_factory=list)
    #: rules/payroll/contracts.yaml (None only for a bundle built by hand).
    contracts: Contracts | None = None


def load_bundle(root: Path) -> Bundle:
    """Load and validate every file under ``root``/rules; raise one :class:`InputError` listing every
    problem of every file, each with its file (relative to ``root``), line and key, and of the checks
    across files that need no ledger (the group's: services, SIREN, SIRET; the bank's member aliases;
    the staff against the contracts: health cover or exemption, classification)."""
    from eage.bank.config import alias_problems, load_bank_config
    from eage.budget.model import Budget
    from eage.payroll.contracts import contracts_problems, legal_weekly_hours, load_contracts
    from eage.payroll.params import load_payroll_rules

    payroll = bank = contracts = None
    budgets: dict[int, Budget] = {}
    rules, valid, problems = _load_rules(root)
    try:
        payroll = load_payroll_rules(root / "rules" / PAYROLL_DIR)
    except InputError as exc:
        problems += _relative(exc.problems, root)
    try:
        contracts = load_contracts(
            root / "rules" / PAYROLL_DIR, shown=f"rules/{PAYROLL_DIR}/{CONTRACTS_FILE}"
        )
    except InputError as exc:
        problems += _relative(exc.problems, root)
    if (root / "rules" / BANK_FILE).exists():
        try:
            bank = load_bank_config(root)
        except InputError as exc:
            problems += _relative(exc.problems, root)
    for path in sorted((root / "rules" / BUDGET_DIR).glob("*.yaml")):
        if _BUDGET_FILE.fullmatch(path.name):
            try:
                budgets[int(path.stem)] = load_located(path, Budget).value
            except InputError as exc:
                problems += _relative(exc.problems, root)
    members = valid.get("members")
    if isinstance(members, Members) and bank is not None:
        # The one check across files that needs no ledger: the bank's aliases name members.
        problems += alias_problems(bank, (m.id for m in members.members), root)
    if rules is not None and contracts is not None:
        problems += contracts_problems(rules, contracts, legal_weekly_hours=legal_weekly_hours(payroll))
    if problems or rules is None or payroll is None:
        raise InputError(problems)
    return Bundle(rules, payroll, bank, budgets, unknown_files(root, rules.group), contracts)


def known_files(root: Path, group: Group | None = None) -> set[Path]:
    """The paths under rules/ that eage reads (those present): the rules files, each year's budget, the
    invoice templates and the group's logo when it is kept there."""
    from eage.payroll.params import PAYROLL_FILES

    base = root / "rules"
    known = {base / filename for filename, _ in FILES.values()} | {base / BANK_FILE, base / DSN_FILE}
    known |= {base / PAYROLL_DIR / filename for filename in (*PAYROLL_FILES, *GROUP_PAYROLL_FILES)}
    known |= {p for p in (base / BUDGET_DIR).glob("*.yaml") if _BUDGET_FILE.fullmatch(p.name)}
    known |= {p for p in (base / TEMPLATES_DIR).rglob("*") if p.is_file()}
    logo = group.invoicing.logo if group is not None else None
    if logo:
        known.add(Path(logo) if Path(logo).is_absolute() else root / logo)
    return known


def unknown_files(root: Path, group: Group | None = None) -> list[Problem]:
    """A warning for each file under rules/ that eage does not read: a misspelt name or a stray copy
    would otherwise be ignored without a word (its rules not applied)."""
    base = root / "rules"
    if not base.is_dir():
        return []
    known = {_resolved(p) for p in known_files(root, group)}
    out = []
    for path in sorted(p for p in base.rglob("*") if p.is_file() or p.is_symlink()):
        if _resolved(path) in known or path.parent == base / TEMPLATES_DIR:
            continue
        rel = path.relative_to(root).as_posix()
        out.append(
            Problem(
                "eage does not read this file: its content is not applied",
                file=rel,
                fix=_unknown_fix(path.relative_to(base)),
            )
        )
    return out


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _unknown_fix(rel: Path) -> str:
    from eage.payroll.params import PAYROLL_FILES

    parts = rel.parts
    if len(parts) == 2 and parts[0] == PAYROLL_DIR:
        held = ", ".join((*PAYROLL_FILES, *GROUP_PAYROLL_FILES))
        return f"rules/payroll/ holds {held}: rename the file, or move it out of rules/"
    if len(parts) == 2 and parts[0] == BUDGET_DIR:
        return (
            "a budget is named after its year (rules/budget/2026.yaml): rename it, or move it out of rules/"
        )
    names = sorted([filename for filename, _ in FILES.values()] + [BANK_FILE, DSN_FILE])
    return f"rules/ holds {', '.join(names)}, payroll/, budget/ and templates/: rename it, or move it out"
