"""What the simulated exchange tells its subscribers: immutable, small value objects.

Times are clock seconds (the ``now`` the exchange was given); prices are quote units and
volumes base units, as exact :class:`~decimal.Decimal`.  A subscriber is any callable
taking one :data:`Event`; it is called synchronously, after the exchange's state changed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from decimal import Decimal

import attrs

__all__ = ["CancelReason", "Event", "OrderCancelled", "OrderFilled", "PriceTick", "Subscriber"]


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


Event = OrderFilled | OrderCancelled | PriceTick
Subscriber = Callable[[Event], object]
