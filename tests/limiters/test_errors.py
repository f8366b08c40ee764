"""Typed errors and the shared amount check."""

from __future__ import annotations

import math

import pytest

from limiters.errors import (
    CostExceedsCapacity,
    InvalidAmount,
    LimiterError,
    UnknownEndpoint,
    UnknownTier,
    check_amount,
    non_negative,
)


@pytest.mark.parametrize(
    "cls", [InvalidAmount, CostExceedsCapacity, UnknownTier, UnknownEndpoint, LimiterError]
)
def test_every_error_is_a_limiter_error_and_a_value_error(cls: type[Exception]) -> None:
    assert issubclass(cls, LimiterError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0.0), (0.0, 0.0), (-0.0, 0.0), (1, 1.0), (2.5, 2.5), (1e300, 1e300), (5e-324, 5e-324)],
)
def test_valid_amounts_come_back_as_floats(value: float, expected: float) -> None:
    result = check_amount("cost", value)
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (math.nan, "finite"),
        (math.inf, "finite"),
        (-math.inf, "finite"),
        (-1, ">= 0"),
        (-1e-12, ">= 0"),
        (True, "a real number"),
        (False, "a real number"),
        ("1", "a real number"),
        (None, "a real number"),
        (1j, "a real number"),
    ],
)
def test_invalid_amounts_are_refused_naming_the_field(value: object, why: str) -> None:
    with pytest.raises(InvalidAmount) as info:
        check_amount("my_field", value)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"my_field must be {why}, got ")
    assert info.value.name == "my_field"
    assert message.endswith(repr(info.value.value))


@pytest.mark.parametrize("value", [0, 0.0, -0.0, -3])
def test_positive_refuses_zero_and_below(value: float) -> None:
    with pytest.raises(InvalidAmount, match="rate must be"):
        check_amount("rate", value, positive=True)


def test_positive_accepts_the_smallest_positive_float() -> None:
    assert check_amount("rate", 5e-324, positive=True) == 5e-324


def test_non_negative_validator() -> None:
    validate = non_negative("margin")
    validate(None, None, 1.5)
    with pytest.raises(InvalidAmount, match=r"^margin must be >= 0"):
        validate(None, None, -1.0)


def test_cost_exceeds_capacity_message_and_fields() -> None:
    err = CostExceedsCapacity(12.0, 10.5, 15.0)
    assert (err.cost, err.capacity, err.maximum) == (12.0, 10.5, 15.0)
    assert str(err) == (
        "cost 12 can never fit: the counter's usable capacity is 10.5 (max 15 less margins)"
    )


def test_unknown_tier_and_endpoint_messages() -> None:
    assert str(UnknownTier("x", ("a", "b"))) == "unknown tier 'x'; expected one of: a, b"
    assert str(UnknownEndpoint("Foo")) == (
        "unknown endpoint 'Foo': it has no entry in the cost table"
    )
