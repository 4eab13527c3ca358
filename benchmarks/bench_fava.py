"""The eage pages in Fava beside Fava's own income statement, on a synthetic group.

    python benchmarks/bench_fava.py ROOT [--members 300 --staff 60 --years 10] [--requests 2] [--time 2026]

ROOT is a group folder; when it does not exist it is generated first (``benchmarks/generate.py``, which
takes long for a large group: 300 members, 60 staff and 10 years of history is the issue's reference).
The ledger is loaded once (``create_app(..., load=True)``: Fava's load plus every extension's
``after_load_file``, timed on its own line, with eage's ``after_load_file`` alone timed again), then each eage page and Fava's ``api/income_statement`` are
requested ``--requests`` times in a row through Fava's Flask test client, in-process (no HTTP server).
Printed side by side: each request's time, the page's HTML size, and the ratio of the page's time to
the income statement's time for the same request number (1st with 1st, 2nd with 2nd).

``--time`` passes a Fava time filter to every request (default: none, the whole ledger). ``--precompute``
sets ``EAGE_FAVA_PRECOMPUTE=1``: eage computes every page's figures in ``after_load_file`` (a longer reload,
fast first views). ``--json`` prints the figures as one JSON object instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")

PAGES = ("repartition", "factures", "controles", "budget")
INCOME_STATEMENT = "api/income_statement"


def ensure_group(root: Path, members: int, staff: int, years: int, months: int | None = None) -> None:
    """Generate the group at ``root`` unless it is already there (``months`` overrides ``years``)."""
    if (root / "ledger" / "main.beancount").is_file():
        return
    import generate

    started = time.perf_counter()
    generate.generate(root, generate.Spec(members, staff, years, months=months), log=True)
    print(f"generated {root} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def measure(root: Path, requests: int, time_filter: str | None) -> dict[str, Any]:
    """Load time, then ``requests`` timed requests of each eage page and of Fava's income statement."""
    from fava.application import create_app

    started = time.perf_counter()
    app = create_app([root / "ledger" / "main.beancount"], load=True)
    load_s = time.perf_counter() - started
    # eage's own share of a reload: its after_load_file() alone, timed again on the loaded ledger.
    extension = app.config["LEDGERS"].ledgers[0].extensions.get_extension("Eage")
    started = time.perf_counter()
    if extension is not None:
        extension.after_load_file()
    eage_reload_s = time.perf_counter() - started
    client = app.test_client()
    location = client.get("/").headers["Location"]
    prefix = "/" + location.strip("/").split("/")[0]
    query = f"&time={time_filter}" if time_filter else ""

    def timed(path: str) -> tuple[float, int]:
        began = time.perf_counter()
        response = client.get(prefix + path)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}\n{response.get_data(as_text=True)[:2000]}")
        return elapsed, len(response.data)

    targets = {INCOME_STATEMENT: f"/{INCOME_STATEMENT}?{query.lstrip('&')}"}
    targets.update({page: f"/extension/Eage/?page={page}{query}" for page in PAGES})
    results: dict[str, Any] = {}
    for name, path in targets.items():
        runs = [timed(path) for _ in range(requests)]
        results[name] = {"seconds": [s for s, _ in runs], "bytes": runs[-1][1]}
    return {
        "root": str(root),
        "time": time_filter,
        "load_s": load_s,
        "eage_after_load_file_s": eage_reload_s,
        "pages": results,
    }


def table(figures: dict[str, Any]) -> str:
    """The figures side by side: each request's time, beside the income statement's, and the ratio."""
    pages = figures["pages"]
    base = pages[INCOME_STATEMENT]["seconds"]
    count = len(base)
    header = ["page", *(f"req {i + 1} (s)" for i in range(count))]
    header += [*(f"ratio {i + 1}" for i in range(count)), "HTML/JSON"]
    rows = [header]
    for name, result in pages.items():
        seconds = result["seconds"]
        row = [name, *(f"{s:.3f}" for s in seconds)]
        row += [f"{s / b:.2f}x" if b else "-" for s, b in zip(seconds, base, strict=True)]
        row.append(f"{result['bytes'] / 1024:.0f} KiB")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"{figures['root']} (time filter: {figures['time'] or 'none'}); "
        f"ledger load with after_load_file: {figures['load_s']:.2f} s "
        f"(eage's after_load_file alone: {figures['eage_after_load_file_s']:.2f} s)",
        "ratio: the page's time over api/income_statement's time for the same request number",
    ]
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2)
    parser.add_argument("--time", default=None, help="a Fava time filter, e.g. 2026 or 2026-03")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--precompute",
        action="store_true",
        help="EAGE_FAVA_PRECOMPUTE=1: eage computes every page's figures at each reload, not at first view",
    )
    args = parser.parse_args(argv)
    if args.precompute:
        os.environ["EAGE_FAVA_PRECOMPUTE"] = "1"
    ensure_group(args.root, args.members, args.staff, args.years)
    figures = measure(args.root, args.requests, args.time)
    print(
        json.dumps(figures) if args.json else table(figures)
    )  # --json: one line, as benchmarks/run.py reads it
    return 0


if __name__ == "__main__":
    sys.exit(main())
