"""Security pass over everything that reads outside input or writes what others open.

- YAML is read with the safe loader only: an object tag is refused with a located error, never run.
- CSV cells eage writes cannot start a spreadsheet formula (:mod:`eage.csvsafe`).
- No file name taken from input can climb out of the group's folder: member and employee ids are slugs,
  the month argument is YYYY-MM, PDF paths derive from invoice numbers and slugs only, the lock
  manifest names paths under ledger/ and reports/ only, ``eage init`` never writes into a non-empty folder.
- Every Jinja environment autoescapes (names and labels are text, never markup).
- Fava listens on the loopback interface only.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import tree_digest
from eage.cli import main
from eage.csvsafe import FORMULA_STARTS, safe_cell, safe_row
from eage.errors import InputError
from eage.invoicing.monthly import invoices_csv
from eage.ledger.load import load_ledger
from eage.ledger.store import read_manifest
from eage.rules.loader import load_model
from eage.rules.models import Members, Staff

SRC = Path(__file__).resolve().parents[1] / "src" / "eage"
SOURCES = sorted(SRC.rglob("*.py"))


# ---------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        '!!python/object/new:subprocess.check_output [["touch", "{marker}"]]',
        "!!python/name:os.system",
        "!custom {{a: 1}}",
    ],
)
def test_object_tags_are_refused_with_a_located_error(tag: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "members.yaml"
    path.write_text(f"members:\n  - id: {tag.format(marker=marker)}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_model(path, Members)
    message = str(info.value)
    assert f"{path}:2" in message and "could not determine a constructor" in message
    assert "only plain YAML" in message
    assert not marker.exists()


def test_no_module_loads_yaml_unsafely() -> None:
    unsafe = re.compile(
        r"yaml\.(load|load_all|full_load|unsafe_load)\(|(Full|Unsafe|)Loader\b(?<!SafeLoader)"
    )
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if "yaml." in code and unsafe.search(code) and "SafeLoader" not in code:
                raise AssertionError(f"{path}:{number}: {line.strip()}")


def test_a_duplicate_key_cannot_hide_a_value(tmp_path: Path) -> None:
    path = tmp_path / "staff.yaml"
    path.write_text("employees: []\nemployees: []\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"staff.yaml:2: duplicate key 'employees' \(first given on line 1\)"
    ):
        load_model(path, Staff)


def test_an_alias_bomb_is_not_expanded(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    path = tmp_path / "staff.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="an alias repeats the part anchored on line 1"):
        load_model(path, Staff)


# ---------------------------------------------------------------- CSV / formula injection


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 4 77", "'+33 4 77"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1", "'\r=1"),
        ("-12.30", "-12.30"),
        ("+5", "+5"),
        ("1dlab", "1dlab"),
        ("FAC-2026-0001", "FAC-2026-0001"),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_cell(cell: str | None, shown: str) -> None:
    assert safe_cell(cell) == shown


@given(st.text())
def test_no_safe_cell_starts_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS) or re.fullmatch(r"[+-]\d+(?:[.,]\d+)?", cell)
    assert cell in (text, "'" + text)


def test_the_invoice_register_escapes_its_cells() -> None:
    inv = SimpleNamespace(
        number="FAC-2026-0001",
        member_id='=cmd|" /C calc"!A0',
        net_total=-10,
        vat_total=0,
        gross_total=-10,
        due_date="2026-12-30",
    )
    text = invoices_csv([inv])  # type: ignore[list-item]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["number", "member", "net", "vat", "total", "due_date"]
    assert rows[1] == ["FAC-2026-0001", '\'=cmd|" /C calc"!A0', "-10.00", "0.00", "-10.00", "2026-12-30"]
    assert safe_row(["=1", "-1"]) == ["'=1", "-1"]


# ---------------------------------------------------------------- path traversal


@pytest.mark.parametrize("bad_id", ["../x", "..", "a/b", "x\\..\\y", "/etc", "Majuscule", ".cache", "a" * 41])
def test_member_and_employee_ids_are_slugs(bad_id: str, tmp_path: Path) -> None:
    path = tmp_path / "members.yaml"
    path.write_text(f"members:\n  - id: {bad_id!r}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\[members\[0\]\.id\]: String should match pattern"):
        load_model(path, Members)
    path = tmp_path / "staff.yaml"
    path.write_text(f"employees:\n  - id: {bad_id!r}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"\[employees\[0\]\.id\]: String should match pattern"):
        load_model(path, Staff)


@pytest.mark.parametrize(
    "month", ["../../etc/passwd", "2026-11/../../x", "2026-1", "2026-11.csv", "2026-11\n"]
)
def test_the_month_argument_is_yyyy_mm(month: str, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(demo)
    assert main(["run", month, "--root", str(demo)]) == 2
    assert "is not YYYY-MM" in capsys.readouterr().err
    assert tree_digest(demo) == before


def test_pdf_paths_derive_from_numbers_and_slugs_only(demo_rules_root: Path) -> None:
    ledger, _ = load_ledger(demo_rules_root)
    shape = re.compile(r"reports/invoices/\d{4}/[A-Z]{2,6}-\d{4}-\d{4}-[a-z0-9][a-z0-9_-]{0,39}\.pdf")
    documents = ledger.issued_documents()
    assert documents
    for doc in documents:
        assert doc.pdf is not None and shape.fullmatch(doc.pdf), doc.pdf


def test_the_manifest_cannot_point_outside(tmp_path: Path) -> None:
    folder = tmp_path / "ledger" / "generated"
    folder.mkdir(parents=True)
    for rel in ("../../etc/passwd", "/etc/passwd", "reports/./x.pdf", "reports//x.pdf", "rules/group.yaml"):
        (folder / "manifest.json").write_text(f'{{"files": {{"{rel}": "{"0" * 64}"}}}}', encoding="utf-8")
        with pytest.raises(InputError, match="not a path under ledger/ or reports/"):
            read_manifest(tmp_path / "ledger")


def test_init_never_writes_into_a_non_empty_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "books"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree_digest(tmp_path)
    assert main(["init", str(target)]) == 1
    assert "the folder is not empty" in capsys.readouterr().err
    assert tree_digest(tmp_path) == before


# ---------------------------------------------------------------- Jinja autoescape


def jinja_environments() -> list[tuple[Path, ast.Call]]:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("Environment", "Template"):
                    found.append((path, node))
    return found


def test_every_jinja_environment_autoescapes() -> None:
    envs = jinja_environments()
    assert envs, "eage renders HTML through Jinja"
    for path, call in envs:
        keywords = {k.arg: k.value for k in call.keywords}
        value = keywords.get("autoescape")
        where = f"{path.relative_to(SRC)}:{call.lineno}"
        assert value is not None, f"{where}: Environment without autoescape"
        assert not (isinstance(value, ast.Constant) and value.value is not True), f"{where}: autoescape off"
        if isinstance(value, ast.Call):  # select_autoescape([...]) must cover the templates' extensions
            assert "select_autoescape" in ast.unparse(value.func), where


# ---------------------------------------------------------------- Fava on loopback


def test_fava_listens_on_loopback_only(demo_rules_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fava_cmd = pytest.importorskip("eage.commands.fava")
    seen: dict[str, Any] = {}

    class Server:
        server_port = 5000

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            seen["closed"] = True

    def make_server(host: str, port: int, app: object, **_: object) -> Server:
        seen["host"], seen["port"] = host, port
        return Server()

    monkeypatch.setattr("werkzeug.serving.make_server", make_server)
    monkeypatch.setattr("fava.application.create_app", lambda *_a, **_k: object())
    args = argparse.Namespace(root=demo_rules_root, port=5123, read_only=True)
    assert fava_cmd.run(args) == 0
    assert seen == {"host": "127.0.0.1", "port": 5123, "closed": True}


def test_no_source_binds_all_interfaces() -> None:
    for path in [*SOURCES, *SRC.rglob("*.html"), *SRC.rglob("*.j2")]:
        text = path.read_text(encoding="utf-8")
        assert "0.0.0.0" not in text, path
        assert not re.search(r"""host\s*=\s*["']::["']""", text), path


class _Planted:
    """Unpickling this object writes a file: what a hostile pickle cache would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "pickle ran"))


@pytest.mark.slow
def test_a_pickle_cache_in_the_group_folder_is_never_loaded(demo: Path, tmp_path: Path) -> None:
    """Beancount's ``load_file`` reads ``.main.beancount.picklecache`` beside the main file (code run on
    load, and a copied folder's cache holds the original's paths): eage loads uncached, whatever the
    environment says."""
    import os
    import pickle
    import subprocess
    import sys
    import time

    marker = tmp_path / "pwned"
    cache = demo / "ledger" / ".main.beancount.picklecache"
    cache.write_bytes(pickle.dumps(_Planted(marker)))
    future = time.time() + 3600
    os.utime(cache, (future, future))  # newer than every ledger file: Beancount would trust it
    env = {k: v for k, v in os.environ.items() if k != "BEANCOUNT_DISABLE_LOAD_CACHE"}
    done = subprocess.run(
        [sys.executable, "-m", "eage.cli", "check", "--root", str(demo)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert not marker.exists()
    assert done.returncode == 0, done.stdout + done.stderr
    assert cache.read_bytes() == pickle.dumps(_Planted(marker))  # neither read nor rewritten
