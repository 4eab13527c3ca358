"""Read a DSN file with the independent parser `dsn-tools` and print a JSON summary; exit 0 only when clean.

    .venv-dsn/bin/python scripts/dsn_tools_check.py reports/dsn/2026-01.dsn

Runs under .venv-dsn (Python >= 3.12, requirements-dsn-tools.txt; `make test` builds it). Prints
``{"ok": bool, "errors": [...], "declarations": n, "individus": n, "rubrics": n, "blocks": n}``.

What is checked, all by dsn-tools 0.1.2 itself:

1. the file decodes as ISO-8859-1 and parses with dsn-tools' Lark grammar
   (``parse_dsn(text, grammar_path=..., validate=True)``: the envelope's own values, S10.G00.00, S20.G00.05
   and S90.G00.90, against their patterns and code lists);
2. ``message.validate(strict=False)``, the same at the message level;
3. every block of the tree dsn-tools builds, recursively (dsn-tools' ``DSNMessage.validate`` stops at the
   envelope): each block's ``validate`` (patterns and code lists), and each field's code list read from its
   annotation (dsn-tools skips it on blocks with children, see :func:`_code_list_errors`). dsn-tools' patterns are raw strings with
   a doubled backslash (``\\\\.`` where the dictionary means ``\\.``, so that no amount would ever match):
   an error on such a pattern is kept only when the value fails the pattern with the backslash once too;
4. every block of the file found its place in dsn-tools' tree (dsn-tools silently drops a block whose
   parent is not open: a block under the wrong parent, or out of order, is such a block): the rubrics the
   tree holds must be as many as the file's lines.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import sys
from pathlib import Path
from typing import Any


def _blocks(node: Any) -> list[Any]:
    """Every block of dsn-tools' tree under ``node`` (``node`` included), depth first."""
    from dsn_tools.dsn_types import DSNBlock  # type: ignore[import-not-found]

    out: list[Any] = []
    stack = [node]
    while stack:
        block = stack.pop()
        out.append(block)
        for field in dataclasses.fields(block):
            value = getattr(block, field.name, None)
            items = value if isinstance(value, list) else [value]
            stack.extend(item for item in reversed(items) if isinstance(item, DSNBlock))
    return out


def _rubric_count(block: Any) -> int:
    from dsn_tools.dsn_parser import RUBRIQUE_MAPPING  # type: ignore[import-not-found]

    mapping = RUBRIQUE_MAPPING.get(type(block).block_id, {})
    return sum(1 for name in mapping.values() if getattr(block, name, None) not in (None, ""))


def _code_list_errors(block: Any) -> list[str]:
    """Values outside the field's code list (dsn-tools' enum of the field's annotation).

    dsn-tools' own enum check resolves the annotations with ``typing.get_type_hints``, which fails on every
    block that has child blocks (``"S21_G00_11" | None`` is not an expression Python can evaluate): it then
    skips the check. The same check is made here from the annotation's text.
    """
    import dsn_tools.enums as enums  # type: ignore[import-not-found]

    cls = type(block)
    errors: list[str] = []
    for field in dataclasses.fields(block):
        annotation = str(field.type).replace(" | None", "").strip()
        enum_class = getattr(enums, annotation, None)
        if not (isinstance(enum_class, type) and issubclass(enum_class, enum.Enum)):
            continue
        value = getattr(block, field.name, None)
        if value is None:
            continue
        raw = value.value if isinstance(value, enum.Enum) else value
        allowed = [member.value for member in enum_class]
        if raw not in allowed:
            errors.append(
                f"{cls.__name__}.{field.name}: '{raw}' n'est pas une valeur valide pour {annotation}. "
                f"Valeurs attendues: {', '.join(allowed)}"
            )
    return errors


def _block_errors(block: Any) -> list[str]:
    """dsn-tools' errors for one block, without those its doubled backslashes alone make, and the code
    lists dsn-tools fails to check (:func:`_code_list_errors`)."""
    cls = type(block)
    rules: dict[str, tuple[str, str]] = getattr(cls, "_VALIDATION_RULES", {})
    kept: list[str] = []
    for error in block.validate(strict=False):
        field_name = error.split(":", 1)[0].split(".", 1)[-1]
        pattern = rules.get(field_name, ("", ""))[0]
        if "\\\\" in pattern:
            value = getattr(block, field_name, None)
            fixed = pattern.replace("\\\\", "\\")
            try:
                if value is not None and re.fullmatch(fixed, str(value)):
                    continue
            except re.error:
                pass
        kept.append(f"{cls.block_id}: {error}")
    for error in _code_list_errors(block):
        if f"{cls.block_id}: {error}" not in kept:
            kept.append(f"{cls.block_id}: {error}")
    return kept


def check(path: Path) -> dict[str, Any]:
    from dsn_tools.dsn_parser import parse_dsn

    import dsn_tools

    grammar = Path(dsn_tools.__file__).with_name("dsn.lark")
    try:
        text = path.read_bytes().decode("iso-8859-1")
    except OSError as exc:
        return {"ok": False, "errors": [f"{path}: {exc.strerror or exc}"], "declarations": 0, "individus": 0}
    lines = [line for line in text.splitlines() if line.strip()]
    errors: list[str] = []
    try:
        message = parse_dsn(text, grammar_path=str(grammar), validate=True)
    except ValueError as exc:  # validate=True raises the envelope's errors at once
        errors.extend(
            line for line in str(exc).splitlines() if line and not line.startswith("Validation errors")
        )
        message = parse_dsn(text, grammar_path=str(grammar), validate=False)
    except Exception as exc:  # the grammar refused the text: a parse error of any kind
        return {
            "ok": False,
            "errors": [f"parse: {type(exc).__name__}: {exc}"],
            "declarations": 0,
            "individus": 0,
        }
    for error in message.validate(strict=False):
        if error not in errors:
            errors.append(error)

    roots = [message.header, *message.declarations, *([message.footer] if message.footer else [])]
    blocks = [block for root in roots for block in _blocks(root)]
    seen = set(errors)
    for block in blocks:
        for error in _block_errors(block):
            if error.split(": ", 1)[1] not in seen:
                errors.append(error)
    placed = sum(_rubric_count(block) for block in blocks)
    if placed != len(lines):
        errors.append(
            f"dsn-tools placed {placed} of the file's {len(lines)} rubrics in its tree: a block is under the "
            "wrong parent, out of order or unknown"
        )
    individus = sum(1 for block in blocks if type(block).block_id == "S21.G00.30")
    return {
        "ok": not errors,
        "errors": errors,
        "declarations": len(message.declarations),
        "individus": individus,
        "rubrics": len(lines),
        "blocks": len(blocks),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: dsn_tools_check.py FILE", file=sys.stderr)
        return 2
    summary = check(Path(argv[0]))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
