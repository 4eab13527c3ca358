"""In-process benchmarks: issuing a month's invoices, and payslips per second.

    python benchmarks/bench_inproc.py render ROOT MONTH   # XML + schematron + PDF of each invoice
    python benchmarks/bench_inproc.py payslips [--staff 200] [--months 12]

Each prints one JSON object (seconds, counts, peak RSS of this process in MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_render(root: Path, month: str) -> dict[str, object]:
    """Plan ``month`` of the group at ``root``, then time the rendering of its invoices (nothing written)."""
    from eage.app.documents import render_invoice_documents
    from eage.app.run import load_month, plan_month
    from eage.invoicing.pdf import warm_up_documents
    from eage.month import Month
    from eage.render_pool import RenderPool

    ctx = load_month(root, Month.parse(month))
    plan = plan_month(ctx, Month.parse(month))
    started = time.perf_counter()
    # Started here: its warm-up is counted.
    with RenderPool(len(plan.invoices), warm_up=warm_up_documents) as pool:
        documents = render_invoice_documents(ctx, plan.invoices, pool=pool)
        workers = pool.workers
    elapsed = time.perf_counter() - started
    return {
        "invoices": len(plan.invoices),
        "documents": len(documents),
        "workers": workers,
        "seconds": elapsed,
        "per_invoice_s": elapsed / max(1, len(plan.invoices)),
        "peak_rss_mb": _rss_mb(),
    }


def bench_payslips(staff: int, months: int) -> dict[str, object]:
    """Every payslip of ``staff`` employees over ``months`` months (eage.payroll.engine.compute_payslip)."""
    from eage.month import Month
    from eage.payroll.month import compute_payslips
    from eage.payroll.params import load_payroll_rules
    from eage.payroll.variables import MonthVariables
    from eage.rules.bundle import load_rules

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "group"
        spec = generate.Spec(members=20, staff=staff, months=0)
        generate.write_rules(root, spec)
        rules, payroll = load_rules(root), load_payroll_rules(root / "rules" / "payroll")
        # Month after month, as `eage run` does: each call extends the year's kept sequence (year to
        # date, leave counters). The warm-up is another year, so it does not pre-compute the timed ones.
        none: dict[Month, MonthVariables] = {}
        compute_payslips(rules, payroll, Month(2025, 1), none)  # warm the parameter caches
        count = 0
        started = time.perf_counter()
        for index in range(months):
            month = Month.parse(generate.add_months("2026-01", index))
            count += len(compute_payslips(rules, payroll, month, none))
        elapsed = time.perf_counter() - started
    return {"payslips": count, "seconds": elapsed, "per_second": count / elapsed, "peak_rss_mb": _rss_mb()}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    render = sub.add_parser("render")
    render.add_argument("root", type=Path)
    render.add_argument("month")
    payslips = sub.add_parser("payslips")
    payslips.add_argument("--staff", type=int, default=200)
    payslips.add_argument("--months", type=int, default=12)
    args = parser.parse_args(argv)
    if args.what == "render":
        figures = bench_render(args.root, args.month)
    else:
        figures = bench_payslips(args.staff, args.months)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
