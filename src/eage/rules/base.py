"""The one base of every model of a rules file: unknown keys refused, values frozen once validated.

A misspelt key is an error, not a silent default; a loaded rule cannot be changed by the code that reads
it. Every model of rules/ (group, members, staff, allocation, accounts, VAT, fees, bank, budget, payroll)
and of the month's payroll variables derives from :class:`Strict`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
