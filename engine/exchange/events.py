"""What the simulated exchange tells its subscribers: immutable, small value objects.

Times are clock seconds (the ``now`` the exchange was given); prices are quote units and
volumes base units, as exact :class:`~decimal.Decimal`.  A subscriber is any callable
taking one :data:`Event`; it is called synchronously, after the exchange's state changed.

Every subscriber gets the :data:`Event` kinds (fills, cancels, price ticks).  A *lifecycle*
subscriber (the WebSocket ``executions`` feed) also gets the :data:`Lifecycle` kinds -- an
order accepted (:class:`OrderPlaced`, before it rests, fills or is cancelled as an unfilled
IOC) and an order amended in place (:class:`OrderAmended`) -- so that it sees every state
change of every order, in the exchange's order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from decimal import Decimal

import attrs

__all__ = [
    "AnyEvent",
    "CancelReason",
    "Event",
    "Lifecycle",
    "LifecycleSubscriber",
    "OrderAmended",
    "OrderCancelled",
    "OrderFilled",
    "OrderPlaced",
    "PriceTick",
    "Subscriber",
    "price_tick",
]


class CancelReason(enum.StrEnum):
    """Why an order left the book without filling."""

    REQUESTED = "requested"  # CancelOrder / CancelOrderBatch
    CANCEL_ALL = "cancel_all"  # CancelAll
    DEAD_MAN = "dead_man"  # CancelAllOrdersAfter fired
    REPLACED = "replaced"  # EditOrder replaced it with a new txid
    EXPIRED = "expired"  # GTD order reached its expiretm
    IOC = "ioc"  # immediate-or-cancel order that did not cross


@attrs.frozen(slots=True)
class OrderFilled:
    """An order executed in full: ``volume`` at ``price``.

    ``maker`` is True for a resting limit order the price moved through (it fills at its
    limit), False for an order that crossed on arrival (it fills at the current price).
    ``exec_id`` is the trade's txid (``T...``), ``trade_id`` its number on the pair's tape.
    """

    txid: str
    pair: str
    side: str
    price: Decimal
    volume: Decimal
    time: float
    cl_ord_id: str | None = None
    userref: int | None = None
    maker: bool = True
    ordertype: str = "limit"
    exec_id: str | None = None
    trade_id: int | None = None


@attrs.frozen(slots=True)
class OrderCancelled:
    """An order left the book unfilled."""

    txid: str
    pair: str
    side: str
    time: float
    reason: CancelReason
    cl_ord_id: str | None = None
    userref: int | None = None


@attrs.frozen(slots=True)
class PriceTick:
    """The pair's price (its last trade) moved to ``price`` at ``time``; the quote is then
    ``bid`` / ``ask`` (None when not given)."""

    pair: str
    price: Decimal
    time: float
    bid: Decimal | None = None
    ask: Decimal | None = None


_new = object.__new__
_SET_TICK = tuple(PriceTick.__dict__[f.name].__set__ for f in attrs.fields(PriceTick))


def price_tick(pair: str, price: Decimal, time: float, bid: Decimal | None,
               ask: Decimal | None) -> PriceTick:
    """``PriceTick(pair, price, time, bid, ask)``, built about twice as fast: the exchange
    makes one per pair per price step.  The frozen class's ``__init__`` goes through
    ``object.__setattr__`` field by field; this writes the slots directly (the same object:
    equal, hashable, immutable)."""
    tick = _new(PriceTick)
    s_pair, s_price, s_time, s_bid, s_ask = _SET_TICK
    s_pair(tick, pair)
    s_price(tick, price)
    s_time(tick, time)
    s_bid(tick, bid)
    s_ask(tick, ask)
    return tick


@attrs.frozen(slots=True)
class OrderPlaced:
    """An order passed every check and exists (Kraken's ``pending_new``), at ``time``.

    ``price`` is None for a market order; ``expire_at`` (clock seconds) only for GTD.
    What follows it, in the same step: the order rests, fills (:class:`OrderFilled`) or is
    cancelled as an unfilled IOC (:class:`OrderCancelled`).
    """

    txid: str
    pair: str
    side: str
    ordertype: str
    volume: Decimal
    price: Decimal | None
    time: float
    cl_ord_id: str | None = None
    userref: int | None = None
    timeinforce: str = "GTC"
    post_only: bool = False
    expire_at: float | None = None


@attrs.frozen(slots=True)
class OrderAmended:
    """An open order was amended in place (same txid): its quantity and limit are now
    ``volume`` and ``price``; its age restarted at ``time``."""

    txid: str
    pair: str
    side: str
    volume: Decimal
    price: Decimal | None
    time: float
    cl_ord_id: str | None = None
    userref: int | None = None
    post_only: bool = False


Event = OrderFilled | OrderCancelled | PriceTick
Lifecycle = OrderPlaced | OrderAmended
AnyEvent = Event | Lifecycle
Subscriber = Callable[[Event], object]
LifecycleSubscriber = Callable[[AnyEvent], object]
