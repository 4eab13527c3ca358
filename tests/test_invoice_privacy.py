"""What a member's invoice shows: its own name, nobody else's, and no salary.

Members share one group, but each is billed its share only: an invoice (PDF text as pdftotext extracts
it, and the Factur-X XML) names its buyer and no other member (name or id), no employee of the group
(rules/staff.yaml) and no gross salary figure, however formatted. Checked on every document of the demo
(its 2026 fee invoices and monthly invoices), plus two credit notes issued for the purpose: one of a
monthly invoice, one of a fee.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DEMO, copy_demo
from eage.app import credit_note as credit
from eage.ledger.load import load_ledger
from eage.money import fr_number
from eage.rules.bundle import load_rules

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def normalise(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def pdf_texts(paths: list[Path]) -> dict[Path, str]:
    """pdftotext of many PDFs at once (one process per file is most of the cost; keep it lean)."""
    out = {}
    for path in paths:
        text = subprocess.run(
            ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
        out[path] = normalise(text)
    return out


RULES = load_rules(DEMO)
MEMBERS = {m.id: m.identity.name for m in RULES.members.members}
EMPLOYEES = [e.name for e in RULES.staff.employees]
SALARIES = sorted({value for e in RULES.staff.employees for value in e.gross_salary.values()})


def salary_forms(value: Decimal) -> list[str]:
    """A gross salary as it could be printed: ``3 220,00``, ``3220,00``, ``3220.00``."""
    french = normalise(fr_number(value))
    return [french, french.replace(" ", ""), f"{value:.2f}"]


LE_FIL_OCTOBER, FEE_1DLAB = "FAC-2026-0146", "FAC-2026-0001"


@pytest.fixture(scope="module")
def extra_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two credit notes (a monthly invoice's, a fee's) issued for real on a copy, in a folder of their own."""
    root = copy_demo(tmp_path_factory.mktemp("privacy") / "group")
    out = tmp_path_factory.mktemp("docs")
    day = dt.date(2026, 11, 3)
    credit.issue_credit_note(root, LE_FIL_OCTOBER, "Heures du 12 octobre comptées deux fois", day=day)
    credit.issue_credit_note(root, FEE_1DLAB, "Cotisation à refaire", day=day)
    for path in (root / "reports/invoices/2026").glob("AV-*"):
        shutil.copy(path, out / path.name)
    return out


def member_of(path: Path) -> str:
    match = re.fullmatch(r"(?:FAC|AV)-\d{4}-\d{4}-(.+)\.(?:pdf|xml)", path.name)
    assert match, path.name
    return match.group(1)


def check(path: Path, text: str) -> list[str]:
    own = member_of(path)
    problems = []
    if normalise(MEMBERS[own]) not in text:
        problems.append(f"{path.name}: its buyer {MEMBERS[own]!r} is missing")
    for other, name in MEMBERS.items():
        if other == own:
            continue
        if normalise(name) in text or re.search(rf"(?<![\w-]){re.escape(other)}(?![\w-])", text):
            problems.append(f"{path.name}: names another member, {other}")
    problems += [f"{path.name}: names employee {n}" for n in EMPLOYEES if n in text]
    problems += [
        f"{path.name}: shows salary {form}"
        for value in SALARIES
        for form in salary_forms(value)
        if form in text
    ]
    return problems


@pytest.mark.slow
def test_demo_invoices_name_their_member_only(extra_documents: Path) -> None:
    folders = [DEMO / "reports" / "invoices" / "2026", extra_documents]
    pdfs = sorted(p for folder in folders for p in folder.glob("*.pdf"))
    assert len(pdfs) > 100
    problems: list[str] = []
    for path, text in pdf_texts(pdfs).items():
        problems += check(path, text)
    for xml in sorted(p for folder in folders for p in folder.glob("*.xml")):
        problems += check(xml, normalise(xml.read_text(encoding="utf-8")))
    assert problems == []


def test_the_documents_checked_include_credit_notes_and_fees(extra_documents: Path) -> None:
    names = sorted(p.name for p in extra_documents.glob("*.pdf"))
    assert names == ["AV-2026-0001-le-fil.pdf", "AV-2026-0002-1dlab.pdf"]
    fee_pdfs = [d.pdf for d in load_ledger(DEMO)[0].issued_documents() if d.kind == "fee"]
    assert len(fee_pdfs) == len(MEMBERS)
    assert all(
        pdf and pdf.startswith("reports/invoices/2026/") and (DEMO / pdf).is_file() for pdf in fee_pdfs
    )


def test_the_check_catches_a_leak() -> None:
    path = Path("FAC-2026-0001-1dlab.pdf")
    leaky = normalise(
        f"{MEMBERS['1dlab']} {MEMBERS['le-fil']} {EMPLOYEES[0]} salaire 3\u202f220,00 € maintes"
    )
    assert len(check(path, leaky)) == 4
