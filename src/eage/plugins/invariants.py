"""eage's invariants over the ledger, reported as located Beancount errors.

Declared once, in the options part of ``ledger/main.beancount``::

    plugin "eage.plugins.invariants"

bean-check, Fava and every eage command (they all load the ledger through Beancount) then report the same
errors, each on the entry at fault (its file and line), as Beancount's own plugins do. The plugin changes no
entry. It reads the entries as eage writes them (:mod:`eage.invoicing.build`): a *document* is a
transaction with ``kind`` invoice, credit_note, fee or trueup and its number in ``invoice`` metadata, as
:meth:`eage.ledger.load.Ledger.issued_documents` reads them. What it checks, in order:

1. **Numbering** (:mod:`eage.invoicing.numbering`). Each prefix and year (``FAC-2026-…``,
   ``AV-2026-…``) is one sequence 0001, 0002, … with no gap and no duplicate; a number is dated in its
   year and not before the number it follows. A number that does not read PREFIX-YYYY-NNNN is an error.
2. **Documents.** Each document has its ``pdf`` metadata and a ``document`` directive linked to its
   number (``^FAC-2026-0007``) that attaches that same PDF (Beancount itself reports a missing file).
3. **Credit notes.** A credit note (``kind: "credit_note"``) names in ``refers_to`` an invoice of the
   ledger (not a credit note) of the same member, dated no later than itself, and credits no more than
   what remains of it: its total less the credit notes before it (eage credits an invoice once, in full).
   A year-end true-up credit note (``kind: "trueup"``) names the member's last invoice (BR-FR-CO-05)
   without crediting it: that invoice must exist, be the member's and not be later; nothing is deducted.
4. **Billing equals cost**, as Fava's "Contrôles" page computes it. For each month that has billing, the
   revenue of its invoices minus its credit notes (``period: "YYYY-MM"``; management-fee lines, billed on
   top of cost, aside) equals the month's allocable cost: its expense postings less the excluded accounts.
   A credit note that no replacement invoice follows (``eage credit-note``, not ``eage run --correct``)
   cancels billing on purpose, so the month also holds when its billing plus those credit notes equals its
   cost. In ``standard_rate`` mode months are billed at budgeted rates, and in ``actual`` mode a pool
   billed at the year-to-date rate (``rate_method`` ``year_to_date``) bills each month the rate to date x
   its hours: the check is then made on the year, once its true-up documents (``period: "YYYY"``) are
   issued (billed = cost over the year, to the cent).

**Configuration.** Declared bare (``plugin "eage.plugins.invariants"``, as in a group's main.beancount),
the plugin reads the billing check's two settings from the group's own rules, ``rules/allocation.yaml``
beside the ledger folder (``<folder of the main file>/../rules/allocation.yaml``): ``billing_mode``
("actual", the default, or "standard_rate"), ``excluded_accounts`` (accounts whose costs are not
re-invoiced, default none) and ``rate_method`` (``services`` and ``overhead``: "monthly", the default, or
"year_to_date"), so the rules are said once. Only those top-level keys are read, with a small line reader
for the plain form eage writes (PyYAML's safe loader for any other form): the plugin runs on every load
and must stay cheap. A ledger without that file (outside a group) gets the defaults. A rules
file that cannot be read, or whose two keys are invalid, is an error at its file and line, and the billing
check is skipped; the other checks still run.

A configuration string, when given, overrides the rules file (for a ledger outside a group): a Python
literal dict with ``billing_mode``, ``excluded_accounts``, ``rate_method`` and ``revenue_account``
(default: every account under the income root). A string it cannot read is an error and the billing check is skipped.

Pure over what Beancount passes (the entries, the options) and that one rules file: no other file, no
clock. One pass over the entries collects the documents and the costs per month; the checks then work on
the documents alone.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import gc
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from beancount.core import data

from eage.money import ZERO, cents

__plugins__ = ("invariants",)

# Four of eage's definitions (document kinds, management fee, number pattern and format) are repeated here
# rather than imported, since this module is imported on every load of the ledger (bean-check, Fava, every
# eage command): eage.allocation.core loads the rules' models (0.2 s), and eage.ledger.load with
# eage.invoicing.numbering cost 10-15 ms, as much as the checks take on the demo. tests/test_plugin.py pins
# each one to the original.

#: :data:`eage.ledger.load.DOC_KINDS`: the kinds of transaction that record an issued document.
DOC_KINDS = frozenset(("invoice", "credit_note", "fee", "trueup"))
#: :data:`eage.allocation.core.FEE`: the management fee's lines, billed on top of cost.
FEE = "management_fee"
INVOICE, CREDIT_NOTE, TRUEUP = "invoice", "credit_note", "trueup"
MODES = ("actual", "standard_rate")
#: rules/allocation.yaml ``rate_method``: the kinds of pool and their methods (eage.rules.models.RateMethod).
RATE_POOLS, RATE_METHODS = ("services", "overhead"), ("monthly", "year_to_date")
CONFIG_KEYS = ("billing_mode", "excluded_accounts", "rate_method", "revenue_account")

_MONTH = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])")
#: The pattern of :func:`eage.invoicing.numbering.parse_number`, compiled once.
_NUMBER = re.compile(r"([A-Z]{2,6})-(\d{4})-(\d{4,})")
_YEAR = re.compile(r"\d{4}")


class ConfigError(NamedTuple):
    """The plugin's configuration string cannot be read."""

    source: data.Meta
    message: str
    entry: Any


