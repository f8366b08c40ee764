"""Number checks for settings: one family, one wording, for run configurations and the CLI.

:func:`real` accepts an int or float (never a bool) that is finite and within the bounds
given; :func:`whole` an int within them.  Each raises :class:`BadNumber` (a
:class:`ValueError`) whose message names the setting, the unit, the bound and the value::

    real(-1.0, "jitter", unit="seconds", ge=0)   ->  jitter must be >= 0 seconds, got -1.0
    real(nan, "duration", unit="seconds")        ->  duration must be a finite number of
                                                     seconds, got nan

:func:`parse_real` and :func:`parse_whole` read the same from text (a command-line
argument) and word the error for it: ``expected a number of seconds > 0, got '0'``.
Units are only words here; no value is converted.

:func:`positive_decimal` reads an exchange's number (a price, a volume: text or int) as a
finite :class:`~decimal.Decimal` > 0, or None: replies are data, not settings.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

__all__ = ["BadNumber", "parse_real", "parse_whole", "positive_decimal", "real", "whole"]


class BadNumber(ValueError):
    """A number outside what a setting accepts; the message names the setting."""


def _bounds(ge: float | None, gt: float | None, le: float | None, unit: str) -> str:
    """``> 0 seconds``, ``>= 1 and <= 50``: the bounds, as words (empty when none)."""
    words = []
    if gt is not None:
        words.append(f"> {gt:g}")
    if ge is not None:
        words.append(f">= {ge:g}")
    if le is not None:
        words.append(f"<= {le:g}")
    text = " and ".join(words)
    return f"{text} {unit}".strip() if text else unit


def _outside(v: float, ge: float | None, gt: float | None, le: float | None) -> bool:
    return ((ge is not None and v < ge) or (gt is not None and v <= gt)
            or (le is not None and v > le))


def real(
    value: object, name: str, *, unit: str = "", ge: float | None = None,
    gt: float | None = None, le: float | None = None,
) -> float:
    """``value`` as a float: an int or float, finite, ``>= ge``, ``> gt``, ``<= le``."""
    of = f" of {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadNumber(f"{name} must be a finite number{of}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise BadNumber(f"{name} must be a finite number{of}, got {value!r}")
    if _outside(v, ge, gt, le):
        raise BadNumber(f"{name} must be {_bounds(ge, gt, le, unit)}, got {value!r}")
    return v


def whole(
    value: object, name: str, *, ge: int | None = None, le: int | None = None,
) -> int:
    """``value`` as an int (never a bool), ``>= ge``, ``<= le``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadNumber(f"{name} must be an integer, got {value!r}")
    if _outside(value, ge, None, le):
        raise BadNumber(f"{name} must be an integer {_bounds(ge, None, le, '')}, got {value!r}")
    return value


def parse_real(
    text: str, *, unit: str = "", ge: float | None = None, gt: float | None = None,
    le: float | None = None,
) -> float:
    """A finite float read from ``text`` within the bounds; :class:`BadNumber` worded for a
    command line (``expected a number of seconds > 0, got '0'``)."""
    of = f" of {unit}" if unit else ""
    limits = _bounds(ge, gt, le, "")
    try:
        v = float(text)
    except ValueError:
        raise BadNumber(f"expected a number{of}, got {text!r}") from None
    if not math.isfinite(v) or _outside(v, ge, gt, le):
        raise BadNumber(f"expected a {'finite ' if not limits else ''}number{of}"
                        f"{' ' + limits if limits else ''}, got {text!r}")
    return v


def parse_whole(
    text: str, *, what: str = "an integer", ge: int | None = None, le: int | None = None,
) -> int:
    """An int read from ``text`` (decimal digits, optional sign) within the bounds."""
    limits = _bounds(ge, None, le, "")
    expected = f"expected {what}{' ' + limits if limits else ''}, got {text!r}"
    try:
        v = int(text)
    except ValueError:
        raise BadNumber(expected) from None
    if _outside(v, ge, None, le):
        raise BadNumber(expected)
    return v


def positive_decimal(value: object) -> Decimal | None:
    """A finite Decimal > 0 from text or an int (never a bool or float); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() and d > 0 else None
