"""The payslip document: the simplified layout of the 2026 model and every mention of C. trav. R3243-1.

A payslip is computed by the engine from the repository's rules, rendered to PDF, and its text read back:
what an employee reads is what is asserted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from eage.errors import InputError
from eage.money import ZERO, fr_eur, fr_number
from eage.payroll.engine import EMPLOYEUR, SALARIE, Payslip, PayslipInput, compute_payslip
from eage.payroll.params import load_payroll_rules
from eage.payroll.pdf import (
    agreement_of,
    employee_info,
    employer_info,
    employer_total,
    grouped_lines,
    layout,
    payslip_html,
    render_payslip_pdf,
)
from eage.rules.bundle import load_rules

ROOT = Path(__file__).resolve().parents[1]
PAYROLL = load_payroll_rules(ROOT / "rules" / "payroll")
RULES = load_rules(ROOT)
MARCH = dt.date(2026, 3, 1)


def _slip(**changes: object) -> Payslip:
    values: dict[str, object] = {
        "month": MARCH,
        "base_gross": Decimal(3220),
        "cadre": True,
        "bonus": Decimal(150),
        "overtime_25_hours": Decimal(4),
        "employer_profile": "association",
        "atmp_rate": Decimal("2.08"),
        "pas_rate": Decimal("5.4"),
    }
    values.update(changes)
    return compute_payslip(PAYROLL, PayslipInput(**values))  # type: ignore[arg-type]


def _with_leave(slip: Payslip) -> Payslip:
    """The slip with part C's counters: 5 days taken from 9 to 13 March, the N-1 period's balance."""
    from eage.payroll.leave import LeaveCounters

    counters = LeaveCounters(
        period_n1="2025-06-01/2026-05-31",
        acquired_n1=Decimal("25.00"),
        taken_n1=Decimal("5.00"),
        balance_n1=Decimal("20.00"),
        period_n="2026-06-01/2027-05-31",
        acquired_n=ZERO,
        taken_n=ZERO,
        balance_n=ZERO,
        taken_this_month=((dt.date(2026, 3, 9), dt.date(2026, 3, 13)),),
        provision=Decimal("3000.00"),
        provision_charges=Decimal("1300.00"),
        provision_before=Decimal("3600.00"),
        provision_charges_before=Decimal("1560.00"),
    )
    return dataclasses.replace(slip, leave=counters)


def _parties() -> tuple[dict[str, object], dict[str, object]]:
    emp = RULES.staff.by_id()["cmartin"]
    agreement, grid = agreement_of(ROOT, MARCH)
    code = emp.classification
    return (
        employee_info(emp, grid.get(code) if code else None),
        employer_info(RULES.group, MARCH, agreement),
    )


def _text(pdf: bytes) -> list[str]:
    """Each page's text, its spaces (no-break, narrow no-break, runs) made one plain space."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"[\s\u00a0\u202f]+", " ", page.extract_text()) for page in reader.pages]


def _flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_every_heading_of_the_rules_is_one_of_the_model() -> None:
    names = [c.group for c in PAYROLL.contributions.contributions]
    names += [r.group for r in PAYROLL.reductions.reduction_generale.values.values()]
    names += [t.group for t in PAYROLL.taxe_salaires.taxe_sur_salaires.values.values()]
    unknown = sorted({name for name in names if layout().find(name) is None})
    assert unknown == []


def test_layout_follows_the_model_order() -> None:
    labels = [group.label for group in layout().groups]
    assert labels[:5] == [
        "Santé",
        "Accidents du travail & maladies professionnelles",
        "Retraite",
        "Famille",
        "Assurance chômage",
    ]
    kinds = [group.kind for group in layout().groups]
    # the mandatory headings, then the exemptions (after the total), then the optional ones
    assert kinds.index("exemption") > max(i for i, kind in enumerate(kinds) if kind == "mandatory")
    assert layout().find("Taxe sur les salaires") is not None
    assert layout().find("CSG non imposable à l'impôt sur le revenu") == layout().find(
        "CSG déductible de l'impôt sur le revenu"
    )


