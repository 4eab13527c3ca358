"""The period lock: once a month is invoiced, its generated files and issued documents cannot change.

The lock manifest (ledger/generated/manifest.json) holds the sha256 of every generated ledger file and
every issued document (invoice PDF + Factur-X XML, payslip PDF). A hand edit, a deleted file, a missing or
corrupt manifest, or a file slipped into eage's include block without a lock is reported by
``eage check`` (exit 1, naming the file) and refused by ``eage run`` of any month (exit 1, nothing
written). The monthly register reports/YYYY-MM/invoices.csv is deliberately not locked: it is a
convenience export re-derivable from the ledger, and a spreadsheet re-saving it must not block the books.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import tree_digest
from eage.cli import main
from eage.ledger.load import load_ledger
from eage.ledger.store import MANIFEST, UNLOCKED_INCLUDES, read_includes, read_manifest

LOCKED_EXAMPLES = {
    "generated ledger file": "ledger/generated/2026/2026-03-allocation.beancount",
    "payroll journal": "ledger/generated/2026/2026-10-payroll.beancount",
    "invoice PDF": "reports/invoices/2026/FAC-2026-0001-1dlab.pdf",
    "invoice XML": "reports/invoices/2026/FAC-2026-0001-1dlab.xml",
    "payslip PDF": "reports/payslips/2026/PAY-2026-01-cmartin.pdf",
}


def run_cli(root: Path, *args: str) -> int:
    return main([*args, "--root", str(root)])


def outcome(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run_cli(root, *args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out + err


def edit(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data.replace(b"EUR", b"EUR ", 1) if b"EUR" in data else data + b"\n%")


@pytest.mark.slow
def test_the_demo_is_locked_and_clean(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = read_manifest(demo / "ledger")
    main_path = demo / "ledger/main.beancount"
    includes = read_includes(main_path.read_text(encoding="utf-8"), main_path)
    for inc in includes:
        if inc not in UNLOCKED_INCLUDES:
            assert f"ledger/{inc}" in manifest, inc
    ledger, _ = load_ledger(demo)
    for doc in ledger.issued_documents():
        assert doc.pdf is not None and doc.pdf in manifest, doc.number
        assert doc.pdf[:-4] + ".xml" in manifest, doc.number
    assert not [rel for rel in manifest if rel.endswith("invoices.csv")], "the register is not locked"
    assert outcome(demo, capsys, "check")[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize("what", sorted(LOCKED_EXAMPLES))
def test_a_hand_edit_is_reported_and_blocks_every_run(
    what: str, demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rel = LOCKED_EXAMPLES[what]
    edit(demo / rel)
    code, text = outcome(demo, capsys, "check")
    assert code == 1
    assert f"{rel}: edited by hand" in text
    before = tree_digest(demo)
    for month in ("2026-11", "2026-12", "2026-10"):  # the next month, a later one, the edited one's own
        code, text = outcome(demo, capsys, "run", month)
        assert code == 1, month
        assert rel in text and "edited by hand" in text and "Nothing was written." in text
    assert tree_digest(demo) == before


def test_an_issued_document_edit_points_to_a_credit_note(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(demo / LOCKED_EXAMPLES["invoice PDF"])
    _, text = outcome(demo, capsys, "run", "2026-11")
    assert "credit note" in text


@pytest.mark.slow
@pytest.mark.parametrize("what", ["generated ledger file", "invoice PDF", "payslip PDF"])
def test_a_deleted_locked_file_is_reported(what: str, demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rel = LOCKED_EXAMPLES[what]
    (demo / rel).unlink()
    code, text = outcome(demo, capsys, "check")
    assert code == 1 and f"{rel}: missing" in text
    before = tree_digest(demo)
    code, text = outcome(demo, capsys, "run", "2026-11")
    assert code == 1 and f"{rel}: missing" in text
    if rel.startswith("ledger/"):  # the include that no longer loads is named in main.beancount's terms
        assert "ledger/main.beancount" in text and "does not match any files" in text
    assert tree_digest(demo) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"files": {"ledger/generated/2026/2026-01-allocation.beancount": ', "is not valid JSON"),
        ("[]", 'has no "files" object'),
        ('{"files": ["a", "b"]}', 'has no "files" object'),
        ('{"files": {"ledger/x.beancount": 42}}', "is not a sha256"),
        ('{"files": {"/etc/passwd": "' + "0" * 64 + '"}}', "not a path under ledger/ or reports/"),
        ('{"files": {"reports/../../x": "' + "0" * 64 + '"}}', "not a path under ledger/ or reports/"),
        (b"\xff\xfe{".decode("latin-1"), "is not valid JSON"),
    ],
)
def test_a_corrupt_manifest_gives_a_clear_error(
    content: str, expected: str, demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo / "ledger" / MANIFEST).write_bytes(content.encode("latin-1"))
    code, text = outcome(demo, capsys, "check")
    assert code == 1
    assert "ledger/generated/manifest.json" in text and expected in text
    assert "restore it from version control" in text
    before = tree_digest(demo)
    code, text = outcome(demo, capsys, "run", "2026-11", "--dry-run")
    assert code == 1 and expected in text
    assert tree_digest(demo) == before


def test_a_deleted_manifest_does_not_unlock_the_books(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (demo / "ledger" / MANIFEST).unlink()
    edit(demo / LOCKED_EXAMPLES["generated ledger file"])
    for args in (("check",), ("run", "2026-11", "--dry-run")):
        code, text = outcome(demo, capsys, *args)
        assert code == 1
        assert re.search(r"lock manifest is missing while \d+ generated file\(s\) are included", text)


@pytest.mark.slow
def test_a_manifest_entry_removed_by_hand_is_reported(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rel = LOCKED_EXAMPLES["generated ledger file"]
    path = demo / "ledger" / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["files"][rel]
    path.write_text(json.dumps(data), encoding="utf-8")
    edit(demo / rel)  # now unlocked: the edit itself cannot be seen, the missing lock can
    for args in (("check",), ("run", "2026-11", "--dry-run")):
        code, text = outcome(demo, capsys, *args)
        assert code == 1
        assert f"{rel}: included in eage's block of main.beancount but not in the lock manifest" in text


@pytest.mark.slow
def test_the_register_csv_is_not_locked(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = demo / "reports/2026-10/invoices.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")  # re-saved
    assert outcome(demo, capsys, "check")[0] == 0
    assert outcome(demo, capsys, "run", "2026-11", "--dry-run")[0] == 0
