"""The DSN norm P26V01 (package data) and the structural check; a small hand-made valid DSN passes it and
the independent parser dsn-tools (tests/dsn_tools.py), and each fault gives one located problem."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsn_tools import dsn_tools_validate
from eage.errors import Problem
from eage.payroll.dsn.lines import amount, rate, render, with_totals
from eage.payroll.dsn.model import Rubric
from eage.payroll.dsn.norm import load_norm, structure_problems

SOURCE = "reports/dsn/2026-01.dsn"

Block = list[tuple[str, str]]


def _block(code: str, *values: tuple[str, str]) -> list[Rubric]:
    return [Rubric(f"{code}.{number}", value) for number, value in values]


def envelope_head() -> list[Rubric]:
    return [
        *_block(
            "S10.G00.00",
            ("001", "eage"),
            ("002", "eage"),
            ("003", "0.1.0"),
            ("004", "0"),
            ("005", "01"),
            ("006", "P26V01"),
            ("007", "01"),
            ("008", "01"),
        ),
        *_block(
            "S10.G00.01",
            ("001", "123456782"),
            ("002", "00011"),
            ("003", "GE DEMO"),
            ("004", "1 RUE DE LA PAIX"),
            ("005", "42000"),
            ("006", "SAINT ETIENNE"),
        ),
        *_block(
            "S10.G00.02",
            ("001", "02"),
            ("002", "MARIE DURAND"),
            ("004", "paie@example.org"),
            ("005", "0477000000"),
        ),
    ]


def declaration(*, individuals: int = 1) -> list[Rubric]:
    """One monthly declaration (S20 to the last individual), January 2026, ``individuals`` employees."""
    out = [
        *_block(
            "S20.G00.05",
            ("001", "01"),
            ("002", "01"),
            ("003", "11"),
            ("004", "1"),
            ("005", "01012026"),
            ("007", "31012026"),
            ("008", "01"),
            ("010", "01"),
        ),
        *_block(
            "S20.G00.07",
            ("001", "MARIE DURAND"),
            ("002", "0477000000"),
            ("003", "paie@example.org"),
            ("004", "04"),
        ),
        *_block(
            "S21.G00.06",
            ("001", "123456782"),
            ("002", "00011"),
            ("003", "7830Z"),
            ("004", "1 RUE DE LA PAIX"),
            ("005", "42000"),
            ("006", "SAINT ETIENNE"),
        ),
        *_block(
            "S21.G00.11",
            ("001", "00011"),
            ("002", "7830Z"),
            ("003", "1 RUE DE LA PAIX"),
            ("004", "42000"),
            ("005", "SAINT ETIENNE"),
        ),
        *_block(
            "S21.G00.20",
            ("001", "78861779300013"),
            ("005", amount(Decimal("1234.56"))),
            ("006", "01012026"),
            ("007", "31012026"),
            ("010", "05"),
        ),
        *_block(
            "S21.G00.22",
            ("001", "78861779300013"),
            ("003", "01012026"),
            ("004", "31012026"),
            ("005", amount(Decimal("1234.56"))),
        ),
        *_block(
            "S21.G00.23",
            ("001", "100"),
            ("002", "921"),
            ("003", rate(Decimal("8.55"), "S21.G00.23.003")),
            ("004", "3000.00"),
            ("005", "256.50"),
        ),
    ]
    for index in range(individuals):
        contract = f"C{index + 1:05d}"
        out += [
            *_block(
                "S21.G00.30",
                ("001", f"28501422180{index + 1:02d}"),
                ("002", "DURAND"),
                ("004", "MARIE"),
                ("005", "02"),
                ("006", "15011985"),
                ("007", "SAINT ETIENNE"),
                ("008", "2 RUE DU TEST"),
                ("009", "42000"),
                ("010", "SAINT ETIENNE"),
                ("014", "42"),
            ),
            *_block(
                "S21.G00.40",
                ("001", "01092020"),
                ("002", "04"),
                ("003", "01"),
                ("004", "372c"),
                ("007", "01"),
                ("008", "99"),
                ("009", contract),
                ("011", "10"),
                ("012", "151.67"),
                ("013", "151.67"),
                ("014", "10"),
                ("016", "99"),
                ("017", "1486"),
                ("018", "200"),
                ("019", "12345678200011"),
                ("020", "200"),
                ("024", "99"),
                ("026", "04"),
                ("036", "01"),
                ("037", "01"),
                ("039", "200"),
                ("040", "742AB"),
                ("043", "1.50"),
            ),
            *_block("S21.G00.71", ("002", "RUAA")),
            *_block(
                "S21.G00.50",
                ("001", "31012026"),
                ("002", "2450.00"),
                ("003", "1"),
                ("004", "2300.00"),
                ("006", rate(Decimal("5.2"), "S21.G00.50.006")),
                ("007", "01"),
                ("009", "127.40"),
                ("013", "2450.00"),
            ),
            *_block(
                "S21.G00.51",
                ("001", "01012026"),
                ("002", "31012026"),
                ("010", contract),
                ("011", "001"),
                ("013", "3000.00"),
            ),
            *_block(
                "S21.G00.78", ("001", "02"), ("002", "01012026"), ("003", "31012026"), ("004", "3000.00")
            ),
            *_block("S21.G00.81", ("001", "076"), ("003", "3000.00"), ("004", amount(Decimal("-120.00")))),
        ]
    return out


def valid_dsn(*, individuals: int = 1) -> list[Rubric]:
    return with_totals([*envelope_head(), *declaration(individuals=individuals)])


def _replace(lines: list[Rubric], code: str, value: str, occurrence: int = 0) -> list[Rubric]:
    seen = -1
    out = []
    for line in lines:
        if line.code == code:
            seen += 1
            if seen == occurrence:
                line = Rubric(code, value)
        out.append(line)
    assert seen >= occurrence, code
    return out


def _line_of(lines: list[Rubric], code: str) -> int:
    return next(i for i, line in enumerate(lines, start=1) if line.code == code)


# --- the norm ------------------------------------------------------------------------------------------


def test_the_norm_loads_once_with_the_monthly_blocks() -> None:
    norm = load_norm()
    assert load_norm() is norm
    assert norm.version == "P26V01"
    monthly = (
        "S10.G00.00 S10.G00.01 S10.G00.02 S20.G00.05 S20.G00.07 S21.G00.06 S21.G00.11 S21.G00.15 S21.G00.20 "
        "S21.G00.22 S21.G00.23 S21.G00.30 S21.G00.40 S21.G00.50 S21.G00.51 S21.G00.52 S21.G00.53 S21.G00.54 "
        "S21.G00.56 S21.G00.60 S21.G00.65 S21.G00.70 S21.G00.71 S21.G00.78 S21.G00.79 S21.G00.81 S21.G00.85 "
        "S21.G00.86 S90.G00.90"
    )
    for block in monthly.split(" "):
        assert block in norm.blocks, block
    assert norm.blocks["S21.G00.40"].parent == "S21.G00.30"
    assert norm.blocks["S21.G00.81"].parent == "S21.G00.78"
    assert norm.blocks["S21.G00.11"].min == 1 and norm.blocks["S21.G00.11"].max == 1
    version = norm.rubric("S10.G00.00.006")
    assert version is not None and version.codes == {"P26V01": "Année 2026 Version 1"}
    # dsn-tools' doubled backslashes are undone: an amount matches its pattern
    spec = norm.rubric("S21.G00.51.013")
    pattern = spec.pattern if spec is not None else None
    assert pattern is not None and pattern.fullmatch("1234.56") and not pattern.fullmatch("1234,56")
    # the one type corrected from dsn-tools (scripts/dsn_norm.py TYPE_CORRECTIONS): published files write '1'
    affiliation = norm.rubric("S21.G00.70.012")
    assert (
        affiliation is not None
        and affiliation.problem("1") is None
        and affiliation.problem("1234") is not None
    )
    with pytest.raises(ValueError, match="not a DSN norm version"):
        load_norm("../P26V01")


def test_every_mandatory_rubric_is_a_rubric_of_its_block() -> None:
    norm = load_norm()
    marked = {block_id: spec.mandatory for block_id, spec in norm.blocks.items() if spec.mandatory}
    assert {"S10.G00.00", "S20.G00.05", "S21.G00.30", "S21.G00.40", "S90.G00.90"} <= set(marked)
    for block_id, numbers in marked.items():
        assert set(numbers) <= set(norm.blocks[block_id].rubrics), block_id


def test_the_yaml_says_where_it_comes_from() -> None:
    text = (Path(__file__).resolve().parent.parent / "src/eage/payroll/dsn/P26V01.yaml").read_text(
        encoding="utf-8"
    )
    head = text[:2000]
    assert "dsn-tools 0.1.2" in head and "WTFPL" in head and "scripts/dsn_norm.py" in head
    assert "dsn-datatypes-CT2026.xlsx" in head


# --- a valid file --------------------------------------------------------------------------------------


def test_a_small_valid_dsn_has_no_structural_problem() -> None:
    assert structure_problems(valid_dsn(), source=SOURCE) == []
    assert structure_problems(valid_dsn(individuals=3), source=SOURCE) == []


def test_a_small_valid_dsn_passes_dsn_tools(tmp_path: Path) -> None:
    path = tmp_path / "2026-01.dsn"
    path.write_bytes(render(valid_dsn(individuals=2)))
    summary = dsn_tools_validate(path)
    assert summary["ok"], summary["errors"]
    assert summary["errors"] == []
    assert summary["declarations"] == 1
    assert summary["individus"] == 2
    assert summary["rubrics"] == len(valid_dsn(individuals=2))


def test_a_file_of_two_declarations_counts_both(tmp_path: Path) -> None:
    lines = with_totals([*envelope_head(), *declaration(), *declaration(individuals=2)])
    assert lines[-1] == Rubric("S90.G00.90.002", "2")
    assert structure_problems(lines, source=SOURCE) == []
    path = tmp_path / "two.dsn"
    path.write_bytes(render(lines))
    summary = dsn_tools_validate(path)
    assert (summary["ok"], summary["declarations"], summary["individus"]) == (True, 2, 3), summary["errors"]


def test_dsn_tools_says_a_missing_file(tmp_path: Path) -> None:
    summary = dsn_tools_validate(tmp_path / "absent.dsn")
    assert not summary["ok"] and "absent.dsn" in summary["errors"][0]


def test_dsn_tools_refuses_a_broken_file(tmp_path: Path) -> None:
    """The independent check is a check: a code outside the list and a misplaced block are caught."""
    lines = _replace(valid_dsn(), "S10.G00.00.005", "07")
    moved = [line for line in lines if line.block != "S21.G00.71"]
    moved.insert(len(moved) - 2, Rubric("S21.G00.71.002", "RUAA"))  # after the .81, before S90
    path = tmp_path / "bad.dsn"
    path.write_bytes(render(moved))
    summary = dsn_tools_validate(path)
    assert not summary["ok"]
    text = "\n".join(summary["errors"])
    assert "'07'" in text  # S10.G00.00.005
    assert "placed" in text  # the .71 found no .40 open: dsn-tools dropped it


# --- one located problem per fault ----------------------------------------------------------------------


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    return problems[0]


def test_an_unknown_rubric_is_one_located_problem() -> None:
    lines = valid_dsn()
    at = _line_of(lines, "S21.G00.30.014") + 1
    broken = with_totals([*lines[: at - 1], Rubric("S21.G00.30.999", "X"), *lines[at - 1 :]])
    problem = _only(structure_problems(broken, source=SOURCE))
    assert (problem.file, problem.line, problem.key) == (SOURCE, at, "S21.G00.30.999")
    assert "unknown rubric" in problem.message


def test_an_unknown_block_is_one_located_problem() -> None:
    lines = valid_dsn()
    at = _line_of(lines, "S21.G00.30.001")
    broken = with_totals([*lines[: at - 1], Rubric("S21.G00.99.001", "X"), *lines[at - 1 :]])
    problem = _only(structure_problems(broken, source=SOURCE))
    assert (problem.line, problem.key) == (at, "S21.G00.99.001")
    assert "unknown block" in problem.message


@pytest.mark.parametrize(
    ("code", "value", "words"),
    [
        ("S21.G00.30.006", "1985-01-15", "does not match"),
        ("S21.G00.40.001", "31022020", "not a calendar day"),
        ("S20.G00.05.005", "15012026", "does not match"),
        ("S21.G00.51.013", "3000,00", "does not match"),
        ("S21.G00.40.009", "C1", "fewer than the 5"),
        ("S10.G00.00.001", "x" * 21, "more than the 20"),
    ],
)
def test_a_bad_value_is_one_located_problem(code: str, value: str, words: str) -> None:
    lines = _replace(valid_dsn(), code, value)
    problem = _only(structure_problems(lines, source=SOURCE))
    assert (problem.file, problem.line, problem.key) == (SOURCE, _line_of(lines, code), code)
    assert words in problem.message


def test_a_code_not_in_its_list_is_one_located_problem() -> None:
    lines = _replace(valid_dsn(), "S21.G00.40.007", "05")
    problem = _only(structure_problems(lines, source=SOURCE))
    assert problem.key == "S21.G00.40.007"
    assert "'05' is not a code of DSN_NatureContrat" in problem.message


def test_rubrics_out_of_order_in_a_block_are_one_located_problem() -> None:
    lines = valid_dsn()
    i = _line_of(lines, "S21.G00.30.004") - 1
    lines[i], lines[i + 1] = lines[i + 1], lines[i]  # .005 before .004
    problem = _only(structure_problems(lines, source=SOURCE))
    assert (problem.line, problem.key) == (i + 2, "S21.G00.30.004")
    assert "increasing number order" in problem.message


def test_a_repeated_rubric_is_one_located_problem() -> None:
    lines = valid_dsn()
    i = _line_of(lines, "S21.G00.40.037") - 1
    broken = with_totals([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    problem = _only(structure_problems(broken, source=SOURCE))
    assert (problem.line, problem.key) == (i + 2, "S21.G00.40.037")
    assert f"first on line {i + 1}" in problem.message


def test_a_block_out_of_order_is_one_located_problem() -> None:
    """The .22 (bordereau) written after the first individual: the norm lists it before the .30."""
    lines = valid_dsn()
    bordereau = [line for line in lines if line.block in ("S21.G00.22", "S21.G00.23")]
    rest = [line for line in lines if line.block not in ("S21.G00.22", "S21.G00.23")]
    at = len(rest) - 2  # before S90
    broken = [*rest[:at], *bordereau, *rest[at:]]
    problem = _only(structure_problems(broken, source=SOURCE))
    assert (problem.line, problem.key) == (at + 1, "S21.G00.22")
    assert "comes after S21.G00.30 under S21.G00.11" in problem.message


def test_a_block_under_the_wrong_parent_is_one_located_problem() -> None:
    """A .81 (cotisation individuelle) right after the .51, with no .78 (base assujettie) open."""
    lines = valid_dsn()
    i = _line_of(lines, "S21.G00.81.001") - 1
    cotisation = lines[i : i + 3]
    rest = lines[:i] + lines[i + 3 :]
    j = _line_of(rest, "S21.G00.78.001") - 1
    broken = [*rest[:j], *cotisation, *rest[j:]]
    problem = _only(structure_problems(broken, source=SOURCE))
    assert (problem.line, problem.key) == (j + 1, "S21.G00.81")
    assert "must come under a S21.G00.78" in problem.message


def test_a_missing_mandatory_rubric_is_one_located_problem() -> None:
    lines = [line for line in valid_dsn() if line.code != "S21.G00.40.037"]
    lines = with_totals(lines)
    problem = _only(structure_problems(lines, source=SOURCE))
    assert (problem.line, problem.key) == (_line_of(lines, "S21.G00.40.001"), "S21.G00.40.037")
    assert "mandatory rubric" in problem.message


def test_a_missing_required_child_block_is_one_located_problem() -> None:
    """S21.G00.71 (retraite complémentaire) is [1..*] under each contract."""
    lines = with_totals([line for line in valid_dsn() if line.block != "S21.G00.71"])
    problem = _only(structure_problems(lines, source=SOURCE))
    assert (problem.line, problem.key) == (_line_of(lines, "S21.G00.40.001"), "S21.G00.71")
    assert "at least 1" in problem.message


def test_a_block_repeated_beyond_its_cardinality_is_one_located_problem() -> None:
    """S21.G00.11 is [1..1] under S21.G00.06."""
    lines = valid_dsn()
    i = _line_of(lines, "S21.G00.11.001") - 1
    establishment = lines[i : i + 5]
    broken = with_totals([*lines[: i + 5], *establishment, *lines[i + 5 :]])
    problem = _only(structure_problems(broken, source=SOURCE))
    assert (problem.line, problem.key) == (i + 6, "S21.G00.11")
    assert "more than 1" in problem.message


@pytest.mark.parametrize(
    ("code", "delta"), [("S90.G00.90.001", 1), ("S90.G00.90.001", -3), ("S90.G00.90.002", 1)]
)
def test_a_wrong_s90_count_is_one_located_problem(code: str, delta: int) -> None:
    lines = valid_dsn()
    i = _line_of(lines, code) - 1
    lines[i] = Rubric(code, str(int(lines[i].value) + delta))
    problem = _only(structure_problems(lines, source=SOURCE))
    assert (problem.line, problem.key) == (i + 1, code)
    assert "says" in problem.message


def test_a_file_without_totals_says_so() -> None:
    lines = [line for line in valid_dsn() if line.block != "S90.G00.90"]
    problem = _only(structure_problems(lines, source=SOURCE))
    assert problem.key == "S90.G00.90"


def test_the_yaml_is_what_the_script_writes() -> None:
    """P26V01.yaml is regenerated by scripts/dsn_norm.py from dsn-tools without a difference."""
    repo = Path(__file__).resolve().parent.parent
    python = repo / ".venv-dsn" / "bin" / "python"
    if not python.exists():
        pytest.fail("`.venv-dsn` is missing: build it with `make .venv-dsn/bin/.installed`", pytrace=False)
    done = subprocess.run(
        [str(python), "scripts/dsn_norm.py", "--check"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- properties -----------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(individuals=st.integers(min_value=1, max_value=6), drop=st.data())
def test_dropping_any_one_mandatory_rubric_is_reported_there(individuals: int, drop: st.DataObject) -> None:
    """Property: removing any mandatory rubric of a valid file gives a problem keyed on that rubric."""
    norm = load_norm()
    lines = valid_dsn(individuals=individuals)
    mandatory = [
        i
        for i, line in enumerate(lines)
        if line.code[11:] in norm.blocks[line.block].mandatory and line.block != "S90.G00.90"
    ]
    i = drop.draw(st.sampled_from(mandatory))
    broken = with_totals(lines[:i] + lines[i + 1 :])
    keys = [p.key for p in structure_problems(broken, source=SOURCE)]
    assert lines[i].code in keys


@settings(max_examples=60, deadline=None)
@given(individuals=st.integers(min_value=1, max_value=5), data=st.data())
def test_any_wrong_total_is_caught(individuals: int, data: st.DataObject) -> None:
    """Property: the S90 totals of with_totals are right, and any other value is one problem."""
    lines = valid_dsn(individuals=individuals)
    assert structure_problems(lines, source=SOURCE) == []
    code = data.draw(st.sampled_from(["S90.G00.90.001", "S90.G00.90.002"]))
    right = int(next(line.value for line in lines if line.code == code))
    wrong = data.draw(st.integers(min_value=1, max_value=10_000).filter(lambda n: n != right))
    problems = structure_problems(_replace(lines, code, str(wrong)), source=SOURCE)
    assert [p.key for p in problems] == [code]


@pytest.mark.parametrize(("code", "value"), [("S21.G00.30.005", "03"), ("S21.G00.50.001", "00012026")])
def test_every_individual_is_checked(code: str, value: str) -> None:
    """A fault in the last of several individuals is found and located on its own line."""
    lines = valid_dsn(individuals=4)
    last = max(i for i, line in enumerate(lines) if line.code == code)
    lines[last] = Rubric(code, value)
    problem = _only(structure_problems(lines, source=SOURCE))
    assert (problem.line, problem.key) == (last + 1, code)
