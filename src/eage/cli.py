"""The ``eage`` command: parse the arguments, call the command, print; no business logic here.

Each subcommand lives in ``eage.commands.<name>`` with ``HELP``, ``register(parser)`` and ``run(args)``.
Command modules import their heavy dependencies inside ``run`` so that ``eage --help`` stays fast.
Exit codes (contract): 0 success, 1 invalid input (a located message, no traceback), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

from eage.errors import InputError, UsageError

# Commands that write into the group's folder, and when (contract: every writer takes the folder's lock; the
# read-only forms — check, --dry-run, fava, payslip, fec --check — never do).
WRITERS: dict[str, Callable[[argparse.Namespace], bool]] = {
    "run": lambda a: not a.dry_run,
    "credit-note": lambda a: not a.dry_run,
    "close": lambda a: not a.dry_run,
    "fees": lambda a: not a.dry_run,
    "import-bank": lambda a: not a.dry_run,
    "budget": lambda a: True,
    "fec": lambda a: a.check is None,
    "init": lambda a: True,
    "charges": lambda a: True,
    "dsn": lambda a: True,
}

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
    "charges": "charges",
    "dsn": "dsn",
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


def _nearest_folder(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (``eage init`` locks the folder it creates the group in, so
    that two inits of one folder run one after the other, and the second finds the folder taken)."""
    for candidate in (path, *path.absolute().parents):
        if candidate.is_dir():
            return candidate
    return Path("/")


def _never(args: argparse.Namespace) -> bool:
    return False


def _say(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


@contextlib.contextmanager
def _guarded(args: argparse.Namespace, argv: Sequence[str]) -> Iterator[None]:
    """Around a command: the folder's lock for a writer, and recovery of an interrupted commit for every one."""
    from eage.ledger import lock, store

    writes: bool = WRITERS.get(args.command, _never)(args)
    if args.command == "init":
        parent = _nearest_folder(args.directory.absolute().parent)
        with lock.exclusive(parent, "eage " + " ".join(argv), holder_file=False):
            yield
        return
    root: Path = args.root
    lock.check_root(root)
    if writes:
        with lock.exclusive(root, "eage " + " ".join(argv)):
            _say(store.recover(root))
            yield
        return
    if root.is_dir() and (store.needs_recovery(root) or (root / lock.HOLDER_FILE).exists()):
        with lock.try_exclusive(root) as held:
            if held:
                (root / lock.HOLDER_FILE).unlink(missing_ok=True)  # its writer is gone: the lock was free
                _say(store.recover(root))
    yield


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with _guarded(args, argv):
            code: int = args._run(args)
    except OSError as exc:
        from eage.ledger.lock import os_problem

        print(f"error: {os_problem(exc)}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return 1
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
