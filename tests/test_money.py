"""Money invariants: the largest-remainder split and French formats."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eage.money import cents, fr_eur, fr_number, split_largest_remainder

amounts = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("1000000"), places=2, allow_nan=False)
weights = st.dictionaries(
    st.text("abcdefghij", min_size=1, max_size=4),
    st.decimals(min_value=Decimal(0), max_value=Decimal(500), places=2, allow_nan=False),
    min_size=1,
    max_size=30,
).filter(lambda w: sum(w.values()) > 0)


@given(amounts, weights)
def test_shares_sum_exactly_to_the_pool(total: Decimal, w: dict[str, Decimal]) -> None:
    shares = split_largest_remainder(total, w)
    assert sum(shares.values()) == cents(total)
    assert all(s == cents(s) for s in shares.values())


@given(amounts, weights)
def test_each_share_within_one_cent_of_exact(total: Decimal, w: dict[str, Decimal]) -> None:
    shares = split_largest_remainder(total, w)
    weight_sum = sum(w.values())
    for key, share in shares.items():
        exact = total * w[key] / weight_sum
        assert abs(share - exact) < Decimal("0.01")


@given(amounts, weights, st.randoms())
def test_order_does_not_matter(total: Decimal, w: dict[str, Decimal], rnd: random.Random) -> None:
    items = list(w.items())
    rnd.shuffle(items)
    assert split_largest_remainder(total, dict(items)) == split_largest_remainder(total, w)


@given(amounts, weights)
def test_zero_weight_gets_nothing(total: Decimal, w: dict[str, Decimal]) -> None:
    w = {**w, "zzzz-zero": Decimal(0)}
    assert split_largest_remainder(total, w)["zzzz-zero"] == 0


def test_no_positive_weight_is_an_error() -> None:
    with pytest.raises(ValueError, match="positive sum"):
        split_largest_remainder(Decimal("10.00"), {"a": Decimal(0)})


def test_split_known_values() -> None:
    assert split_largest_remainder(
        Decimal("100.00"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}
    ) == {
        "a": Decimal("33.34"),
        "b": Decimal("33.33"),
        "c": Decimal("33.33"),
    }


def test_french_formats() -> None:
    assert fr_number(Decimal("1234.5")) == "1\u202f234,50"
    assert fr_eur(Decimal("-1234567.891")) == "-1\u202f234\u202f567,89\u00a0€"
    assert fr_eur(Decimal("0")) == "0,00\u00a0€"
    assert cents(Decimal("0.005")) == Decimal("0.01")
