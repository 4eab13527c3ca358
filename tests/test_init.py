"""A new group starts its books with `eage init DIR` and passes `eage check` right away (its placeholder
identities are warnings; see tests/test_check.py for the first month run for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eage.cli import main


def test_init_then_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "nouveau"
    assert main(["init", str(target), "--name", 'Groupement "Test"']) == 0
    assert (target / "rules/payroll/contributions.yaml").exists()
    assert (target / "ledger/main.beancount").read_text(encoding="utf-8").startswith(";;")
    assert main(["check", "--root", str(target)]) == 0
    out = capsys.readouterr().out
    # The name was given: the group's name is no longer a placeholder, the rest still are.
    assert "OK: no problem found; 54 warning(s)" in out
    # The group's own contracts (agreement, mutuelle, prévoyance) are the demo's until replaced.
    assert "warning: rules/payroll/contracts.yaml:75 [sante[0].insurer]: placeholder value" in out
    assert "[identity.name]" not in out
    assert "warning: rules/group.yaml:7 [identity.siren]: placeholder value" in out
    assert '  name: "Groupement \\"Test\\""\n' in (target / "rules/group.yaml").read_text(encoding="utf-8")


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "books.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books.txt"]


def test_check_reports_every_problem_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g"
    assert main(["init", str(target)]) == 0
    capsys.readouterr()
    (target / "ledger/timesheets/2026-01.csv").write_text("date,employee\n", encoding="utf-8")
    with (target / "ledger/entries.beancount").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n2026-01-05 * "x"\n  Charges:Inconnu  1.00 EUR\n  Actif:51-Banque:512-Credit-Cooperatif\n'
        )
    assert main(["check", "--root", str(target)]) == 1
    out = capsys.readouterr().out
    assert "ledger/timesheets/2026-01.csv:1" in out
    assert "ledger/entries.beancount:" in out and "Charges:Inconnu" in out
