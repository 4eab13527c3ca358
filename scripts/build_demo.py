"""Rebuild the demo books from scratch: clear what eage generated, then run each month in order.

    python scripts/build_demo.py [--through 2026-10]

The demo ships with January to October run and declared (their DSNs in reports/dsn/); November is left
for the README's first command (`make run`), as the accountant would run it at month end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import demo_bank_csv  # noqa: E402
import demo_inputs  # noqa: E402

from eage import cli  # noqa: E402
from eage.app.run import run_month  # noqa: E402
from eage.ledger.store import with_includes  # noqa: E402
from eage.month import Month  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--through", default="2026-10", help="last month to run (YYYY-MM)")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    root: Path = args.root
    for folder in ("ledger/generated", "ledger/bank", "reports"):
        shutil.rmtree(root / folder, ignore_errors=True)
    main_path = root / "ledger" / "main.beancount"
    main_path.write_text(
        with_includes(main_path.read_text(encoding="utf-8"), main_path, []), encoding="utf-8"
    )
    demo_inputs.main(root)
    through = Month.parse(args.through)
    year = through.year
    # The year's membership fees are invoiced first (dated 1 January), then each month in order.
    _eage(root, "fees", str(year))
    for month in range(1, through.number + 1):
        plan = run_month(root, Month(year, month))
        print(
            f"{plan.month}: {len(plan.invoices)} invoices, billed {plan.result.total_billed} EUR", flush=True
        )
        # The month's DSN, declared once the month's payroll is posted (reports/dsn/YYYY-MM.dsn).
        _eage(root, "dsn", plan.month)
    # The bank statement follows the invoices actually issued: made from the ledger, then imported.
    demo_bank_csv.write(root, through.last_day)
    _eage(root, "import-bank", "ledger/bank-statements/releve-2026.csv")
    _eage(root, "budget", str(year), "--through", str(through))


def _eage(root: Path, *args: str) -> None:
    code = cli.main([*args, "--root", str(root)])
    if code != 0:
        raise SystemExit(f"eage {' '.join(args)} failed with exit code {code}")


if __name__ == "__main__":
    main()
