"""The DSN's identifiers (rules/dsn.yaml): who sends, who is declared, the bodies paid, the insurance
contracts and each employee's civil identity, validated and checked against the group's other rules.

:func:`load_dsn_identifiers` reads the file into :class:`~eage.payroll.dsn.model.DsnIdentifiers` or raises
one :class:`~eage.errors.InputError` listing every problem, each located (``rules/dsn.yaml``, its line,
a key path such as ``employees.cmartin.nir``) with what to do; :func:`dsn_identifiers_problems` lists the
same problems for ``eage check``.

The checks beyond the file's shape:

- each NIR (:func:`nir_problem`): its shape as the INSEE builds it and its key (97 - the 13-character
  number mod 97, Corsica's 2A and 2B read as 19 and 18), its sex digit against ``sex``, its year and
  month of birth against ``birth_date``, its department against ``birth_department``;
- the establishment: ``nic`` is the last five digits of rules/group.yaml ``identity.siret``; the APE codes
  are four digits and a letter (``identity.naf`` by default); the IDCC is the one of
  rules/payroll/contracts.yaml's agreement;
- the staff: every employee of rules/staff.yaml has an identity, no identity names an unknown employee,
  no two share a contract number;
- the bodies: one organisation for each ``organisation`` the contributions of
  rules/payroll/contributions.yaml name, and ``pas`` (the DGFiP, ops_id ``DGFIP``); the URSSAF's ops_id
  is its SIRET (:func:`siret_problem`); each contribution paid to ``prevoyance`` is collected by exactly
  one insurance contract; the bank account is a valid IBAN (:func:`iban_problem`, ISO 13616 mod 97).

The code lists the file is checked against are those of the norm NEODeS CT2026 (P26V01), as transcribed
in dsn-tools 0.1.2 (``dsn_tools/enums.py``); they are copied below as ``Literal`` types, each citing its
list. eage does not import dsn-tools (it needs Python 3.12).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Protocol

from pydantic import BeforeValidator, Field

from eage.errors import InputError, Problem
from eage.payroll.dsn.model import (
    Address,
    Contact,
    DsnIdentifiers,
    EmployeeIdentity,
    InsuranceContract,
    Organisation,
)
from eage.payroll.params import PayrollRules
from eage.rules.base import Strict
from eage.rules.dated import Day
from eage.rules.loader import Flag, Located, load_located
from eage.rules.models import Group, Staff, luhn_ok

__all__ = [
    "DSN_FILE",
    "DsnFile",
    "dsn_identifiers_problems",
    "iban_problem",
    "load_dsn_identifiers",
    "luhn_ok",
    "nir_key",
    "nir_problem",
    "siret_problem",
]

#: The file, relative to the group's folder (as messages name it).
DSN_FILE = "rules/dsn.yaml"

#: The organisation key of the withholding tax and the identifier the norm gives the DGFiP
#: (S21.G00.20.001 for the PAS payment).
PAS = "pas"
PAS_OPS_ID = "DGFIP"
URSSAF = "urssaf"
PREVOYANCE = "prevoyance"

#: La Poste's SIREN: its establishments' SIRETs are not Luhn-valid; their digits add up to a multiple of 5
#: (INSEE's exception to the Luhn key, documented with the SIRENE register).
LA_POSTE_SIREN = "356000000"

# --- the norm's code lists (NEODeS CT2026 (P26V01), as transcribed in dsn-tools 0.1.2) -------------------

#: Code list Civilite (S10.G00.02.001): 01 monsieur, 02 madame.
Civility = Literal["01", "02"]
#: Code list DSN_Sexe (S21.G00.30.005): 01 masculin, 02 féminin.
Sex = Literal["01", "02"]
#: Code list CCN_Categorie (S21.G00.40.002, statut du salarié conventionnel): 01 agriculteur salarié de son
#: exploitation, 02 artisan ou commerçant salarié de son entreprise, 03 cadre dirigeant, 04 autres cadres
#: au sens de la convention collective, 05 profession intermédiaire, 06 employé administratif
#: d'entreprise, de commerce, agent de service, 07 ouvriers, 08-10 agents des trois fonctions publiques.
ConventionalStatus = Literal["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]
#: Code list DSN_Code_Employeur_Multiples (S21.G00.40.037): 01 employeur unique, 02 employeurs multiples,
#: 03 situation non connue.
MultipleEmployers = Literal["01", "02", "03"]
#: Code list DSN_Mode_Paiement (S21.G00.20.010): 01 chèque, 02 virement, 04 titre inter-bancaire de
#: paiement, 05 prélèvement SEPA, 06 versement réalisé par un autre établissement.
PaymentMode = Literal["01", "02", "04", "05", "06"]

# --- the formats (the norm's data types where dsn-tools 0.1.2 transcribes their pattern) -----------------

Text = Annotated[str, Field(min_length=1)]
#: Identite_Base_1-80 (names of persons): 1 to 80 characters.
Name = Annotated[str, Field(min_length=1, max_length=80)]
#: N4DS_Email_6-100: 6 to 100 characters; the shape below is eage's (the norm's regex was not read).
Email = Annotated[str, Field(min_length=6, max_length=100, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


def _digits_only(value: object) -> object:
    """A phone number as people write it (``04 77 00 00 00``, ``04.77.00.00.00``): the digits only, as the
    norm writes it."""
    return re.sub(r"[ .\-]", "", value) if isinstance(value, str) else value


#: Telephone (S10.G00.02.005, S20.G00.07.002): digits only. NOT CONFIRMED: dsn-tools 0.1.2 names the type
#: but does not transcribe its pattern; 10 to 20 digits is eage's reading (a French number has 10).
Phone = Annotated[str, BeforeValidator(_digits_only), Field(pattern=r"^[0-9]{10,20}$")]
#: Identifiant_Nic_strict (S21.G00.11.001): five digits.
Nic = Annotated[str, Field(pattern=r"^[0-9]{5}$")]
#: Insee_Naf_2008_4 (S21.G00.06.003, S21.G00.11.002): four digits and a letter (7830Z).
Ape = Annotated[str, Field(pattern=r"^[0-9]{4}[A-Z]$")]
#: REF_IDCC / CCN (S21.G00.11.022, S21.G00.40.017): four characters.
Idcc = Annotated[str, Field(pattern=r"^[0-9A-Z]{4}$")]
#: DSN_Code_Risque_ATMP (S21.G00.40.040): the code notified by the Carsat. NOT CONFIRMED: its pattern is
#: not transcribed by dsn-tools; three digits and two letters (e.g. 853AC) is the shape of the codes of
#: the arrêté of 17 October 1995 as published, read as eage's check.
AtRiskCode = Annotated[str, Field(pattern=r"^[0-9]{3}[A-Z]{2}$")]
#: DSN_IdOPS_2_14 (S21.G00.20.001): 2 to 14 characters.
OpsId = Annotated[str, Field(pattern=r"^[0-9A-Z]{2,14}$")]
#: The BIC, as S21.G00.20.003 / S21.G00.12.002 check it (dsn-tools 0.1.2, Banque_BicRegexp).
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
Bic = Annotated[str, Field(pattern=rf"^{_BIC.pattern}$")]
#: DSN_Identifiant_Technique_Adhesion (S21.G00.15.005): ``[1-9][0-9]*`` (dsn-tools 0.1.2).
AdhesionId = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,9}$")]
#: DSN_Ref_Ops_4_5 (S21.G00.15.002): 4 or 5 characters (the insurer's code, e.g. P0942).
InsurerCode = Annotated[str, Field(pattern=r"^[0-9A-Z]{4,5}$")]
#: Type_Alphanumeric_1-30 (S21.G00.15.001, S21.G00.70.004 and .005).
Code30 = Annotated[str, Field(min_length=1, max_length=30)]
#: Insee_PCS-ESE (S21.G00.40.004): three digits and a lowercase letter (372c). The INSEE's list of codes
#: is not copied: a code of the right shape that the list lacks is not found here.
PcsEse = Annotated[str, Field(pattern=r"^[0-9]{3}[a-z]$")]
#: Type_Alphanumeric_5-20 (S21.G00.40.009); eage takes letters and digits only.
ContractNumber = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{5,20}$")]
#: Departement (S21.G00.30.014): ``(0[1-9]|[1-9][0-9])|2A|2B`` (dsn-tools 0.1.2); 99: born abroad.
Department = Annotated[str, Field(pattern=r"^(0[1-9]|[1-9][0-9]|2A|2B)$")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Postcode = Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


def _compact(value: object) -> object:
    return value.replace(" ", "").upper() if isinstance(value, str) else value


#: A NIR or an IBAN as people write them, in groups: the spaces dropped, upper case.
Compact = Annotated[str, BeforeValidator(_compact)]


# --- the file's models ---------------------------------------------------------------------------------


class ContactIn(Strict):
    name: Name
    email: Email
    phone: Phone
    civility: Civility = "02"


class AddressIn(Strict):
    street: Annotated[str, Field(min_length=1, max_length=50)]
    postcode: Postcode
    city: Annotated[str, Field(min_length=1, max_length=50)]
    country: Country = "FR"


class OrganisationIn(Strict):
    ops_id: OpsId
    name: Text
    due_day: Annotated[int, Field(ge=1, le=31)] | None = None


class ContractIn(Strict):
    id: AdhesionId
    insurer_code: InsurerCode
    insurer_name: Text
    reference: Code30
    contributions: Annotated[list[Slug], Field(min_length=1)]
    population: Code30 | None = None
    option: Code30 | None = None


class EmployeeIn(Strict):
    nir: Compact
    family_name: Name
    usage_name: Name | None = None
    first_names: Name
    sex: Sex
    birth_date: Day
    birth_place: Annotated[str, Field(min_length=1, max_length=50)]
    birth_department: Department
    birth_country: Country | None = None
    address: AddressIn
    pcs_ese: PcsEse
    contract_number: ContractNumber
    conventional_status: ConventionalStatus
    multiple_employers: MultipleEmployers = "01"
    email: Email | None = None


class DsnFile(Strict):
    """rules/dsn.yaml."""

    fictitious: Flag = False
    software_name: Text = "eage"
    software_editor: Text = "eage"
    sender_contact: ContactIn
    declared_contact: ContactIn
    nic: Nic
    #: None: rules/group.yaml identity.naf.
    apen: Ape | None = None
    apet: Ape | None = None
    #: None: the IDCC of rules/payroll/contracts.yaml's agreement.
    idcc: Idcc | None = None
    at_risk_code: AtRiskCode
    payment_mode: PaymentMode
    #: None: rules/group.yaml invoicing.iban / bic (the group's account).
    iban: Compact | None = None
    bic: Bic | None = None
    organisations: dict[Slug, OrganisationIn]
    contracts: list[ContractIn] = Field(default_factory=list)
    employees: dict[Slug, EmployeeIn] = Field(default_factory=dict)


# --- the validators --------------------------------------------------------------------------------------

_NIR = re.compile(r"([0-9])([0-9]{2})([0-9]{2})([0-9]{2}|2A|2B)([0-9]{3})([0-9]{3})([0-9]{2})")
#: The sex digit: 1 man, 2 woman; 3, 4, 7, 8 the INSEE's numbers for persons not (yet) registered (the
#: NIA, 7/8: temporary numbers), men odd, women even.
_NIR_SEX = {"1": "01", "2": "02", "3": "01", "4": "02", "7": "01", "8": "02"}
#: A month of birth: 01-12, or 20-42 and 50-99 given by the INSEE when the month is unknown.
_UNKNOWN_MONTHS = {*range(20, 43), *range(50, 100)}


def nir_key(body: str) -> int:
    """The key of a NIR's 13 characters: 97 - (the number mod 97), Corsica's 2A read as 19 and 2B as 18."""
    number = int(body.upper().replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97


def nir_problem(value: str) -> str | None:
    """Why ``value`` is not a NIR (15 characters, spaces allowed), or None when it is one: the sex digit, the
    month, the department (01-99, 2A, 2B), the commune and order numbers (001-999) and the key."""
    nir = value.replace(" ", "").upper()
    if len(nir) != 15:
        return f"a NIR has 15 characters (13 and the 2-digit key), not {len(nir)}"
    match = _NIR.fullmatch(nir)
    if match is None:
        return "a NIR is digits only, but for its department (2A or 2B for Corsica)"
    sex, _year, month, department, commune, order, key = match.groups()
    if sex not in _NIR_SEX:
        return f"its first digit is {sex}: a NIR starts with 1 (man) or 2 (woman), or 3, 4, 7, 8"
    if not (1 <= int(month) <= 12 or int(month) in _UNKNOWN_MONTHS):
        return f"its month of birth {month} is not 01 to 12 (nor 20-42, 50-99 for an unknown month)"
    if department == "00":
        return "its department 00 does not exist"
    if commune == "000" or order == "000":
        return "its commune and order numbers are 001 to 999"
    expected = nir_key(nir[:13])
    if int(key) != expected:
        return f"its key {key} is wrong: the first 13 characters give {expected:02d}"
    return None


def siret_problem(value: str) -> str | None:
    """Why ``value`` is not a SIRET (14 digits, Luhn; La Poste's: digits adding up to a multiple of 5)."""
    siret = value.replace(" ", "")
    if not re.fullmatch(r"[0-9]{14}", siret):
        return "a SIRET has 14 digits"
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_SIREN + "00000":
        if sum(int(c) for c in siret) % 5 == 0:
            return None
        return f"{siret} is not a valid SIRET of La Poste (its digits add up to no multiple of 5)"
    if not luhn_ok(siret):
        return f"{siret} is not a valid SIRET (Luhn check fails)"
    return None


def iban_problem(value: str) -> str | None:
    """Why ``value`` is not an IBAN (ISO 13616: country, 2 check digits, mod 97 = 1), or None."""
    iban = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return "an IBAN is 2 letters, 2 check digits and 11 to 30 letters or digits"
    moved = iban[4:] + iban[:4]
    if int("".join(str(int(c, 36)) for c in moved)) % 97 != 1:
        return f"{iban} is not a valid IBAN (its check digits fail)"
    return None


# --- loading and checking --------------------------------------------------------------------------------


class RulesOfGroup(Protocol):
    """What the checks read of the group's rules (:class:`eage.rules.bundle.Rules`)."""

    @property
    def root(self) -> Path: ...

    @property
    def group(self) -> Group: ...

    @property
    def staff(self) -> Staff: ...


def load_dsn_identifiers(root: Path, rules: RulesOfGroup, payroll: PayrollRules) -> DsnIdentifiers:
    """rules/dsn.yaml under ``root``, validated and checked against the group's rules; an
    :class:`InputError` with every problem (a missing file too)."""
    located, problems = _read(root)
    if located is None or problems:
        raise InputError(problems)
    contracts_idcc = _contracts_idcc(root)
    problems = _problems(located, rules, payroll, contracts_idcc)
    if problems:
        raise InputError(problems)
    return _identifiers(located.value, rules.group, contracts_idcc)


def dsn_identifiers_problems(root: Path, rules: RulesOfGroup, payroll: PayrollRules) -> list[Problem]:
    """Every located problem of rules/dsn.yaml: none when the file is absent and the group has no staff;
    one when the group has staff and no file."""
    path = root / DSN_FILE
    if not path.exists() and not path.is_symlink() and not rules.staff.employees:
        return []
    located, problems = _read(root)
    if located is None or problems:
        return problems
    return _problems(located, rules, payroll, _contracts_idcc(root))


def _read(root: Path) -> tuple[Located[DsnFile] | None, list[Problem]]:
    path = root / DSN_FILE
    if not path.exists() and not path.is_symlink():
        return None, [
            Problem(
                "file not found: the DSN's identifiers (contacts, bodies, each employee's NIR) are read there",
                file=DSN_FILE,
                fix="create it from the demo's rules/dsn.yaml (or `eage init`'s) and fill in the group's values",
            )
        ]
    try:
        return load_located(path, DsnFile), []
    except InputError as exc:
        return None, [_shown(p) for p in exc.problems]


def _shown(problem: Problem) -> Problem:
    return Problem(problem.message, DSN_FILE, problem.line, problem.key, problem.fix)


def _contracts_idcc(root: Path) -> str | None:
    """The IDCC of rules/payroll/contracts.yaml's latest agreement, or None without a readable file (its
    own problems are reported by the contracts' check)."""
    from eage.payroll.contracts import load_contracts

    try:
        contracts = load_contracts(root / "rules" / "payroll")
    except (InputError, OSError):
        return None
    values = contracts.file.convention.values
    return values[max(values)].idcc if values else None


def _problems(
    located: Located[DsnFile], rules: RulesOfGroup, payroll: PayrollRules, contracts_idcc: str | None
) -> list[Problem]:
    file = located.value

    def at(message: str, loc: tuple[int | str, ...], fix: str) -> Problem:
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        return Problem(message, DSN_FILE, located.line(loc), key, fix)

    out: list[Problem] = []
    out += _establishment_problems(file, rules.group, contracts_idcc, at)
    out += _organisation_problems(file, payroll, at)
    out += _contract_problems(file, payroll, at)
    out += _employee_problems(file, rules.staff, at)
    return out


class _At(Protocol):
    def __call__(self, message: str, loc: tuple[int | str, ...], fix: str) -> Problem: ...


def _establishment_problems(
    file: DsnFile, group: Group, contracts_idcc: str | None, at: _At
) -> list[Problem]:
    out: list[Problem] = []
    siret = group.identity.siret
    if siret is None:
        out.append(
            Problem(
                "the group has no SIRET: the DSN declares an establishment",
                file="rules/group.yaml",
                key="identity.siret",
                fix="add the establishment's SIRET (14 digits, from the INSEE's notice)",
            )
        )
    elif file.nic != siret[9:]:
        out.append(
            at(
                f"the NIC {file.nic} is not the last five digits of the group's SIRET {siret}",
                ("nic",),
                f'write nic: "{siret[9:]}" (or correct identity.siret in rules/group.yaml)',
            )
        )
    for name in ("apen", "apet"):
        if getattr(file, name) is None and group.identity.naf is None:
            out.append(
                at(
                    f"no {name.upper()} code: rules/group.yaml has no identity.naf to take it from",
                    (name,),
                    f"give {name} (four digits and a letter, e.g. 7830Z) or identity.naf in rules/group.yaml",
                )
            )
    if file.idcc is None and contracts_idcc is None:
        out.append(
            at(
                "no IDCC: rules/payroll/contracts.yaml names no agreement to take it from",
                ("idcc",),
                "give idcc (the 4-character code of the collective agreement)",
            )
        )
    elif file.idcc is not None and contracts_idcc is not None and file.idcc != contracts_idcc:
        out.append(
            at(
                f"the IDCC {file.idcc} differs from the agreement's ({contracts_idcc}, "
                "rules/payroll/contracts.yaml convention)",
                ("idcc",),
                f'write idcc: "{contracts_idcc}", or remove it (the agreement\'s is taken)',
            )
        )
    iban = file.iban if file.iban is not None else group.invoicing.iban
    wrong = iban_problem(iban)
    if wrong is not None:
        out.append(at(wrong, ("iban",), "copy the IBAN from the bank's RIB (FR76 ...)"))
    if file.bic is None and not _BIC.fullmatch(group.invoicing.bic):
        out.append(
            at(
                f"the group's BIC {group.invoicing.bic} (rules/group.yaml invoicing.bic) is not a BIC of 8 or "
                "11 letters and digits, as the DSN writes it (S21.G00.20.003)",
                ("bic",),
                "give bic: the 8 or 11 characters of the bank's RIB",
            )
        )
    return out


def _organisations_used(payroll: PayrollRules) -> list[str]:
    """The organisations the contributions name, in file order, each once."""
    seen: list[str] = []
    for line in payroll.contributions.contributions:
        if line.organisation not in seen:
            seen.append(line.organisation)
    return seen


def _organisation_problems(file: DsnFile, payroll: PayrollRules, at: _At) -> list[Problem]:
    out: list[Problem] = []
    for name in [*_organisations_used(payroll), PAS]:
        if name not in file.organisations:
            what = (
                "the withholding tax (PAS, paid to the DGFiP)"
                if name == PAS
                else f"contributions of rules/payroll/contributions.yaml (organisation: {name})"
            )
            out.append(
                at(
                    f"no organisation {name}: the DSN declares and pays {what}",
                    ("organisations",),
                    f"add organisations.{name}: {{ops_id: ..., name: ...}}"
                    + (" with ops_id: DGFIP" if name == PAS else ""),
                )
            )
    pas = file.organisations.get(PAS)
    if pas is not None and pas.ops_id != PAS_OPS_ID:
        out.append(
            at(
                f"the PAS is paid to the DGFiP, whose identifier is {PAS_OPS_ID}, not {pas.ops_id}",
                ("organisations", PAS, "ops_id"),
                f"write ops_id: {PAS_OPS_ID}",
            )
        )
    urssaf = file.organisations.get(URSSAF)
    if urssaf is not None:
        wrong = siret_problem(urssaf.ops_id)
        if wrong is not None:
            out.append(
                at(
                    f"the URSSAF's identifier is its SIRET: {wrong}",
                    ("organisations", URSSAF, "ops_id"),
                    "copy the SIRET of the URSSAF the establishment pays (on its notices)",
                )
            )
    return out


def _contract_problems(file: DsnFile, payroll: PayrollRules, at: _At) -> list[Problem]:
    out: list[Problem] = []
    insured = [c.code for c in payroll.contributions.contributions if c.organisation == PREVOYANCE]
    ids: dict[str, int] = {}
    collected: dict[str, list[int]] = {}
    for index, contract in enumerate(file.contracts):
        if contract.id in ids:
            out.append(
                at(
                    f"the adhesion id {contract.id} is also contracts[{ids[contract.id]}]'s",
                    ("contracts", index, "id"),
                    "give each contract its own id (1, 2, ...)",
                )
            )
        else:
            ids[contract.id] = index
        for position, code in enumerate(contract.contributions):
            if code not in insured:
                out.append(
                    at(
                        f"{code!r} is no contribution paid to {PREVOYANCE} in rules/payroll/contributions.yaml",
                        ("contracts", index, "contributions", position),
                        f"use one of {', '.join(insured) or 'none (no contribution is paid to prevoyance)'}",
                    )
                )
            else:
                collected.setdefault(code, []).append(index)
    for code in insured:
        holders = collected.get(code, [])
        if not holders:
            out.append(
                at(
                    f"no insurance contract collects the contribution {code} (organisation {PREVOYANCE})",
                    ("contracts",),
                    f"add it to the contributions of the contract that collects it (contracts: - ... "
                    f"contributions: [{code}])",
                )
            )
        elif len(holders) > 1:
            out.append(
                at(
                    f"the contribution {code} is collected by {len(holders)} contracts "
                    f"({', '.join(f'contracts[{i}]' for i in holders)})",
                    ("contracts", holders[1], "contributions"),
                    "name it in one contract only",
                )
            )
    return out


def _employee_problems(file: DsnFile, staff: Staff, at: _At) -> list[Problem]:
    out: list[Problem] = []
    known = [e.id for e in staff.employees]
    for emp in known:
        if emp not in file.employees:
            out.append(
                at(
                    f"no identity for employee {emp} (rules/staff.yaml)",
                    ("employees",),
                    f"add employees.{emp}: NIR, names, sex, birth date and place, address, PCS-ESE, "
                    "contract number, conventional status",
                )
            )
    numbers: dict[str, str] = {}
    for emp, ident in file.employees.items():
        if emp not in known:
            out.append(
                at(
                    f"{emp} is no employee of rules/staff.yaml",
                    ("employees", emp),
                    f"use a staff id ({', '.join(known) or 'none'}), or remove the entry",
                )
            )
        out += _nir_problems(emp, ident, at)
        if ident.contract_number in numbers:
            out.append(
                at(
                    f"the contract number {ident.contract_number} is also {numbers[ident.contract_number]}'s",
                    ("employees", emp, "contract_number"),
                    "give each employee's contract its own number",
                )
            )
        else:
            numbers[ident.contract_number] = emp
    return out


def _nir_problems(emp: str, ident: EmployeeIn, at: _At) -> list[Problem]:
    wrong = nir_problem(ident.nir)
    loc: tuple[int | str, ...] = ("employees", emp, "nir")
    if wrong is not None:
        return [at(f"not a NIR: {wrong}", loc, "give the 15-character NIR from the employee's carte Vitale")]
    nir = ident.nir
    out: list[Problem] = []
    if nir[0] not in "12":
        out.append(
            at(
                f"the NIR starts with {nir[0]}: a temporary number, which the DSN does not declare as the NIR "
                "(S21.G00.30.001 takes 1 or 2)",
                loc,
                "give the employee's definitive NIR (carte Vitale, or ask the CPAM)",
            )
        )
    if _NIR_SEX.get(nir[0]) != ident.sex:
        out.append(
            at(
                f"the NIR's first digit {nir[0]} does not agree with sex {ident.sex} (01: 1, 02: 2)",
                loc,
                "check the NIR on the carte Vitale, or correct sex",
            )
        )
    if nir[1:3] != f"{ident.birth_date.year % 100:02d}":
        out.append(
            at(
                f"the NIR's year of birth {nir[1:3]} does not agree with birth_date {ident.birth_date.isoformat()}",
                loc,
                "check the NIR on the carte Vitale, or correct birth_date",
            )
        )
    month = int(nir[3:5])
    if 1 <= month <= 12 and month != ident.birth_date.month:
        out.append(
            at(
                f"the NIR's month of birth {nir[3:5]} does not agree with birth_date "
                f"{ident.birth_date.isoformat()}",
                loc,
                "check the NIR on the carte Vitale, or correct birth_date",
            )
        )
    if nir[5:7] != ident.birth_department:
        out.append(
            at(
                f"the NIR's department {nir[5:7]} does not agree with birth_department {ident.birth_department}",
                ("employees", emp, "birth_department"),
                "give the department of the NIR (99 for a birth abroad), or check the NIR",
            )
        )
    return out


def _identifiers(file: DsnFile, group: Group, contracts_idcc: str | None) -> DsnIdentifiers:
    naf = group.identity.naf
    idcc = file.idcc if file.idcc is not None else contracts_idcc
    assert idcc is not None and (file.apen or naf) and (file.apet or naf)  # checked by _problems
    return DsnIdentifiers(
        fictitious=file.fictitious,
        sender_contact=_contact(file.sender_contact),
        declared_contact=_contact(file.declared_contact),
        nic=file.nic,
        apen=file.apen or naf or "",
        apet=file.apet or naf or "",
        idcc=idcc,
        at_risk_code=file.at_risk_code,
        payment_mode=file.payment_mode,
        iban=(file.iban if file.iban is not None else group.invoicing.iban).replace(" ", "").upper(),
        bic=file.bic if file.bic is not None else group.invoicing.bic,
        organisations={
            key: Organisation(key, org.ops_id, org.name, org.due_day)
            for key, org in file.organisations.items()
        },
        contracts=tuple(
            InsuranceContract(
                id=c.id,
                insurer_code=c.insurer_code,
                insurer_name=c.insurer_name,
                reference=c.reference,
                contributions=tuple(c.contributions),
                population=c.population,
                option=c.option,
            )
            for c in file.contracts
        ),
        employees={emp: _employee(emp, ident) for emp, ident in file.employees.items()},
        software_name=file.software_name,
        software_editor=file.software_editor,
    )


def _contact(contact: ContactIn) -> Contact:
    return Contact(contact.name, contact.email, contact.phone, contact.civility)


def _employee(emp: str, ident: EmployeeIn) -> EmployeeIdentity:
    address = ident.address
    return EmployeeIdentity(
        employee=emp,
        nir=ident.nir,
        family_name=ident.family_name,
        first_names=ident.first_names,
        sex=ident.sex,
        birth_date=ident.birth_date,
        birth_place=ident.birth_place,
        birth_department=ident.birth_department,
        address=Address(address.street, address.postcode, address.city, address.country),
        pcs_ese=ident.pcs_ese,
        contract_number=ident.contract_number,
        conventional_status=ident.conventional_status,
        usage_name=ident.usage_name,
        birth_country=ident.birth_country,
        multiple_employers=ident.multiple_employers,
        email=ident.email,
    )