class NumberingError(NamedTuple):
    """A gap, a duplicate, a number out of date order, or a number eage does not write."""

    source: data.Meta
    message: str
    entry: Any


class DocumentError(NamedTuple):
    """An invoice or credit note without its PDF (metadata or ``document`` directive)."""

    source: data.Meta
    message: str
    entry: Any


class CreditNoteError(NamedTuple):
    """A credit note of no invoice, of another member's, or of more than what remains of it."""

    source: data.Meta
    message: str
    entry: Any


class BillingError(NamedTuple):
    """A month (or, at standard rates, a closed year) whose billing differs from its allocable cost."""

    source: data.Meta
    message: str
    entry: Any


InvariantError = ConfigError | NumberingError | DocumentError | CreditNoteError | BillingError


@dataclass(frozen=True)
class Config:
    """What the billing check needs of rules/allocation.yaml and rules/accounts."""

    billing_mode: str = "actual"
    excluded_accounts: tuple[str, ...] = ()
    revenue_account: str | None = None
    year_to_date: bool = False  # a pool is billed at the year-to-date rate (rate_method)


class Doc(NamedTuple):
    """One invoice or credit note as recorded, with the revenue it bills (negative for a credit note).

    A NamedTuple rather than a frozen dataclass: one is built per document of a ten-year ledger on every
    load, and a tuple is several times cheaper to build.
    """

    number: str
    prefix: str | None  # None: the number does not read PREFIX-YYYY-NNNN
    year: int
    seq: int
    kind: str
    member: str
    period: str
    date: dt.date
    total: object  # the ``total`` metadata as written; read as an amount by :func:`amount` where needed
    refers_to: str | None
    pdf: str | None
    links: AbstractSet[str]
    revenue: Decimal
    entry: data.Transaction

    @property
    def meta(self) -> data.Meta:
        return self.entry.meta

    @property
    def is_credit(self) -> bool:
        return self.kind == CREDIT_NOTE or self.refers_to is not None


@dataclass
class Scan:
    """What one pass over the entries collects."""

    documents: list[Doc]
    attached: dict[str, tuple[str, ...]]  # number -> the files of the document directives linked to it
    costs: dict[str, Decimal]  # "YYYY-MM" -> allocable cost posted in the month


