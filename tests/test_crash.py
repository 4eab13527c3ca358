"""A writing command killed at any step of its commit: the next command recovers by itself.

For every writing command (run, run --correct, import-bank, credit-note, fees, close, budget, fec, init) the
test first runs it uninterrupted on a copy of a prepared group (the reference), and counts the files it
writes (N). Then, on fresh copies, it kills a real ``eage`` process with SIGKILL (test hook
``EAGE_CRASH_AT``, see eage.ledger.store) at **every** step of the commit: after each of the N temporaries is
staged (``stage:1..N``), once the intent journal is written (``intent``), after each of the N renames
(``rename:1..N``) and once every rename is done (``cleanup``). After each kill:

- the next command, ``eage check`` (read-only), finds what the dead process left and finishes or undoes it
  without being asked (it prints a ``recovered:`` line);
- the folder then holds either the state before the command (the commit was rolled back: staging was not
  complete) or exactly the reference's bytes (rolled forward); running the command again then ends with the
  reference's bytes, byte for byte, so numbers stay continuous and none is used twice;
- no temporary, journal or lock-holder file is left.

A SIGKILL at a random moment of a full ``eage run`` (rendering included) ends the same way.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from beancount import loader

from conftest import copy_demo
from eage.ledger.lock import HOLDER_FILE
from eage.ledger.store import CRASH_AT_ENV, CRASH_ENV, JOURNAL, TMP_SUFFIX

pytestmark = pytest.mark.slow

EAGE = Path(sys.executable).with_name("eage")
KEPT_MEMBERS = ("noctambules",)
NEW_MEMBER = """  - id: nouvelle-asso
    identity:
      name: "La Nouvelle Asso"
      legal_form: "Association loi 1901"
      siren: "842159378"
      siret: "84215937800012"
      address:
        line1: "1 place du Test"
        postcode: "42000"
        city: "Saint-Étienne"
      fictitious: true
    email: "compta@nouvelle.example"
    vat_regime: exempt_261b
    joined: 2026-11-01
    previous_year_gross_payroll:
      2025: 40000.00
"""


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def eage(root: Path, *args: str, crash_at: str | None = None, root_flag: bool = True) -> tuple[int, str]:
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
    env.pop(CRASH_ENV, None)
    env.pop(CRASH_AT_ENV, None)
    if crash_at is not None:
        env[CRASH_AT_ENV] = crash_at
    argv = [str(EAGE), *args, *(["--root", str(root)] if root_flag else [])]
    done = subprocess.run(argv, env=env, capture_output=True, timeout=300)
    return done.returncode, done.stderr.decode("utf-8", "replace")


# ------------------------------------------------------------------ the prepared groups


def one_member_november(root: Path) -> None:
    path = root / "ledger/timesheets/2026-11.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [lines[0]] + [ln for ln in lines[1:] if ln.split(",")[2] in ("", *KEPT_MEMBERS)]
    path.write_text("".join(kept), encoding="utf-8")


def november_bonus_after_the_run(root: Path) -> None:
    """November run for one member, then a bonus added to its payroll variables: the correction rewrites the
    payroll journal and the payslip, and issues a credit note and a replacement invoice."""
    one_member_november(root)
    code, err = eage(root, "run", "2026-11")
    assert code == 0, err
    path = root / "ledger/payroll/2026-11.yaml"
    path.write_text('employees:\n  lpetit:\n    bonus: 150.00\n    bonus_label: "Prime"\n', encoding="utf-8")


def without_bank_lines(root: Path) -> None:
    from test_bank import fresh_demo

    shutil.rmtree(root)
    fresh_demo(root)


def a_member_joins(root: Path) -> None:
    path = root / "rules/members.yaml"
    path.write_text(path.read_text(encoding="utf-8") + NEW_MEMBER, encoding="utf-8")


def december_run(root: Path) -> None:
    """November and December billed at standard rates, so that the close has a true-up to issue."""
    rules = root / "rules/allocation.yaml"
    text = rules.read_text(encoding="utf-8")
    text = text.replace("billing_mode: actual", "billing_mode: standard_rate")
    # rate_method year_to_date is for billing_mode actual only.
    rules.write_text(text.replace(": year_to_date\n", ": monthly\n"), encoding="utf-8")
    main = root / "ledger/main.beancount"
    text = main.read_text(encoding="utf-8")
    main.write_text(
        text.replace("'billing_mode': 'actual'", "'billing_mode': 'standard_rate'"), encoding="utf-8"
    )
    for month in ("2026-11", "2026-12"):
        code, err = eage(root, "run", month)
        assert code == 0, err


def nothing(root: Path) -> None:
    return None


def no_statements(root: Path) -> None:
    shutil.rmtree(root / "reports" / "budget")


@dataclass(frozen=True)
class Scenario:
    """A writing command on a prepared copy of the demo."""

    name: str
    args: tuple[str, ...]
    prepare: Callable[[Path], None]
    root_flag: bool = True  # init takes its folder as an argument
    group: str = ""  # the group folder the next command works on, under the copy (init: the new one)


SCENARIOS = (
    Scenario("run", ("run", "2026-11"), one_member_november),
    Scenario("correct", ("run", "2026-11", "--correct"), november_bonus_after_the_run),
    Scenario("import-bank", ("import-bank", "ledger/bank-statements/releve-2026.csv"), without_bank_lines),
    Scenario("credit-note", ("credit-note", "FAC-2026-0151", "--reason", "Erreur de saisie"), nothing),
    Scenario("fees", ("fees", "2026"), a_member_joins),
    Scenario("close", ("close", "2026"), december_run),
    Scenario("budget", ("budget", "2026"), no_statements),
    Scenario("fec", ("fec", "2026"), nothing),
    Scenario("init", ("init", "{root}/nouveau-groupe"), nothing, root_flag=False, group="nouveau-groupe"),
)


def command(scenario: Scenario, root: Path) -> tuple[str, ...]:
    args = tuple(a.replace("{root}", str(root)) for a in scenario.args)
    if scenario.name == "import-bank":
        args = (args[0], str(root / args[1]))
    return args


PAYSLIP = ("payslip", "--gross", "2500", "--month", "2026-11", "--json")
FIRST_AND_LAST: dict[str, set[str]] = {}


@dataclass
class Matrix:
    """One scenario: the state before, the reference's bytes, and what each kill led to."""

    before: dict[str, bytes]
    reference: dict[str, bytes]
    written: int
    results: dict[
        str, tuple[int, str, str, str]
    ]  # step -> (exit of the killed run, check's stderr, outcome, err)


