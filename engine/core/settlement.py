"""What replies and closes do to orders, and to the items held for them.

:class:`Settlement` applies the order bookkeeping of a reply (accepted, refused, lost in
transport), of a close reported from outside, and of an expired add.  Items that end
because of it -- a cancel parked on an order that just closed is ``coalesced``, an amend of
it ``rejected`` -- are left in ``resolved`` (item, status, reason) for the engine to
resolve; nothing here calls the engine.

An order that closes frees a slot under the open-orders cap and may shrink the cancel
reserve held on its pair; its pair is then marked for a new look when that can change the
fate of the pair's head (:meth:`Settlement.after_close`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine import kraken_errors as ke
from engine.core.book import AddFate, OrderBook
from engine.core.budget import Budget
from engine.core.coalescing import drop_from_add
from engine.core.items import Item, orders_of
from engine.core.lanes import Priority
from engine.core.orders import OrderRecord, OrderState
from engine.core.queues import Queues
from engine.core.requests import reply_txids
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder
from engine.outcomes import Status

__all__ = ["Settlement", "drop_from_queued_add"]

_INF = math.inf


def drop_from_queued_add(rec: OrderRecord, book: OrderBook, queues: Queues) -> Item | None:
    """``rec``'s add is still queued and ``rec`` is cancelled: close ``rec`` and take it
    out of the add.  Returns the add item if that left it empty (released: the caller
    resolves it ``coalesced``)."""
    add = rec.add_item
    assert isinstance(add, Item)
    book.close(rec)
    rest = drop_from_add(add.intent, rec.cl_ord_id)
    if rest is not None:
        add.intent = rest
        return None
    return add if queues.drop(add) else None


class Settlement:
    """Order bookkeeping after replies and closes (see the module docstring)."""

    __slots__ = ("_book", "_budget", "_queues", "resolved")

    def __init__(self, queues: Queues, book: OrderBook, budget: Budget) -> None:
        self._queues, self._book, self._budget = queues, book, budget
        self.resolved: list[tuple[Item, Status, str]] = []

    def accepted(self, item: Item, result: Mapping[str, Any] | None, now: float) -> str | None:
        """The exchange accepted ``item``'s request at ``now``: the txid to report."""
        intent, rec = item.intent, item.order
        if isinstance(intent, AddOrder | AddOrderBatch):
            txids = reply_txids(result)
            for r, fate in self._book.add_accepted(item.pair, orders_of(intent), txids, now):
                if fate is AddFate.RESTING:
                    self._queues.unpark(r)
                elif fate is AddFate.NOT_RESTING:  # opened and closed by one reply
                    self.close(r, "it does not rest on the book", reserve_changed=False)
                else:
                    self.close(r, "filled before its acknowledgement")
            return txids[0] if txids else None
        if isinstance(intent, AmendOrder | EditOrder):
            assert rec is not None  # the change restarts the order's age
            self._book.changed(rec, intent, reply_txids(result), now)
            self._queues.unpark(rec)
            return rec.txid
        if isinstance(intent, CancelOrder):
            assert rec is not None
            self.close(rec, "cancelled")
        for r in item.targets:  # a batch cancel: the orders open when it left
            self.close(r, "cancelled")
        return None

    def retry(self, item: Item) -> None:
        """``item``'s request was refused for a rate limit: back to the front of its lane
        (an add's orders queued again)."""
        if isinstance(item.intent, AddOrder | AddOrderBatch):
            self._book.add_back(item.pair, orders_of(item.intent), item)
        self._queues.requeue_front(item)

    def refused(self, item: Item, error: str) -> None:
        """The exchange refused ``item``'s request with ``error`` (no retry)."""
        intent, rec = item.intent, item.order
        if isinstance(intent, AddOrder | AddOrderBatch):
            self._add_gone(item, False, f"its add was rejected: {error}")
        elif item.targets:
            for r in item.targets:  # a refused batch cancel cancelled nothing
                self._book.set_cancel_queued(r, False)
        elif rec is not None:
            if error == ke.UNKNOWN_ORDER:  # no longer open (a lookup may have closed it)
                if rec.state is not OrderState.CLOSED:
                    self.close(rec, "unknown to the exchange")
                return
            if isinstance(intent, CancelOrder):
                self._book.set_cancel_queued(rec, False)
            self._queues.unpark(rec)

    def lost(self, item: Item, maybe_sent: bool) -> None:
        """``item``'s request met a transport failure (``maybe_sent``: it may have arrived)."""
        intent, rec = item.intent, item.order
        if isinstance(intent, AddOrder | AddOrderBatch):
            self._add_gone(item, maybe_sent, "its add was never sent")
        elif rec is not None:
            if isinstance(intent, CancelOrder):
                self._book.set_cancel_queued(rec, False)
            self._queues.unpark(rec)
        for r in item.targets:  # a batch cancel of unknown fate: the orders may stand
            self._book.set_cancel_queued(r, False)

    def expired(self, item: Item) -> None:
        """``item`` expired while queued: an add's orders were never placed."""
        if isinstance(item.intent, AddOrder | AddOrderBatch):
            for o in orders_of(item.intent):
                rec = self._book.get(o.cl_ord_id)
                if rec is not None and rec.state is OrderState.QUEUED:
                    self._book.close(rec)
                    self._settle(rec, "its add was never sent")

    def reported_closed(self, rec: OrderRecord, reason: str) -> bool:
        """The exchange reported ``rec`` gone (not through a reply of ours); True if that
        closed it now (an order whose add is on the wire closes when its reply comes)."""
        if rec.state is OrderState.PENDING:
            self._book.report_closed(rec, early=True)
        elif rec.state in (OrderState.OPEN, OrderState.UNKNOWN):
            self.close(rec, reason)
            return True
        return False

    def close(self, rec: OrderRecord, why: str, *, reserve_changed: bool = True) -> None:
        self._book.close(rec)
        self.after_close(rec, reserve_changed)
        self._settle(rec, f"the order closed ({why})")

    def _add_gone(self, item: Item, maybe_sent: bool, why: str) -> None:
        """An add got no acceptance: its orders closed, or of unknown fate (``maybe_sent``)."""
        self._queues.dirty.add(item.pair)  # room under the open-orders cap
        for rec, unknown in self._book.add_failed(item.pair, orders_of(item.intent),
                                                  maybe_sent=maybe_sent):
            if unknown:
                self._queues.unpark(rec)
            else:
                self._settle(rec, why)

    def _settle(self, rec: OrderRecord, why: str) -> None:
        for item in self._queues.settle(rec):
            cancel = isinstance(item.intent, CancelOrder)
            self.resolved.append((item, Status.COALESCED if cancel else Status.REJECTED, why))

    def after_close(self, rec: OrderRecord, reserve_changed: bool) -> None:
        """Mark ``rec``'s pair for a new look only if the close can change its head's fate:
        the head waits for an event (an order slot, a request slot), is about ``rec``, or
        the cancel reserve held for the pair may have shrunk (``reserve_changed``).  A head
        waiting for the budget until a known time otherwise waits just the same."""
        q, pair = self._queues, rec.pair
        if not math.isfinite(q.wake.get(pair, -_INF)) or (
                reserve_changed
                and self._budget.held(self._book.at_risk(pair)) < self._budget.reserve):
            q.dirty.add(pair)
            return
        pq = q.pairs.get(pair)
        if pq is not None:
            for prio in (Priority.CANCEL, Priority.MODIFY):
                head = pq[prio].peek()
                if head is not None and head.order is rec:
                    q.dirty.add(pair)
                    return
