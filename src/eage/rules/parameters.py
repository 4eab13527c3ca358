"""Dated parameters with their unit and references, as in OpenFisca's parameters.

Every dated parameter of rules/ says what it is, its ``unit`` (a closed list, :data:`Unit`), the text that
sets it (``reference``) and its values by the day they come into force. A value is written either alone
(``2026-01-01: 13.00``) or with its own reference (``2026-01-01: {value: 13.00, reference: "..."}``); the
parameter's reference is the default of its values. Code asks for the value in force at a date
(:meth:`Parameter.at`), and for its reference (:meth:`Parameter.reference_at`).

Rates are in one unit family, percent: the group's own dated rates (AT/MP, versement mobilité, the
employees' withholding rates) are read as :class:`Rates`, converted from the unit their file declares, so
no caller multiplies by 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema, core_schema

from eage.rules.base import Strict
from eage.rules.dated import LONG_FORM, ONE_UNIT, SHORT_FORM, UNIT_PER_FIELD, Day, in_force
from eage.rules.loader import Number

T = TypeVar("T")

# --- units and per-value references ----------------------------------------------------------------

#: The units a dated parameter may declare, as OpenFisca's parameters do (``metadata: {unit: ...}``).
#: A closed list: a unit eage does not know is refused with its line, never guessed.
Unit = Literal[
    "percent",  # 13.00 is 13 %
    "ratio",  # 0.13 is 13 %
    "eur",
    "eur_per_hour",
    "eur_per_month",
    "eur_per_year",
    "hours",
    "hours_per_week",
    "smic_multiple",
    "pmss_multiple",
    "count",
    "days",
    "weeks",
    "months",
    "number",  # a pure number (an exponent, a coefficient's parameter)
    "code",  # names, not quantities (kinds of contract)
]
UNITS: tuple[str, ...] = get_args(Unit)
#: A parameter's unit: one for a number, or one per field of a composite value (``{first: percent}``).
Units = Annotated[
    Annotated[Unit, Tag(ONE_UNIT)] | Annotated[dict[str, Unit], Tag(UNIT_PER_FIELD)],
    Discriminator(lambda value: UNIT_PER_FIELD if isinstance(value, dict) else ONE_UNIT),
]


class DatedValue(Strict, Generic[T]):
    """The long form of a dated value: ``2026-01-01: {value: 13.00, reference: "décret ..."}``."""

    value: T
    reference: Annotated[str, Field(min_length=1)] | None = None


def entry_form(value: object) -> str:
    # Composite values (a rate case, a scale) never have a key ``value``: a mapping with one is long form.
    return LONG_FORM if isinstance(value, dict) and "value" in value else SHORT_FORM


#: A dated value written either way: the value itself, or ``{value, reference}``. For generic models
#: only (``Entry[T]`` in a ``Parameter[T]``): pydantic substitutes ``T`` in ``DatedValue[T]`` when the model
#: is parametrized, not when the alias is subscripted; a plain model spells its entry out (see
#: :data:`RateEntry`).
Entry = Annotated[
    Annotated[T, Tag(SHORT_FORM)] | Annotated[DatedValue[T], Tag(LONG_FORM)],
    Discriminator(entry_form),
]


def plain(entries: Mapping[dt.date, T | DatedValue[T]]) -> dict[dt.date, T]:
    """The values of ``entries`` without their references."""
    return {start: e.value if isinstance(e, DatedValue) else e for start, e in entries.items()}


def reference_in(entries: Mapping[dt.date, object], day: dt.date, default: str | None) -> str | None:
    """The reference of the value in force on ``day``: its own, else the parameter's ``default``."""
    entry = in_force(entries, day)
    own = entry.reference if isinstance(entry, DatedValue) else None
    return own if own is not None else default


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


def _number_fields(item: BaseModel) -> set[str]:
    """The fields of ``item`` that hold numbers (a nested list of mappings as ``field.subfield``)."""
    out: set[str] = set()
    for name in type(item).model_fields:
        value = getattr(item, name)
        if _is_number(value) or (isinstance(value, dict) and value and all(map(_is_number, value.values()))):
            out.add(name)
        elif isinstance(value, list):
            out |= {
                f"{name}.{sub}"
                for child in value
                if isinstance(child, BaseModel)
                for sub in _number_fields(child)
            }
    return out


