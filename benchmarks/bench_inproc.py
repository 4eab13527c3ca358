"""In-process benchmarks: issuing a month's invoices, and payslips per second.

    python benchmarks/bench_inproc.py render ROOT MONTH   # XML + schematron + PDF of each invoice
    python benchmarks/bench_inproc.py payslips [--staff 200] [--months 12]
    python benchmarks/bench_inproc.py dsn ROOT MONTH      # the month's payroll, then its DSN

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


def bench_dsn(root: Path, month: str) -> dict[str, object]:
    """The month's payroll as ``eage run`` computes it (:func:`eage.app.run.compute_payroll`), then its DSN:
    built, checked against the norm's structure, rendered, reconciled with the journal (nothing written;
    the month need not be posted, so the command's own check that it is, is not timed)."""
    from eage.app.dsn import dsn_input
    from eage.app.inputs import load_inputs, with_months
    from eage.app.run import compute_payroll
    from eage.ledger.model import Txn
    from eage.month import Month
    from eage.payroll.dsn.build import build_dsn, dsn_summary, reconcile
    from eage.payroll.dsn.identifiers import load_dsn_identifiers
    from eage.payroll.dsn.lines import render
    from eage.payroll.dsn.norm import load_norm, structure_problems

    m = Month.parse(month)
    started = time.perf_counter()
    inputs = with_months(load_inputs(root), [m])
    loaded = time.perf_counter()
    payslips, _rel, journal = compute_payroll(inputs, m)
    payroll_done = time.perf_counter()
    identifiers = load_dsn_identifiers(root, inputs.rules, inputs.payroll)
    load_norm()
    inp = dsn_input(root, inputs, m, payslips, identifiers=identifiers, test=False, created=m.last_day)
    rules_done = time.perf_counter()
    lines = build_dsn(inp)
    built = time.perf_counter()
    faults = structure_problems(lines, source="bench.dsn")
    checked = time.perf_counter()
    data = render(lines)
    mismatches = reconcile(
        dsn_summary(lines), [e for e in journal.entries if isinstance(e, Txn)], inputs.payroll.accounts
    )
    done = time.perf_counter()
    assert not faults and not mismatches, (faults[:3], mismatches[:3])
    return {
        "employees": len(payslips),
        "rubrics": len(lines),
        "bytes": len(data),
        "load_s": loaded - started,
        "payroll_s": payroll_done - loaded,
        "dsn_rules_s": rules_done - payroll_done,
        "build_s": built - rules_done,
        "structure_s": checked - built,
        "render_reconcile_s": done - checked,
        "dsn_s": done - rules_done,
        "peak_rss_mb": _rss_mb(),
    }


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
    dsn = sub.add_parser("dsn")
    dsn.add_argument("root", type=Path)
    dsn.add_argument("month")
    args = parser.parse_args(argv)
    if args.what == "render":
        figures = bench_render(args.root, args.month)
    elif args.what == "dsn":
        figures = bench_dsn(args.root, args.month)
    else:
        figures = bench_payslips(args.staff, args.months)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
