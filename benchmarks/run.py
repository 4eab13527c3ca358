"""``make bench``: eage's commands against a bare ``bean-check`` of the same ledger, side by side.

    python benchmarks/run.py [--quick] [--src DIR] [--label NAME] [--only NAME,...]

Every figure is wall time of a subprocess (median of ``--repeat`` runs, 3 by default; one run for the
full ``eage run`` of 300 invoices, which is long) with its peak RSS (``os.wait4``). A command that writes
runs on a fresh copy of its group each time. Synthetic groups come from ``generate.py`` and are kept in
``benchmarks/out/groups/`` (keyed by their spec and the generator's hash): the first ``make bench``
generates them (ten years of history: a few minutes), later ones reuse them.

``--src DIR`` runs eage from another source tree (``PYTHONPATH=DIR``): how the before/after figures of
``benchmarks/README.md`` were measured. Results go to ``benchmarks/out/results.json`` (one entry per
``--label``, default "current").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


@dataclass
class Timing:
    """A command's median wall time, every run's time, and the largest peak RSS of its runs."""

    seconds: float
    runs: list[float]
    peak_mb: float
    ok: bool
    note: str = ""


def timed(cmd: Sequence[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, float, bool, str]:
    """Run ``cmd``; (wall seconds, peak RSS in MB of the child, success, last line of stderr)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return elapsed, usage.ru_maxrss / 1024, proc.returncode == 0, lines[-1] if lines else ""


def measure(
    cmd: Sequence[str], root: Path, env: dict[str, str], repeat: int, *, fresh: bool = False
) -> Timing:
    """Median of ``repeat`` runs of ``cmd`` in ``root`` (on a fresh copy each time if it writes)."""
    runs, peaks, ok, note = [], [], True, ""
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            where = root
            if fresh:
                where = Path(tmp) / "group"
                shutil.copytree(root, where, symlinks=True)
            seconds, peak, success, last = timed(cmd, cwd=where, env=env)
        runs.append(seconds)
        peaks.append(peak)
        if not success:
            ok, note = False, last
            break
    return Timing(statistics.median(runs), runs, max(peaks), ok, note)


def demo_copy(target: Path) -> Path:
    """The demo group (rules, ledger, reports: January to October 2026 run) copied to ``target``."""
    for name in ("rules", "ledger", "reports"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, target / name)
    return target


def synthetic(spec: generate.Spec, regenerate: bool) -> Path:
    """The group of ``spec``, generated once and kept under benchmarks/out/groups/."""
    digest = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:10]
    root = OUT / "groups" / f"m{spec.members}-s{spec.staff}-h{len(spec.history)}-seed{spec.seed}-{digest}"
    if root.exists() and not regenerate and (root / ".complete").exists():
        if not (root / "rules" / "budget" / f"{spec.budget_year}.yaml").exists():  # rules only: cheap
            generate.write_budget(root, spec)
        return root
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    print(f"generating {root.name} ({len(spec.history)} months of history)…", flush=True)
    # In a child process: Linux carries a process's peak RSS over to the children it forks later, so
    # generating in this process would inflate the peak memory measured for every following command.
    cmd = [sys.executable, str(HERE / "generate.py"), str(root), "--members", str(spec.members)]
    cmd += ["--staff", str(spec.staff), "--months", str(len(spec.history)), "--seed", str(spec.seed)]
    subprocess.run([*cmd, *([] if spec.validate_each_month else ["--no-validate"])], check=True)
    (root / ".complete").write_text(f"{time.perf_counter() - started:.1f}\n")
    return root