def invariants(
    entries: list[data.Directive], options_map: Mapping[str, Any], config: str | None = None
) -> tuple[list[data.Directive], list[InvariantError]]:
    """Beancount plugin: the entries unchanged, and an error for each broken invariant of eage."""
    parsed, errors = parse_config(config, options_map)
    with collector_paused():
        scan = scan_entries(entries, options_map, parsed or Config())
        root = posixpath.dirname(str(options_map.get("filename") or ""))
        errors += numbering_errors(scan.documents, root)
        errors += document_errors(scan.documents, scan.attached)
        errors += credit_note_errors(scan.documents, root)
        if parsed is not None:
            errors += billing_errors(scan, parsed)
        del scan
    return entries, errors


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while many short-lived, cycle-free values are built, then as it
    was (used by the plugin and by eage's read model, :mod:`eage.ledger.load`).

    The values (one per document or posting) hold no cycle: freed by their reference counts, they need no
    collection. With the collector on, each batch of new objects counts towards the next collection, and in
    a process that holds the whole ledger (Fava, bean-check) a full collection walks every entry: on ten
    years of 300 members, one more full collection (0.5 s) than the plugin's own work, and building the
    read model's documents took three times as long.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- configuration -------------------------------------------------------------------------------------


def parse_config(
    text: str | None, options_map: Mapping[str, Any]
) -> tuple[Config | None, list[InvariantError]]:
    """The configuration string read as a literal dict, or without one the group's rules file (see the
    module docstring); None (and an error) if it cannot be read."""
    if text is None or not text.strip():
        path = rules_path(options_map)
        return (Config(), []) if path is None else read_rules(path)
    source = data.new_metadata(str(options_map.get("filename") or "<eage.plugins.invariants>"), 0)
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = None
    problem = _config_problem(value)
    if problem is not None:
        message = (
            f'eage.plugins.invariants: {problem}; the billing check is skipped (give a dict such as "'
            "{'billing_mode': 'actual', 'excluded_accounts': ['Charges:67-Charges-exceptionnelles']}\")"
        )
        return None, [ConfigError(source, message, None)]
    assert isinstance(value, dict)
    return (
        Config(
            billing_mode=value.get("billing_mode", "actual"),
            excluded_accounts=tuple(value.get("excluded_accounts", ())),
            revenue_account=value.get("revenue_account"),
            year_to_date=_year_to_date(value.get("rate_method")),
        ),
        [],
    )


#: Where a group keeps its allocation rules, from the folder of its main ledger file.
RULES_FILE = ("..", "rules", "allocation.yaml")
RULES_KEYS = ("billing_mode", "excluded_accounts", "rate_method")


def rules_path(options_map: Mapping[str, Any]) -> str | None:
    """The group's rules/allocation.yaml for the ledger Beancount loaded, None for a ledger read from a
    string (no file, so no group)."""
    main = options_map.get("filename")
    if not isinstance(main, str) or not main or main.startswith("<"):
        return None
    return os.path.normpath(Path(main).parent.joinpath(*RULES_FILE))


def read_rules(path: str) -> tuple[Config | None, list[InvariantError]]:
    """The billing check's settings from a rules file; defaults when there is none, None and a located
    error when it cannot be read or its keys are invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(), []
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return None, [
            _rules_error(path, 0, f"cannot be read ({reason})", "check the file and its permissions")
        ]
    found = _plain_keys(text)
    if found is None:
        try:
            found = _yaml_keys(text)
        except _YamlProblem as exc:
            return None, [_rules_error(path, exc.line, f"is not valid YAML ({exc})", "correct the YAML")]
    values = {key: value for key, (value, _) in found.items()}
    problem = _config_problem(values)
    if problem is not None:
        wrong = next((k for k in RULES_KEYS if k in problem), None)
        line = found[wrong][1] if wrong is not None and wrong in found else 0
        return None, [
            _rules_error(path, line, problem, "correct the key (see rules/allocation.yaml's comments)")
        ]
    mode = values.get("billing_mode", "actual")
    excluded = values.get("excluded_accounts") or ()
    assert isinstance(mode, str) and isinstance(excluded, list | tuple)
    return (
        Config(
            billing_mode=mode,
            excluded_accounts=tuple(str(a) for a in excluded),
            year_to_date=_year_to_date(values.get("rate_method")),
        ),
        [],
    )


def _year_to_date(rate_method: object) -> bool:
    """Whether a (checked) ``rate_method`` bills a pool at the year-to-date rate."""
    return isinstance(rate_method, dict) and "year_to_date" in rate_method.values()


def _rules_error(path: str, line: int, problem: str, fix: str) -> ConfigError:
    message = f"eage.plugins.invariants: {path} {problem}; the billing check is skipped ({fix})"
    return ConfigError(data.new_metadata(path, line), message, None)


class _YamlProblem(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


#: A top-level key line, and the plain scalars the line reader takes as they are (anything that YAML could
#: read as a number, a boolean, null, an alias or a tag is left to PyYAML).
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]+(.*))?")
_ITEM_LINE = re.compile(r"(?:[ ]*)-[ ]+(.*)")
_PAIR_LINE = re.compile(r"[ ]+([A-Za-z_][A-Za-z0-9_]*)[ ]*:[ ]+(.*)")
_QUOTED = re.compile(r"""(?:"([^"\\]*)"|'([^']*)')[ \t]*(?:#.*)?""")
_PLAIN = re.compile(r"([A-Za-z][A-Za-z0-9_.:/-]*)(?:[ \t]+#.*)?")
_YAML_WORDS = frozenset(("y", "n", "yes", "no", "true", "false", "on", "off", "null"))


