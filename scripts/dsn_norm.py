"""Write src/eage/payroll/dsn/P26V01.yaml, the DSN norm's structure, from the `dsn-tools` package.

Run it with a Python >= 3.12 that has dsn-tools 0.1.2 installed (the environment ``make`` builds for the
independent check, .venv-dsn):

    .venv-dsn/bin/python scripts/dsn_norm.py            # writes src/eage/payroll/dsn/P26V01.yaml
    .venv-dsn/bin/python scripts/dsn_norm.py --check    # exits 1 when the file differs from what it writes

dsn-tools (PyPI, WTFPL) is generated from the official CT2026 data dictionary, dsn-datatypes-CT2026.xlsx
(net-entreprises.fr, "norme et documentation DSN"). What this script reads of it, and nothing else:

- ``dsn_parser.RUBRIQUE_MAPPING``: the blocks and their rubric numbers;
- ``dsn_parser.BLOCK_HIERARCHY``: each block's parent;
- ``dsn_types``: each block's name (class docstring), each rubric's name and type (the field's comment
  ``# NNN: name (Type)``), each child block with its cardinality (``# name (Sxx.Gxx.xx) [min..max]``, in the
  order the class lists them), and the regular expressions of ``_VALIDATION_RULES``;
- ``enums``: the code lists (an enum per type), values and labels.

Two corrections, both written into the YAML's header:

- dsn-tools writes its regular expressions as raw strings holding a doubled backslash (``r"\\\\.[0-9]{2}"``),
  which as a regex means a literal backslash: "1234.56" would not match an amount. The patterns are written
  here with the backslash once, as the data dictionary gives them.
- A pattern belongs to the rubric's type; dsn-tools attaches it to some of the rubrics of a type only. Every
  type whose rubrics carry one pattern keeps it for all its rubrics (the script stops when two rubrics of a
  type disagree).

Lengths: the data dictionary names the free-text types after their bounds (``Type_Alphanumeric_1-20``,
``Identite_Base_1-80_regex``, ``N4DS_Email_6-100``); those bounds are written as ``min_length``/``max_length``.

A rubric dsn-tools types wrongly is corrected by :data:`TYPE_CORRECTIONS` (with a ``note`` in the YAML): the
lengths and code lists of every rubric were compared with open-neodes' transcription of the same dictionary
(Apache-2.0), which agrees on all but the one corrected.

Which rubrics are mandatory is not in dsn-tools: :data:`MANDATORY` is kept by hand below (the rubrics eage
always writes and that the cahier technique marks mandatory), each block's list marked ``confirmed: false``
where the cahier technique's own page was not read (see the report of issue 15).
"""

from __future__ import annotations

import argparse
import enum
import importlib.metadata
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "src" / "eage" / "payroll" / "dsn" / "P26V01.yaml"
VERSION = "P26V01"
DSN_TOOLS_VERSION = "0.1.2"

#: The envelope: what a file holds at its top level (dsn-tools has no parent for these three).
ROOT: list[tuple[str, int, int | None]] = [
    ("S10.G00.00", 1, 1),
    ("S20.G00.05", 1, None),
    ("S90.G00.90", 1, 1),
]

#: Mandatory rubrics per block, kept by hand (dsn-tools does not carry the cahier technique's "usage" column).
#: Each list holds only rubrics the monthly DSN of an employer under the general scheme always has; the
#: ``confirmed`` flag says whether the list was checked against the cahier technique CT2026 itself (False:
#: taken from the issue's plan and from published files of other software, the CT page not read).
MANDATORY: dict[str, tuple[list[str], bool]] = {
    "S10.G00.00": (["001", "002", "003", "004", "005", "006", "008"], False),
    "S10.G00.01": (["001", "002", "003", "004", "005", "006"], False),
    "S10.G00.02": (["002", "004", "005"], False),
    "S20.G00.05": (["001", "002", "003", "004", "005", "007", "010"], False),
    "S21.G00.06": (["001", "002", "003", "004", "005", "006"], False),
    "S21.G00.11": (
        ["001", "002", "003", "004", "005"],
        False,
    ),  # no .008 in P26V01 (the headcount left the block)
    "S21.G00.20": (["001", "005"], False),
    "S21.G00.22": (["001", "003", "004", "005"], False),
    "S21.G00.23": (["001", "002", "005"], False),
    "S21.G00.30": (["001", "002", "004", "005", "006", "007"], False),
    "S21.G00.40": (
        [
            "001",
            "002",
            "003",
            "007",
            "009",
            "011",
            "012",
            "013",
            "014",
            "016",
            "017",
            "018",
            "019",
            "020",
            "024",
            "026",
            "036",
            "037",
            "039",
            "040",
        ],
        False,
    ),
    "S21.G00.50": (["001", "002", "004"], False),
    "S21.G00.51": (["001", "002", "010", "011", "013"], False),
    "S21.G00.78": (["001", "002", "003", "004"], False),
    "S21.G00.81": (["001", "004"], False),
    "S90.G00.90": (["001", "002"], True),  # the file's totals: the block has nothing else
}

