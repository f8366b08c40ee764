"""Typed errors raised by the limiter core.

Every error names what was wrong and the value that was refused, so a caller at the
boundary can report it as is.  All of them derive from :class:`LimiterError`, itself a
:class:`ValueError`: bad arguments, never a transient condition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = [
    "CostExceedsCapacity",
    "InvalidAmount",
    "LimiterError",
    "UnknownEndpoint",
    "UnknownTier",
    "UnknownTransaction",
    "check_amount",
    "non_negative",
]


class LimiterError(ValueError):
    """Base class of every error raised by ``limiters``."""


class InvalidAmount(LimiterError):
    """A cost, level, time, age or rate that is NaN, infinite or negative."""

    def __init__(self, name: str, value: float, why: str) -> None:
        self.name = name
        self.value = value
        super().__init__(f"{name} must be {why}, got {value!r}")


class CostExceedsCapacity(LimiterError):
    """A cost that could never fit, because it is above the counter's usable capacity."""

    def __init__(self, cost: float, capacity: float, maximum: float) -> None:
        self.cost = cost
        self.capacity = capacity
        self.maximum = maximum
        super().__init__(
            f"cost {cost:g} can never fit: the counter's usable capacity is {capacity:g} "
            f"(max {maximum:g} less margins)"
        )


class UnknownTier(LimiterError):
    """A verification tier name that is not one of the venue's tiers."""

    def __init__(self, name: object, known: tuple[str, ...]) -> None:
        self.tier = name
        super().__init__(f"unknown tier {name!r}; expected one of: {', '.join(known)}")


class UnknownEndpoint(LimiterError):
    """An endpoint name missing from the venue's cost table."""

    def __init__(self, name: str) -> None:
        self.endpoint = name
        super().__init__(f"unknown endpoint {name!r}: it has no entry in the cost table")


class UnknownTransaction(LimiterError):
    """A transaction name with no penalty table (the tables: amend, edit, cancel)."""

    def __init__(self, name: object, known: tuple[str, ...]) -> None:
        self.transaction = name
        super().__init__(f"unknown transaction {name!r}; expected one of: {', '.join(known)}")


def check_amount(name: str, value: float, *, positive: bool = False) -> float:
    """Return ``value`` as a float if it is finite and >= 0 (> 0 with ``positive``).

    Raises :class:`InvalidAmount` otherwise (NaN, +/-inf, negative, or not a number).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAmount(name, value, "a real number")
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        raise InvalidAmount(name, v, "finite")
    if positive and v <= 0.0:
        raise InvalidAmount(name, v, "> 0")
    if v < 0.0:
        raise InvalidAmount(name, v, ">= 0")
    return v


def non_negative(name: str) -> Callable[[Any, Any, float], None]:
    """An attrs validator: the field must pass :func:`check_amount` (finite, >= 0)."""

    def validate(_instance: Any, _attribute: Any, value: float) -> None:
        if value.__class__ is float and 0.0 <= value < math.inf:
            return  # the hot path: a finite, non-negative float
        check_amount(name, value)

    return validate
