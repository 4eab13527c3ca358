"""``eage check`` tells the truth: what a command would refuse, check refuses first; a dry run predicts the
real run; a folder made by ``eage init`` runs its first month once its placeholders are filled in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import tree_digest
from eage.cli import main

TIMESHEET_2026_01 = (
    "date,employee,member,service,hours,note\n"
    "2026-01-05,salarie,exemple,comptabilite,7,\n"
    "2026-01-06,salarie,,comptabilite,3,réunion interne\n"
)


def _patch(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_check_passes_on_the_demo_and_builds_november_in_memory(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(demo)
    assert main(["check", "--root", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "OK: no problem found" in out
    assert "warning" not in out
    assert "2026-11 built in memory: 3 payslip(s), allocation, 13 invoice(s), Factur-X XML validated" in out
    for checked in (
        "rules/bank.yaml",
        "rules/budget: 1 budget(s)",
        "timesheets: 12",
        "payroll variables: 8",
        "leave balances",
        "rules/payroll/contracts.yaml against the staff",
    ):
        assert f"checked {checked}" in out
    assert tree_digest(demo) == before  # nothing written, no number used


BROKEN = {
    "bank-unknown-key": (
        "rules/bank.yaml",
        "duplicates: skip\n",
        "duplicates: skip\nbogus: 1\n",
        ["rules/bank.yaml:", "[bogus]", "unknown key"],
    ),
    "bank-alias-unknown-member": (
        "rules/bank.yaml",
        "aliases:\n",
        'aliases:\n  inconnu: ["X"]\n',
        ["rules/bank.yaml [aliases.inconnu]", "unknown member 'inconnu'", "members.yaml"],
    ),
    "budget-broken": (
        "rules/budget/2026.yaml",
        "year: 2026\n",
        "year: 2026\nyear_typo: [\n",
        ["rules/budget/2026.yaml:", "invalid YAML", "fix the syntax"],
    ),
    "budget-unknown-member": (
        "rules/budget/2026.yaml",
        "hours:\n",
        "hours:\n  inconnu:\n    paie: 10\n",
        ["rules/budget/2026.yaml:", "[hours.inconnu]", "unknown member 'inconnu'"],
    ),
    "payroll-variables-invalid": (
        "ledger/payroll/2026-11.yaml",
        None,
        "employees:\n  lpetit: {overtim_25_hours: 3}\n",
        ["ledger/payroll/2026-11.yaml:2", "overtim_25_hours", "unknown key"],
    ),
    "payroll-variables-unknown-employee": (
        "ledger/payroll/2027-02.yaml",
        None,
        "employees:\n  personne: {bonus: 100.00}\n",
        ["ledger/payroll/2027-02.yaml", "[employees.personne]", "unknown employee", "rules/staff.yaml"],
    ),
    "template-syntax": (
        "rules/templates/invoice.html.j2",
        None,
        "<p>{{ invoice.number }</p>\n",
        ["rules/templates/invoice.html.j2:1", "does not compile", "Jinja syntax"],
    ),
    "group-without-vat-number": (
        "rules/group.yaml",
        '  vat_number: "FR33917535908"\n',
        "",
        ["rules/group.yaml [identity.vat_number]", "BR-E-02", "BR-S-02", "vat_number"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_fails_where_a_command_would(case: str, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rel, old, new, expected = BROKEN[case]
    path = demo / rel
    if old is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    else:
        _patch(demo, rel, old, new)
    before = tree_digest(demo)
    assert main(["check", "--root", str(demo)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out
    for text in expected:
        assert text in out, f"{text!r} not in:\n{out}"
    assert tree_digest(demo) == before


@pytest.mark.slow
def test_one_cause_on_every_invoice_is_one_problem(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the group's VAT number, 13 invoices break BR-E-02 / BR-S-02: two lines, not 13."""
    _patch(demo, "rules/group.yaml", '  vat_number: "FR33917535908"\n', "")
    assert main(["check", "--root", str(demo)]) == 1
    out = capsys.readouterr().out
    assert out.count("problem: ") == 2, out