#: Rubrics whose type dsn-tools transcribes wrongly, with the type used instead and why. Found by comparing
#: every rubric's length and code list with a second transcription of the same dictionary, open-neodes
#: (github.com/Jikenlabs/open-neodes, Apache-2.0, norm-P26V01.yaml): they agree on all the others.
TYPE_CORRECTIONS: dict[str, tuple[str, str]] = {
    "S21.G00.70.012": (
        "Type_Alphanumeric_1_3_regex",
        "dsn-tools types it Type_Alphanumeric_5-5_regex (5 characters exactly); open-neodes gives 3 at most, "
        "as for the same identifier in S21.G00.78.005, and published files write '1' (open-neodes' test "
        "file sample_dsn_P25V01.dsn)",
    ),
}

_RUBRIC_COMMENT = re.compile(r"#\s*(\d{3}): (.*)$", re.M)
_CHILD_COMMENT = re.compile(r"#\s*(.*?) \((S\d\d\.G\d\d\.\d\d)\) \[(\d+)\.\.(\d+|\*)\]")
_LENGTH_TYPE = re.compile(r"^(?:Type_Alphanumeric|Identite_Base|N4DS_Email)_(\d+)[-_](\d+)(?:_regex)?$")


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, long texts kept on one line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # A code that starts with a digit ("008", "1e3") is quoted: eage's strict loader refuses a plain
    # scalar that reads as a number.
    style = "'" if value[:1].isdigit() or value[:1] in "+-." else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _split_type(comment: str) -> tuple[str, str]:
    """``Date de naissance (N4DS_DDN) [REQUIRED]`` -> (name, type): the last parenthesised group is the type."""
    text = comment.replace("[REQUIRED]", "").strip()
    match = re.match(r"^(.*)\(([^()]*)\)\s*$", text)
    if not match:
        raise SystemExit(f"cannot read the type of the rubric comment {comment!r}")
    return " ".join(match.group(1).split()), match.group(2).strip()


def _undouble(pattern: str) -> str:
    """dsn-tools' patterns hold ``\\\\`` where the regex means ``\\`` (see the module's docstring)."""
    return pattern.replace("\\\\", "\\")


def _enum_codes(enum_class: type[enum.Enum]) -> dict[str, str]:
    codes: dict[str, str] = {}
    for member in enum_class:
        value = str(member.value)
        describe = getattr(member, "get_description", None)
        label = describe() if callable(describe) else member.name
        codes[value] = " ".join(str(label).split())
    return codes


