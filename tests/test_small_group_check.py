"""``eage check`` on a small synthetic group (tests/groups.py): clean when fresh, located when a timesheet is wrong.

A fresh group checks clean, its first month built in memory (payslips, allocation, invoices, Factur-X
XML validated). A bad line of a timesheet is reported at its file, line and column, with the fix; every
problem at once; ``eage run`` (dry or real) refuses with the same lines and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import tree_digest
from groups import JANUARY, run_eage

MONTH = JANUARY.month(0)


def add_lines(root: Path, *lines: str) -> int:
    """Append ``lines`` to the month's timesheet; the line number of the first one."""
    path = root / "ledger" / "timesheets" / f"{MONTH}.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "".join(line + "\n" for line in lines), encoding="utf-8")
    return text.count("\n") + 1


def test_a_fresh_group_checks_clean(small_group_root: Path) -> None:
    outcome = run_eage(["check", "--root", str(small_group_root)])
    assert outcome.code == 0, outcome.out + outcome.err
    assert "checked rules: 3 members, 2 employees" in outcome.out
    assert f"checked {MONTH} built in memory: 2 payslip(s), allocation, 3 invoice(s)" in outcome.out
    assert outcome.out.rstrip().endswith("OK: no problem found")


def test_every_bad_line_is_reported_at_once_and_the_run_refuses(small_group_root: Path) -> None:
    root = small_group_root
    first = add_lines(
        root, "2025-01-02,s001,m0099,comptabilite,1.00,inconnu", "2025-01-04,s002,m0001,paie,abc,samedi"
    )
    unknown = (
        f"ledger/timesheets/{MONTH}.csv:{first} [member]: unknown member 'm0099' — use an id of "
        "rules/members.yaml (or leave it empty for internal time)"
    )
    not_a_number = f"ledger/timesheets/{MONTH}.csv:{first + 1} [hours]: hours 'abc' is not a number"
    checked = run_eage(["check", "--root", str(root)])
    assert checked.code == 1
    assert f"problem: {unknown}" in checked.out and f"problem: {not_a_number}" in checked.out
    assert "2 problem(s)" in checked.out
    before = tree_digest(root)
    for args in (["run", MONTH, "--dry-run"], ["run", MONTH]):
        refused = run_eage([*args, "--root", str(root)])
        assert refused.code == 1, refused.out
        assert unknown in refused.err and not_a_number in refused.err
        assert "Nothing was written." in refused.err
        assert "Traceback" not in refused.err
    assert tree_digest(root) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "2025-01-04,s002,m0001,paie,13.00,samedi",
            "[hours]: s002 has 13.00 h on 2025-01-04, more than 12 h in a day — check the day's lines",
        ),
        (
            "2025-01-02,s001,m0001,comptabilite,1.00,encore",
            "duplicate of line 2 (same date, employee, member and service) — merge the two lines into one",
        ),
    ],
    ids=["more-than-12-h-a-day", "duplicate"],
)
def test_a_day_that_cannot_be_is_located(small_group_root: Path, line: str, message: str) -> None:
    number = add_lines(small_group_root, line)
    checked = run_eage(["check", "--root", str(small_group_root)])
    assert checked.code == 1
    assert f"problem: ledger/timesheets/{MONTH}.csv:{number}" in checked.out
    assert message in checked.out
