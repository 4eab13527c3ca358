"""Small synthetic groups for tests, built by the benchmarks' seeded builder (benchmarks/generate.py).

:func:`small_group` writes a complete group folder (``rules/``, ``ledger/``, ``reports/``, timesheets)
in a few hundred milliseconds: the law copied from the repository's ``rules/``, fictitious members and
staff drawn from the seed, the group's running costs, and timesheets for ``months`` months from January
2025. **No month is run**: the test runs the months it needs through the ``eage`` command, so the group
never depends on eage's internals (``generate.run_history`` calls eage's planners directly).

The helpers below read what a test asserts on: the ``--json`` summary of ``eage run``, the billable hours
of a timesheet, and the invoice lines posted in the ledger.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO / "benchmarks"))

import generate  # noqa: E402  (benchmarks/ is put on the path just above)

from eage.cli import main as eage  # noqa: E402

FIRST_MONTH = generate.FIRST_MONTH  # "2025-01": the payroll rules start in 2025
OVERHEAD = "overhead"  # the pool of the group's running costs, split by billable hours


@dataclass(frozen=True)
class GroupSpec:
    """A small group: ``months`` months of timesheets from January 2025, none run."""

    members: int = 3
    staff: int = 2
    months: int = 2
    seed: int = 1

    def month(self, index: int) -> str:
        """The ``index``-th month of timesheets (0: January 2025)."""
        return generate.add_months(FIRST_MONTH, index)

    @property
    def kwargs(self) -> dict[str, int]:
        """The arguments of :func:`small_group` for this group."""
        return {"members": self.members, "staff": self.staff, "months": self.months, "seed": self.seed}

    @property
    def builder_spec(self) -> generate.Spec:
        # The builder writes timesheets for its history and the month after it; nothing is run here.
        return generate.Spec(members=self.members, staff=self.staff, months=self.months - 1, seed=self.seed)


# The group of the session fixture ``small_group_january`` (tests/conftest.py): its January is run once.
JANUARY = GroupSpec(members=3, staff=2, months=2, seed=7)


def small_group(root: Path, members: int = 3, staff: int = 2, months: int = 2, seed: int = 1) -> Path:
    """Write a group of ``members`` members and ``staff`` employees into ``root`` (which must not exist),
    with timesheets for ``months`` months from January 2025 and no month run; return ``root``."""
    if months < 1:
        raise ValueError("a group needs at least one month of timesheets")
    generate.write_inputs(root, GroupSpec(members, staff, months, seed).builder_spec)
    return root


@dataclass(frozen=True)
class Outcome:
    """One ``eage`` command run in-process: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_eage(args: Sequence[str]) -> Outcome:
    """``eage ARGS`` in-process (``eage.cli.main``), stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = eage(list(args))
    return Outcome(code, out.getvalue(), err.getvalue())


def run_month(root: Path, month: str, *, dry_run: bool = False) -> dict[str, Any]:
    """``eage run MONTH --json`` on ``root``; the summary, after asserting the command succeeded."""
    args = ["run", month, "--root", str(root), "--json"]
    if dry_run:
        args.append("--dry-run")
    outcome = run_eage(args)
    assert outcome.code == 0, outcome.err
    summary: dict[str, Any] = outcome.json()
    return summary


def billable_hours(root: Path, month: str) -> dict[str, dict[str, Decimal]]:
    """Hours of the month's timesheet by member then service (internal time, an empty member, left out)."""
    hours: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    path = root / "ledger" / "timesheets" / f"{month}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["member"]:
                hours[row["member"]][row["service"]] += Decimal(row["hours"])
    return {member: dict(by_service) for member, by_service in hours.items()}


def posted_shares(root: Path, month: str) -> dict[tuple[str, str], Decimal]:
    """The month's invoice lines as posted in the ledger: (member, service or "overhead") -> net amount."""
    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(root / "ledger" / "main.beancount"))
    assert not errors, errors[0]
    shares: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in entries:
        if not isinstance(entry, data.Transaction) or entry.meta.get("kind") != "invoice":
            continue
        if entry.meta.get("period") != month:
            continue
        for posting in entry.postings:
            meta = posting.meta or {}
            number = posting.units.number if posting.units is not None else None
            if "service" in meta and number is not None:
                shares[(entry.meta["member"], meta["service"])] -= Decimal(number)
    return dict(shares)
