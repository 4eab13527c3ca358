"""The allocation core alone on a large month: parse + validate the timesheet, then allocate.

    python benchmarks/bench_alloc.py [--lines 1000000] [--repeat 3] [--json]

The month is synthetic (``generate.py``'s rules with many staff and members, each line half an hour):
the timesheet text is built in memory, so the figures are the parser's and the allocator's, not the
disk's. Prints the median of ``--repeat`` runs of each step, and with ``--json`` one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

MONTH = "2026-03"
LINES_PER_DAY = 23  # half an hour each: 11.5 h, under the 12 h a day of rules/allocation.yaml


def build_month(root: Path, lines: int, seed: int = 7) -> tuple[str, int]:
    """Rules for enough staff and members under ``root``; the timesheet text (about ``lines`` lines)."""
    days = generate.working_days(MONTH)
    staff = max(3, -(-lines // (len(days) * LINES_PER_DAY)))
    members = max(LINES_PER_DAY * 2, staff // 2)
    spec = generate.Spec(members=members, staff=staff, months=0, seed=seed)
    rng = random.Random(seed)
    generate.write_rules(root, spec)
    member_ids = [f"m{i + 1:04d}" for i in range(members)]
    services = generate.SERVICES
    rows = ["date,employee,member,service,hours,note"]
    count = 0
    for emp_index in range(staff):
        emp_id = f"s{emp_index + 1:03d}"
        service = services[emp_index % len(services)]
        for day in days:
            iso = day.isoformat()
            picked = sorted(rng.sample(member_ids, LINES_PER_DAY))
            if rng.random() < 0.2:
                picked[0] = ""  # internal time (one line a day at most: lines are unique per member)
            for member in picked:
                if count >= lines:
                    break
                rows.append(f"{iso},{emp_id},{member},{service},0.50,suivi")
                count += 1
    return "\n".join(rows) + "\n", staff


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from eage.allocation.core import allocate
    from eage.allocation.rules import allocation_rules
    from eage.ledger.load import CostLine
    from eage.rules.bundle import load_rules
    from eage.timesheets import parse_timesheet

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "group"
        text, staff = build_month(root, args.lines)
        rules = load_rules(root)
    alloc_rules = allocation_rules(rules, dt.date(2026, 3, 31))
    costs = [
        CostLine(dt.date(2026, 3, 31), "Charges:64-Personnel:6411-Salaires", Decimal("2345.67"), e.id, None,
                 "payroll", "ledger/x", 0)
        for e in rules.staff.employees
    ] + [
        CostLine(dt.date(2026, 3, 5), "Charges:61-Services-exterieurs:6132-Locations-immobilieres",
                 Decimal("12345.67"), None, None, None, "ledger/x", 0)
    ]  # fmt: skip
    parse_times, alloc_times = [], []
    lines: list[object] = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        lines = parse_timesheet(text, MONTH, rules, f"ledger/timesheets/{MONTH}.csv")  # type: ignore[assignment]
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = allocate(MONTH, costs, lines, alloc_rules)  # type: ignore[arg-type]
        alloc_times.append(time.perf_counter() - started)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "lines": len(lines),
        "staff": staff,
        "members": len(rules.members.members),
        "parse_s": statistics.median(parse_times),
        "allocate_s": statistics.median(alloc_times),
        "peak_rss_mb": rss,
        "billed": str(result.total_billed),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>18}: {value:.3f}" if isinstance(value, float) else f"{key:>18}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
