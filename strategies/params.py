"""Strategy parameters: typed attrs classes with defaults, validated, settable by text.

A strategy declares its parameters as a frozen attrs class whose fields are made with
:func:`param` (a default, a one-line help text with units, optional bounds)::

    @attrs.frozen(slots=True)
    class MyParams:
        spread_bps: float = param(10.0, "quote half-spread around mid (basis points)", gt=0)
        levels: int = param(3, "orders per side", ge=1, le=20)

``orderpace backtest --set spread_bps=12.5`` becomes :func:`parse_params` ``(MyParams,
["spread_bps=12.5"])``: each ``key=value`` is converted to the field's declared type, the
class is built, and its validators run.  Every failure is a :class:`ParameterError` that
names the parameter, the expected type or bound, and the value given.

Supported field types: ``int``, ``float``, ``bool`` (true/false/yes/no/on/off/1/0), ``str``,
:class:`~decimal.Decimal`, any :class:`enum.Enum` (by value, case-insensitive), and
``tuple[float, float]`` / ``tuple[int, int]`` ranges written ``LOW..HIGH`` or ``LOW,HIGH``.
Keys may use ``-`` or ``_`` (``spread-bps`` is ``spread_bps``).
"""

from __future__ import annotations

import enum
import math
import typing
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

__all__ = [
    "InvalidParameter",
    "NoParams",
    "ParamInfo",
    "ParameterError",
    "UnknownParameter",
    "describe_params",
    "param",
    "parse_params",
    "split_assignments",
]

P = TypeVar("P")

_HELP = "orderpace.help"


class ParameterError(ValueError):
    """A strategy parameter could not be set (base class)."""


