"""A month's payroll variables: overtime, bonuses, unpaid absence (ledger/payroll/YYYY-MM.yaml).

Optional: a month without the file has no variable element. Like the timesheets, these are the month's
facts, not rules; the file is validated like the rules (unknown keys and unknown employees rejected).

    employees:
      lpetit: {overtime_25_hours: 4, bonus: 150.00}
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from eage.errors import InputError
from eage.rules.loader import load_model

Hours = Annotated[Decimal, Field(ge=0, le=200, decimal_places=2)]


class EmployeeVariables(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    overtime_25_hours: Hours = Decimal(0)
    overtime_50_hours: Hours = Decimal(0)
    bonus: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal(0)
    bonus_label: str | None = None
    unpaid_absence_hours: Hours = Decimal(0)


class MonthVariables(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    employees: dict[str, EmployeeVariables] = Field(default_factory=dict)


def load_variables(root: Path, month: str, known: set[str]) -> MonthVariables:
    path = root / "ledger" / "payroll" / f"{month}.yaml"
    if not path.exists():
        return MonthVariables()
    rel = f"ledger/payroll/{month}.yaml"
    variables = load_model(path, MonthVariables)
    for emp in variables.employees:
        if emp not in known:
            raise InputError.at(
                f"unknown employee {emp!r}",
                file=rel,
                key=f"employees.{emp}",
                fix=f"use an id of rules/staff.yaml: {sorted(known)}",
            )
    return variables
