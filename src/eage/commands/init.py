"""``eage init DIR``: start a new group's books that pass ``eage check`` right away.

The group-specific files (identity, members, staff) come from a skeleton with placeholders; the law
and the chart (payroll parameters, VAT regimes, allocation pools, accounts, fees) are copied from the
rules shipped with eage, so a new group starts from the same referenced values as the demo.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from eage.errors import InputError

HELP = "create a new group's folder (rules/, ledger/, reports/) that passes `eage check`"

SKELETON = Path(__file__).resolve().parent.parent / "skeleton"
SHIPPED_RULES = Path(__file__).resolve().parents[3] / "rules"
LAW_FILES = ("allocation.yaml", "accounts.yaml", "vat.yaml", "fees.yaml", "payroll")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="the new group's folder (must not exist or be empty)")
    parser.add_argument("--name", help="the group's name (written into main.beancount's title)")


def run(args: argparse.Namespace) -> int:
    from eage.ledger.store import PendingFile, commit

    target: Path = args.directory
    if target.exists() and any(target.iterdir()):
        raise InputError.at(
            "the folder is not empty", file=target, fix="choose a new folder; init never overwrites books"
        )
    if not (SHIPPED_RULES / "payroll").is_dir():
        raise InputError.at(
            "the rules shipped with eage are not found",
            file=SHIPPED_RULES,
            fix="install eage from its source tree (make run / pip install -e .)",
        )
    files: list[PendingFile] = []
    for path in sorted((SKELETON / "rules").glob("*.yaml")):
        files.append(PendingFile(target / "rules" / path.name, path.read_bytes()))
    for name in LAW_FILES:
        source = SHIPPED_RULES / name
        paths = sorted(source.rglob("*.yaml")) if source.is_dir() else [source]
        for path in paths:
            rel = path.relative_to(SHIPPED_RULES)
            files.append(PendingFile(target / "rules" / rel, path.read_bytes()))
    title = args.name or "Nouveau groupement d'employeurs"
    for path in sorted((SKELETON / "ledger").glob("*.beancount")):
        text = path.read_text(encoding="utf-8").replace("GROUP_NAME", title.replace('"', "'"))
        files.append(PendingFile(target / "ledger" / path.name, text.encode("utf-8")))
    files.append(PendingFile(target / "ledger" / "timesheets" / ".keep", b""))
    files.append(PendingFile(target / "reports" / ".keep", b""))
    commit(files)
    print(f"Created {target}: edit rules/*.yaml, add ledger/timesheets/YYYY-MM.csv, then `eage check`.")
    return 0