def _scalar(raw: str) -> str | None:
    """A quoted or plain one-word scalar, or None when the line reader is not sure what YAML reads."""
    raw = raw.strip()
    quoted = _QUOTED.fullmatch(raw)
    if quoted is not None:
        return quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    plain = _PLAIN.fullmatch(raw)
    if plain is None or plain.group(1).lower() in _YAML_WORDS:
        return None
    return plain.group(1)


def _plain_keys(text: str) -> dict[str, tuple[object, int]] | None:
    """The two keys in the plain block form eage writes (``key: value``, ``key:`` then ``- item`` lines),
    with their lines; None as soon as a line is of another form (then PyYAML reads the file)."""
    found: dict[str, tuple[object, int]] = {}
    current: list[str] | None = None  # the items of excluded_accounts, while its lines are read
    mapping: dict[str, str] | None = None  # the pairs of rate_method, while its lines are read
    block: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            return None
        if line[0] in " -":
            if mapping is not None:
                pair = _PAIR_LINE.fullmatch(line)
                value = None if pair is None else _scalar(pair.group(2))
                if pair is None or value is None or pair.group(1) in mapping:
                    return None
                mapping[pair.group(1)] = value
            elif current is not None:
                item = _ITEM_LINE.fullmatch(line)
                value = None if item is None else _scalar(item.group(1))
                if value is None:
                    return None
                current.append(value)
            elif line[0] == "-":
                return None  # a sequence at the top level, or another key's items: PyYAML's to read
            continue  # the nested lines of another key
        current = mapping = None
        key = _KEY_LINE.fullmatch(line)
        if key is None:
            return None  # a document marker, a directive, a quoted or complex key
        name, rest = key.group(1), (key.group(2) or "").strip()
        if name not in RULES_KEYS:
            continue
        if name in found:
            return None
        if name == "billing_mode":
            value = _scalar(rest)
            if value is None:
                return None
            found[name] = (value, number)
        elif name == "rate_method":
            if not (rest == "" or rest.startswith("#")):
                return None  # a flow mapping: PyYAML's to read
            mapping = {}
            found[name] = (mapping, number)
        elif rest == "" or rest.startswith("#"):
            current = []
            found[name] = (current, number)
            block = name
        elif _QUOTED.fullmatch(rest) is None and rest.split("#", 1)[0].strip() == "[]":
            found[name] = ([], number)
        else:
            return None
    if block is not None and found[block][0] == []:
        found[block] = (None, found[block][1])  # a key with no item is null to YAML
    if "rate_method" in found and found["rate_method"][0] == {}:
        found["rate_method"] = (None, found["rate_method"][1])
    return found


def _yaml_keys(text: str) -> dict[str, tuple[object, int]]:
    """The two keys read by PyYAML's safe loader, with their lines."""
    import yaml  # only for a file the line reader does not take: 15 ms of import on every load otherwise

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise _YamlProblem("its top level is not a mapping", node.start_mark.line + 1)
        found: dict[str, tuple[object, int]] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value in RULES_KEYS:
                found[key_node.value] = (
                    loader.construct_object(value_node, deep=True),
                    key_node.start_mark.line + 1,
                )
        return found
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _YamlProblem(str(exc).splitlines()[0], 0 if mark is None else mark.line + 1) from None
    finally:
        loader.dispose()