def build() -> dict[str, Any]:
    """The norm's structure as the YAML file holds it."""
    import dsn_tools.dsn_types as types_module  # type: ignore[import-not-found]
    import dsn_tools.enums as enums_module  # type: ignore[import-not-found]
    from dsn_tools.dsn_parser import (  # type: ignore[import-not-found]
        BLOCK_HIERARCHY,
        RUBRIQUE_MAPPING,
    )

    installed = importlib.metadata.version("dsn-tools")
    if installed != DSN_TOOLS_VERSION:
        raise SystemExit(f"dsn-tools {DSN_TOOLS_VERSION} is expected, {installed} is installed")

    blocks: dict[str, Any] = {}
    type_patterns: dict[str, set[str]] = {}
    type_names: set[str] = set()
    children_of: dict[str, list[tuple[str, int, int | None]]] = {}
    for block_id, rubric_fields in RUBRIQUE_MAPPING.items():
        cls = getattr(types_module, block_id.replace(".", "_"))
        source = inspect.getsource(cls)
        doc = (cls.__doc__ or "").strip()
        name = re.sub(r"\s*\(S\d\d\.G\d\d\.\d\d\)$", "", doc)
        if name == block_id:
            name = {"S10.G00.00": "Envoi", "S20.G00.05": "Déclaration", "S90.G00.90": "Total de l'envoi"}.get(
                block_id, name
            )
        typed: dict[str, tuple[str, str]] = {}
        for match in _RUBRIC_COMMENT.finditer(source):
            typed[match.group(1)] = _split_type(match.group(2))
        rules: dict[str, tuple[str, str]] = cls.__dict__.get("_VALIDATION_RULES", {})
        rubrics: dict[str, Any] = {}
        for number in sorted(rubric_fields):
            field_name = rubric_fields[number]
            if number not in typed:
                raise SystemExit(f"{block_id}.{number}: no type in dsn_types")
            rubric_name, type_name = typed[number]
            rubrics[number] = {"name": rubric_name, "type": type_name}
            correction = TYPE_CORRECTIONS.get(f"{block_id}.{number}")
            if correction is not None:
                type_name = correction[0]
                rubrics[number] = {"name": rubric_name, "type": type_name, "note": correction[1]}
            type_names.add(type_name)
            if field_name in rules:
                type_patterns.setdefault(type_name, set()).add(_undouble(rules[field_name][0]))
        children = [
            (match.group(2), int(match.group(3)), None if match.group(4) == "*" else int(match.group(4)))
            for match in _CHILD_COMMENT.finditer(source)
        ]
        children_of[block_id] = children
        blocks[block_id] = {"name": name, "rubrics": rubrics}

    cardinality: dict[str, tuple[int, int | None]] = {}
    for parent, children in children_of.items():
        for child, low, high in children:
            if BLOCK_HIERARCHY.get(child) != parent:
                raise SystemExit(f"{child} is listed under {parent} but dsn-tools' hierarchy says otherwise")
            cardinality[child] = (low, high)
    for block_id, _low, _high in ROOT:
        if block_id in BLOCK_HIERARCHY:
            raise SystemExit(
                f"{block_id} has a parent in dsn-tools: the envelope is not what this script expects"
            )

    out_blocks: dict[str, Any] = {}
    for block_id in sorted(blocks):
        entry = blocks[block_id]
        parent = BLOCK_HIERARCHY.get(block_id)
        if parent is None and block_id not in {b for b, _, _ in ROOT}:
            raise SystemExit(f"{block_id} has no parent")
        low, high = cardinality[block_id] if parent else next((lo, hi) for b, lo, hi in ROOT if b == block_id)
        item: dict[str, Any] = {"name": entry["name"], "parent": parent, "min": low, "max": high}
        item["children"] = [child for child, _, _ in children_of.get(block_id, [])]
        if block_id in MANDATORY:
            numbers, confirmed = MANDATORY[block_id]
            unknown = [n for n in numbers if n not in entry["rubrics"]]
            if unknown:
                raise SystemExit(f"{block_id}: mandatory rubrics {unknown} are not in the norm")
            item["mandatory"] = numbers
            item["mandatory_confirmed"] = confirmed
        item["rubrics"] = entry["rubrics"]
        out_blocks[block_id] = item

    out_types: dict[str, Any] = {}
    for type_name in sorted(type_names):
        spec: dict[str, Any] = {}
        patterns = type_patterns.get(type_name, set())
        if len(patterns) > 1:
            raise SystemExit(f"type {type_name} has {len(patterns)} different patterns in dsn-tools")
        if patterns:
            spec["pattern"] = next(iter(patterns))
        length = _LENGTH_TYPE.match(type_name)
        if length:
            spec["min_length"], spec["max_length"] = int(length.group(1)), int(length.group(2))
        enum_class = getattr(enums_module, type_name, None)
        if isinstance(enum_class, type) and issubclass(enum_class, enum.Enum):
            spec["codes"] = _enum_codes(enum_class)
        out_types[type_name] = spec

    return {
        "version": VERSION,
        "source": {
            "dictionary": "dsn-datatypes-CT2026.xlsx (cahier technique DSN 2026, net-entreprises.fr)",
            "transcription": f"dsn-tools {DSN_TOOLS_VERSION} (PyPI, license WTFPL)",
            "script": "scripts/dsn_norm.py",
        },
        "root": [{"block": b, "min": lo, "max": hi} for b, lo, hi in ROOT],
        "blocks": out_blocks,
        "types": out_types,
    }


HEADER = f"""\
# The DSN norm {VERSION} (cahier technique 2026): blocks, nesting and cardinalities, rubrics and their types,
# the types' patterns, lengths and code lists.
#
# GENERATED by scripts/dsn_norm.py — do not edit by hand; regenerate with
#   .venv-dsn/bin/python scripts/dsn_norm.py
# Source: the official data dictionary dsn-datatypes-CT2026.xlsx as transcribed in the PyPI package
# dsn-tools {DSN_TOOLS_VERSION} (license WTFPL: "do what the fuck you want to public license", which allows
# this copy). Corrections made by the script (see its docstring): patterns written with a single backslash
# (dsn-tools doubles it), a type's pattern applied to every rubric of the type, free-text lengths read from
# the type's name, one rubric's type corrected (its `note` says why; the lengths and code lists of all the
# others agree with open-neodes' own transcription of the dictionary). `mandatory` lists are kept by hand
# in the script (dsn-tools does not carry them);
# `mandatory_confirmed: false` means the cahier technique's own page was not read for that block.
# Block order under a parent is dsn-tools' (the order of the dictionary); open-neodes (Apache-2.0,
# norm-P26V01.yaml) agrees on every block a monthly DSN of eage holds but lists S21.G00.44 and S21.G00.82
# after S21.G00.30 (not confirmed either way; eage writes neither).
"""


def render() -> str:
    body = yaml.dump(build(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the file in the repository")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(REPO)} differs from what scripts/dsn_norm.py writes", file=sys.stderr)
            return 1
        print(f"{TARGET.relative_to(REPO)} is up to date")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