class Bench:
    """Collects rows of the results table."""

    def __init__(self, env: dict[str, str], repeat: int) -> None:
        self.env = env
        self.repeat = repeat
        self.rows: list[dict[str, Any]] = []

    def add(self, name: str, timing: Timing, *, base: Timing | None = None, extra: str = "") -> None:
        """Record (and print) a row; ``base`` gives the ratio column (this / base)."""
        ratio = timing.seconds / base.seconds if base and base.seconds else None
        row = {
            "name": name,
            "seconds": round(timing.seconds, 3),
            "runs": [round(r, 3) for r in timing.runs],
            "peak_mb": round(timing.peak_mb, 1),
            "ratio": None if ratio is None else round(ratio, 2),
            "ok": timing.ok,
            "note": timing.note or extra,
        }
        self.rows.append(row)
        shown = "" if ratio is None else f"{ratio:6.2f}x"
        status = "" if timing.ok else "  FAILED: " + timing.note
        print(
            f"{name:<52} {timing.seconds:9.2f} s {shown:>8} {timing.peak_mb:8.0f} MB  {extra}{status}",
            flush=True,
        )

    def ledger_pair(self, label: str, root: Path, month: str, *, full_repeat: int) -> None:
        """bean-check, eage check, eage run --dry-run and eage run of ``month`` on the group at ``root``."""
        check = measure([str(BIN / "bean-check"), "ledger/main.beancount"], root, self.env, self.repeat)
        self.add(f"{label}: bean-check", check)
        eage_check = measure([str(BIN / "eage"), "check"], root, self.env, self.repeat)
        self.add(f"{label}: eage check", eage_check, base=check)
        dry = measure([str(BIN / "eage"), "run", month, "--dry-run", "--json"], root, self.env, self.repeat)
        self.add(f"{label}: eage run {month} --dry-run", dry, base=check)
        full = measure([str(BIN / "eage"), "run", month, "--json"], root, self.env, full_repeat, fresh=True)
        self.add(f"{label}: eage run {month} (PDFs)", full, base=check, extra=f"x{len(full.runs)}")

    def script(
        self, name: str, args: Sequence[str], summary: Callable[[dict[str, Any]], str]
    ) -> dict[str, Any]:
        """Run a benchmarks/ script that prints one JSON object; record its time as measured inside."""
        seconds, peak, ok, last = timed([sys.executable, *args], cwd=REPO, env=self.env)
        figures: dict[str, Any] = {}
        if ok:
            with tempfile.TemporaryFile() as out:
                proc = subprocess.run(
                    [sys.executable, *args], cwd=REPO, env=self.env, stdout=out, check=False
                )
                out.seek(0)
                figures = (
                    json.loads(out.read().decode().strip().splitlines()[-1]) if proc.returncode == 0 else {}
                )
        self.add(name, Timing(seconds, [seconds], peak, ok, last), extra=summary(figures) if figures else "")
        self.rows[-1]["figures"] = figures
        return figures


