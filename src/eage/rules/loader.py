"""Loading YAML rules into pydantic models, with errors that name the file, the key path and the line.

YAML is read with the safe loader only. The node tree is kept so that a pydantic error at
``members[3].siren`` can be reported with the line it stands on.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from eage.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)
# libyaml's safe loader when available (10x faster); both only build plain types, never objects.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.at("file not found", file=path, fix="create it (see `eage init`)") from None
    except UnicodeDecodeError as exc:
        raise InputError.at(
            f"not valid UTF-8 ({exc.reason} at byte {exc.start})", file=path, fix="save the file as UTF-8"
        ) from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            _refuse_duplicate_keys(node, path)
            try:
                data = loader.construct_document(node) if node is not None else None
            except (ValueError, TypeError, OverflowError) as exc:
                # The safe loader's own scalars can fail to build: 2026-02-30 matches YAML's date pattern.
                raise _unbuildable_scalar(node, path, exc) from None
        finally:
            loader.dispose()
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


def problems_from_validation(path: Path, exc: ValidationError, node: yaml.Node | None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(_plain(p) for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        problems.append(
            Problem(
                msg, file=str(path), line=_line_of(node, loc), key=_key_path(loc), fix=_fix_for(err["type"])
            )
        )
    return problems


def load_model(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Read ``path`` and validate it as ``model``; raise :class:`InputError` with located problems."""
    data, node = _read(path)
    if data is None:
        data = {}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(problems_from_validation(path, exc, node)) from None
