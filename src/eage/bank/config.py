"""The model of rules/bank.yaml: the CSV layout of the bank's export and the matching rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from eage.errors import InputError
from eage.rules.loader import load_model
from eage.rules.models import Strict

BANK_RULES = "rules/bank.yaml"


class Layout(Strict):
    """Where each field is in the CSV file. Columns are header names (or 0-based indexes when the file has
    no header row, ``header: false``)."""

    encoding: str = "utf-8"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ";"
    skip_lines: Annotated[int, Field(ge=0)] = 0
    header: bool = True
    date: str | int
    date_format: str = "%d/%m/%Y"
    label: list[str | int]
    amount: str | int | None = None
    debit: str | int | None = None
    credit: str | int | None = None
    decimal_comma: bool = True
    reference: str | int | None = None

    @model_validator(mode="after")
    def _amount_columns(self) -> Layout:
        if self.amount is None and (self.debit is None or self.credit is None):
            raise ValueError("give either `amount` (a signed column) or both `debit` and `credit`")
        if self.amount is not None and (self.debit is not None or self.credit is not None):
            raise ValueError("give either `amount` or `debit`/`credit`, not both")
        if not self.label:
            raise ValueError("`label` names at least one column")
        try:
            "".encode(self.encoding)
        except LookupError:
            raise ValueError(
                f"unknown encoding {self.encoding!r} (use utf-8, cp1252 or iso-8859-15)"
            ) from None
        return self


class DebitRule(Strict):
    """A debit whose label holds one of ``keywords`` (whole words, accents and case ignored) settles
    ``account`` (a payroll liability)."""

    keywords: Annotated[list[str], Field(min_length=1)]
    account: str


class BankRules(Strict):
    account: str | None = None  # defaults to `bank` in rules/accounts.yaml
    layout: Layout
    duplicates: Literal["skip", "keep"] = "skip"
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    debit_rules: list[DebitRule] = Field(default_factory=list)


def load_bank_rules(root: Path) -> BankRules:
    path = root / BANK_RULES
    if not path.exists():
        raise InputError.at(
            "the bank statement layout is missing",
            file=BANK_RULES,
            fix="create it: declare the CSV columns of your bank's export (see the demo's rules/bank.yaml)",
        )
    return load_model(path, BankRules)