def fava_summary(figures: dict[str, Any]) -> str:
    """Each eage page's 1st and 2nd request over the income statement's (the same request number)."""
    pages = figures["pages"]
    base = pages["api/income_statement"]["seconds"]
    parts = [f"income_statement {'/'.join(f'{s:.2f}' for s in base)} s"]
    for name, result in pages.items():
        if name == "api/income_statement":
            continue
        ratios = "/".join(f"{s / b:.1f}x" if b else "-" for s, b in zip(result["seconds"], base, strict=True))
        parts.append(f"{name} {ratios}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write benchmarks/out/results.json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a minute or two")
    parser.add_argument("--src", type=Path, help="run eage from this source tree (PYTHONPATH)")
    parser.add_argument("--label", default="current")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: demo,g1,g10,alloc,render,payslips,dsn,reports (= budget,fec),fava",
    )
    parser.add_argument("--regenerate", action="store_true", help="generate the synthetic groups again")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, BEANCOUNT_DISABLE_LOAD_CACHE="1")
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    only = set(filter(None, args.only.split(",")))

    def wanted(name: str) -> bool:
        return not only or name in only

    quick = args.quick
    bench = Bench(env, 1 if quick else args.repeat)
    members, staff = (60, 12) if quick else (300, 60)
    print(f"{'benchmark':<52} {'median':>11} {'ratio':>8} {'peak':>11}")

    if wanted("demo"):
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            demo = demo_copy(Path(tmp) / "demo")
            bench.ledger_pair("demo (14 members)", demo, "2026-11", full_repeat=bench.repeat)
            if wanted("render"):
                bench.script(
                    "issue the demo month's invoices (XML+schematron+PDF)",
                    ["benchmarks/bench_inproc.py", "render", str(demo), "2026-11"],
                    lambda f: (
                        f"{f['invoices']} invoices, {f['per_invoice_s']:.2f} s each, {f['workers']} worker(s)"
                    ),
                )
    one = generate.Spec(members, staff, years=1, validate_each_month=not quick)
    if wanted("g1") or wanted("render") or wanted("dsn"):
        g1 = synthetic(one, args.regenerate)
        if wanted("dsn"):
            bench.script(
                f"{members} members/{staff} staff: the month's payroll, then its DSN",
                ["benchmarks/bench_inproc.py", "dsn", str(g1), one.bench_month],
                lambda f: (
                    f"{f['employees']} employees, {f['rubrics']} rubrics: payroll {f['payroll_s']:.3f} s, "
                    f"DSN {f['dsn_s']:.3f} s (build {f['build_s']:.3f}, norm check {f['structure_s']:.3f}, "
                    f"render+reconcile {f['render_reconcile_s']:.3f}), inputs loaded in {f['load_s']:.2f} s"
                ),
            )
        if wanted("g1"):
            bench.ledger_pair(f"{members} members/{staff} staff/1 year", g1, one.bench_month, full_repeat=1)
        if wanted("render"):
            bench.script(
                f"issue {members} invoices (XML+schematron+PDF)",
                ["benchmarks/bench_inproc.py", "render", str(g1), one.bench_month],
                lambda f: (
                    f"{f['invoices']} invoices, {f['per_invoice_s']:.2f} s each, {f['workers']} worker(s)"
                ),
            )
    ten = generate.Spec(members, staff, years=2 if quick else 10, validate_each_month=False)
    report_commands = [c for c in ("budget", "fec") if wanted(c) or wanted("reports")]
    if wanted("g10") or report_commands or wanted("fava"):
        g10 = synthetic(ten, args.regenerate)
        label = f"{members} members/{staff} staff/{ten.years} years"
        if wanted("g10"):
            bench.ledger_pair(label, g10, ten.bench_month, full_repeat=1)
        if report_commands:
            reports(bench, g10, label, ten, report_commands)
        if wanted("fava"):
            bench.script(
                f"{label}: eage's Fava pages vs api/income_statement",
                ["benchmarks/bench_fava.py", str(g10), "--json"],
                fava_summary,
            )
    if wanted("alloc"):
        lines = 100_000 if quick else 1_000_000
        bench.script(
            f"allocation core, {lines} timesheet lines",
            ["benchmarks/bench_alloc.py", "--lines", str(lines), "--json", "--repeat", "1" if quick else "3"],
            lambda f: f"parse+validate {f['parse_s']:.2f} s, allocate {f['allocate_s']:.2f} s",
        )
    if wanted("payslips"):
        bench.script(
            "payslips: 200 employees x 12 months",
            ["benchmarks/bench_inproc.py", "payslips", "--staff", "200", "--months", "12"],
            lambda f: f"{f['payslips']} payslips, {f['per_second']:.0f} per second",
        )
    results_path = OUT / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results[args.label] = {"quick": quick, "src": str(args.src or "installed"), "rows": bench.rows}
    results_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"results: {results_path}")
    return 0 if all(r["ok"] for r in bench.rows) else 1


def reports(bench: Bench, root: Path, label: str, spec: generate.Spec, commands: Sequence[str]) -> None:
    """``eage budget`` and ``eage fec`` of the last history year (``spec.budget_year``, whose
    rules/budget/YYYY.yaml the generator writes) against bean-check of the same ledger."""
    year = str(spec.budget_year)
    check = measure([str(BIN / "bean-check"), "ledger/main.beancount"], root, bench.env, bench.repeat)
    bench.add(f"{label}: bean-check", check)
    for command in commands:
        if not (REPO / "src" / "eage" / "commands" / f"{command}.py").exists():
            print(f"{label}: eage {command}: skipped (no such command)")
            continue
        timing = measure([str(BIN / "eage"), command, year], root, bench.env, bench.repeat, fresh=True)
        bench.add(f"{label}: eage {command} {year}", timing, base=check, extra=f"x{len(timing.runs)}")


if __name__ == "__main__":
    sys.exit(main())
