"""What a member's invoice shows: its own name, nobody else's, and no salary.

Members share one group, but each is billed its share only: an invoice (PDF text as pdftotext extracts
it, and the Factur-X XML) names its buyer and no other member (name or id), no employee of the group
(rules/staff.yaml) and no gross salary figure, however formatted. Checked on every invoice of the demo,
plus a credit note and a fee invoice rendered for the purpose.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import REPO, copy_demo
from eage import batch
from eage.invoicing import credit, fees
from eage.invoicing.facturx_xml import build_cii_xml
from eage.invoicing.pdf import render_invoice_pdf
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


RULES = load_rules(REPO)
MEMBERS = {m.id: m.identity.name for m in RULES.members.members}
EMPLOYEES = [e.name for e in RULES.staff.employees]
SALARIES = sorted({value for e in RULES.staff.employees for value in e.gross_salary.values()})


def salary_forms(value: Decimal) -> list[str]:
    """A gross salary as it could be printed: ``3 220,00``, ``3220,00``, ``3220.00``."""
    french = normalise(fr_number(value))
    return [french, french.replace(" ", ""), f"{value:.2f}"]


@pytest.fixture(scope="module")
def extra_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A credit note and a fee invoice of the demo, rendered for real into a folder of their own."""
    root = copy_demo(tmp_path_factory.mktemp("privacy") / "group")
    ctx = batch.load_context(root)
    out = tmp_path_factory.mktemp("docs")
    note = credit.plan_credit_note(
        ctx, "FAC-2026-0132", "Heures du 12 octobre comptées deux fois", dt.date(2026, 11, 3)
    )
    fee = fees.plan_fees(ctx, 2026).issued[0]
    for inv in (note.issued[0].invoice, fee.invoice):
        xml = build_cii_xml(inv)
        (out / f"{inv.number}-{inv.member_id}.pdf").write_bytes(render_invoice_pdf(inv, xml))
        (out / f"{inv.number}-{inv.member_id}.xml").write_bytes(xml)
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


def test_demo_invoices_name_their_member_only(extra_documents: Path) -> None:
    folders = [REPO / "reports" / "invoices" / "2026", extra_documents]
    pdfs = sorted(p for folder in folders for p in folder.glob("*.pdf"))
    assert len(pdfs) > 100
    problems: list[str] = []
    for path, text in pdf_texts(pdfs).items():
        problems += check(path, text)
    for xml in sorted(p for folder in folders for p in folder.glob("*.xml")):
        problems += check(xml, normalise(xml.read_text(encoding="utf-8")))
    assert problems == []


def test_the_extra_documents_are_a_credit_note_and_a_fee(extra_documents: Path) -> None:
    names = sorted(p.name for p in extra_documents.glob("*.pdf"))
    assert names[0].startswith("AV-2026-0001-le-fil") and names[1].startswith("FAC-2026-0138-1dlab")


def test_the_check_catches_a_leak() -> None:
    path = Path("FAC-2026-0001-1dlab.pdf")
    leaky = normalise(
        f"{MEMBERS['1dlab']} {MEMBERS['le-fil']} {EMPLOYEES[0]} salaire 3\u202f220,00 € maintes"
    )
    assert len(check(path, leaky)) == 4