def _config_problem(value: object) -> str | None:
    if not isinstance(value, dict):
        return "the configuration is not a Python literal dict"
    unknown = sorted(str(key) for key in value if key not in CONFIG_KEYS)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)} (known: {', '.join(CONFIG_KEYS)})"
    if value.get("billing_mode", "actual") not in MODES:
        return f"billing_mode must be one of {', '.join(MODES)}, not {value['billing_mode']!r}"
    excluded = value.get("excluded_accounts", ())
    if not isinstance(excluded, list | tuple) or not all(isinstance(a, str) and a for a in excluded):
        return "excluded_accounts must be a list of account names"
    revenue = value.get("revenue_account")
    if revenue is not None and not (isinstance(revenue, str) and revenue):
        return "revenue_account must be an account name"
    method = value.get("rate_method")
    if method is not None and not (
        isinstance(method, dict) and all(k in RATE_POOLS and v in RATE_METHODS for k, v in method.items())
    ):
        return (
            f"rate_method must map {' and '.join(RATE_POOLS)} to one of {', '.join(RATE_METHODS)}, "
            f"not {method!r}"
        )
    return None


# --- the one pass --------------------------------------------------------------------------------------


def scan_entries(entries: Iterable[data.Directive], options_map: Mapping[str, Any], config: Config) -> Scan:
    """Documents, document directives by link and allocable cost per month, in one pass.

    This loop visits every posting of the ledger on every load (a quarter of a million for ten years of
    300 members), so it does the least per posting: one dictionary look-up classifies its account.
    """
    classify = _classifier(options_map, config)
    classes: dict[str, int] = {}  # account -> _COST, _REVENUE or _OTHER, decided once per account
    documents: list[Doc] = []
    # Tuples of strings, which the garbage collector stops tracking: a list per document would make the
    # ledger's heap larger by tens of thousands of tracked objects and bring on one more full collection.
    attached: dict[str, tuple[str, ...]] = {}
    costs: dict[str, Decimal] = defaultdict(Decimal)
    months: dict[dt.date, str] = {}
    for entry in entries:
        if isinstance(entry, data.Document):
            for link in entry.links or ():
                attached[link] = (*attached.get(link, ()), entry.filename)
            continue
        if not isinstance(entry, data.Transaction):
            continue
        meta = entry.meta
        is_document = meta.get("kind") in DOC_KINDS and "invoice" in meta
        revenue = ZERO
        month: str | None = None
        for posting in entry.postings:
            cls = classes.get(posting.account)
            if cls is None:
                cls = classes[posting.account] = classify(posting.account)
            if cls == _OTHER or (cls == _REVENUE and not is_document) or posting.units is None:
                continue
            number = posting.units.number
            if not isinstance(number, Decimal):
                continue
            if cls == _COST:
                if month is None:
                    month = months.get(entry.date) or months.setdefault(
                        entry.date, entry.date.strftime("%Y-%m")
                    )
                costs[month] += number
            elif posting.meta is None or posting.meta.get("service") != FEE:
                revenue -= number
        if is_document:
            invoice = str(meta["invoice"])
            match = _NUMBER.fullmatch(invoice)
            documents.append(
                Doc(
                    number=invoice,
                    prefix=match.group(1) if match else None,
                    year=int(match.group(2)) if match else 0,
                    seq=int(match.group(3)) if match else 0,
                    kind=str(meta["kind"]),
                    member=str(meta.get("member", "")),
                    period=str(meta.get("period", "")),
                    date=entry.date,
                    total=meta.get("total"),
                    refers_to=_text(meta.get("refers_to")),
                    pdf=_text(meta.get("pdf")),
                    links=entry.links or frozenset(),
                    revenue=revenue,
                    entry=entry,
                )
            )
    return Scan(documents, attached, dict(costs))


