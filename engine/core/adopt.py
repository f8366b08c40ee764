"""Adopting orders the engine did not place in this process (a restart found them open).

An :class:`Adopted` order enters the engine's book as acknowledged (``open``): it counts
under the pair's open-orders cap and in the cancel reserve like any other, and its age --
what amends, edits and cancels of it cost -- counts from ``placed_at`` (seconds on the
engine's clock: the exchange's ``opentm`` or the journaled time of its last amend, carried
over to this clock; a moment in the past is fine).  The order then belongs to ``strategy``:
``engine.open_orders(strategy=...)`` and the strategy's context list it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from engine.core.book import OrderBook
from engine.core.intake import Intake
from engine.core.orders import OrderRecord, OrderState, OrderView
from engine.errors import InvalidIntent
from engine.intents import Side

__all__ = ["Adopted", "adopt_into"]


@attrs.frozen(slots=True)
class Adopted:
    """One open order to adopt.  ``price`` in quote units, ``volume`` and ``filled`` in
    base units; ``placed_at`` in seconds on the engine's clock."""

    cl_ord_id: str
    txid: str
    pair: str
    side: Side
    price: Decimal | None
    volume: Decimal | None
    placed_at: float
    strategy: str = "default"
    filled: Decimal = Decimal(0)


def adopt_into(book: OrderBook, intake: Intake, orders: Iterable[Adopted]) -> list[OrderView]:
    """Put ``orders`` into ``book`` as open; return their views.

    Raises :class:`InvalidIntent` for a pair the engine does not trade, or an id it
    already knows (nothing of the call is applied then).
    """
    todo = list(orders)
    names = []
    for o in todo:
        names.append(intake.market(o.pair).name)
        for oid in (o.cl_ord_id, o.txid):
            if book.get(oid) is not None:
                raise InvalidIntent("cl_ord_id", oid, "an order the engine does not know yet")
    views = []
    for o, pair in zip(todo, names, strict=True):
        rec = OrderRecord(o.cl_ord_id, pair, OrderState.OPEN, strategy=o.strategy,
                          side=o.side, price=o.price, volume=o.volume)
        rec.state = OrderState.QUEUED  # mark_open counts it
        rec.filled = o.filled
        book.add(rec)
        book.set_txid(rec, o.txid)
        book.mark_open(rec, o.placed_at)
        views.append(rec.view())
    return views
