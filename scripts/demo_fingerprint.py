"""Rebuild the demo from scratch in a temporary folder and print the sha256 of every file it generates.

    python scripts/demo_fingerprint.py [--through 2026-11] [--out FILE]

The demo's inputs (rules/, the hand-written ledger files, timesheets, payroll variables) are taken as the
working tree has them; everything eage generates (ledger/generated/, ledger/bank/, reports/) is rebuilt with
the checkout's own code by ``scripts/build_demo.py``, then the last month is run with ``eage run``. Two
checkouts that print the same lines generate byte-identical books and documents: this is how a refactoring
shows it changed no output (run it in each checkout, then ``diff`` the two files).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from eage.month import Month

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("rules", "ledger", "reports")


def fingerprint(group: Path) -> list[str]:
    """``sha256  relative/path`` for every file under ``group`` except rules/ (an input), sorted."""
    lines = []
    for path in sorted(p for p in group.rglob("*") if p.is_file()):
        rel = path.relative_to(group).as_posix()
        if rel.startswith("rules/"):
            continue
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {rel}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--through", default="2026-11", help="last month run (YYYY-MM); the demo ships 2026-10"
    )
    parser.add_argument("--out", type=Path, help="write the lines to FILE rather than to standard output")
    args = parser.parse_args()
    through = Month.parse(args.through)
    year, last = str(through.year), through.number
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
    with tempfile.TemporaryDirectory(prefix="eage-fingerprint-") as scratch:
        group = Path(scratch) / "group"
        for name in INPUTS:
            shutil.copytree(ROOT / name, group / name)
        built_through = f"{year}-{min(last, 10):02d}"
        steps = [
            [
                sys.executable,
                str(ROOT / "scripts" / "build_demo.py"),
                "--root",
                str(group),
                "--through",
                built_through,
            ]
        ]
        steps += [
            [sys.executable, "-m", "eage.cli", "run", f"{year}-{month:02d}", "--root", str(group)]
            for month in range(11, last + 1)
        ]
        for step in steps:
            done = subprocess.run(step, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(
                    f"failed ({done.returncode}): {' '.join(step)}\n{done.stdout}{done.stderr}",
                    file=sys.stderr,
                )
                return 1
        text = "\n".join(fingerprint(group)) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
