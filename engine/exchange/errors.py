"""Typed errors for building the simulated exchange with bad settings.

:class:`InvalidSimSetting` is a :class:`ValueError` naming the class, the parameter, what
it must be and the value refused, e.g. ``SimulatedKraken: decay_step must be a finite
number >= 0 (seconds), got nan``.  :func:`check_number` and :func:`check_int` raise it.
"""

from __future__ import annotations

import math

__all__ = ["InvalidSimSetting", "check_int", "check_number"]


class InvalidSimSetting(ValueError):
    """A constructor argument of the simulated exchange that is out of range or not a number."""

    def __init__(self, owner: str, name: str, value: object, why: str) -> None:
        self.owner = owner
        self.name = name
        self.value = value
        super().__init__(f"{owner}: {name} must be {why}, got {value!r}")


def check_number(
    owner: str, name: str, value: object, *, unit: str = "", positive: bool = False,
    signed: bool = False, maximum: float | None = None,
) -> float:
    """``value`` as a float if it is a finite real number, ``> 0`` with ``positive``, ``>= 0``
    unless ``signed``, at most ``maximum`` if given; else :class:`InvalidSimSetting` (``unit``
    is named in the message)."""
    bound = "" if signed else " > 0" if positive else " >= 0"
    if maximum is not None:
        bound += f" and <= {maximum:g}"
    why = f"a finite number{bound}" + (f" ({unit})" if unit else "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSimSetting(owner, name, value, why)
    v = float(value)
    if not math.isfinite(v) or (not signed and (v <= 0 if positive else v < 0)):
        raise InvalidSimSetting(owner, name, value, why)
    if maximum is not None and v > maximum:
        raise InvalidSimSetting(owner, name, value, why)
    return v


def check_int(owner: str, name: str, value: object, *, minimum: int,
              maximum: int | None = None) -> int:
    """``value`` if it is an integer ``>= minimum`` and ``<= maximum`` (if given; not a
    bool), else :class:`InvalidSimSetting`."""
    why = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
        maximum is not None and value > maximum
    ):
        raise InvalidSimSetting(owner, name, value, why)
    return value
