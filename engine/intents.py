"""Intents: what a strategy wants done, as immutable value objects.

A strategy builds an intent and hands it to :meth:`engine.Engine.submit`; the engine
decides when it goes out.  Construction validates every field and raises
:class:`~engine.errors.InvalidIntent` naming the field, so a malformed intent never reaches
a queue.  Prices and volumes are :class:`decimal.Decimal` (floats, ints and numeric
strings are accepted and converted exactly from their ``str``).

Orders are identified by ``cl_ord_id`` (generated when absent: a UUID, as Kraken allows)
or by Kraken's ``txid``; amend, edit and cancel take either as ``order_id``.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

from engine.clordid import new_cl_ord_id
from engine.errors import InvalidIntent

__all__ = [
    "AddOrder",
    "AddOrderBatch",
    "AmendOrder",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "CancelOrderBatch",
    "EditOrder",
    "Intent",
    "OrderIntent",
    "OrderType",
    "Query",
    "QueryBalance",
    "QueryClosedOrders",
    "QueryOpenOrders",
    "QueryOrders",
    "Side",
    "TimeInForce",
    "to_decimal",
]


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    GTD = "GTD"


E = TypeVar("E", bound=enum.StrEnum)

_CL_ORD_ID_MAX = 18  # Kraken: a UUID, or up to 18 ASCII characters
_BATCH_ADD = (2, 15)
_BATCH_CANCEL_MAX = 50


def to_decimal(field: str, value: object, *, positive: bool = True) -> Decimal:
    """``value`` as a finite Decimal (> 0 when ``positive``), else :class:`InvalidIntent`."""
    if isinstance(value, bool):
        raise InvalidIntent(field, value, "a number, not a bool")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidIntent(field, value, "a finite number")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidIntent(field, value, "a decimal number") from None
    if not d.is_finite():
        raise InvalidIntent(field, value, "a finite number")
    if positive and d <= 0:
        raise InvalidIntent(field, value, "> 0")
    return d


def _parse_enum(cls: type[E], field: str, value: object) -> E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        text = value.strip()
        for candidate in (text, text.lower()):
            try:
                return cls(candidate)
            except ValueError:
                continue
    known = ", ".join(m.value for m in cls)
    raise InvalidIntent(field, value, f"one of {known}")


def _side(value: object) -> Side:
    return _parse_enum(Side, "side", value)


def _order_type(value: object) -> OrderType:
    return _parse_enum(OrderType, "order_type", value)


def _time_in_force(value: object) -> TimeInForce:
    text = value.upper() if isinstance(value, str) else value
    return _parse_enum(TimeInForce, "time_in_force", text)


def _volume(value: object) -> Decimal:
    return to_decimal("volume", value)


def _opt_volume(value: object) -> Decimal | None:
    return None if value is None else to_decimal("volume", value)


def _opt_price(value: object) -> Decimal | None:
    return None if value is None else to_decimal("price", value)


def _non_empty_str(field: str) -> Any:
    def validate(_i: object, _a: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidIntent(field, value, "a non-empty string")

    return validate


def _opt_pair(_i: object, _a: object, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or "/" not in value):
        raise InvalidIntent("pair", value, "a pair name like 'XBT/USD'")


def _cl_ord_id(_i: object, _a: object, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidIntent("cl_ord_id", value, "a non-empty string")
    try:
        uuid.UUID(value)
        return
    except ValueError:
        pass
    if len(value) > _CL_ORD_ID_MAX or not value.isascii() or not value.isprintable():
        raise InvalidIntent("cl_ord_id", value, "a UUID or at most 18 printable ASCII characters")


def _opt_time(field: str) -> Any:
    def validate(_i: object, _a: object, value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ):
            raise InvalidIntent(field, value, "a finite time in seconds on the engine's clock")

    return validate


def _add_orders(value: Iterable[AddOrder]) -> tuple[AddOrder, ...]:
    return tuple(value)


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise InvalidIntent("order_ids", value, "a sequence of ids, not one string")
    return tuple(value)


def _new_cl_ord_id() -> str:
    return new_cl_ord_id()  # a UUID v4, marked as the journal's (engine.clordid)


@attrs.frozen(slots=True)
class AddOrder:
    """Place one order (Kraken AddOrder).  Trading counter: +1.

    ``price`` is required for limit orders and refused for market orders.  ``deadline`` is
    a time on the engine's clock (seconds): still queued then, the intent expires.
    """

    pair: str = attrs.field(validator=_non_empty_str("pair"))
    side: Side = attrs.field(converter=_side)
    volume: Decimal = attrs.field(converter=_volume)
    price: Decimal | None = attrs.field(default=None, converter=_opt_price)
    order_type: OrderType = attrs.field(default=OrderType.LIMIT, converter=_order_type)
    post_only: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    time_in_force: TimeInForce = attrs.field(default=TimeInForce.GTC, converter=_time_in_force)
    cl_ord_id: str = attrs.field(factory=_new_cl_ord_id, validator=_cl_ord_id)
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))
    userref: int | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if "/" not in self.pair:
            raise InvalidIntent("pair", self.pair, "a pair name like 'XBT/USD'")
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise InvalidIntent("price", None, "required for a limit order")
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise InvalidIntent("price", self.price, "not allowed on a market order")
        if self.order_type is OrderType.MARKET and self.post_only:
            raise InvalidIntent("post_only", True, "only limit orders can be post-only")
        if self.userref is not None and (
            isinstance(self.userref, bool)
            or not isinstance(self.userref, int)
            or not -(2**31) <= self.userref < 2**31
        ):
            raise InvalidIntent("userref", self.userref, "a signed 32-bit integer")


@attrs.frozen(slots=True)
class AddOrderBatch:
    """Place 2 to 15 orders of one pair in one request.  Trading counter: ceil(n/2)."""

    orders: tuple[AddOrder, ...] = attrs.field(converter=_add_orders)
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))

    def __attrs_post_init__(self) -> None:
        lo, hi = _BATCH_ADD
        if not lo <= len(self.orders) <= hi:
            raise InvalidIntent("orders", len(self.orders), f"{lo} to {hi} orders")
        if not all(isinstance(o, AddOrder) for o in self.orders):
            raise InvalidIntent("orders", self.orders, "AddOrder intents")
        pairs = {o.pair for o in self.orders}
        if len(pairs) != 1:
            raise InvalidIntent("orders", sorted(pairs), "orders of a single pair")
        ids = [o.cl_ord_id for o in self.orders]
        if len(set(ids)) != len(ids):
            raise InvalidIntent("orders", ids, "distinct cl_ord_ids")

    @property
    def pair(self) -> str:
        return self.orders[0].pair


@attrs.frozen(slots=True)
class _OrderChange:
    """A new volume and/or limit price for an order (the fields AmendOrder and EditOrder share).

    ``pair`` is needed only for an order not placed through this engine.
    """

    order_id: str = attrs.field(validator=_non_empty_str("order_id"))
    volume: Decimal | None = attrs.field(default=None, converter=_opt_volume)
    price: Decimal | None = attrs.field(default=None, converter=_opt_price)
    pair: str | None = attrs.field(default=None, validator=_opt_pair)
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))

    def __attrs_post_init__(self) -> None:
        if self.volume is None and self.price is None:
            what = type(self).__name__
            raise InvalidIntent("volume/price", None, f"{what} must change volume or price")


@attrs.frozen(slots=True)
class AmendOrder(_OrderChange):
    """Change an order's volume and/or limit price in place (Kraken AmendOrder).

    Keeps the ids and, where possible, queue priority.  Trading counter: 1 + age part.
    """


@attrs.frozen(slots=True)
class EditOrder(_OrderChange):
    """Cancel-and-replace (Kraken EditOrder): a new txid, queue priority lost.

    Trading counter: 1 + age part (dearer than an amend).
    """


@attrs.frozen(slots=True)
class CancelOrder:
    """Cancel one order.  Trading counter: age part only (8 when younger than 5 s).

    ``urgent=False`` lets the engine wait for the order's next cheaper age bucket when
    that comes before the budget would allow the current, dearer penalty.
    """

    order_id: str = attrs.field(validator=_non_empty_str("order_id"))
    pair: str | None = attrs.field(default=None, validator=_opt_pair)
    urgent: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))


@attrs.frozen(slots=True)
class CancelOrderBatch:
    """Cancel up to 50 orders at once.  Penalty: the sum of each order's cancel penalty;
    Kraken accepts the batch even past the counter's max."""

    order_ids: tuple[str, ...] = attrs.field(converter=_ids)
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))

    def __attrs_post_init__(self) -> None:
        if not 1 <= len(self.order_ids) <= _BATCH_CANCEL_MAX:
            raise InvalidIntent("order_ids", len(self.order_ids), "1 to 50 ids")
        if not all(isinstance(o, str) and o for o in self.order_ids):
            raise InvalidIntent("order_ids", self.order_ids, "non-empty strings")


