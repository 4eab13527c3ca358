"""``eage init DIR``: start a new group's books, whose first month runs once its placeholders are filled in.

The group-specific files (identity, members, staff, bank layout, budget, a README.md saying what to edit
first) come from a skeleton whose placeholder values pass validation and are marked « À COMPLÉTER »:
``eage check`` and ``eage run --dry-run`` warn about them and the real run issues no document until they
are replaced (:func:`eage.app.placeholders.placeholder_problems`). The law and the chart (payroll parameters, VAT
regimes, allocation pools, accounts, fees) are copied from the rules shipped with eage, so a new group
starts from the same referenced values as the demo.

The folder is built beside its target under a temporary name (each file flushed to disk) and renamed into
place at the end: an error (or a crash) leaves no half-made folder, only, after a crash, the temporary one,
which the next init removes. The command holds the lock of the target's parent folder (eage.cli).
"""

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