class UnknownParameter(ParameterError):
    """``--set`` named a parameter the strategy does not have."""

    def __init__(self, strategy: str, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        listed = ", ".join(self.known) if self.known else "none"
        super().__init__(
            f"strategy {strategy!r} has no parameter {name!r}; its parameters: {listed}"
        )


class InvalidParameter(ParameterError):
    """A parameter value of the wrong type or out of bounds."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(f"parameter {name!r} expects {expected}, got {value!r}")


@attrs.frozen(slots=True)
class NoParams:
    """Parameters of a strategy that takes none."""


@attrs.frozen(slots=True)
class ParamInfo:
    """One parameter as listed by ``orderpace strategies``."""

    name: str
    type_name: str
    default: object
    help: str

    def render(self) -> str:
        """``name: type = default  -- help``."""
        return f"{self.name}: {self.type_name} = {_show(self.default)}  -- {self.help}"


# -- declaring -------------------------------------------------------------------------


def _bounds_text(gt: float | None, ge: float | None, lt: float | None, le: float | None) -> str:
    parts = []
    if gt is not None:
        parts.append(f"> {gt:g}")
    if ge is not None:
        parts.append(f">= {ge:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    return " and ".join(parts)


def _bounded(
    gt: float | None, ge: float | None, lt: float | None, le: float | None
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: every number in the value (a number or a tuple) within bounds."""
    text = _bounds_text(gt, ge, lt, le)

    def validate(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
                raise InvalidParameter(attribute.name, value, "a number")
            if isinstance(v, float) and not math.isfinite(v):
                raise InvalidParameter(attribute.name, value, "a finite number")
            if isinstance(v, Decimal) and not v.is_finite():
                raise InvalidParameter(attribute.name, value, "a finite number")
            if (
                (gt is not None and not v > gt)
                or (ge is not None and not v >= ge)
                or (lt is not None and not v < lt)
                or (le is not None and not v <= le)
            ):
                raise InvalidParameter(attribute.name, value, f"a value {text}")

    return validate


def _ordered_range(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, tuple) and len(value) == 2 and value[0] > value[1]:
        raise InvalidParameter(attribute.name, value, "a range LOW..HIGH with LOW <= HIGH")


def param(
    default: Any,
    help: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> Any:
    """An attrs field for a strategy parameter: ``default``, a help line (with units),
    and optional numeric bounds (checked for numbers and for each end of a range)."""
    validators: list[Callable[[Any, attrs.Attribute[Any], Any], None]] = [_ordered_range]
    if any(b is not None for b in (gt, ge, lt, le)):
        validators.append(_bounded(gt, ge, lt, le))
    return attrs.field(default=default, validator=validators, metadata={_HELP: help})


# -- reading the declaration -----------------------------------------------------------


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception as e:  # an unresolvable annotation is the plugin author's bug
        raise TypeError(f"cannot resolve the parameter types of {cls.__qualname__}: {e}") from e


def _type_name(tp: Any) -> str:
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "|".join(str(m.value) for m in tp)
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        return f"range of {_type_name(args[0])} (LOW..HIGH)" if args else "range"
    if tp is Decimal:
        return "decimal"
    if isinstance(tp, type):
        return tp.__name__
    return str(tp)


def _show(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "..".join(_show(v) for v in value)
    return str(value)


def describe_params(cls: type) -> list[ParamInfo]:
    """The parameters of the attrs class ``cls``: name, type, default, help."""
    hints = _hints(cls)
    out = []
    for f in attrs.fields(cls):
        default = f.default
        factory = getattr(default, "factory", None)
        if factory is not None and getattr(default, "takes_self", None) is False:
            default = factory()
        out.append(ParamInfo(f.name, _type_name(hints.get(f.name, Any)), default,
                             str(f.metadata.get(_HELP, ""))))
    return out


# -- converting text -------------------------------------------------------------------

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _convert_scalar(name: str, text: str, tp: Any) -> Any:
    t = text.strip()
    if tp is bool:
        low = t.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise InvalidParameter(name, text, "a boolean (true/false)")
    if tp is int:
        try:
            return int(t)
        except ValueError:
            raise InvalidParameter(name, text, "an integer (int)") from None
    if tp is float:
        try:
            v = float(t)
        except ValueError:
            raise InvalidParameter(name, text, "a number (float)") from None
        if not math.isfinite(v):
            raise InvalidParameter(name, text, "a finite number (float)")
        return v
    if tp is Decimal:
        try:
            d = Decimal(t)
        except InvalidOperation:
            raise InvalidParameter(name, text, "a decimal number") from None
        if not d.is_finite():
            raise InvalidParameter(name, text, "a finite decimal number")
        return d
    if tp is str:
        return text
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for m in tp:
            if str(m.value).lower() == t.lower() or m.name.lower() == t.lower():
                return m
        raise InvalidParameter(name, text, f"one of {_type_name(tp)}")
    raise TypeError(f"parameter {name!r}: unsupported parameter type {tp!r}")


def _convert(name: str, text: str, tp: Any) -> Any:
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        sep = ".." if ".." in text else ","
        parts = text.split(sep)
        if len(parts) != len(args) or not args:
            raise InvalidParameter(name, text, f"a {_type_name(tp)}, e.g. 1..30")
        return tuple(_convert_scalar(name, p, a) for p, a in zip(parts, args, strict=True))
    return _convert_scalar(name, text, tp)


def split_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b-c=x"]`` -> ``{"a": "1", "b_c": "x"}``; a later key overrides."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ParameterError(f"--set expects key=value, got {item!r}")
        out[key] = value
    return out


def parse_params(cls: type[P], assignments: Iterable[str] | Mapping[str, str] = (),
                 *, strategy: str = "") -> P:
    """An instance of the parameter class ``cls`` from ``key=value`` texts (or a mapping).

    Unset parameters keep their defaults.  Raises :class:`UnknownParameter`,
    :class:`InvalidParameter` or :class:`ParameterError` (malformed ``key=value``).
    """
    given = dict(assignments) if isinstance(assignments, Mapping) else split_assignments(
        assignments
    )
    hints = _hints(cls)
    names = [f.name for f in attrs.fields(cls)]  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, text in given.items():
        key = key.replace("-", "_")
        if key not in names:
            raise UnknownParameter(strategy or cls.__name__, key, names)
        kwargs[key] = _convert(key, text, hints.get(key, str))
    try:
        return cls(**kwargs)
    except ParameterError:
        raise
    except (TypeError, ValueError) as e:  # a validator that raised something else
        raise ParameterError(f"{strategy or cls.__name__}: {e}") from e
