"""The ``eage`` command: parse the arguments, call the command, print; no business logic here.

Each subcommand lives in ``eage.commands.<name>`` with ``HELP``, ``register(parser)`` and ``run(args)``.
Command modules import their heavy dependencies inside ``run`` so that ``eage --help`` stays fast.
Exit codes (contract): 0 success, 1 invalid input (a located message, no traceback), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from eage.errors import InputError, UsageError

COMMANDS = {
    "check": "check",
    "run": "run",
    "init": "init",
    "payslip": "payslip",
    "credit-note": "credit_note",
    "close": "close",
    "fees": "fees",
    "budget": "budget",
    "fec": "fec",
    "import-bank": "import_bank",
    "fava": "fava",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def _load(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"eage.commands.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"eage.commands.{module}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="eage", description="Accounting and payroll engine of an employer group.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module_name in COMMANDS.items():
        module = _load(module_name)
        if module is None:
            continue
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        cmd.add_argument(
            "--root",
            type=Path,
            default=Path(os.environ.get("EAGE_ROOT", ".")),
            help="folder holding rules/, ledger/ and reports/ (default: current directory)",
        )
        module.register(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        code: int = args._run(args)
    except InputError as exc:
        root = getattr(args, "root", None)
        shown = [p.relative_to(root) if isinstance(root, Path) else p for p in exc.problems]
        print("error: " + ("\n  ".join(str(p) for p in shown)), file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
