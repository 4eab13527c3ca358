"""Placeholder identities: what ``eage init`` leaves marked « À COMPLÉTER » in rules/.

A folder made by ``eage init`` carries placeholder identities in rules/group.yaml, members.yaml and
staff.yaml: a dry run and ``eage check`` warn about them (:func:`placeholder_problems`), and no real
document is issued while one is left (:func:`refuse_placeholders`).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from eage.errors import InputError, Problem

PLACEHOLDER = "À COMPLÉTER"
#: The mark, with or without accents, in any case: a value or a comment on the key's line.
_PLACEHOLDER_MARK = re.compile(r"[AÀ] +COMPL[EÉ]TER", re.IGNORECASE)
PLACEHOLDER_FILES = ("group.yaml", "members.yaml", "staff.yaml", "payroll/contracts.yaml", "dsn.yaml")
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def placeholder_problems(root: Path) -> list[Problem]:
    """Every identity value still marked « À COMPLÉTER » in rules/group.yaml, members.yaml, staff.yaml.

    The mark is read from the raw YAML (the models know nothing of it): in a value, or in a comment on
    the line of its key (``siren: "123456782"  # À COMPLÉTER``), so a placeholder that has to pass the
    models (a Luhn-valid SIREN, an IBAN) is marked too. Comment lines of their own are not read. A file
    that cannot be read or parsed is skipped: loading the rules reports it.
    """
    problems: list[Problem] = []
    for name in PLACEHOLDER_FILES:
        rel = f"rules/{name}"
        try:
            text = (root / rel).read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=_SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        lines = text.splitlines()
        for key_path, key_node, value_node in _keyed_nodes(node, ()):
            line = key_node.start_mark.line
            if isinstance(value_node, yaml.ScalarNode) and value_node.end_mark.line == line:
                tail = lines[line][value_node.end_mark.column :] if line < len(lines) else ""
            else:
                tail = lines[line][key_node.end_mark.column :] if line < len(lines) else ""
            comment = tail.partition("#")[2] if "#" in tail else ""
            value = value_node.value if isinstance(value_node, yaml.ScalarNode) else ""
            if _PLACEHOLDER_MARK.search(str(value)) or _PLACEHOLDER_MARK.search(comment):
                problems.append(
                    Problem(
                        f"placeholder value (marked « {PLACEHOLDER} »)",
                        file=rel,
                        line=line + 1,
                        key=key_path,
                        fix="write the real value and remove the mark",
                    )
                )
    return problems


def _keyed_nodes(node: yaml.Node | None, path: tuple[str, ...]) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key path, key node, value node) of every mapping entry under ``node``, in file order.

    A node shared through YAML aliases is walked once: a file of nested aliases stays linear.
    """
    out: list[tuple[str, yaml.Node, yaml.Node]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node | None, tuple[str, ...]]] = [(node, path)]
    while stack:
        current, here = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        children: list[tuple[yaml.Node | None, tuple[str, ...]]] = []
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                part = str(key_node.value)
                below = (*here, f".{part}" if here else part)
                out.append(("".join(below), key_node, value_node))
                children.append((value_node, below))
        elif isinstance(current, yaml.SequenceNode):
            children = [(item, (*here, f"[{index}]")) for index, item in enumerate(current.value)]
        stack += reversed(children)
    out.sort(key=lambda item: (item[1].start_mark.line, item[1].start_mark.column))
    return out


def refuse_placeholders(root: Path) -> None:
    """Refuse to issue real documents while an identity is still a placeholder, naming each value."""
    problems = placeholder_problems(root)
    if problems:
        head = Problem(
            f"{len(problems)} identity value(s) are still placeholders: no invoice or payslip is issued "
            "until they are replaced",
            fix="fill in the values below (the folder's README.md says what to edit first)",
        )
        raise InputError([head, *problems])