@pytest.mark.slow
def test_a_dry_run_validates_every_invoice_xml(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What the real run would refuse (the XML of the invoices), the dry run refuses too, writing nothing."""
    _patch(demo, "rules/group.yaml", '  vat_number: "FR33917535908"\n', "")
    before = tree_digest(demo)
    assert main(["run", "2026-11", "--dry-run", "--root", str(demo)]) == 1
    err = capsys.readouterr().err
    assert "rules/group.yaml [identity.vat_number]" in err and "BR-E-02" in err
    assert tree_digest(demo) == before


def _init_with_january(tmp_path: Path) -> Path:
    target = tmp_path / "nouveau"
    assert main(["init", str(target)]) == 0
    (target / "ledger/timesheets/2026-01.csv").write_text(TIMESHEET_2026_01, encoding="utf-8")
    return target


def _fill_in_placeholders(root: Path) -> None:
    """What the README asks: every value marked « À COMPLÉTER » written for real, the mark removed."""
    for name in ("group.yaml", "members.yaml", "staff.yaml", "payroll/contracts.yaml", "dsn.yaml"):
        path = root / "rules" / name
        text = path.read_text(encoding="utf-8")
        text = re.sub(r" *# À COMPLÉTER.*$", "", text, flags=re.MULTILINE).replace("À COMPLÉTER : ", "")
        path.write_text(text, encoding="utf-8")


def test_an_initialised_folder_is_checked_and_dry_run_with_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _init_with_january(tmp_path)
    for name in ("README.md", "rules/bank.yaml", "rules/budget/2026.yaml"):
        assert (target / name).is_file()
    assert "À COMPLÉTER" in (target / "README.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--root", str(target)]) == 0
    out = capsys.readouterr().out
    assert "2026-01 built in memory: 1 payslip(s), allocation, 1 invoice(s)" in out
    # 13 identity values, the 9 of the group's own contracts (rules/payroll/contracts.yaml), the 33 of rules/dsn.yaml.
    assert "OK: no problem found; 55 warning(s)" in out
    assert "warning: rules/group.yaml:5 [identity.name]: placeholder value" in out
    assert "warning: rules/members.yaml:6 [members[0].identity.name]" in out
    before = tree_digest(target)
    assert main(["run", "2026-01", "--dry-run", "--root", str(target)]) == 0
    captured = capsys.readouterr()
    assert "FAC-2026-0001" in captured.out
    assert "warning: rules/group.yaml:7 [identity.siren]: placeholder value" in captured.err
    assert tree_digest(target) == before


def test_the_real_run_is_refused_while_an_identity_is_a_placeholder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _init_with_january(tmp_path)
    before = tree_digest(target)
    capsys.readouterr()
    assert main(["run", "2026-01", "--root", str(target)]) == 1
    err = capsys.readouterr().err
    assert "55 identity value(s) are still placeholders" in err
    assert "rules/payroll/contracts.yaml:75 [sante[0].insurer]" in err
    assert "rules/group.yaml:5 [identity.name]" in err and "rules/group.yaml:30 [invoicing.iban]" in err
    assert "Traceback" not in err
    assert tree_digest(target) == before


def test_one_placeholder_left_is_enough_to_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _init_with_january(tmp_path)
    _fill_in_placeholders(target)
    _patch(target, "rules/group.yaml", '  bic: "AGRIFRPP"\n', '  bic: "AGRIFRPP"  # a completer\n')
    capsys.readouterr()
    assert main(["run", "2026-01", "--root", str(target)]) == 1
    err = capsys.readouterr().err
    assert "1 identity value(s)" in err and "rules/group.yaml:31 [invoicing.bic]" in err
    assert not (target / "reports/invoices").exists()


@pytest.mark.slow
def test_an_initialised_folder_runs_its_first_month_once_filled_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _init_with_january(tmp_path)
    _fill_in_placeholders(target)
    capsys.readouterr()
    assert main(["check", "--root", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("OK: no problem found") and "warning" not in out
    assert main(["run", "2026-01", "--root", str(target)]) == 0
    assert (target / "reports/invoices/2026/FAC-2026-0001-exemple.pdf").is_file()
    assert (target / "reports/invoices/2026/FAC-2026-0001-exemple.xml").is_file()
    assert (target / "reports/payslips/2026/PAY-2026-01-salarie.pdf").is_file()
    capsys.readouterr()
    assert main(["check", "--root", str(target)]) == 0
    assert "2026-02 has no timesheet yet" in capsys.readouterr().out
    # The skeleton's bank layout and budget serve the commands that read them.
    statement = tmp_path / "releve.csv"
    statement.write_text(
        "Date;Libellé;Débit;Crédit\n05/02/2026;VIR raison sociale du membre FAC-2026-0001;;2404,63\n",
        encoding="utf-8",
    )
    assert main(["import-bank", str(statement), "--dry-run", "--root", str(target)]) == 0
    assert "FAC-2026-0001" in capsys.readouterr().out
    assert main(["budget", "2026", "--root", str(target)]) == 0
    assert (target / "reports/budget/2026").is_dir()


def test_init_names_the_group_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "g"
    assert main(["init", str(target), "--name", 'Groupement "Test" 42']) == 0
    group = (target / "rules/group.yaml").read_text(encoding="utf-8")
    assert '  name: "Groupement \\"Test\\" 42"\n' in group
    assert "Groupement 'Test' 42" in (target / "ledger/main.beancount").read_text(encoding="utf-8")
    assert (target / "README.md").read_text(encoding="utf-8").startswith('# Groupement "Test" 42')


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("file", "is a file, not a folder"),
        ("under-a-file", "cannot create the folder: Not a directory"),
        ("not-empty", "the folder is not empty"),
    ],
)
def test_init_refuses_in_one_line(
    where: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "books.txt").write_text("mine", encoding="utf-8")
    target = {
        "file": tmp_path / "books.txt",
        "under-a-file": tmp_path / "books.txt/g",
        "not-empty": tmp_path,
    }[where]
    assert main(["init", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"error: {target}: {expected}" or err.startswith(
        f"error: {target}: {expected}"
    )
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books.txt"]


def test_init_removes_what_a_killed_init_left_beside_its_target(tmp_path: Path) -> None:
    stale = tmp_path / ".g.eage-init-999999999"  # no such process
    (stale / "rules").mkdir(parents=True)
    assert main(["init", str(tmp_path / "g")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_xml_of_a_month_is_validated_alike_in_process_and_in_the_pool(
    workers: str, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eage.app.documents import invoice_xml_problems
    from eage.app.run import load_month, plan_month
    from eage.month import Month

    monkeypatch.setenv("EAGE_RENDER_WORKERS", workers)
    _patch(demo, "rules/group.yaml", '  vat_number: "FR33917535908"\n', "")
    ctx = load_month(demo, Month(2026, 11))
    plan = plan_month(ctx, Month(2026, 11))
    problems = invoice_xml_problems(ctx, plan.invoices)
    assert [(p.file, p.key) for p in problems] == [("rules/group.yaml", "identity.vat_number")] * 2
    assert {p.message.split(": ")[1] for p in problems} == {"BR-S-02", "BR-E-02"}


def test_a_placeholder_is_a_marked_value_or_a_comment_on_its_key_line(tmp_path: Path) -> None:
    from eage.app.placeholders import placeholder_problems

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules/group.yaml").write_text(
        "# Remplacez les valeurs « À COMPLÉTER » (a comment line of its own: not a placeholder).\n"
        "identity:\n"
        '  name: "A completer : le nom"\n'
        '  siren: "123456782"  # À COMPLÉTER\n'
        '  legal_form: "Association # loi 1901"\n'
        "  address:  # à compléter\n"
        '    city: "Saint-Étienne"\n',
        encoding="utf-8",
    )
    (tmp_path / "rules/members.yaml").write_text(
        'members:\n  - id: a\n    identity: {name: "À COMPLÉTER"}\n', encoding="utf-8"
    )
    found = [(p.file, p.line, p.key) for p in placeholder_problems(tmp_path)]
    assert found == [
        ("rules/group.yaml", 3, "identity.name"),
        ("rules/group.yaml", 4, "identity.siren"),
        ("rules/group.yaml", 6, "identity.address"),
        ("rules/members.yaml", 3, "members[0].identity.name"),
    ]


def test_init_fills_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "vide"
    target.mkdir()
    assert main(["init", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "ledger", "reports", "rules"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vide"]
    capsys.readouterr()
    assert main(["check", "--root", str(target)]) == 0


@pytest.mark.slow
def test_a_file_under_rules_that_eage_does_not_read_is_a_warning(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A misspelt copy would otherwise be ignored without a word: its rules would not apply.
    (demo / "rules" / "fess.yaml").write_bytes((demo / "rules" / "fees.yaml").read_bytes())
    assert main(["check", "--root", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "warning: rules/fess.yaml: eage does not read this file" in out
    assert out.rstrip().endswith("OK: no problem found; 1 warning(s)")


def test_a_relative_root_is_the_same_group(
    demo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `make run` and a user in the group's folder pass a relative root ("." by default).
    monkeypatch.chdir(demo)
    assert main(["check"]) == 0, capsys.readouterr().out
    monkeypatch.chdir(demo / "ledger")
    assert main(["run", "2026-11", "--dry-run", "--root", ".."]) == 0, capsys.readouterr().out