@attrs.frozen(slots=True)
class CancelAll:
    """Cancel every open order of the account (charged like a batch cancel, capped at max)."""

    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))


@attrs.frozen(slots=True)
class CancelAllOrdersAfter:
    """Dead-man switch: cancel everything after ``timeout`` seconds unless renewed (0: off).

    API counter: 1.
    """

    timeout: int = attrs.field()
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))

    def __attrs_post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int) or self.timeout < 0:
            raise InvalidIntent("timeout", self.timeout, "a whole number of seconds >= 0")


@attrs.frozen(slots=True)
class QueryOpenOrders:
    """Open orders (API counter: 2)."""

    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))


@attrs.frozen(slots=True)
class QueryClosedOrders:
    """Closed orders (API counter: 2)."""

    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))


@attrs.frozen(slots=True)
class QueryOrders:
    """Status of the given orders by txid or cl_ord_id (API counter: 1)."""

    order_ids: tuple[str, ...] = attrs.field(converter=_ids)
    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))

    def __attrs_post_init__(self) -> None:
        if not 1 <= len(self.order_ids) <= _BATCH_CANCEL_MAX:
            raise InvalidIntent("order_ids", len(self.order_ids), "1 to 50 ids")


@attrs.frozen(slots=True)
class QueryBalance:
    """Account balances (API counter: 1)."""

    deadline: float | None = attrs.field(default=None, validator=_opt_time("deadline"))


#: Intents paced on one pair's trading counter.
OrderIntent = AddOrder | AddOrderBatch | AmendOrder | EditOrder | CancelOrder
#: Intents paced on the API counter of the key.
Query = QueryOpenOrders | QueryClosedOrders | QueryOrders | QueryBalance | CancelAllOrdersAfter
#: Every intent.
Intent = OrderIntent | CancelOrderBatch | CancelAll | Query
