"""The DSN norm's structure (P26V01) and the structural check of a DSN's lines.

The norm is package data, ``P26V01.yaml`` beside this module, extracted from the official CT2026 data
dictionary as the ``dsn-tools`` package transcribes it (``scripts/dsn_norm.py`` writes it; its header says
what was corrected). The code holds no block, rubric, pattern or code list: they all come from that file.

:func:`structure_problems` checks what the norm's structure says of a file, each fault one located problem
(``file=source, line=N, key=<rubric or block code>``):

- each line's rubric is known to the norm, its value matches its type (pattern, length, code list, a
  calendar day for a date);
- within a block, rubrics come in increasing number order, each once: a rubric number not above the one the
  block started with opens the next instance of the block (the norm's readers start an instance on a number
  lower than or equal to the previous one: ``krisk78/DSN2CSV``; dsn-tools on a repeated one); a number
  seen before in the instance but above its first is a repeated rubric, one lower than the previous one is
  out of order. (An instance that starts above the previous instance's first rubric, e.g. a second
  S21.G00.70 without its .001, would read as repeats: eage always writes a block's lowest rubric first.)
- blocks nest as the norm's tree says: a block comes only under an open instance of its parent, the
  children of a block in the order the norm lists them, no more instances than the cardinality allows, and
  every child the norm asks for ([1..1], [1..*]) present;
- a block's mandatory rubrics are present (the ``mandatory`` lists of the YAML, kept by hand: dsn-tools
  does not transcribe the cahier technique's "usage" column);
- S90.G00.90.001 is the number of rubric lines of the file, the S90 lines included, and S90.G00.90.002 the
  number of declarations (S20.G00.05 blocks), as the published files count them.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import Field

from eage.errors import Problem
from eage.payroll.dsn.model import Rubric
from eage.rules.base import Strict
from eage.rules.loader import load_model

#: A rubric's code: ``S21.G00.30.001`` (structure, group, block, rubric).
CODE = re.compile(r"S\d\d\.G\d\d\.\d\d\.\d{3}")
TOTALS_BLOCK = "S90.G00.90"
TOTAL_RUBRICS = "S90.G00.90.001"
TOTAL_DECLARATIONS = "S90.G00.90.002"
DECLARATION_BLOCK = "S20.G00.05"
_SHOWN_CODES = 12


class _RubricFile(Strict):
    name: str
    type: str
    note: str | None = None  # why the type differs from dsn-tools' (scripts/dsn_norm.py TYPE_CORRECTIONS)


class _BlockFile(Strict):
    name: str
    parent: str | None
    min: int = Field(ge=0)
    max: int | None = Field(default=None, ge=1)
    children: list[str]
    mandatory: list[str] = Field(default_factory=list)
    mandatory_confirmed: bool = True
    rubrics: dict[str, _RubricFile]


class _TypeFile(Strict):
    pattern: str | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    codes: dict[str, str] | None = None


class _RootFile(Strict):
    block: str
    min: int = Field(ge=0)
    max: int | None = Field(default=None, ge=1)


class _SourceFile(Strict):
    dictionary: str
    transcription: str
    script: str


class NormFile(Strict):
    """P26V01.yaml as written by scripts/dsn_norm.py."""

    version: str
    source: _SourceFile
    root: list[_RootFile]
    blocks: dict[str, _BlockFile]
    types: dict[str, _TypeFile]


@dataclass(frozen=True)
class RubricSpec:
    """One rubric of the norm: its code, name, type and what its value must be."""

    code: str
    name: str
    type: str
    pattern: re.Pattern[str] | None = None
    min_length: int | None = None
    max_length: int | None = None
    codes: Mapping[str, str] | None = None

    def problem(self, value: str) -> str | None:
        """What is wrong with ``value`` for this rubric (None: nothing)."""
        if value == "":
            return "empty value (the norm writes no line for a rubric without a value)"
        if self.min_length is not None and len(value) < self.min_length:
            return (
                f"{value!r} has {len(value)} characters, fewer than the {self.min_length} of type {self.type}"
            )
        if self.max_length is not None and len(value) > self.max_length:
            return (
                f"{value!r} has {len(value)} characters, more than the {self.max_length} of type {self.type}"
            )
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"{value!r} does not match type {self.type} (pattern {self.pattern.pattern})"
        if self.codes is not None and value not in self.codes:
            shown = ", ".join(list(self.codes)[:_SHOWN_CODES])
            more = ", …" if len(self.codes) > _SHOWN_CODES else ""
            return f"{value!r} is not a code of {self.type} ({shown}{more})"
        if self.type.startswith("Date_JJMMAAAA") and self.pattern is not None and not _is_day(value):
            return f"{value!r} is not a calendar day (JJMMAAAA)"
        return None


@dataclass(frozen=True)
class BlockSpec:
    """One block of the norm: where it goes (parent, cardinality, children in order) and its rubrics."""

    id: str
    name: str
    parent: str | None
    min: int
    max: int | None
    children: tuple[str, ...]
    mandatory: tuple[str, ...]
    mandatory_confirmed: bool
    rubrics: Mapping[str, RubricSpec]  # by rubric number ("001")


@dataclass(frozen=True)
class Norm:
    """The norm of one version: its blocks and the envelope (the top-level blocks, in order)."""

    version: str
    blocks: Mapping[str, BlockSpec]
    root: tuple[tuple[str, int, int | None], ...]

    def rubric(self, code: str) -> RubricSpec | None:
        block = self.blocks.get(code[:10])
        return block.rubrics.get(code[11:]) if block is not None else None


def _is_day(value: str) -> bool:
    try:
        dt.date(int(value[4:8]), int(value[2:4]), int(value[0:2]))
    except ValueError:
        return False
    return True


def _build(data: NormFile) -> Norm:
    types = data.types
    blocks: dict[str, BlockSpec] = {}
    for block_id, block in data.blocks.items():
        rubrics: dict[str, RubricSpec] = {}
        for number, rubric in block.rubrics.items():
            kind = types.get(rubric.type)
            if kind is None:
                raise ValueError(
                    f"norm {data.version}: {block_id}.{number} has the unknown type {rubric.type}"
                )
            rubrics[number] = RubricSpec(
                code=f"{block_id}.{number}",
                name=rubric.name,
                type=rubric.type,
                pattern=re.compile(kind.pattern) if kind.pattern is not None else None,
                min_length=kind.min_length,
                max_length=kind.max_length,
                codes=dict(kind.codes) if kind.codes is not None else None,
            )
        blocks[block_id] = BlockSpec(
            id=block_id,
            name=block.name,
            parent=block.parent,
            min=block.min,
            max=block.max,
            children=tuple(block.children),
            mandatory=tuple(block.mandatory),
            mandatory_confirmed=block.mandatory_confirmed,
            rubrics=rubrics,
        )
    for block_id, spec in blocks.items():
        if spec.parent is not None and block_id not in blocks[spec.parent].children:
            raise ValueError(
                f"norm {data.version}: {block_id} is not among its parent {spec.parent}'s children"
            )
        missing = [n for n in spec.mandatory if n not in spec.rubrics]
        if missing:
            raise ValueError(f"norm {data.version}: {block_id}'s mandatory rubrics {missing} are not in it")
    root = tuple((entry.block, entry.min, entry.max) for entry in data.root)
    return Norm(version=data.version, blocks=blocks, root=root)


@functools.cache
def load_norm(version: str = "P26V01") -> Norm:
    """The norm ``version`` (package data ``eage/payroll/dsn/<version>.yaml``), read once per process."""
    if not re.fullmatch(r"P\d\dV\d\d", version):
        raise ValueError(f"not a DSN norm version: {version!r} (e.g. P26V01)")
    resource = importlib.resources.files("eage.payroll.dsn") / f"{version}.yaml"
    with importlib.resources.as_file(resource) as path:
        data = load_model(path, NormFile)
    if data.version != version:
        raise ValueError(f"{version}.yaml holds the norm {data.version}")
    return _build(data)


@dataclass
class _Instance:
    """One instance of a block in a file: its first line and the lines of its rubrics by number."""

    block: str
    line: int
    numbers: dict[str, int] = field(default_factory=dict)
    last: str = ""


@dataclass
class _Open:
    """A block instance still open while the file is read: its children seen so far."""

    block: str
    line: int
    counts: dict[str, int] = field(default_factory=dict)
    position: int = -1  # index, in the norm's list of children, of the last child seen


def _instances(
    lines: Sequence[Rubric], norm: Norm, problem: _Report
) -> tuple[list[_Instance], dict[int, _Instance]]:
    """The file's block instances, in order; each line's value is checked on the way."""
    instances: list[_Instance] = []
    of_line: dict[int, _Instance] = {}
    current: _Instance | None = None
    for number_of_line, rubric in enumerate(lines, start=1):
        code = rubric.code
        if not CODE.fullmatch(code):
            problem(number_of_line, code, f"{code!r} is not a rubric code", "write it as Sxx.Gxx.xx.xxx")
            continue
        block, number = code[:10], code[11:]
        first = min(current.numbers) if current is not None and current.numbers else ""
        opens = current is None or current.block != block or number <= first
        if current is None or opens:
            current = _Instance(block, number_of_line)
            instances.append(current)
        elif number in current.numbers:
            problem(
                number_of_line,
                code,
                f"repeated in this {block} block (first on line {current.numbers[number]})",
                "write the rubric once per block",
            )
            continue
        elif number < current.last:
            problem(
                number_of_line,
                code,
                f"comes after {block}.{current.last}: a block's rubrics are in increasing number order",
                f"write {code} before {block}.{current.last}",
            )
        current.numbers[number] = number_of_line
        current.last = max(current.last, number)
        of_line[number_of_line] = current
        spec = norm.blocks.get(block)
        if spec is None:
            if opens:
                problem(number_of_line, code, f"unknown block {block} in the norm {norm.version}", _FIX_CODE)
            continue
        rubric_spec = spec.rubrics.get(number)
        if rubric_spec is None:
            problem(
                number_of_line,
                code,
                f"unknown rubric in block {block} ({spec.name}) of the norm {norm.version}",
                _FIX_CODE,
            )
            continue
        message = rubric_spec.problem(rubric.value)
        if message is not None:
            problem(
                number_of_line,
                code,
                f"{rubric_spec.name}: {message}",
                "correct the value the norm's type allows",
            )
    return instances, of_line


_FIX_CODE = "use a rubric of the norm (see src/eage/payroll/dsn/P26V01.yaml)"


class _Report:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def __call__(self, line: int | None, key: str, message: str, fix: str) -> None:
        self.problems.append(Problem(message, self.source, line, key, fix))


def structure_problems(lines: Sequence[Rubric], *, source: str, norm: Norm | None = None) -> list[Problem]:
    """Every structural fault of ``lines`` against the norm, each one located problem (see the module)."""
    norm = norm if norm is not None else load_norm()
    report = _Report(source)
    instances, _ = _instances(lines, norm, report)
    blocks = norm.blocks

    def close(opened: _Open) -> None:
        for child in blocks[opened.block].children:
            child_spec = blocks[child]
            if child_spec.min > opened.counts.get(child, 0):
                report(
                    opened.line,
                    child,
                    f"block {opened.block} ({blocks[opened.block].name}) has no {child} ({child_spec.name}) "
                    f"block: the norm asks for at least {child_spec.min}",
                    f"add the {child} block under it",
                )

    root_order = [block for block, _, _ in norm.root]
    root_counts: dict[str, int] = {}
    root_position = -1
    stack: list[_Open] = []
    for instance in instances:
        spec = blocks.get(instance.block)
        if spec is None:
            continue
        for number in spec.mandatory:
            if number not in instance.numbers:
                report(
                    instance.line,
                    f"{spec.id}.{number}",
                    f"mandatory rubric {spec.id}.{number} ({spec.rubrics[number].name}) missing in this "
                    f"{spec.id} ({spec.name}) block",
                    f"write {spec.id}.{number} in the block",
                )
        if spec.parent is None:
            while stack:
                close(stack.pop())
            if instance.block not in root_order:
                report(
                    instance.line,
                    instance.block,
                    f"block {instance.block} has no place in the file",
                    _FIX_CODE,
                )
                continue
            index = root_order.index(instance.block)
            if index < root_position:
                report(
                    instance.line,
                    instance.block,
                    f"block {instance.block} ({spec.name}) comes after {root_order[root_position]}: the norm puts "
                    f"it before",
                    f"move the {instance.block} block",
                )
            else:
                root_position = index
            root_counts[instance.block] = root_counts.get(instance.block, 0) + 1
            high = norm.root[index][2]
            if high is not None and root_counts[instance.block] > high:
                report(
                    instance.line,
                    instance.block,
                    f"more than {high} {instance.block} ({spec.name}) block(s) in the file",
                    "write the block once",
                )
            stack.append(_Open(instance.block, instance.line))
            continue
        depth = next((i for i in range(len(stack) - 1, -1, -1) if stack[i].block == spec.parent), None)
        if depth is None:
            parent_name = blocks[spec.parent].name
            report(
                instance.line,
                instance.block,
                f"block {instance.block} ({spec.name}) must come under a {spec.parent} ({parent_name}) block, "
                f"and none is open here",
                f"move it under its {spec.parent} block",
            )
            stack.append(_Open(instance.block, instance.line))
            continue
        while len(stack) > depth + 1:
            close(stack.pop())
        parent = stack[depth]
        siblings = blocks[spec.parent].children
        index = siblings.index(instance.block)
        if index < parent.position:
            report(
                instance.line,
                instance.block,
                f"block {instance.block} ({spec.name}) comes after {siblings[parent.position]} under "
                f"{spec.parent}: the norm puts it before",
                f"write the {instance.block} blocks before the {siblings[parent.position]} blocks",
            )
        else:
            parent.position = index
        parent.counts[instance.block] = parent.counts.get(instance.block, 0) + 1
        if spec.max is not None and parent.counts[instance.block] > spec.max:
            report(
                instance.line,
                instance.block,
                f"more than {spec.max} {instance.block} ({spec.name}) block(s) under one {spec.parent}",
                f"write one {instance.block} block under each {spec.parent}",
            )
        stack.append(_Open(instance.block, instance.line))
    while stack:
        close(stack.pop())
    for block, low, _high in norm.root:
        if root_counts.get(block, 0) < low:
            report(
                None,
                block,
                f"the file has no {block} ({blocks[block].name}) block",
                f"write the {block} block",
            )
    _totals(lines, instances, report)
    return report.problems


def _totals(lines: Sequence[Rubric], instances: Sequence[_Instance], report: _Report) -> None:
    """S90.G00.90.001 = the file's rubric lines (S90 included), .002 = its declarations."""
    expected = {
        TOTAL_RUBRICS: (len(lines), "rubric lines in the file (the S90 lines included)"),
        TOTAL_DECLARATIONS: (
            sum(1 for instance in instances if instance.block == DECLARATION_BLOCK),
            f"declarations ({DECLARATION_BLOCK} blocks)",
        ),
    }
    for number_of_line, rubric in enumerate(lines, start=1):
        if rubric.code not in expected:
            continue
        count, what = expected[rubric.code]
        if rubric.value.isdigit() and int(rubric.value) != count:
            report(
                number_of_line,
                rubric.code,
                f"says {int(rubric.value)} but the file has {count} {what}",
                f"write {count} (eage.payroll.dsn.lines.with_totals counts them)",
            )
