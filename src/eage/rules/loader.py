"""Loading YAML rules into pydantic models, with errors that name the file, the key path and the line.

YAML is read with the safe loader only. The node tree is kept so that a pydantic error at
``members[3].siren`` can be reported with the line it stands on.

Scalars are read strictly, before pydantic sees them: numbers are digits with an optional ``.`` decimal
part, booleans are true/false, dates are YYYY-MM-DD, texts carry no invisible control character; a file
is bounded in size and a byte that is not UTF-8 is reported with its line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from eage.errors import InputError, Problem, raise_if
from eage.rules.dated import DAY_PATTERN, FORM_TAGS

M = TypeVar("M", bound=BaseModel)
# libyaml's safe loader when available (10x faster); both only build plain types, never objects.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: A rules or payroll-variables file is a few hundred kilobytes at most (300 members take 150 KB): a larger
#: one is not a rules file (a log, a dump, /dev/zero), and is refused before it is read into memory.
MAX_YAML_BYTES = 16 * 1024 * 1024


def read_text_file(
    path: Path,
    *,
    limit: int,
    what: str,
    bom: bool = False,
    shown: str | None = None,
    save_as: str = "UTF-8",
) -> str:
    """The text of a user's file, read as UTF-8, or an :class:`InputError` naming the file (and the line
    of a byte that is not UTF-8): a directory, a file over ``limit`` bytes, a file that cannot be read.

    ``bom``: a leading UTF-8 byte-order mark is dropped (spreadsheets write one in CSV files).
    ``shown``: the file as messages name it (default: ``path``); ``save_as``: the format the fix asks for.
    """
    file: str | Path = shown if shown is not None else path
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError.at("file not found", file=file, fix="create it (see `eage init`)") from None
    except IsADirectoryError:
        raise InputError.at(
            "is a directory, not a file", file=file, fix=f"replace the directory with the {what} file"
        ) from None
    except OSError as exc:
        raise InputError.at(
            f"cannot be read: {exc.strerror or exc}", file=file, fix="check the file and its permissions"
        ) from None
    if len(data) > limit:
        raise InputError.at(
            f"is larger than {limit // (1024 * 1024)} MB: not a {what} file",
            file=file,
            fix=f"check the file: a {what} file is far smaller",
        )
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.at(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02X} at column {column})",
            file=file,
            line=line,
            fix=f"save the file as {save_as}",
        ) from None


def _read(path: Path) -> tuple[Any, yaml.Node | None]:
    text = read_text_file(path, limit=MAX_YAML_BYTES, what="YAML")
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            _refuse_duplicate_keys(node, path)
            raise_if(_loose_scalars(node, path))
            try:
                data = loader.construct_document(node) if node is not None else None
            except (ValueError, TypeError, OverflowError) as exc:
                # The safe loader's own scalars can fail to build: 2026-02-30 matches YAML's date pattern.
                raise _unbuildable_scalar(node, path, exc) from None
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:
        # A character YAML forbids (a control character). The reader stops at its first occurrence; its
        # offset counts bytes in libyaml and characters in PyYAML, so the character is looked up instead.
        found = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        at = text[:found].count("\n") + 1 if found >= 0 else None
        raise InputError.at(
            f"control character U+{exc.character:04X} is not allowed (YAML refuses invisible characters)"
            if isinstance(exc.character, int)
            else f"invalid character: {exc.reason}",
            file=path,
            line=at,
            fix="remove it (retype the text without the invisible character)",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        fix = "fix the syntax"
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in str(problem):
            fix = "remove the tag: rules are read as only plain YAML (no !!python or other object tags)"
        raise InputError.at(f"invalid YAML: {problem}", file=path, line=line, fix=fix) from None
    return data, node


def _walk(node: yaml.Node | None) -> list[yaml.Node]:
    """Every node of the tree, depth first, each once (anchors and aliases share nodes)."""
    out: list[yaml.Node] = []
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        if isinstance(current, yaml.MappingNode):
            for key, value in reversed(current.value):
                stack += [value, key]
        elif isinstance(current, yaml.SequenceNode):
            stack += reversed(current.value)
    return out


def _refuse_duplicate_keys(node: yaml.Node | None, path: Path) -> None:
    """A key given twice in a mapping: YAML libraries keep the last silently; a rate must not hide."""
    problems = []
    for current in _walk(node):
        if not isinstance(current, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key, _ in current.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in first:
                problems.append(
                    Problem(
                        f"duplicate key {key.value!r} (first given on line {first[key.value]})",
                        file=str(path),
                        line=line,
                        fix="keep one of the two: YAML would silently use the last",
                    )
                )
            else:
                first[key.value] = line
    if problems:
        raise InputError(problems)


#: Numbers as a person writes them: digits, an optional minus and an optional ``.`` decimal part. YAML 1.1
#: also reads ``1_000``, ``0x1F``, ``0o17``, ``1:30`` (sexagesimal: 90), ``.5``, ``1.0e3`` and ``.inf`` as
#: numbers: a silent misreading of an amount or a number of hours, hence refused.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
#: An integer with a leading zero: YAML 1.1 reads ``010`` as octal (8).
_OCTAL = re.compile(r"-?0[0-9]+")


def plain_number(value: object) -> object:
    """A number given as text in a rules file (``"1500.00"``) must be written as :data:`_NUMBER` too:
    pydantic would read ``"1.5e3"``, ``"0_5"``, ``"٣"`` or ``" 12"`` as numbers. ``true`` is no number.
    A text that is no number at all (``"douze"``) is left to pydantic's own message."""
    if isinstance(value, bool):
        raise ValueError("a yes/no value is not a number")
    if isinstance(value, str) and _reads_as_number(value):
        raise ValueError(f"{value!r} is not a plain number: write digits with an optional '.' decimal part")
    return value


