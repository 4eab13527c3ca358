"""The layers of src/eage, read from the imports themselves (``ast``, nothing is imported).

- no import circle among eage's modules (a function-level import counts: it is a dependency too);
- ``eage.commands.*`` only parse, call the application layer and print: of eage they import the app
  layer, errors, output, money and months (and each other, for shared argument parsers);
- the functional core never imports the application layer or the command line;
- only ``eage.ledger``, ``eage.plugins`` and ``eage.fava_ext`` import Beancount (or beanquery).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

#: What a command module may import of eage (``eage.rules.dated``: ``--date`` is read as the rules read a
#: day, YYYY-MM-DD only).
COMMAND_ALLOWED = (
    "eage.app",
    "eage.errors",
    "eage.cli_output",
    "eage.money",
    "eage.month",
    "eage.commands",
    "eage.rules.dated",
)
#: Where Beancount may be imported.
BEANCOUNT_HOMES = ("eage.ledger", "eage.plugins", "eage.fava_ext")
#: The shell, above the core: the core imports none of it.
SHELL = ("eage.app", "eage.commands", "eage.cli", "eage.cli_output")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "eage").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports (absolute names), at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            # ``from eage.app import close``: the submodule is imported too.
            yield from (
                f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in MODULES
            )


def _within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


IMPORTS = {name: sorted(set(_imports(name, path))) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph = {name: [m for m in deps if m in MODULES and m != name] for name, deps in IMPORTS.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if child < len(graph[node]):
                work.append((node, child + 1))
                nxt = graph[node][child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_there_is_no_import_circle() -> None:
    assert _cycles() == []


def test_commands_only_parse_call_the_app_layer_and_print() -> None:
    wrong = {
        name: [m for m in deps if m.startswith("eage") and not _within(m, COMMAND_ALLOWED)]
        for name, deps in IMPORTS.items()
        if _within(name, ("eage.commands",))
    }
    assert {name: deps for name, deps in wrong.items() if deps} == {}


def test_the_core_does_not_import_the_shell() -> None:
    core = [name for name in MODULES if not _within(name, (*SHELL, "eage.fava_ext"))]
    wrong = {name: [m for m in IMPORTS[name] if _within(m, SHELL)] for name in core}
    assert {name: deps for name, deps in wrong.items() if deps} == {}


def test_only_the_ledger_layer_imports_beancount() -> None:
    outside = {
        name
        for name, deps in IMPORTS.items()
        if not _within(name, BEANCOUNT_HOMES) and any(_within(m, ("beancount", "beanquery")) for m in deps)
    }
    assert sorted(outside) == []


def test_the_checks_see_every_module() -> None:
    """The walk finds the packages this test is about (a moved tree would make it pass vacuously)."""
    assert {"eage.app.run", "eage.commands.run", "eage.ledger.load", "eage.month"} <= set(MODULES)