_OTHER, _COST, _REVENUE = 0, 1, 2


def _classifier(options_map: Mapping[str, Any], config: Config) -> Callable[[str], int]:
    """Whether an account's postings are allocable cost, billing revenue (in a document), or neither."""
    expenses = str(options_map.get("name_expenses", "Expenses")) + ":"
    income = str(options_map.get("name_income", "Income")) + ":"
    excluded = frozenset(config.excluded_accounts)
    excluded_under = tuple(account + ":" for account in config.excluded_accounts)
    revenue = config.revenue_account

    def classify(account: str) -> int:
        if account.startswith(expenses):
            return _OTHER if account in excluded or account.startswith(excluded_under) else _COST
        if account == revenue if revenue else account.startswith(income):
            return _REVENUE
        return _OTHER

    return classify


def amount(value: object) -> Decimal | None:
    """A ``total`` metadata as an amount, or None if it is not one."""
    try:
        read = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return read if read.is_finite() else None


def _by_seq(doc: Doc) -> tuple[int, bool]:
    """Sequence order; of two documents with one number, the one eage generated comes first, so a hand-added
    copy is the one reported, whichever of the two files Beancount happened to order first."""
    filename = doc.entry.meta.get("filename", "")
    return doc.seq, "/generated/" not in str(filename).replace("\\", "/")


def format_number(prefix: str, year: int, seq: int) -> str:
    """:func:`eage.invoicing.numbering.format_number`: ``FAC-2026-0007``."""
    return f"{prefix}-{year}-{seq:04d}"


def _text(value: object) -> str | None:
    return None if value is None or str(value) == "" else str(value)


def _where(doc: Doc, root: str) -> str:
    """``generated/2026/2026-10-allocation.beancount:12``: where ``doc`` is, relative to the ledger."""
    filename = str(doc.meta.get("filename", "?"))
    if root and filename.startswith(root + "/"):
        filename = filename[len(root) + 1 :]
    return f"{filename}:{doc.meta.get('lineno', 0)}"


# --- 1. numbering ---------------------------------------------------------------------------------------


def numbering_errors(documents: Sequence[Doc], root: str = "") -> list[InvariantError]:
    """Gaps, duplicates and date order within each prefix's yearly sequence."""
    errors: list[InvariantError] = []
    sequences: dict[tuple[str, int], list[Doc]] = defaultdict(list)
    for doc in documents:
        if doc.prefix is None:
            errors.append(
                NumberingError(
                    doc.meta,
                    f"eage: {doc.number!r} is not a number eage issues (PREFIX-YYYY-NNNN, e.g. FAC-2026-0001)",
                    doc.entry,
                )
            )
            continue
        if doc.year != doc.date.year:
            errors.append(
                NumberingError(
                    doc.meta,
                    f"eage: {doc.number} is dated {doc.date}: a number of the {doc.year} sequence is issued in "
                    f"{doc.year}",
                    doc.entry,
                )
            )
        sequences[(doc.prefix, doc.year)].append(doc)
    for (prefix, year), items in sorted(sequences.items()):
        items.sort(key=_by_seq)  # stable: otherwise a duplicate keeps the ledger's order
        expected = 1
        previous: Doc | None = None
        for doc in items:
            seq = doc.seq
            if previous is not None and seq == previous.seq:
                errors.append(
                    NumberingError(
                        doc.meta,
                        f"eage: {doc.number} is issued twice (first at {_where(previous, root)}); a number "
                        "is used once: remove the copy or restore the ledger from version control",
                        doc.entry,
                    )
                )
                continue
            if seq < expected:
                errors.append(
                    NumberingError(
                        doc.meta,
                        f"eage: {doc.number}: the {prefix} sequence of {year} starts at "
                        f"{format_number(prefix, year, 1)}",
                        doc.entry,
                    )
                )
            elif seq > expected:
                missing = format_number(prefix, year, expected)
                if seq - expected > 1:
                    missing += f" to {format_number(prefix, year, seq - 1)} are"
                else:
                    missing += " is"
                errors.append(
                    NumberingError(
                        doc.meta,
                        f"eage: the {prefix} sequence of {year} jumps to {doc.number}: {missing} missing "
                        "(numbers are continuous: restore the missing documents from version control)",
                        doc.entry,
                    )
                )
            if previous is not None and doc.date < previous.date:
                errors.append(
                    NumberingError(
                        doc.meta,
                        f"eage: {doc.number} is dated {doc.date}, before {previous.number} of "
                        f"{previous.date}: numbers follow the dates",
                        doc.entry,
                    )
                )
            previous = doc
            expected = max(seq, 0) + 1
    return errors