def _check_unit_fields(unit: Units, values: Mapping[dt.date, object]) -> None:
    """A unit per field names fields the values have (``{first: percent}`` for ``{first: 25}``), and
    every field that holds a number has its unit: a figure without a unit is the one read wrong."""
    if not isinstance(unit, dict):
        return
    fields: set[str] = set()
    numbers: set[str] = set()
    for value in values.values():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, BaseModel):
                raise ValueError("unit: a value that is not a mapping has one unit (e.g. unit: percent)")
            fields |= set(type(item).model_fields)
            numbers |= _number_fields(item)
    unknown = sorted(name for name in unit if name.split(".")[0] not in fields)
    if unknown:
        raise ValueError(
            f"unit: {', '.join(unknown)} is not a field of the values ({', '.join(sorted(fields))})"
        )
    missing = sorted(numbers - set(unit))
    if missing:
        raise ValueError(f"unit: no unit for {', '.join(missing)} (add e.g. {missing[0]}: percent)")


class Parameter(Strict, Generic[T]):
    """A dated parameter as in OpenFisca: what it is, its unit, the text that sets it, and its values by
    the day they come into force. A value may carry its own reference (the decree of that year); the
    parameter's ``reference`` is the default. Code reads ``values`` (plain), :meth:`at` and
    :meth:`reference_at`."""

    description: str | None = None
    unit: Units
    reference: Annotated[str, Field(min_length=1)] | None = None
    entries: Annotated[dict[Day, Entry[T]], Field(alias="values", min_length=1)]
    _values: dict[dt.date, T] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._values = plain(self.entries)

    @model_validator(mode="after")
    def _units_name_fields(self) -> Parameter[T]:
        _check_unit_fields(self.unit, plain(self.entries))
        return self

    @property
    def values(self) -> dict[dt.date, T]:
        """The values by start date, without their references."""
        return self._values

    def at(self, day: dt.date) -> T:
        """The value in force on ``day`` (:class:`NotInForce` before the first one)."""
        return in_force(self._values, day)

    def reference_at(self, day: dt.date) -> str | None:
        """The reference of the value in force on ``day``: the value's own, else the parameter's."""
        return reference_in(self.entries, day, self.reference)


# --- rates: one unit family, percent ----------------------------------------------------------------

#: What a ratio is multiplied by to be a percent: the one place the two units meet.
PERCENT_PER_RATIO = Decimal(100)


def _rate_bounded(value: Decimal, unit: str) -> Decimal:
    most = Decimal(1) if unit == "ratio" else PERCENT_PER_RATIO
    if value < 0 or value > most:
        raise ValueError(
            f"{value} is not a rate in {unit} (from 0 to {most})"
            + (": write 0.0208 for 2.08 %, or declare unit: percent" if unit == "ratio" else "")
        )
    return value


class UnitsChecked(Strict):
    """A rules file whose parameters must declare the unit the engine reads them in (``UNITS``: field ->
    unit, or field -> {part: unit}): a parameter declared in another unit is refused at its key, never
    read in the wrong one."""

    UNITS: ClassVar[dict[str, Any]] = {}

    @field_validator("*")
    @classmethod
    def _declared_unit(cls, value: Any, info: ValidationInfo) -> Any:
        expected = cls.UNITS.get(info.field_name or "")
        if expected is not None and isinstance(value, Parameter) and value.unit != expected:
            raise ValueError(f"unit: {value.unit!r}, but eage reads this parameter in {expected!r}")
        return value


def to_percent(value: Decimal, unit: str) -> Decimal:
    """A rate in percent. ``value * 100`` exactly as the callers once did, so that every figure (and
    every Decimal exponent, which documents print) is the same as before the conversion moved here."""
    return value * PERCENT_PER_RATIO if unit == "ratio" else value


_RateNumber = Annotated[Number, Field(ge=0)]
RateEntry = Annotated[
    Annotated[_RateNumber, Tag(SHORT_FORM)] | Annotated[DatedValue[_RateNumber], Tag(LONG_FORM)],
    Discriminator(entry_form),
]


class RateSchedule(Strict):
    """The long form of a group's dated rate: ``{unit: ratio, reference: ..., values: {day: rate}}``."""

    unit: Literal["percent", "ratio"]
    reference: Annotated[str, Field(min_length=1)] | None = None
    entries: Annotated[dict[Day, RateEntry], Field(alias="values")]

    @model_validator(mode="after")
    def _bounded(self) -> RateSchedule:
        for start, value in plain(self.entries).items():
            try:
                _rate_bounded(value, self.unit)
            except ValueError as exc:
                raise ValueError(f"values.{start}: {exc}") from None
        return self


class RateValue(Strict):
    """The long form of a group's rate that is not dated: ``{unit: ratio, value: 0}``."""

    unit: Literal["percent", "ratio"]
    value: Annotated[Number, Field(ge=0)]
    reference: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _bounded(self) -> RateValue:
        _rate_bounded(self.value, self.unit)
        return self


#: The short form of a group's dated rate (rules/group.yaml, rules/staff.yaml): a ratio, 0.0208 for 2.08 %.
RatioByDay = dict[Day, Annotated[Number, Field(ge=0, le=1)]]


