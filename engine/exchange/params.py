"""Parsing a request's parameters the way Kraken does, into Kraken's exact errors.

Every parser raises :class:`Reject` carrying the error string the exchange replies with:
malformed arguments give ``EGeneral:Invalid arguments:<field>``.  These are gateway checks:
they happen before the matching engine, so they never charge the trading counter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.exchange import replies as ke
from engine.exchange.markets import ExchangeMarket as Market
from engine.exchange.times import rfc3339

__all__ = [
    "DEADLINE_MAX_AHEAD",
    "DECIMAL_MAX_EXPONENT",
    "DECIMAL_MIN_EXPONENT",
    "INT32_MAX",
    "INT32_MIN",
    "OFLAGS",
    "OrderSpec",
    "Reject",
    "invalid",
    "parse_bool",
    "parse_cl_ord_id",
    "parse_deadline",
    "parse_decimal",
    "parse_order_spec",
    "parse_userref",
    "rfc3339",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

#: A price or volume is refused unless 10**DECIMAL_MIN_EXPONENT <= value < 10**(MAX + 1):
#: no market trades outside that, and beyond it ``price % tick_size`` and the matching
#: engine's ``price / tick_size`` would leave Decimal's 28 digits (an exception, not a reply).
DECIMAL_MAX_EXPONENT = 15
DECIMAL_MIN_EXPONENT = -30

#: A deadline further than this (s) past the arrival is invalid (Kraken: now + 60 s max).
DEADLINE_MAX_AHEAD = 60.0

#: Order flags Kraken accepts on AddOrder (``post``: post-only, limit orders only).
OFLAGS = frozenset({"post", "fcib", "fciq", "nompp", "viqc"})

_ORDERTYPES = frozenset({"limit", "market"})
_TIMEINFORCE = frozenset({"GTC", "IOC", "GTD"})
_HEX = "[0-9a-fA-F]"
_LONG_UUID = re.compile(rf"^{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}$")
_SHORT_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_CL_ORD_ID_FREE_MAX = 18


class Reject(Exception):
    """The request is refused with Kraken error string ``error``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def invalid(field: str) -> Reject:
    """``EGeneral:Invalid arguments:<field>``."""
    return Reject(f"{ke.INVALID_ARGUMENTS}:{field}")


def parse_decimal(value: object, field: str) -> Decimal:
    """``value`` as a finite decimal > 0 of a sane magnitude (``DECIMAL_MIN_EXPONENT`` ..
    ``DECIMAL_MAX_EXPONENT``; strings, ints, floats, Decimals), else invalid."""
    if type(value) is str:  # what the wire carries: the common case, checked first
        if "_" in value:  # Python accepts "1_000"; Kraken does not
            raise invalid(field)
        try:
            d = Decimal(value.strip())
        except (InvalidOperation, ValueError):
            raise invalid(field) from None
    elif isinstance(value, bool):
        raise invalid(field)
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str | int | float):
        if isinstance(value, str) and "_" in value:  # Python accepts "1_000"; Kraken does not
            raise invalid(field)
        try:
            d = Decimal(value.strip() if isinstance(value, str) else str(value))
        except (InvalidOperation, ValueError):
            raise invalid(field) from None
    else:
        raise invalid(field)
    if not d.is_finite() or d <= 0 or not (
        DECIMAL_MIN_EXPONENT <= d.adjusted() <= DECIMAL_MAX_EXPONENT
    ):
        raise invalid(field)
    return d