# --- 2. documents ---------------------------------------------------------------------------------------


def document_errors(documents: Sequence[Doc], attached: Mapping[str, Sequence[str]]) -> list[InvariantError]:
    """Documents without ``pdf`` metadata or without the ``document`` directive attaching that PDF."""
    errors: list[InvariantError] = []
    for doc in documents:
        if doc.pdf is None:
            errors.append(
                DocumentError(
                    doc.meta,
                    f"eage: {doc.number} has no pdf metadata: each document eage issues records its PDF",
                    doc.entry,
                )
            )
        directives = attached.get(doc.number, ())
        if not directives:
            errors.append(
                DocumentError(
                    doc.meta,
                    f"eage: {doc.number} has no document directive (document … ^{doc.number}) attaching its PDF",
                    doc.entry,
                )
            )
        elif doc.pdf is not None and not any(_attaches(d, doc.pdf) for d in directives):
            shown = ", ".join(sorted(posixpath.basename(d) for d in directives))
            errors.append(
                DocumentError(
                    doc.meta,
                    f"eage: the document directive of {doc.number} attaches {shown}, not its pdf {doc.pdf}",
                    doc.entry,
                )
            )
    return errors


def _attaches(filename: str, pdf: str) -> bool:
    """Whether a directive's file (absolute, as Beancount resolves it) is the root-relative ``pdf``."""
    return filename.endswith("/" + pdf) or posixpath.normpath(filename).endswith(
        "/" + posixpath.normpath(pdf)
    )


# --- 3. credit notes ------------------------------------------------------------------------------------


def credit_note_errors(documents: Sequence[Doc], root: str = "") -> list[InvariantError]:
    """Credit notes of no invoice, of a credit note, of another member, too early, or of too much."""
    errors: list[InvariantError] = []
    by_number: dict[str, Doc] = {}
    for doc in documents:
        by_number.setdefault(doc.number, doc)
    remaining: dict[str, Decimal] = {}
    credited_by: dict[str, list[Doc]] = defaultdict(list)
    credits = sorted((d for d in documents if d.is_credit), key=lambda d: (d.date, d.number))
    for doc in credits:
        if doc.refers_to is None:
            errors.append(
                CreditNoteError(
                    doc.meta,
                    f"eage: credit note {doc.number} names no invoice (refers_to metadata)",
                    doc.entry,
                )
            )
            continue
        invoice = by_number.get(doc.refers_to)
        problem = _reference_problem(doc, invoice)
        if problem is not None:
            errors.append(CreditNoteError(doc.meta, f"eage: {doc.number} {problem}", doc.entry))
            continue
        assert invoice is not None
        if doc.kind != CREDIT_NOTE:
            continue  # a true-up credit note names the invoice; it does not credit it
        credit, invoiced = amount(doc.total), amount(invoice.total)
        if credit is None or invoiced is None:
            errors.append(
                CreditNoteError(
                    doc.meta,
                    f"eage: {doc.number} credits {invoice.number}, but the total of "
                    f"{doc.number if credit is None else invoice.number} is not an amount",
                    doc.entry,
                )
            )
            continue
        left = remaining.get(invoice.number, invoiced)
        if credit > left:
            earlier = credited_by[invoice.number]
            why = (
                f"already credited by {', '.join(d.number for d in earlier)}"
                if earlier
                else f"whose total is {invoiced:.2f} EUR"
            )
            errors.append(
                CreditNoteError(
                    doc.meta,
                    f"eage: {doc.number} credits {credit:.2f} EUR of {invoice.number}, of which "
                    f"{max(left, ZERO):.2f} EUR remains ({why}; first at {_where(invoice, root)}): an invoice "
                    "is credited once, in full",
                    doc.entry,
                )
            )
        remaining[invoice.number] = left - credit
        credited_by[invoice.number].append(doc)
    return errors