#: A Decimal read from a rules file: a YAML number, or a text that is a plain number.
Number = Annotated[Decimal, BeforeValidator(plain_number)]

#: A yes/no value: ``true`` or ``false`` only (pydantic would take ``1``, ``"yes"``, ``"on"`` or ``"t"``).
Flag = Annotated[bool, Field(strict=True)]

#: YAML 1.1 reads ``yes``, ``no``, ``on``, ``off`` (and ``NO``, Norway's code) as booleans.
_BOOLEAN = re.compile(r"true|false|True|False")
#: Invisible characters that change what a text shows: C0/C1 controls (a newline only in a block
#: scalar), bidirectional embeddings, overrides and isolates, the Unicode line and paragraph separators.
_HIDDEN = {
    chr(c)
    for c in [
        *range(0x20),
        0x7F,
        *range(0x80, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
    ]
}
_TAG = "tag:yaml.org,2002:"
#: The significant digits a float carries exactly (IEEE 754 double: 15).
_FLOAT_DIGITS = 15


Loc = tuple[int | str, ...]


def _paths(node: yaml.Node | None) -> tuple[list[tuple[Loc, yaml.ScalarNode]], list[tuple[Loc, yaml.Node]]]:
    """Every scalar of the tree (keys included) with the key path that leads to it, each node once; and
    every place where a node appears again (an alias of an anchored node)."""
    out: list[tuple[Loc, yaml.ScalarNode]] = []
    again: list[tuple[Loc, yaml.Node]] = []
    seen: set[int] = set()
    stack: list[tuple[Loc, yaml.Node]] = [((), node)] if node is not None else []
    while stack:
        loc, current = stack.pop()
        if id(current) in seen:
            again.append((loc, current))
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            out.append((loc, current))
        elif isinstance(current, yaml.MappingNode):
            for key, value in reversed(current.value):
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                stack += [((*loc, name), value), ((*loc, name), key)]
        elif isinstance(current, yaml.SequenceNode):
            stack += [((*loc, index), item) for index, item in reversed(list(enumerate(current.value)))]
    return out, again


def _reads_as_number(value: str) -> bool:
    """A plain text Python's Decimal reads as a number (``1e3``, ``NaN``, ``+5``, ``٣``) though it is not
    written as one: it means a number the user wrote loosely, never a text."""
    if not value or _NUMBER.fullmatch(value):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _loose_scalars(node: yaml.Node | None, path: Path) -> list[Problem]:
    """Scalars YAML would read loosely (see :data:`_NUMBER`, :data:`_BOOLEAN`), decimals too long for a
    float to carry exactly, dates not written YYYY-MM-DD, texts with an invisible control character, and
    aliases: each a located problem."""
    problems: list[Problem] = []

    def bad(loc: tuple[int | str, ...], scalar: yaml.ScalarNode, message: str, fix: str) -> None:
        line = scalar.start_mark.line + 1
        problems.append(Problem(message, file=str(path), line=line, key=_key_path(loc), fix=fix))

    scalars, again = _paths(node)
    for loc, repeated in again[:1]:
        # An alias builds no new value but pydantic validates it again each time: nested aliases make a
        # small file (the "billion laughs") take exponential time. Rules are short: they are written out.
        problems.append(
            Problem(
                f"an alias repeats the part anchored on line {repeated.start_mark.line + 1}",
                file=str(path),
                # A list item's line would be the anchored node's own: the list's key is where the alias is.
                line=_line_of(node, loc[:-1] if loc and isinstance(loc[-1], int) else loc),
                key=_key_path(loc),
                fix="write the values out in full: rules do not use YAML anchors (&) and aliases (*)",
            )
        )
    for loc, scalar in scalars:
        value, tag = scalar.value, scalar.tag
        if tag == _TAG + "timestamp" and not DAY_PATTERN.fullmatch(value):
            bad(loc, scalar, f"{value!r} is not a day", "write the date as YYYY-MM-DD, without a time")
        elif tag in (_TAG + "int", _TAG + "float") and (
            not _NUMBER.fullmatch(value) or (tag == _TAG + "int" and _OCTAL.fullmatch(value))
        ):
            bad(
                loc,
                scalar,
                f"{value!r} is not a plain number",
                "write digits with an optional '.' decimal part (e.g. 1500.00), or quote it if it is a text",
            )
        elif tag == _TAG + "float" and len(value.lstrip("-").replace(".", "").lstrip("0")) > _FLOAT_DIGITS:
            # YAML builds a float: more significant digits than a float holds would be silently rounded.
            bad(
                loc,
                scalar,
                f"{value} has more than {_FLOAT_DIGITS} significant digits",
                f"round it to {_FLOAT_DIGITS} digits, or quote it to keep every digit",
            )
        elif tag == _TAG + "bool" and not _BOOLEAN.fullmatch(value):
            bad(loc, scalar, f"{value!r} would be read as a yes/no value", "write true or false, or quote it")
        elif tag == _TAG + "str" and scalar.style in (None, "") and _reads_as_number(value):
            bad(
                loc,
                scalar,
                f"{value!r} is not a plain number",
                "write digits with an optional '.' decimal part (e.g. 1500.00), or quote it if it is a text",
            )
        elif tag == _TAG + "str":
            allowed = "\n" if scalar.style in ("|", ">") else ""
            hidden = sorted({c for c in value if c in _HIDDEN and c not in allowed})
            if hidden:
                names = ", ".join(f"U+{ord(c):04X}" for c in hidden)
                bad(
                    loc,
                    scalar,
                    f"the text contains an invisible control character ({names})",
                    "retype the text without it",
                )
    return problems


def _unbuildable_scalar(node: yaml.Node | None, path: Path, exc: Exception) -> InputError:
    """The located error for a scalar the safe loader matched but could not build (an impossible date)."""
    constructor = yaml.constructor.SafeConstructor()
    for current in _walk(node):
        if not isinstance(current, yaml.ScalarNode):
            continue
        try:
            constructor.construct_object(current)
        except (ValueError, TypeError, OverflowError) as inner:
            hint = "write a real date as YYYY-MM-DD" if current.tag.endswith(":timestamp") else "correct it"
            return InputError.at(
                f"{current.value!r} cannot be read ({inner})",
                file=path,
                line=current.start_mark.line + 1,
                fix=hint,
            )
    return InputError.at(f"invalid YAML: {exc}", file=path, fix="fix the value")


_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")


def _plain(part: int | str) -> int | str:
    """A key of the error location as written in the file (pydantic shows date keys as their repr)."""
    if isinstance(part, str):
        match = _DATE_REPR.fullmatch(part)
        if match:
            return dt.date(*(int(g) for g in match.groups())).isoformat()
    return part


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the node at ``loc``, or of its closest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    node = value_node
                    line = key_node.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _fix_for(error_type: str) -> str:
    return {
        "extra_forbidden": "remove this key or check its spelling",
        "missing": "add this key",
    }.get(error_type, "correct the value")


def _named_item(node: yaml.Node | None, loc: tuple[int | str, ...]) -> str | None:
    """The ``id`` of the list item the location is in (``employees[1]`` -> ``cmartin``), if it has one:
    a user knows an employee or a member by its id, not by its rank in the list."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if key.value == "id" and isinstance(value, yaml.ScalarNode):
                        return str(value.value)
        else:
            return None
    return None


def problems_from_validation(path: Path, exc: ValidationError, node: yaml.Node | None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        # Validator and union-tag steps are pydantic's, not keys of the file: drop them.
        loc = tuple(
            _plain(p)
            for p in err["loc"]
            if not (isinstance(p, str) and (p.startswith("function-") or p in FORM_TAGS))
        )
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        named = _named_item(node, loc)
        if named is not None:
            msg += f" (id {named})"
        problems.append(
            Problem(
                msg, file=str(path), line=_line_of(node, loc), key=_key_path(loc), fix=_fix_for(err["type"])
            )
        )
    return problems


@dataclass(frozen=True)
class Located(Generic[M]):
    """A validated file and its YAML node tree, to locate a problem found after validation."""

    value: M
    path: Path
    node: yaml.Node | None

    def line(self, loc: tuple[int | str, ...]) -> int | None:
        """The line of the key at ``loc`` (e.g. ``("members", 3, "identity", "siren")``)."""
        return _line_of(self.node, loc)


def load_located(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> Located[M]:
    """Read ``path`` and validate it as ``model``, keeping the node tree; raise :class:`InputError`."""
    data, node = _read(path)
    if data is None:
        data = {}
    try:
        return Located(model.model_validate(data, context=context), path, node)
    except ValidationError as exc:
        raise InputError(problems_from_validation(path, exc, node)) from None


def load_model(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Read ``path`` and validate it as ``model``; raise :class:`InputError` with located problems."""
    return load_located(path, model, context=context).value
