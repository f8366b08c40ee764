"""One order as the engine knows it (:class:`OrderRecord`) and its public snapshot
(:class:`OrderView`).

Order age (seconds) for penalties is measured from ``aged_from``: the moment the engine
received the acknowledgement of the add, of the last amend, or of the edit that created
the order.  The exchange ages the order from the *arrival* of that request, which is
earlier, so ``now - aged_from`` is a lower bound of the age the exchange will use and the
penalty computed from it an upper bound of what it will charge.

Prices are in quote units, volumes in base units (:class:`~decimal.Decimal`).
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from engine.intents import Side

__all__ = ["LIVE_STATES", "OrderRecord", "OrderState", "OrderView"]


class OrderState(enum.StrEnum):
    QUEUED = "queued"  # its add is still in the engine's queue
    PENDING = "pending"  # its add is on the wire
    OPEN = "open"  # acknowledged, resting
    CLOSED = "closed"  # cancelled, filled, rejected or replaced
    UNKNOWN = "unknown"  # a transport failure left its fate unknown


#: States of an order a strategy still counts as its own: placed or being placed.
LIVE_STATES = frozenset({OrderState.QUEUED, OrderState.PENDING, OrderState.OPEN})

_ZERO = Decimal(0)


@attrs.frozen(slots=True)
class OrderView:
    """An immutable snapshot of one order, as :meth:`Engine.order` returns it.

    ``state``: see :class:`OrderState`; ``pending`` while its add is queued or on the wire.
    ``price`` (quote units) and ``volume`` (base units) are what was asked for -- by the add
    (with any queued amend folded in), then by each accepted amend or edit; ``None`` for an
    order placed elsewhere.  ``filled``: base units executed, as reported to the engine.
    ``placed_at`` (seconds, engine clock): when the add, or the last amend or edit, was
    acknowledged (None while pending) -- the order's age is measured from it.
    ``busy``: a request about the order is on the wire.  ``closing``: a cancel of it is
    queued or on the wire.  ``reported_closed``: the exchange reported it gone (a fill, or
    the close a request of ours caused) and the engine waits for that request's reply.
    """

    cl_ord_id: str
    pair: str
    state: OrderState
    txid: str | None = None
    strategy: str = ""
    side: Side | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    filled: Decimal = _ZERO
    placed_at: float | None = None
    busy: bool = False
    closing: bool = False
    reported_closed: bool = False

    @property
    def pending(self) -> bool:
        """Its add is queued or on the wire (not acknowledged yet)."""
        return self.state is OrderState.QUEUED or self.state is OrderState.PENDING

    @property
    def live(self) -> bool:
        """Placed or being placed, and not reported gone: the strategy's to manage."""
        return self.state in LIVE_STATES and not self.reported_closed

    @property
    def aged_from(self) -> float | None:
        """Same as ``placed_at``: the moment the order's age counts from."""
        return self.placed_at

    @property
    def ref(self) -> str:
        """The id requests use: txid once known, else cl_ord_id."""
        return self.txid if self.txid is not None else self.cl_ord_id


class OrderRecord:
    """One order as the engine knows it (mutable; owned by the engine's order book).

    ``strategy``, ``side``, ``price``, ``volume`` and ``filled`` mean what they mean in
    :class:`OrderView`; the rest is the scheduler's own bookkeeping.
    """

    __slots__ = (
        "add_item",
        "aged_from",
        "busy",
        "cancel_queued",
        "cl_ord_id",
        "closed_early",
        "filled",
        "pair",
        "price",
        "reported_closed",
        "side",
        "state",
        "strategy",
        "txid",
        "view_cache",
        "view_fields",
        "volume",
    )

    def __init__(
        self, cl_ord_id: str, pair: str, state: OrderState, *, strategy: str = "",
        side: Side | None = None, price: Decimal | None = None, volume: Decimal | None = None,
    ) -> None:
        self.cl_ord_id = cl_ord_id
        self.pair = pair
        self.state = state
        self.strategy = strategy
        self.side = side
        self.price = price
        self.volume = volume
        self.filled = _ZERO
        self.txid: str | None = None
        self.aged_from: float | None = None
        self.busy = False  # a request about this order is in flight
        self.add_item: object = None  # the queued add item, while the add is unsent
        self.cancel_queued = False
        self.closed_early = False  # the exchange reported it closed before its add's reply
        self.reported_closed = False  # ... or while a request of ours about it was in flight
        self.view_cache: OrderView | None = None
        self.view_fields: tuple[object, ...] = ()  # what view_cache was built from

    @property
    def ref(self) -> str:
        """The id to send: txid once known (EditOrder requires it), else cl_ord_id."""
        return self.txid if self.txid is not None else self.cl_ord_id

    def age(self, now: float) -> float:
        """Lower bound of the order's age at ``now`` (0 when never acknowledged)."""
        return 0.0 if self.aged_from is None else max(0.0, now - self.aged_from)

    def view(self) -> OrderView:
        """The record now, as an :class:`OrderView`.  While nothing changed, the same view
        object is returned (so ``engine.order(id) is view`` tells "unchanged")."""
        fields = (self.cl_ord_id, self.pair, self.state, self.txid, self.strategy, self.side,
                  self.price, self.volume, self.filled, self.aged_from, self.busy,
                  self.cancel_queued, self.reported_closed or self.closed_early)
        if self.view_cache is not None and fields == self.view_fields:
            return self.view_cache  # nothing changed (strategies ask on every tick)
        self.view_fields = fields
        v = self.view_cache = OrderView(*fields)
        return v

    def __repr__(self) -> str:
        return f"<Order {self.cl_ord_id} {self.pair} {self.state.value} txid={self.txid}>"