def test_every_mention_is_on_the_payslip() -> None:
    slip = _with_leave(_slip(leave_days=Decimal(5), leave_absence=Decimal(600), leave_indemnity=Decimal(620)))
    employee, employer = _parties()
    page1, page2 = _text(render_payslip_pdf(slip, employee, employer))
    ident = RULES.group.identity
    # R3243-1 1°, 2°: the employer, its address (both lines: the address bug), SIRET, NAF, URSSAF
    for mention in (ident.name, ident.address.line1, f"{ident.address.postcode} {ident.address.city}"):
        assert _flat(mention) in page1
    if ident.address.line2:
        assert _flat(ident.address.line2) in page1
    assert f"SIRET : {ident.siret}" in page1
    assert ident.naf and f"Code NAF (APE) : {ident.naf}" in page1
    urssaf = RULES.group.employer.urssaf
    assert urssaf is not None and f"N° URSSAF : {urssaf.account} ({urssaf.office})" in page1
    # 3°: the agreement by name and IDCC
    assert employer["idcc"] == "1518" and "Convention collective : Convention collective nationale" in page1
    assert "(IDCC 1518)" in page1
    # 4°: name, job, classification
    emp = RULES.staff.by_id()["cmartin"]
    assert emp.name in page1 and f"Emploi : {employee['post']}" in page1
    assert employee["classification"] and f"Classification : {employee['classification']}" in page1
    assert "Statut : cadre" in page1 and "Contrat : CDI, entrée le 01/01/2012" in page1
    # 5°: period, hours paid, the overtime hours with their rate
    assert "période du 01/03/2026 au 31/03/2026" in page1
    assert f"Heures payées : {_flat(fr_number(slip.hours))} h" in page1
    assert "Heures supplémentaires 25 %" in page1
    # 6°, 7°: earnings and gross
    for earning in slip.earnings:
        assert earning.label in page1
    assert slip.leave_indemnity == 0 or "Indemnité de congés payés" in page1  # the engine's cp lines
    assert f"Montant brut (salaire brut) {_flat(fr_eur(slip.gross))}" in page1
    # 8°: the headings, in the model's order, their total, the exemptions
    positions = [page1.index(row.label) for row in grouped_lines(slip) if row.kind != "information"]
    assert positions == sorted(positions)
    assert "Total des cotisations et contributions obligatoires" in page1
    assert "Exonérations et allègements de cotisations" in page1
    # 9° bis, 10°, 11°: net before tax, net social, net taxable, the withholding (base, rate, kind), net paid
    assert f"Net à payer avant impôt sur le revenu {_flat(fr_eur(slip.net_before_tax))}" in page1
    assert f"Montant net social {_flat(fr_eur(slip.net_social))}" in page1
    assert f"Net imposable {_flat(fr_eur(slip.net_taxable))}" in page1
    assert (
        "Impôt sur le revenu prélevé à la source (taux personnalisé) "
        f"{_flat(fr_number(slip.net_taxable))} 5,40 % {_flat(fr_number(slip.pas))}"
    ) in page1
    if slip.overtime_exempt:  # CGI 81 quater: the exempt overtime pay, beside the withholding
        assert (
            "Montant net des heures complémentaires et supplémentaires exonérées d'impôt sur le revenu "
            f"{_flat(fr_eur(slip.overtime_exempt))}"
        ) in page1
    pay_date = employer.get("pay_date", dt.date(2026, 3, 31))
    assert isinstance(pay_date, dt.date)
    assert f"versé le {pay_date:%d/%m/%Y} {_flat(fr_eur(slip.net_paid))}" in page1
    assert f"Date de paiement : {pay_date:%d/%m/%Y}" in page1
    # 13°, 14°: the employer's relief and total, the TSS apart
    assert f"Total versé par l'employeur {_flat(fr_eur(slip.employer_total))}" in page1
    relief = -sum((row.employer for row in grouped_lines(slip) if row.kind == "exemption"), ZERO)
    assert relief >= slip.rgdu > 0  # the RGDU and, with overtime, the employer's deduction (L241-18)
    assert f"Allègement de cotisations employeur {_flat(fr_eur(relief))}" in page1
    assert slip.tss > 0 and "Taxe sur les salaires (à la charge de l'employeur, non comprise" in page1
    # the year's cumuls, the leave counters, the leave dates and indemnity (12°)
    assert f"Salaire brut {_flat(fr_eur(slip.cumulative.gross))}" in page1
    assert f"Net imposable {_flat(fr_eur(slip.cumulative.net_taxable))}" in page1
    assert "N-1 (du 01/06/2025 au 31/05/2026) 25,00 5,00 20,00" in page1
    assert "N (du 01/06/2026 au 31/05/2027) 0,00 0,00 0,00" in page1
    assert "Congés pris ce mois : du 09/03/2026 au 13/03/2026" in page1
    if slip.leave_indemnity:
        assert f"Indemnité de congés payés {_flat(fr_eur(slip.leave_indemnity))}" in page1
    # R3243-5 and the service-public.fr mention
    assert (
        "Dans votre intérêt et pour vous aider à faire valoir vos droits, conservez ce bulletin de paie "
        "sans limitation de durée."
    ) in page1
    assert "www.service-public.fr" in page1
    # page 2: every line, one by one
    for line in slip.lines:
        assert line.label in page2


