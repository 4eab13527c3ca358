"""Fava's Contrôles page: « Charges sociales en retard », the dues of ``eage charges`` past their date.

On the demo with its bank statement imported (tests/test_fava_ext.py's group): at 31 October 2026 every
earlier month is paid (empty state); at 30 November, October's dues are past their dates (URSSAF 16/11,
withholding 18/11, insurer 16/11, Agirc-Arrco 25/11) and nothing pays them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from eage.money import fr_eur
from test_fava_ext import Client, make_group


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    yield Client(make_group(tmp_path_factory.mktemp("fava-charges") / "group"))


def _section(html: str) -> str:
    found = re.search(r'id="eage-ctl-charges">(.*?)</section>', html, re.S)
    assert found is not None
    return found.group(1)


def test_nothing_overdue_at_the_end_of_october(client: Client) -> None:
    section = _section(client.page("controles", "time=2026-01+-+2026-10"))
    assert "Charges sociales en retard" in section
    assert "✓ Aucune charge sociale en retard au 31/10/2026" in section
    assert "<table>" not in section


def test_octobers_dues_overdue_at_the_end_of_november(client: Client) -> None:
    section = _section(client.page("controles", "time=2026-01+-+2026-11"))
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td[^>]*>([^<]*)</td><td>([^<]*)</td>", section)
    assert len(rows) == 4, section
    assert {month for _, month, _, _ in rows} == {"octobre 2026"}
    amounts = {amount for _, _, amount, _ in rows}
    assert amounts == {fr_eur(Decimal(a)) for a in ("2649.94", "509.34", "283.06", "167.25")}
    assert {due for _, _, _, due in rows} == {"16/11/2026", "18/11/2026", "25/11/2026"}
    assert fr_eur(Decimal("3609.59")) in section  # the total remaining
    assert "4 échéances dépassées" in section


def test_a_broken_calendar_is_said_not_raised(tmp_path: Path) -> None:
    root = make_group(tmp_path / "group")
    path = root / "rules" / "payroll" / "echeances.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("day_below: 15", "day_below: 40"), encoding="utf-8"
    )
    section = _section(Client(root).page("controles", "time=2026-01+-+2026-11"))
    assert "Échéancier illisible" in section and "rules/payroll/echeances.yaml" in section
