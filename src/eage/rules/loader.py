"""Loading YAML rules into pydantic models, with errors that name the file, the key path and the line.

YAML is read with the safe loader only. The node tree is kept so that a pydantic error at
``members[3].siren`` can be reported with the line it stands on.
"""

from __future__ import annotations

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
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError.at(f"invalid YAML: {problem}", file=path, line=line, fix="fix the syntax") from None
    return data, node


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
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
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
