"""Classify every case of the bad-input catalogue against an eage source tree: clean, unlocated, traceback, silent.

    .venv/bin/python scripts/catalogue_report.py                    # the installed eage
    .venv/bin/python scripts/catalogue_report.py --src /old/src     # another tree (e.g. a worktree of an old commit)

Each case (tests/catalogue/*.yaml) is applied to a fresh copy of the committed demo and its command run as a
real ``python -m eage.cli`` process. The verdict:

- ``traceback``: the process printed a Python traceback (or died of a signal);
- ``silent``: it exited 0, or changed the group's files although it refused: bad input accepted;
- ``unlocated``: it refused, but the message lacks what the case expects (the file, the line or key, the fix),
  or the exit code is not the expected one;
- ``clean``: the expected exit code, every expected substring, no traceback, nothing written.

Prints one line per case that is not clean, then the counts; ``--json`` prints the counts as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import copy_demo, tree_digest  # noqa: E402
from test_catalogue import CASES, Case, apply, command_line  # noqa: E402


def verdict(case: Case, root: Path, env: dict[str, str]) -> str:
    apply(case, root)
    before = tree_digest(root.parent)
    done = subprocess.run(
        [sys.executable, "-m", "eage.cli", *command_line(case, root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    shown = done.stdout + done.stderr
    if "Traceback" in done.stderr or done.returncode < 0:
        return "traceback"
    if done.returncode == 0 or tree_digest(root.parent) != before:
        return "silent"
    if done.returncode != case.exit or not all(needle in shown for needle in case.expect):
        return "unlocated"
    return "clean"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--src", type=Path, help="the src/ folder of the eage to classify (default: installed)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--without-plugin",
        action="store_true",
        help="drop the eage plugin line from the demo's main.beancount (for a tree older than the plugin)",
    )
    args = parser.parse_args()
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1", "COLUMNS": "200"}
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="eage-catalogue-") as tmp:
        pristine = copy_demo(Path(tmp) / "pristine")
        if args.without_plugin:
            main_path = pristine / "ledger" / "main.beancount"
            kept = main_path.read_text(encoding="utf-8").splitlines(keepends=True)
            main_path.write_text(
                "".join(ln for ln in kept if not ln.startswith('plugin "eage.')), encoding="utf-8"
            )
        for index, case in enumerate(CASES):
            work = Path(tmp) / f"case{index}"
            root = work / "group"
            work.mkdir()
            shutil.copytree(pristine, root)
            found = verdict(case, root, env)
            counts[found] += 1
            if found != "clean" and not args.json:
                print(f"{found:<10} {case.id}")
            shutil.rmtree(work, ignore_errors=True)
    total = sum(counts.values())
    if args.json:
        print(
            json.dumps(
                {"cases": total, **{k: counts[k] for k in ("clean", "unlocated", "traceback", "silent")}}
            )
        )
    else:
        print(
            f"{total} cases: {counts['clean']} clean, {counts['unlocated']} unlocated, "
            f"{counts['traceback']} traceback, {counts['silent']} silent"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
