"""The values a DSN is built from, and its lines (pure data: no file is read here).

:class:`DsnIdentifiers` is what rules/dsn.yaml holds once validated (:mod:`eage.payroll.dsn.identifiers`);
the builder (:mod:`eage.payroll.dsn.build`) turns it and the month's payslips into :class:`Rubric` lines.
Codes are kept as the norm writes them (strings: "01", "04", "RUAA"), dates as :class:`datetime.date`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rubric:
    """One line of the file: ``S21.G00.30.001,'value'`` (``value`` without its quotes)."""

    code: str  # "S21.G00.30.001"
    value: str

    @property
    def block(self) -> str:
        """The block the rubric belongs to: ``S21.G00.30``."""
        return self.code[:10]


@dataclass(frozen=True)
class Contact:
    """A person to contact (S10.G00.02 for the sender, S20.G00.07 for the declared company)."""

    name: str
    email: str
    phone: str  # digits only, as the norm asks
    civility: str = "02"  # S10.G00.02.001: 01 Monsieur, 02 Madame


@dataclass(frozen=True)
class Address:
    street: str  # numéro, extension, nature et libellé de la voie
    postcode: str
    city: str
    country: str = "FR"  # ISO 3166 alpha-2; the norm writes a country only when it is not France


@dataclass(frozen=True)
class Organisation:
    """A body the DSN declares and pays to (S21.G00.20 / .22 / .15).

    ``key``: the payroll's organisation name (rules/payroll/contributions.yaml ``organisation``: urssaf,
    agirc_arrco, prevoyance) or ``pas`` for the withholding tax; ``ops_id``: the norm's "identifiant
    organisme de protection sociale" (the URSSAF's SIRET, the Agirc-Arrco institution's code, the
    insurer's code, ``DGFIP``).
    """

    key: str
    ops_id: str
    name: str
    due_day: int | None = None  # day of the next month the payment is due (None: the DSN's own due day)


@dataclass(frozen=True)
class InsuranceContract:
    """A collective health or prévoyance contract (S21.G00.15 adhésion, .70 affiliation, .78 base 31).

    ``contributions``: the contribution codes of rules/payroll/contributions.yaml it collects
    (``mutuelle``, ``prev_cadre``); ``population``: the code of the population it covers (S21.G00.70.005)
    and ``option``: the option the employee holds (S21.G00.70.004), both given by the insurer.
    """

    id: str  # the "identifiant technique adhésion" (S21.G00.15.005), unique in the file
    insurer_code: str  # S21.G00.15.002 code organisme (e.g. "P0942")
    insurer_name: str
    reference: str  # S21.G00.15.001 référence du contrat
    contributions: tuple[str, ...]
    population: str | None = None
    option: str | None = None


@dataclass(frozen=True)
class EmployeeIdentity:
    """What the DSN says of an employee beyond rules/staff.yaml (S21.G00.30 and .40)."""

    employee: str  # the staff id
    nir: str  # 15 characters: 13 (département 2A/2B allowed) + the 2-digit key
    family_name: str
    first_names: str
    sex: str  # "01" masculin, "02" féminin
    birth_date: dt.date
    birth_place: str
    birth_department: str  # "42", "2A", "99" (born abroad)
    address: Address
    pcs_ese: str  # S21.G00.40.004, e.g. "372c"
    contract_number: str  # S21.G00.40.009, unique per employee
    conventional_status: str  # S21.G00.40.002 (CCN_Categorie), e.g. "04" autres cadres, "06" employé
    usage_name: str | None = None
    birth_country: str | None = None  # ISO alpha-2, when born abroad (S21.G00.30.015)
    multiple_employers: str = "01"  # S21.G00.40.037: 01 employeur unique, 02 employeurs multiples, 03 inconnu
    email: str | None = None
    #: S21.G00.30.013 (DSN_Codification_UE): 01 France, 02 UE, 03 EEE et Suisse, 04 autre.
    eu_codification: str = "01"


@dataclass(frozen=True)
class DsnIdentifiers:
    """rules/dsn.yaml, validated (see :mod:`eage.payroll.dsn.identifiers` for the checks)."""

    fictitious: bool
    sender_contact: Contact  # S10.G00.02
    declared_contact: Contact  # S20.G00.07
    nic: str  # the establishment's NIC (5 digits), the last five of rules/group.yaml identity.siret
    apen: str  # S21.G00.06.003 the company's APE (identity.naf by default)
    apet: str  # S21.G00.11.002 the establishment's APE
    idcc: str  # 4 characters (S21.G00.11.022, S21.G00.40.017)
    at_risk_code: str  # S21.G00.40.040 code risque accident du travail (notified by the Carsat)
    payment_mode: str  # S21.G00.20.010 (DSN_Mode_Paiement), e.g. "05" prélèvement SEPA
    iban: str  # the group's account the bodies debit (S21.G00.20.004)
    bic: str  # S21.G00.20.003
    organisations: Mapping[str, Organisation]  # by Organisation.key
    contracts: tuple[InsuranceContract, ...]
    employees: Mapping[str, EmployeeIdentity]  # by staff id
    software_name: str = "eage"
    software_editor: str = "eage"
    extra: Mapping[str, str] = field(default_factory=dict)  # reserved
