"""All of a group's rules, loaded and cross-checked together.

Every file is read and every problem is collected before raising, so that ``eage check`` lists them all.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from eage.errors import InputError, Problem
from eage.rules.loader import Located, load_located
from eage.rules.models import Accounts, Allocation, Fees, Group, Members, Staff, Vat

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
    problems: list[Problem] = []
    loaded: dict[str, object] = {}
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
        raise InputError(problems)
    rules = Rules(root=root, **loaded)  # type: ignore[arg-type]
    problems.extend(cross_check(rules, located))
    if problems:
        raise InputError(problems)
    return rules


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
