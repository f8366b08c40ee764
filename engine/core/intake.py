"""Taking in a new intent: checks at the boundary, then coalescing, then a place to wait.

:class:`Intake` does what ``Engine.submit`` needs between "an intent arrived" and "it is
held": every check first (so a refusal touches nothing queued), then the changes.  Items
it ends at once (coalesced) are left in ``resolved`` for the engine; it never calls the
engine.

Refusals (typed, at once): :class:`~engine.errors.InvalidIntent` (unknown pair, tick size,
order and cost minimums -- for adds, amends and edits alike -- a duplicate ``cl_ord_id``),
:class:`~engine.errors.UnknownOrder`, :class:`~engine.errors.QueueFull` when ``max_queue``
items are held and the intent would add one more.  A cancel is never refused for a full
queue (a strategy can always pull its quotes), nor is an amend or edit that replaces a
queued one or folds into a queued add.
"""

from __future__ import annotations

from engine.core.book import OrderBook
from engine.core.checks import check_add, check_change
from engine.core.coalescing import Fold, Resolution, coalesce, order_in
from engine.core.items import PRIORITY_OF, Item, orders_of
from engine.core.lanes import ClassQueue, Priority
from engine.core.orders import OrderRecord, OrderState
from engine.core.queues import Queues
from engine.core.requests import query_request
from engine.core.settlement import drop_from_queued_add
from engine.errors import InvalidIntent, QueueFull, UnknownOrder
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CancelOrderBatch,
    EditOrder,
    Intent,
)
from engine.markets import Market, Markets
from engine.outcomes import Status

__all__ = ["Intake"]

Change = AmendOrder | EditOrder | CancelOrder


class Intake:
    """Checks and places new intents (see the module docstring)."""

    __slots__ = ("_book", "_markets", "_max_queue", "_queues", "resolved")

    def __init__(self, queues: Queues, book: OrderBook, markets: Markets, max_queue: int) -> None:
        self._queues, self._book, self._markets = queues, book, markets
        self._max_queue = max_queue
        self.resolved: list[tuple[Item, Status, str]] = []

    def room(self) -> None:
        """Raise :class:`QueueFull` when ``max_queue`` items are held."""
        if self._queues.queued >= self._max_queue:
            raise QueueFull("the engine", self._max_queue)

    def market(self, pair: str) -> Market:
        try:
            return self._markets.get(pair)
        except ValueError as e:
            raise InvalidIntent("pair", pair, str(e)) from None

    # -- adds --------------------------------------------------------------------------

    def check_add(self, intent: AddOrder | AddOrderBatch) -> Market:
        """Every check of an add; its market."""
        if self._queues.queued >= self._max_queue:
            raise QueueFull("the engine", self._max_queue)
        orders = orders_of(intent)
        market = self.market(orders[0].pair)
        for o in orders:
            check_add(o, market)  # a batch is of one pair
            if self._book.get(o.cl_ord_id) is not None:
                raise InvalidIntent("cl_ord_id", o.cl_ord_id, "unique among this engine's orders")
        return market

    def place_add(self, item: Item, market: Market) -> None:
        """Register the add's orders (queued) and queue it."""
        item.pair = market.name
        for o in orders_of(item.intent):
            rec = OrderRecord(o.cl_ord_id, market.name, OrderState.QUEUED, strategy=item.strategy,
                              side=o.side, price=o.price, volume=o.volume)
            rec.add_item = item
            self._book.add(rec)
        self._queues.enqueue(item, Priority.ADD)

    # -- amends, edits, cancels --------------------------------------------------------

    def check_change(self, intent: Change) -> tuple[OrderRecord, Resolution]:
        """Every check of an amend, edit or cancel; its order and how it folds."""
        rec = self._book.get(intent.order_id)
        if rec is None:
            if intent.pair is None:
                raise UnknownOrder(intent.order_id)
            # an order placed elsewhere: age unknown, so charged as brand new (dearest)
            rec = OrderRecord(intent.order_id, self.market(intent.pair).name, OrderState.OPEN)
            if not _looks_like_cl_ord_id(intent.order_id):
                rec.txid = intent.order_id
        if not isinstance(intent, CancelOrder):
            check_change(intent, self.market(rec.pair), rec.volume, rec.price)
        queued = (self._queues.queued_on(rec)
                  if rec.state is not OrderState.QUEUED and not rec.cancel_queued else [])
        res = coalesce(intent, rec, queued, rec.add_item)  # type: ignore[arg-type]
        if res.grows > 0 and not isinstance(intent, CancelOrder):
            self.room()
        return rec, res

    def place_change(self, item: Item, rec: OrderRecord, res: Resolution) -> bool:
        """Apply ``res`` for the new ``item``; True when it was queued in a lane (the pump
        should look), False when it ended at once or waits parked on its order."""
        item.pair, item.order, item.intent = rec.pair, rec, res.intent
        if res.fold is Fold.QUEUE:
            for other, why in res.retire:
                self._queues.drop(other)
                self.resolved.append((other, Status.COALESCED, why))
            if isinstance(item.intent, CancelOrder):
                self._book.set_cancel_queued(rec, True)
            if rec.state is OrderState.PENDING or rec.busy:
                self._queues.park(item, rec)
                return False
            self._queues.enqueue(item, PRIORITY_OF[type(item.intent)])
            return True
        if res.fold is Fold.INTO_ADD:
            add = rec.add_item
            assert isinstance(add, Item) and res.add_intent is not None
            add.intent = res.add_intent
            self._book.folded(rec, order_in(res.add_intent, rec.cl_ord_id))
        elif res.fold is Fold.DROPS_ADD:
            emptied = drop_from_queued_add(rec, self._book, self._queues)
            if emptied is not None:
                self.resolved.append((emptied, Status.COALESCED, "cancelled before it was sent"))
        self.resolved.append((item, Status.COALESCED, res.error or ""))
        return False

    # -- batch cancels and queries -------------------------------------------------------

    def check_lane(self, intent: Intent) -> ClassQueue[Item]:
        """Every check of a batch cancel or a query; the lane it waits in."""
        if isinstance(intent, CancelOrderBatch):
            for oid in intent.order_ids:
                if self._book.get(oid) is None:
                    raise UnknownOrder(oid)
            return self._queues.global_lane
        if isinstance(intent, CancelAll):
            return self._queues.global_lane
        self.room()
        try:
            query_request(intent)  # type: ignore[arg-type]
        except TypeError:
            raise InvalidIntent("intent", intent, "an orderpace intent") from None
        return self._queues.key_lane


def _looks_like_cl_ord_id(order_id: str) -> bool:
    """Kraken txids look like ``OUF4EM-FRGI2-MQMWZD``; anything else is taken as cl_ord_id."""
    parts = order_id.split("-")
    return not (len(parts) == 3 and [len(p) for p in parts] == [6, 5, 6] and order_id.isupper())
