"""All of a group's rules, loaded and cross-checked together.

Every file is read and every problem is collected before raising, so that ``eage check`` lists them all.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from eage.errors import InputError, Problem
from eage.rules.loader import load_model
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
    for name, (filename, model) in FILES.items():
        path = root / "rules" / filename
        try:
            loaded[name] = load_model(path, model)
        except InputError as exc:
            problems.extend(_relative(exc.problems, root))
    if problems:
        raise InputError(problems)
    rules = Rules(root=root, **loaded)  # type: ignore[arg-type]
    problems.extend(cross_check(rules))
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


def cross_check(rules: Rules) -> list[Problem]:
    """Checks that span several files: services named by staff exist, accounts look like accounts."""
    problems: list[Problem] = []
    services = set(rules.allocation.services)
    for index, emp in enumerate(rules.staff.employees):
        for service in emp.all_services():
            if service not in services:
                problems.append(
                    Problem(
                        f"unknown service {service!r}",
                        file=rules.file("staff"),
                        key=f"employees[{index}].service",
                        fix=f"use one of {sorted(services)} (declared in rules/allocation.yaml)",
                    )
                )
    return problems