def test_total_paid_by_the_employer_is_gross_plus_employer_contributions_without_the_tss() -> None:
    slip = _slip()
    employer_lines = [line for line in slip.lines if line.side == EMPLOYEUR]
    tss = sum((line.amount for line in employer_lines if line.group == "Taxe sur les salaires"), ZERO)
    after_reductions = sum((line.amount for line in employer_lines), ZERO) - tss
    assert tss == slip.tss > 0
    assert employer_total(slip) == slip.employer_total == slip.gross + after_reductions
    assert slip.employer_total == slip.employer_cost - slip.tss


@settings(max_examples=40, deadline=None)
@given(
    gross=st.decimals(min_value=Decimal(1900), max_value=Decimal(25000), places=2),
    cadre=st.booleans(),
    profile=st.sampled_from(["company", "association"]),
    overtime=st.sampled_from([ZERO, Decimal(2), Decimal("7.5")]),
    headcount=st.sampled_from([1, 15, 60]),
)
def test_headings_sum_to_the_payslip_totals(
    gross: Decimal, cadre: bool, profile: str, overtime: Decimal, headcount: int
) -> None:
    slip = _slip(
        base_gross=gross,
        cadre=cadre,
        employer_profile=profile,
        overtime_25_hours=overtime,
        headcount=headcount,
        bonus=ZERO,
    )
    rows = grouped_lines(slip)
    counted = [row for row in rows if row.kind != "information"]
    assert sum((row.employee for row in counted), ZERO) == slip.employee_contributions
    assert slip.gross + sum((row.employer for row in counted), ZERO) == employer_total(slip)
    html = _flat(payslip_html(slip, {"name": "X"}, {"name": "Y"}))
    assert f'Total versé par l\'employeur</td><td class="n">{_flat(fr_eur(employer_total(slip)))}' in html
    indexes = [layout().find(row.label) for row in rows]
    assert indexes == sorted(indexes, key=lambda found: found[0] if found else -1)
    assert all(line.side in (SALARIE, EMPLOYEUR) for line in slip.lines)


def test_a_heading_outside_the_model_is_refused_with_its_place() -> None:
    slip = _slip()
    first = dataclasses.replace(slip.lines[0], group="Divers")
    bad = dataclasses.replace(slip, lines=(first, *slip.lines[1:]))
    with pytest.raises(InputError) as caught:
        payslip_html(bad, {"name": "Claire Martin"}, {"name": "L'équipe associée"})
    problem = caught.value.problems[0]
    assert problem.key == f"{first.code}.group" and "contributions.yaml" in str(problem.file)
    assert "Santé" in str(problem.fix)


def test_nothing_is_invented_for_what_the_rules_do_not_say() -> None:
    slip = dataclasses.replace(
        _slip(employer_profile="company"), cumulative=dataclasses.replace(_slip().cumulative, months=0)
    )
    html = _flat(payslip_html(slip, {"name": "Claire Martin"}, {"name": "L'équipe associée"}))
    for absent in (
        "Code NAF",
        "URSSAF",
        "Convention collective",
        "Classification",
        "Congés payés (jours",
        "Cumuls de l'année",
        "Taxe sur les salaires",
        "SIRET",
    ):
        assert absent not in html
    # the payment date without a rule: the month's last day, labelled as such
    assert "Date de paiement : 31/03/2026" in html


def test_the_employer_block_comes_from_group_yaml() -> None:
    info = employer_info(RULES.group, MARCH)
    address = RULES.group.identity.address
    assert info["address_lines"][0] == address.line1
    assert info["address_lines"][-1] == f"{address.postcode} {address.city}"
    assert info["pay_date"] == RULES.group.employer.payment.date_for(2026, 3) == dt.date(2026, 3, 31)
    # an old caller's one-line address is still printed
    html = payslip_html(
        _slip(), {"name": "X"}, {"name": "Y", "address": "3 rue Javelin-Pagnon, 42000 Saint-Étienne"}
    )
    assert "3 rue Javelin-Pagnon, 42000 Saint-Étienne" in html