def _rates_form(value: object) -> str:
    return LONG_FORM if isinstance(value, dict) and ("values" in value or "unit" in value) else SHORT_FORM


class Rates(Mapping[dt.date, Decimal]):
    """A group's dated rate (AT/MP, versement mobilité, a withholding rate), in percent whatever unit the
    file declares: the bare mapping ``{2026-01-01: 0.0208}`` is a ratio, as rules/group.yaml and
    rules/staff.yaml always wrote them; the long form declares its unit. A mapping from the start day to
    the rate in percent, so :func:`in_force` reads it."""

    def __init__(
        self,
        percents: dict[dt.date, Decimal],
        *,
        unit: str,
        declared: dict[dt.date, Decimal],
        reference: str | None = None,
        references: dict[dt.date, str] | None = None,
    ) -> None:
        self._percents = percents
        self.unit = unit
        self._declared = declared
        self.reference = reference
        self._references = references or {}

    def __getitem__(self, day: dt.date) -> Decimal:
        return self._percents[day]

    def __iter__(self) -> Iterator[dt.date]:
        return iter(self._percents)

    def __len__(self) -> int:
        return len(self._percents)

    def __repr__(self) -> str:
        return f"Rates({self._percents!r}, unit={self.unit!r})"

    @classmethod
    def empty(cls) -> Rates:
        """No rate at all (a group without versement mobilité)."""
        return cls({}, unit="ratio", declared={})

    def at(self, day: dt.date, default: Decimal | None = None) -> Decimal:
        """The rate in percent in force on ``day``; ``default`` (when given) before the first value."""
        if default is not None and (not self._percents or min(self._percents) > day):
            return default
        return in_force(self._percents, day)

    def reference_at(self, day: dt.date) -> str | None:
        in_force(self._percents, day)  # NotInForce before the first value, as for the rate itself
        best = max(start for start in self._percents if start <= day)
        return self._references.get(best, self.reference)

    def ratios(self) -> dict[dt.date, Decimal]:
        """The rates as ratios (0.0208 for 2.08 %), as written when the file declares ratios."""
        if self.unit == "ratio":
            return dict(self._declared)
        return {start: value / PERCENT_PER_RATIO for start, value in self._percents.items()}

    def dumped(self) -> dict[str, object]:
        """The long form in percent, which validates back to the same rates."""
        out: dict[str, object] = {"unit": "percent"}
        if self.reference is not None:
            out["reference"] = self.reference
        out["values"] = {
            start: {"value": value, "reference": self._references[start]}
            if start in self._references
            else value
            for start, value in self._percents.items()
        }
        return out

    @classmethod
    def _build(cls, parsed: dict[dt.date, Decimal] | RateSchedule) -> Rates:
        if isinstance(parsed, RateSchedule):
            declared = plain(parsed.entries)
            references = {
                start: e.reference
                for start, e in parsed.entries.items()
                if isinstance(e, DatedValue) and e.reference is not None
            }
            percents = {start: to_percent(v, parsed.unit) for start, v in declared.items()}
            return cls(
                percents,
                unit=parsed.unit,
                declared=declared,
                reference=parsed.reference,
                references=references,
            )
        return cls(
            {start: to_percent(v, "ratio") for start, v in parsed.items()}, unit="ratio", declared=parsed
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        given = Annotated[
            Annotated[RatioByDay, Tag(SHORT_FORM)] | Annotated[RateSchedule, Tag(LONG_FORM)],
            Discriminator(_rates_form),
        ]
        return core_schema.no_info_after_validator_function(
            cls._build,
            handler.generate_schema(given),
            serialization=core_schema.plain_serializer_function_ser_schema(cls.dumped),
        )


def _single_rate(value: Decimal | RateValue) -> Decimal:
    if isinstance(value, RateValue):
        return to_percent(value.value, value.unit)
    return to_percent(value, "ratio")


def _rate_value_form(value: object) -> str:
    return LONG_FORM if isinstance(value, dict) else SHORT_FORM


#: A group's rate that is not dated, in percent once loaded: a bare number is a ratio (``0.054``), the
#: long form ``{unit: percent, value: 5.4}`` declares its unit.
if TYPE_CHECKING:
    RateInPercent = Decimal
else:
    RateInPercent = Annotated[
        Annotated[Annotated[Number, Field(ge=0, le=1)], Tag(SHORT_FORM)]
        | Annotated[RateValue, Tag(LONG_FORM)],
        Discriminator(_rate_value_form),
        AfterValidator(_single_rate),
        # Dumped in the long form, which validates back to the same percent.
        PlainSerializer(lambda value: {"unit": "percent", "value": value}),
    ]
