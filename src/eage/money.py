"""Money: ``Decimal`` cents, the largest-remainder split and French number formats.

Amounts are ``Decimal`` everywhere, never float. They are rounded to the cent once, where a figure becomes
an amount someone is charged or paid (a payslip line, a member's share), with ROUND_HALF_UP as French
payroll and invoicing practice does.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

K = TypeVar("K", bound=Hashable)


def cents(value: Decimal | int | str) -> Decimal:
    """Round to the cent, half up (a payslip or invoice line)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents_int(value: Decimal) -> int:
    """An amount already rounded to the cent as an integer number of cents."""
    q = cents(value)
    return int(q * 100)


def split_largest_remainder(total: Decimal, weights: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """Split ``total`` (a cent amount) pro rata to ``weights`` so the shares sum back to it exactly.

    Each share is the exact pro-rata value floored to the cent; the cents left over go one each to the
    largest remainders, ties broken by key order (so the result does not depend on input order).
    Keys with a zero weight get nothing. Weights must be non-negative with a positive sum.
    """
    total = cents(total)
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights.values(), Decimal(0))
    if weight_sum <= 0:
        raise ValueError("weights must have a positive sum")
    sign = -1 if total < 0 else 1
    total_cents = abs(int(total * 100))
    keys = sorted(weights, key=_sort_key)
    floors: dict[K, int] = {}
    remainders: list[tuple[Decimal, int, K]] = []
    for index, key in enumerate(keys):
        exact = Decimal(total_cents) * weights[key] / weight_sum
        floor = int(exact)  # exact >= 0, so int() floors
        floors[key] = floor
        remainders.append((exact - floor, -index, key))
    left = total_cents - sum(floors.values())
    remainders.sort(key=lambda r: (r[0], r[1]), reverse=True)
    for _, _, key in remainders[:left]:
        floors[key] += 1
    return {key: sign * Decimal(floors[key]) / 100 for key in keys}


def _sort_key(key: object) -> str:
    return repr(key) if not isinstance(key, str) else key


NBSP = "\u00a0"
NNBSP = "\u202f"


def fr_number(value: Decimal, places: int = 2) -> str:
    """``1234.5`` -> ``1 234,50`` (narrow no-break space between thousands, comma for decimals)."""
    q = Decimal(1).scaleb(-places) if places else Decimal(1)
    rounded = Decimal(value).quantize(q, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.{places}f}"
    integer, _, frac = text.partition(".")
    integer = integer.replace(",", NNBSP)
    return f"{sign}{integer},{frac}" if places else f"{sign}{integer}"


def fr_eur(value: Decimal) -> str:
    """``1234.5`` -> ``1 234,50 €``."""
    return f"{fr_number(value)}{NBSP}€"


def fr_hours(value: Decimal) -> str:
    """Hours with two decimals, French style: ``12,50``."""
    return fr_number(value, 2)


def fr_percent(value: Decimal, places: int = 1) -> str:
    """A ratio (0.1234) as ``12,3 %``."""
    return f"{fr_number(value * 100, places)}{NBSP}%"


MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def fr_month(month: str) -> str:
    """``"2026-11"`` -> ``"novembre 2026"``."""
    from eage.month import Month  # here: money is imported by month's users, not the reverse

    parsed = Month.parse(month)
    return f"{MONTHS_FR[parsed.number - 1]} {parsed.year}"