def _one_kill(
    scenario: Scenario,
    base: Path,
    top: Path,
    step: str,
    matrix_before: dict[str, bytes],
    reference: dict[str, bytes],
) -> tuple[int, str, str, str]:
    root = top / step.replace(":", "-")
    shutil.copytree(base, root)
    code, _ = eage(root, *command(scenario, root), crash_at=step, root_flag=scenario.root_flag)
    if scenario.name == "init":
        return _after_a_killed_init(scenario, root, code, step, matrix_before, reference)
    # The next command, whatever it is, recovers: `eage check` at the phase boundaries, a payslip simulation
    # (read-only, rules only: cheap) elsewhere. Their exit codes are not asserted (an init'ed group's check
    # reports its placeholders).
    nxt = ("check",) if step in FIRST_AND_LAST[scenario.name] else PAYSLIP
    _, check_err = eage(root / scenario.group, *nxt)
    now = files_of(root)
    if now == reference:
        return code, check_err, "rolled forward", ""
    if now != matrix_before:
        changed = sorted(k for k in set(now) | set(matrix_before) if now.get(k) != matrix_before.get(k))
        return code, check_err, "neither", f"after recovery, neither the old nor the new state: {changed[:8]}"
    if step not in FIRST_AND_LAST[scenario.name]:
        # Byte for byte the state before the command: the re-run is the reference run (shown at the first
        # and last staging steps), so it is not repeated at every step.
        return code, check_err, "rolled back", ""
    again, err = eage(root, *command(scenario, root), root_flag=scenario.root_flag)
    if again != 0:
        return code, check_err, "rerun failed", err
    now = files_of(root)
    if now != reference:
        changed = sorted(k for k in set(now) | set(reference) if now.get(k) != reference.get(k))
        return code, check_err, "rerun differs", f"the re-run differs from the reference: {changed[:8]}"
    return code, check_err, "rolled back", ""


