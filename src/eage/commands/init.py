"""``eage init DIR``: parse the arguments and call :mod:`eage.app.init` (what it builds and why is said there)."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "create a new group's folder (rules/, ledger/, reports/, README.md) to fill in, then run"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="the new group's folder (must not exist or be empty)")
    parser.add_argument(
        "--name", help="the group's legal name (rules/group.yaml identity.name, main.beancount's title)"
    )


def run(args: argparse.Namespace) -> int:
    from eage.app.init import create_group

    target: Path = args.directory
    create_group(target, args.name)
    print(
        f"Created {target}: read {target / 'README.md'} first (values marked « À COMPLÉTER »), then `eage check`."
    )
    return 0