def test_net_social_is_bold_and_framed() -> None:
    html = payslip_html(_slip(), {"name": "X"}, {"name": "Y"})
    assert re.search(r'<tr class="social"><td colspan="3">Montant net social</td>', html)
    assert re.search(r"tr\.social td \{ font-weight: bold;", html)


def test_the_pdf_is_deterministic_a4_with_the_detail_on_page_two(tmp_path: Path) -> None:
    slip = _with_leave(_slip())
    employee, employer = _parties()
    first = render_payslip_pdf(slip, employee, employer)
    assert first == render_payslip_pdf(slip, employee, employer)
    reader = PdfReader(io.BytesIO(first))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert "Détail des cotisations" not in _text(first)[0]
    if shutil.which("pdftoppm"):  # the picture a reviewer looks at (docs: pdftoppm -png -r 80)
        pdf = tmp_path / "payslip.pdf"
        pdf.write_bytes(first)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True
        )
        assert (tmp_path / "p-1.png").stat().st_size > 10_000


def test_the_run_renders_each_payslip_with_the_parties_of_the_rules() -> None:
    import pickle
    import types
    from typing import cast

    from eage.app.documents import payslip_jobs
    from eage.app.inputs import Inputs
    from eage.month import Month
    from eage.render_pool import RenderPool

    slip = _slip()
    ctx = cast(Inputs, types.SimpleNamespace(root=ROOT, rules=RULES))
    with RenderPool(1) as pool:
        jobs = payslip_jobs(ctx, Month(2026, 3), [("cmartin", slip)], pool)
        assert [rel for rel, _ in jobs] == ["reports/payslips/2026/PAY-2026-03-cmartin.pdf"]
        page1 = _text(jobs[0][1].result())[0]
    address = RULES.group.identity.address
    assert _flat(address.line1) in page1 and f"{address.postcode} {address.city}" in page1
    if address.line2:
        assert _flat(address.line2) in page1
    employee, employer = _parties()
    if employer.get("idcc"):
        assert f"IDCC {employer['idcc']}" in page1
    if employee["classification"]:
        assert f"Classification : {employee['classification']}" in page1
    # what a worker process receives: plain values
    assert pickle.loads(pickle.dumps((employee, employer))) == (employee, employer)


def test_a_layout_with_a_heading_twice_is_refused_with_its_file(tmp_path: Path) -> None:
    from eage.payroll.pdf import Layout
    from eage.rules.loader import load_model

    bad = tmp_path / "layout.yaml"
    bad.write_text(
        "reference: x\ntotal_label: Total\ngroups:\n"
        "  - {label: Santé, kind: mandatory}\n  - {label: Retraite, kind: mandatory, aliases: [Santé]}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_model(bad, Layout)
    assert "Santé" in str(caught.value) and "layout.yaml" in str(caught.value)


def test_the_printed_total_is_what_the_payroll_journal_books_for_the_payslip() -> None:
    from eage.payroll.journal import payroll_transactions, payslip_id

    slip = _with_leave(_slip(leave_days=Decimal(5), leave_absence=Decimal(600), leave_indemnity=Decimal(620)))
    txns = payroll_transactions([("cmartin", "Claire Martin", "comptabilite", slip)], PAYROLL.accounts, MARCH)
    payslip_txn = txns[0]  # each payslip's entry first, then the TSS and the leave provision
    assert payslip_id(slip, "cmartin") in payslip_txn.links and payslip_txn.narration.startswith("Paie")
    booked = sum((p.amount for p in payslip_txn.postings if p.account.startswith("Charges:")), ZERO)
    employee, employer = _parties()
    page1 = _text(render_payslip_pdf(slip, employee, employer))[0]
    assert booked == slip.employer_total
    assert f"Total versé par l'employeur {_flat(fr_eur(booked))}" in page1
    # the taxe sur les salaires is booked in the month's own entry, not in the payslip's
    assert not any(p.account.endswith("6311-Taxe-sur-les-salaires") for p in payslip_txn.postings)


def test_leave_taken_ahead_is_shown_as_such() -> None:
    slip = _with_leave(_slip())
    ahead = dataclasses.replace(slip.leave, taken_n=Decimal("3.00"), balance_n=Decimal("-3.00"))  # type: ignore[type-var]
    html = _flat(payslip_html(dataclasses.replace(slip, leave=ahead), {"name": "X"}, {"name": "Y"}))
    assert 'Dont congés pris par anticipation (période N)</td><td class="n">3,00' in html
    assert "anticipation" not in _flat(payslip_html(slip, {"name": "X"}, {"name": "Y"}))