def parse_bool(value: object, field: str) -> bool:
    """``true``/``false`` (any case) or a bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(field)


def parse_userref(value: object, field: str = "userref") -> int:
    """A signed 32-bit integer (int or its decimal string)."""
    if isinstance(value, bool):
        raise invalid(field)
    if isinstance(value, str) and "_" in value:
        raise invalid(field)
    try:
        n = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise invalid(field) from None
    if not isinstance(n, int) or not INT32_MIN <= n <= INT32_MAX:
        raise invalid(field)
    return n


def parse_cl_ord_id(value: object) -> str:
    """A UUID (long or 32-hex short form) or free text of 1 to 18 printable ASCII chars."""
    if not isinstance(value, str) or not value:
        raise invalid("cl_ord_id")
    if _LONG_UUID.match(value) or _SHORT_UUID.match(value):
        return value
    if len(value) <= _CL_ORD_ID_FREE_MAX and value.isascii() and value.isprintable():
        return value
    raise invalid("cl_ord_id")


def parse_deadline(value: object, wall: float) -> float:
    """The ``deadline`` (RFC 3339 with a zone) as UNIX seconds, checked at arrival ``wall``.

    Arrival after it: ``EService:Deadline elapsed``.  More than :data:`DEADLINE_MAX_AHEAD`
    seconds ahead: invalid.  (Kraken asks senders for at least now + 2 s; at arrival the
    exchange cannot tell a short deadline from network latency, so it enforces only these.)
    """
    if not isinstance(value, str):
        raise invalid("deadline")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid("deadline") from None
    if when.tzinfo is None:
        raise invalid("deadline")
    unix = when.timestamp()
    if wall > unix:
        raise Reject(ke.DEADLINE_ELAPSED)
    if unix > wall + DEADLINE_MAX_AHEAD:
        raise invalid("deadline")
    return unix


def _parse_expiretm(value: object, wall: float) -> float:
    """``expiretm``: ``+<n>`` seconds from now or a UNIX time; returns UNIX seconds."""
    text = str(value).strip()
    try:
        unix = wall + float(text[1:]) if text.startswith("+") else float(text)
    except ValueError:
        raise invalid("expiretm") from None
    if not math.isfinite(unix) or unix <= wall:
        raise invalid("expiretm")
    return unix


class OrderSpec:
    """A parsed new order (AddOrder, one AddOrderBatch entry, an EditOrder replacement).

    ``price`` is None for market orders.  ``expire_at`` is clock seconds (GTD only).
    ``ticks`` caches ``price / tick_size`` for the matching engine (a spec is never changed
    after it is built).
    """

    __slots__ = (
        "cl_ord_id", "expire_at", "market", "oflags", "ordertype", "price", "side", "ticks",
        "timeinforce", "userref", "volume",
    )

    def __init__(  # positional in the per-request paths: keywords cost twice as much
        self, market: Market, side: str, ordertype: str, volume: Decimal,
        price: Decimal | None, userref: int | None = None, cl_ord_id: str | None = None,
        oflags: str = "", timeinforce: str = "GTC", expire_at: float | None = None,
    ) -> None:
        self.market = market
        self.side = side
        self.ordertype = ordertype
        self.volume = volume
        self.price = price
        self.userref = userref
        self.cl_ord_id = cl_ord_id
        self.oflags = oflags
        self.timeinforce = timeinforce
        self.expire_at = expire_at
        self.ticks: int | None = None  # price in ticks, once the exchange has computed it

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags.split(",")


def parse_oflags(value: object, ordertype: str) -> str:
    """Comma-separated known flags; ``post`` only on limit orders."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise invalid("oflags")
    flags = [f.strip() for f in value.split(",") if f.strip()]
    if any(f not in OFLAGS for f in flags) or ("post" in flags and ordertype != "limit"):
        raise invalid("oflags")
    return ",".join(flags)


def parse_volume(value: object, market: Market, field: str = "volume") -> Decimal:
    """A positive volume with at most ``lot_decimals`` decimals."""
    v = parse_decimal(value, field)
    exponent = v.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -market.lot_decimals:
        # more places than allowed as written: invalid unless they are trailing zeros
        exponent = v.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -market.lot_decimals:
            raise invalid(field)
    return v


def parse_order_spec(
    params: Mapping[str, Any], market: Market, *, now: float, epoch: float
) -> OrderSpec:
    """An :class:`OrderSpec` from AddOrder-style ``params`` (gateway checks only).

    ``now`` is the arrival in clock seconds, ``epoch`` the UNIX time of clock 0.
    """
    side = params.get("type")
    if side not in ("buy", "sell"):
        raise invalid("type")
    ordertype = params.get("ordertype")
    if ordertype not in _ORDERTYPES:
        raise invalid("ordertype")
    volume = parse_volume(params.get("volume"), market)
    price: Decimal | None = None
    if ordertype == "limit":
        price = parse_decimal(params.get("price"), "price")
    elif params.get("price") not in (None, ""):
        parse_decimal(params["price"], "price")  # a market order's price is ignored
    userref = parse_userref(params["userref"]) if params.get("userref") is not None else None
    cl_ord_id = None
    if params.get("cl_ord_id") is not None:
        if userref is not None:
            raise invalid("cl_ord_id")  # userref and cl_ord_id are mutually exclusive
        cl_ord_id = parse_cl_ord_id(params["cl_ord_id"])
    oflags = parse_oflags(params.get("oflags"), str(ordertype))
    tif = params.get("timeinforce", "GTC") or "GTC"
    if tif not in _TIMEINFORCE:
        raise invalid("timeinforce")
    expire_at = None
    if tif == "GTD":
        if params.get("expiretm") in (None, "", "0", 0):
            raise invalid("expiretm")
        expire_at = _parse_expiretm(params["expiretm"], epoch + now) - epoch
    return OrderSpec(market, str(side), str(ordertype), volume, price, userref, cl_ord_id,
                     oflags, str(tif), expire_at)
