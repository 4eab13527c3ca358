"""A credit note on a small synthetic group (tests/groups.py, ``small_group_january``), through the command.

``eage credit-note`` cancels a member's January invoice for its full amount (AV-2025-0001, dated with the
invoice); re-running January then changes nothing; the ledger still bean-checks; Fava's Factures page
shows the invoice as credited, never as paid, and Contrôles no billing gap for it; ``eage run --correct``
re-bills the member at its share, under the next invoice number.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import tree_digest
from groups import JANUARY, run_eage, run_month

MONTH = JANUARY.month(0)
PERIOD = "time=2025-01"


@pytest.fixture
def credited(small_group_january: tuple[Path, dict[str, Any]], tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of the run group where the second member's January invoice was credited; that member."""
    root = tmp_path / "group"
    shutil.copytree(small_group_january[0], root)
    member = small_group_january[1]["members"][1]
    outcome = run_eage(
        ["credit-note", member["invoice"], "--reason", "Erreur de saisie", "--root", str(root)]
    )
    assert outcome.code == 0, outcome.out + outcome.err
    assert "AV-2025-0001" in outcome.out
    return root, member


def test_a_rerun_after_a_credit_note_is_a_no_op(
    credited: tuple[Path, dict[str, Any]], small_group_january: tuple[Path, dict[str, Any]]
) -> None:
    root, _ = credited
    before = tree_digest(root)
    assert run_month(root, MONTH) == small_group_january[1]
    assert tree_digest(root) == before
    done = subprocess.run(
        [str(Path(sys.executable).parent / "bean-check"), str(root / "ledger" / "main.beancount")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_fava_shows_the_invoice_credited_and_no_gap(credited: tuple[Path, dict[str, Any]]) -> None:
    from fava.application import create_app

    root, member = credited
    client = create_app([root / "ledger" / "main.beancount"]).test_client()
    prefix = "/" + client.get("/").headers["Location"].strip("/").split("/")[0]

    def page(name: str) -> str:
        response = client.get(f"{prefix}/extension/Eage/?page={name}&{PERIOD}")
        assert response.status_code == 200
        return str(response.data.decode("utf-8"))

    factures = page("factures")
    row = factures[factures.index(f"<td>{member['invoice']}</td>") :].split("</tr>", 1)[0]
    assert '<span class="badge avoir">annulée par avoir AV-2025-0001</span>' in row, row
    assert "payée" not in row, row
    controles = page("controles")
    assert "✓ Chaque mois facturé égale son coût (1 mois)." in controles
    credit_notes = controles[controles.index('id="eage-ctl-credit-notes"') :].split("</section>", 1)[0]
    assert f"<td>AV-2025-0001</td><td>{member['invoice']}</td>" in credit_notes


def test_correct_rebills_the_credited_member_at_its_share(credited: tuple[Path, dict[str, Any]]) -> None:
    root, member = credited
    outcome = run_eage(["run", MONTH, "--correct", "--json", "--root", str(root)])
    assert outcome.code == 0, outcome.out + outcome.err
    summary = outcome.json()
    (document,) = summary["documents"]
    assert (document["member"], document["net"]) == (member["member"], member["amount"])
    assert document["number"] == f"FAC-2025-{JANUARY.members + 1:04d}"
    again = run_eage(["run", MONTH, "--correct", "--json", "--root", str(root)])
    assert again.code == 0, again.err
    assert again.json()["documents"] == []
