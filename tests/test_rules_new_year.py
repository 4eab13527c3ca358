"""A file of the law's values that gains a new year must say every value of that year (issue 14).

The demo's rules/payroll/ is copied to a temporary folder (nothing outside the repository is read).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eage.errors import InputError
from eage.payroll.params import load_payroll_rules, new_year_problems

RULES = Path(__file__).resolve().parent.parent / "rules" / "payroll"


def payroll_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules" / "payroll"
    shutil.copytree(RULES, target)
    return target


def test_the_shipped_law_files_say_every_value_of_their_latest_year() -> None:
    for name in ("parameters.yaml", "contributions.yaml", "reductions.yaml", "taxe_sur_salaires.yaml"):
        assert new_year_problems(RULES / name) == [], name


def test_a_new_year_with_a_value_left_at_the_old_year_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = payroll_copy(tmp_path)
    path = folder / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    2026-06-01: 12.31\n"
    assert old in text
    path.write_text(text.replace(old, old + "    2027-01-01: 12.50\n", 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_payroll_rules(folder)
    problems = caught.value.problems
    keys = {p.key for p in problems}
    assert "pmss.values" in keys  # revised in 2026, not said for 2027
    assert "smic_horaire.values" not in keys  # said for 2027
    pmss = next(p for p in problems if p.key == "pmss.values")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert pmss.line is not None and lines[pmss.line - 1].strip() == "values:"
    assert pmss.file == "rules/payroll/parameters.yaml"
    assert pmss.fix is not None and "2027-01-01" in pmss.fix


def test_the_same_figure_restated_for_the_new_year_is_accepted(tmp_path: Path) -> None:
    folder = payroll_copy(tmp_path)
    path = folder / "contributions.yaml"
    text = path.read_text(encoding="utf-8")
    old = "      2026-01-01: {employer: 0.25}\n"
    assert old in text
    # AGS given for 2027: every other contribution revised in 2026 is now missing its 2027 value.
    path.write_text(text.replace(old, old + "      2027-01-01: {employer: 0.25}\n", 1), encoding="utf-8")
    problems = new_year_problems(path)
    assert problems and all("2027" in p.message for p in problems)
    assert not any("(ags)" in p.message for p in problems)
