"""The model of rules/bank.yaml: the CSV layout of the bank's export and the matching rules.

Everything the reader needs to read a number or a date is declared here, so that it never has to guess:
the decimal separator (``decimal_comma``), the thousands separator (``thousands_separator``, none unless
declared), the date format (``date_format``, made of ``%d``, ``%m`` and ``%Y`` only, each once) and the
encoding. Unknown keys are refused and every value is taken as written (pydantic strict mode: the text
``"true"`` is not a boolean).

:func:`load_bank_config` is the one way in, for ``eage import-bank`` and ``eage check`` alike;
:func:`alias_problems` checks the aliases against the group's members and :func:`account_problems` the
accounts against the ledger's, each problem with its line in rules/bank.yaml.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import ConfigDict, Field, model_validator

from eage.errors import InputError, Problem
from eage.rules.loader import load_model
from eage.rules.models import Strict

BANK_RULES = "rules/bank.yaml"

# A column: its header name, or its 0-based index (the only way when the file has no header row).
ColumnRef = Annotated[str, Field(min_length=1)] | Annotated[int, Field(ge=0)]

# Thousands separators a bank may print. " " stands for any space: banks print a plain, a no-break
# (U+00A0) or a narrow no-break space (U+202F) and the three look the same in a spreadsheet.
ThousandsSeparator = Literal[" ", ".", ",", "'"]
SPACES = (" ", "\u00a0", "\u202f")

DATE_DIRECTIVES = ("%d", "%m", "%Y")


class BankStrict(Strict):
    """Unknown keys refused, and no coercion: a value of the wrong type is an error, not a guess."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def date_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` is not a format the reader can apply strictly, or None when it is one."""
    parts = re.findall(r"%.|[^%]", fmt)
    if "".join(parts) != fmt:
        return "a lone % at the end"
    directives = [p for p in parts if p.startswith("%")]
    unknown = sorted({d for d in directives if d not in DATE_DIRECTIVES})
    if unknown:
        return f"{', '.join(unknown)} not supported (use only %d, %m and %Y, e.g. %d/%m/%Y)"
    for directive in DATE_DIRECTIVES:
        if directives.count(directive) != 1:
            return f"{directive} must appear exactly once (e.g. %d/%m/%Y)"
    if any(p.isalnum() for p in parts if not p.startswith("%")):
        return "letters and digits cannot separate the parts of a date (use / - . or a space)"
    return None


class Layout(BankStrict):
    """Where each field is in the CSV file. Columns are header names (or 0-based indexes when the file has
    no header row, ``header: false``)."""

    encoding: str = "utf-8"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ";"
    skip_lines: Annotated[int, Field(ge=0, le=100)] = 0
    header: bool = True
    date: ColumnRef
    date_format: str = "%d/%m/%Y"
    label: list[ColumnRef]
    amount: ColumnRef | None = None
    debit: ColumnRef | None = None
    credit: ColumnRef | None = None
    decimal_comma: bool = True
    thousands_separator: ThousandsSeparator | None = None
    reference: ColumnRef | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Layout:
        if self.amount is None and (self.debit is None or self.credit is None):
            raise ValueError("give either `amount` (a signed column) or both `debit` and `credit`")
        if self.amount is not None and (self.debit is not None or self.credit is not None):
            raise ValueError("give either `amount` or `debit`/`credit`, not both")
        if not self.label:
            raise ValueError("`label` names at least one column")
        try:
            codecs.lookup(self.encoding)
            "".encode(self.encoding)
        except LookupError:
            raise ValueError(
                f"unknown encoding {self.encoding!r} (use utf-8, cp1252 or iso-8859-15)"
            ) from None
        problem = date_format_problem(self.date_format)
        if problem:
            raise ValueError(f"date_format {self.date_format!r}: {problem}")
        if self.thousands_separator is not None and self.thousands_separator == self.decimal_separator:
            raise ValueError(
                f"thousands_separator {self.thousands_separator!r} is also the decimal separator "
                f"(decimal_comma: {str(self.decimal_comma).lower()})"
            )
        if self.delimiter in ('"', "\n", "\r") or self.delimiter.isalnum():
            raise ValueError(f"delimiter {self.delimiter!r} cannot separate fields (use ; , or a tab)")
        if not self.header:
            named = [c for c in self.columns() if isinstance(c, str)]
            if named:
                raise ValueError(
                    f"header: false, so columns are 0-based indexes, not names ({', '.join(named)})"
                )
        return self

    @property
    def decimal_separator(self) -> str:
        return "," if self.decimal_comma else "."

    def columns(self) -> list[str | int]:
        """Every column the layout reads."""
        fields = [self.date, *self.label, self.amount, self.debit, self.credit, self.reference]
        return [c for c in fields if c is not None]


class DebitRule(BankStrict):
    """A debit whose label holds one of ``keywords`` (whole words, accents and case ignored) settles
    ``account`` (a payroll liability)."""

    keywords: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    account: str


class BankConfig(BankStrict):
    account: str | None = None  # defaults to `bank` in rules/accounts.yaml
    layout: Layout
    duplicates: Literal["skip", "keep"] = "skip"
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    debit_rules: list[DebitRule] = Field(default_factory=list)


BankRules = BankConfig  # the former name


def load_bank_config(root: Path) -> BankConfig:
    """rules/bank.yaml under ``root``, validated; raise :class:`InputError` with located problems."""
    path = root / BANK_RULES
    if not path.exists():
        raise InputError.at(
            "the bank statement layout is missing",
            file=BANK_RULES,
            fix="create it: declare the CSV columns of your bank's export (see the demo's rules/bank.yaml)",
        )
    if not path.is_file():
        raise InputError.at(
            "not a file", file=BANK_RULES, fix="rules/bank.yaml must be a YAML file, not a folder"
        )
    return load_model(path, BankConfig)


load_bank_rules = load_bank_config  # the former name


def alias_problems(config: BankConfig, members: Iterable[str], root: Path) -> list[Problem]:
    """Aliases given for ids that are not members of rules/members.yaml, each with its line."""
    unknown = sorted(set(config.aliases) - set(members))
    return [
        Problem(
            f"aliases for unknown member {member!r}",
            file=BANK_RULES,
            line=_line_of(root / BANK_RULES, ("aliases", member)),
            key=f"aliases.{member}",
            fix="use member ids of rules/members.yaml",
        )
        for member in unknown
    ]


def account_problems(config: BankConfig, opened: Iterable[str], root: Path) -> list[Problem]:
    """Accounts of rules/bank.yaml (``account``, each debit rule's) that the ledger never opens."""
    known = set(opened)
    named: list[tuple[tuple[str | int, ...], str | None]] = [(("account",), config.account)]
    named += [(("debit_rules", i, "account"), rule.account) for i, rule in enumerate(config.debit_rules)]
    return [
        Problem(
            f"account {account} is not opened in the ledger",
            file=BANK_RULES,
            line=_line_of(root / BANK_RULES, keys),
            key=_key_path(keys),
            fix="name an opened account, or open it in ledger/accounts.beancount",
        )
        for keys, account in named
        if account is not None and account not in known
    ]


def _key_path(keys: tuple[str | int, ...]) -> str:
    """``("debit_rules", 1, "account")`` -> ``debit_rules[1].account``, as the rules loader shows keys."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def _line_of(path: Path, keys: tuple[str | int, ...]) -> int | None:
    """The line of the key at ``keys`` (mapping keys and list indexes) in a YAML file already loaded."""
    try:
        node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            found = next(((k, v) for k, v in node.value if k.value == key), None)
            if found is None:
                return line
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line