def _reference_problem(doc: Doc, invoice: Doc | None) -> str | None:
    number = doc.refers_to
    if invoice is None:
        return f"credits {number}, which is not in the ledger"
    if invoice.is_credit:
        return f"credits {number}, a credit note: only an invoice can be credited"
    if invoice.member != doc.member:
        return f"is addressed to {doc.member!r} but credits {number} of {invoice.member!r}"
    if doc.date < invoice.date:
        return f"is dated {doc.date}, before the invoice it credits ({number} of {invoice.date})"
    return None


# --- 4. billing equals cost -----------------------------------------------------------------------------


def billing_errors(scan: Scan, config: Config) -> list[InvariantError]:
    """Months (or closed years at standard rates) whose billing differs from their allocable cost."""
    replaced = frozenset(
        link for d in scan.documents if d.kind == INVOICE for link in d.links if link != d.number
    )
    billed: dict[str, Decimal] = defaultdict(Decimal)
    cancelled: dict[str, Decimal] = defaultdict(Decimal)  # credit notes that no replacement follows
    first: dict[str, Doc] = {}
    trueups: dict[str, list[Doc]] = defaultdict(list)
    for doc in scan.documents:
        if doc.kind in (INVOICE, CREDIT_NOTE) and _MONTH.fullmatch(doc.period):
            billed[doc.period] += doc.revenue
            first.setdefault(doc.period, doc)
            if doc.kind == CREDIT_NOTE and doc.number not in replaced:
                cancelled[doc.period] -= doc.revenue
        elif doc.kind == TRUEUP and _YEAR.fullmatch(doc.period):
            trueups[doc.period].append(doc)
    if config.billing_mode == "standard_rate":
        return _year_errors(scan, billed, cancelled, trueups, "billing at standard rates")
    if config.year_to_date:
        return _year_errors(scan, billed, cancelled, trueups, "billing at the year-to-date rate")
    errors: list[InvariantError] = []
    for month in sorted(billed):
        problem = _mismatch(billed[month], scan.costs.get(month, ZERO), cancelled[month])
        if problem is not None:
            doc = first[month]
            errors.append(
                BillingError(
                    doc.meta,
                    f"eage: the billing of {month} {problem}; correct the month with "
                    f"`eage run {month} --correct`",
                    doc.entry,
                )
            )
    return errors


def _year_errors(
    scan: Scan,
    billed: Mapping[str, Decimal],
    cancelled: Mapping[str, Decimal],
    trueups: Mapping[str, Sequence[Doc]],
    billing: str,
) -> list[InvariantError]:
    errors: list[InvariantError] = []
    for year in sorted(trueups):
        in_year = [m for m in set(billed) | set(scan.costs) if m.startswith(year + "-")]
        total = sum((billed.get(m, ZERO) for m in in_year), ZERO)
        total += sum((d.revenue for d in trueups[year]), ZERO)
        cost = sum((scan.costs.get(m, ZERO) for m in in_year), ZERO)
        problem = _mismatch(total, cost, sum((cancelled.get(m, ZERO) for m in in_year), ZERO))
        if problem is not None:
            doc = trueups[year][-1]
            errors.append(
                BillingError(
                    doc.meta,
                    f"eage: after its true-up, the billing of {year} {problem} ({billing} is settled by the "
                    "year-end true-up)",
                    doc.entry,
                )
            )
    return errors


def _mismatch(billed: Decimal, cost: Decimal, cancelled: Decimal) -> str | None:
    """None when billing equals cost (or does once the deliberate cancellations are added back)."""
    billed, cost, cancelled = cents(billed), cents(cost), cents(cancelled)
    if billed == cost or (cancelled and billed + cancelled == cost):
        return None
    return (
        f"({billed:.2f} EUR: invoices minus credit notes) differs from its allocable cost ({cost:.2f} EUR) "
        f"by {billed - cost:+.2f} EUR"
    )