def _after_a_killed_init(
    scenario: Scenario,
    root: Path,
    code: int,
    step: str,
    matrix_before: dict[str, bytes],
    reference: dict[str, bytes],
) -> tuple[int, str, str, str]:
    """A killed init leaves either its finished folder or a hidden staged one; the next init removes the latter
    and creates the folder (the user's next step is to run init again)."""
    target = root / scenario.group
    now = {k: v for k, v in files_of(root).items() if not k.startswith(".")}
    if now == reference:
        return code, "recovered: nothing to do", "rolled forward", ""
    if target.exists() or now != matrix_before:
        return code, "", "neither", f"a killed init left {scenario.group} half-made"
    again, err = eage(root, *command(scenario, root), root_flag=False)
    if again != 0 or files_of(root) != reference:
        return code, err, "rerun failed", err or "the re-run differs from the reference"
    return code, "recovered: the staged folder of the killed init was removed", "rolled back", ""


def run_matrix(scenario: Scenario, top: Path) -> Matrix:
    base = top / "base"
    copy_demo(base)
    scenario.prepare(base)
    before = files_of(base)
    ref_root = top / "reference"
    shutil.copytree(base, ref_root)
    code, err = eage(ref_root, *command(scenario, ref_root), root_flag=scenario.root_flag)
    assert code == 0, f"{scenario.name}: the uninterrupted command failed: {err}"
    reference = files_of(ref_root)
    # The reference was written under another folder name: only init's own folder is named in what it writes
    # (never), and every other command writes paths relative to the group's folder.
    written = sum(1 for rel, data in reference.items() if before.get(rel) != data)
    assert written > 0, f"{scenario.name}: the reference wrote nothing"
    steps = [f"stage:{n}" for n in range(1, written + 1)]
    if scenario.name == "init":
        # init stages the whole folder beside its target, then renames it into place in one step.
        steps.append("rename:1")
    else:
        steps += ["intent", *(f"rename:{n}" for n in range(1, written + 1)), "cleanup"]
    FIRST_AND_LAST[scenario.name] = {"stage:1", f"stage:{written}", "intent", "cleanup"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {s: pool.submit(_one_kill, scenario, base, top, s, before, reference) for s in steps}
        results = {s: f.result() for s, f in futures.items()}
    for step in steps:
        shutil.rmtree(top / step.replace(":", "-"), ignore_errors=True)
    return Matrix(before, reference, written, results)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_killed_at_every_step_of_the_commit(scenario: Scenario, tmp_path: Path) -> None:
    matrix = run_matrix(scenario, tmp_path)
    failures = []
    for step, (code, check_err, outcome, why) in matrix.results.items():
        if code != -signal.SIGKILL:
            failures.append(f"{step}: the command was not killed there (exit {code})")
        if outcome not in ("rolled forward", "rolled back"):
            failures.append(f"{step}: {outcome}: {why}")
        if "Traceback" in check_err:
            failures.append(f"{step}: eage check crashed:\n{check_err}")
        if "recovered:" not in check_err:
            failures.append(f"{step}: eage check did not say it recovered anything:\n{check_err}")
        # staging incomplete: rolled back; the journal written: rolled forward
        expected = "rolled back" if step.startswith("stage:") else "rolled forward"
        if outcome in ("rolled forward", "rolled back") and outcome != expected:
            failures.append(f"{step}: {outcome}, expected {expected}")
    assert not failures, f"{scenario.name} ({matrix.written} files):\n" + "\n".join(failures)


# ------------------------------------------------------------------ a kill at a random moment of a real run


def test_killed_at_a_random_moment_of_a_full_run(tmp_path: Path) -> None:
    base = copy_demo(tmp_path / "base")
    one_member_november(base)
    before = files_of(base)
    reference_root = tmp_path / "reference"
    shutil.copytree(base, reference_root)
    assert eage(reference_root, "run", "2026-11")[0] == 0
    reference = files_of(reference_root)
    seed = random.randrange(1_000_000)
    delay = random.Random(seed).uniform(0.3, 4.0)
    root = tmp_path / "random"
    shutil.copytree(base, root)
    proc = subprocess.Popen(
        [str(EAGE), "run", "2026-11", "--root", str(root)],
        env={**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=120)
    context = f"seed {seed}: SIGKILL after {delay:.2f} s, exit {proc.returncode}"
    # Whatever the moment, the ledger loads and the next run ends with the reference's bytes.
    _, errors, _ = loader.load_file(str(root / "ledger/main.beancount"))
    assert errors == [] or (root / JOURNAL).exists(), context
    code, err = eage(root, "run", "2026-11")
    assert code == 0, f"{context}\n{err}"
    assert files_of(root) == reference, context
    assert before != reference
    assert not list(root.rglob(f"*{TMP_SUFFIX}")) and not (root / HOLDER_FILE).exists(), context
