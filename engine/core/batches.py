"""Batch cancels (CancelOrderBatch, CancelAll): what they cancel and what they cost.

They go out without a fit check -- Kraken accepts them even past the max -- and each pair
they touch is charged (counter units):

* CancelOrderBatch: the sum of its orders' cancel penalties at their ages;
* CancelAll: the same over every open order, plus a brand-new order's cancel (8) for each
  add still on the wire (it may reach the exchange first), capped at the counter's max.

An order with an amend or edit on the wire is charged as brand new: that request may reach
the exchange first and restart the order's age there.  Orders of the batch whose add is
still queued are not sent at all: the caller drops them from their add.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from engine.core.book import OrderBook
from engine.core.orders import OrderRecord, OrderState
from engine.intents import CancelAll, CancelOrderBatch
from limiters import Transaction, penalty

__all__ = ["BatchPlan", "batch_pairs", "batch_waits", "plan_batch"]


class BatchPlan(NamedTuple):
    """A batch cancel about to leave.  ``endpoint`` is None when none of its orders is open
    (it resolves ``coalesced``).  ``pairs``: the pairs to fence (None: all, a CancelAll)."""

    endpoint: str | None
    params: dict[str, Any]
    targets: list[OrderRecord]  # the orders it cancels (open when it left)
    costs: dict[str, float]  # units charged per pair
    drops: list[OrderRecord]  # orders whose add is still queued
    pairs: set[str] | None


def batch_pairs(intent: CancelOrderBatch, book: OrderBook) -> set[str]:
    """The pairs of the orders a CancelOrderBatch names (those the engine knows)."""
    return {r.pair for r in map(book.get, intent.order_ids) if r is not None}


def batch_waits(intent: CancelOrderBatch, book: OrderBook) -> bool:
    """Whether it must wait: an add it cancels is on the wire, or a request about one of
    its orders is (the exchange may not know the order yet, and one unknown id refuses the
    whole batch)."""
    for oid in intent.order_ids:
        rec = book.get(oid)
        if rec is not None and (rec.state is OrderState.PENDING or rec.busy):
            return True
    return False


def _cancel_cost(rec: OrderRecord, now: float) -> float:
    return float(penalty(Transaction.CANCEL, 0.0 if rec.busy else rec.age(now)))


def plan_batch(intent: CancelOrderBatch | CancelAll, book: OrderBook, now: float,
               trading_max: float) -> BatchPlan:
    """What ``intent`` cancels and costs if it leaves at ``now`` (module docstring)."""
    costs: dict[str, float] = {}
    if isinstance(intent, CancelOrderBatch):
        targets: list[OrderRecord] = []
        drops: list[OrderRecord] = []
        for oid in intent.order_ids:
            rec = book.get(oid)
            if rec is None or rec.state is OrderState.CLOSED:
                continue
            if rec.state is not OrderState.QUEUED:
                targets.append(rec)  # named twice (cl_ord_id and txid): sent twice, as named
            elif rec not in drops:
                drops.append(rec)
        if not targets:
            return BatchPlan(None, {}, [], {}, drops, set())
        for rec in targets:
            costs[rec.pair] = costs.get(rec.pair, 0.0) + _cancel_cost(rec, now)
        params: dict[str, Any] = {"orders": [r.ref for r in targets]}
        return BatchPlan("CancelOrderBatch", params, targets, costs, drops,
                         {r.pair for r in targets})
    targets = list(book.open_orders())
    fresh = float(penalty(Transaction.CANCEL, 0.0))
    for rec in book.pending_orders():  # adds on the wire may reach the exchange first
        costs[rec.pair] = costs.get(rec.pair, 0.0) + fresh
    for rec in targets:
        costs[rec.pair] = costs.get(rec.pair, 0.0) + _cancel_cost(rec, now)
    capped = {pair: min(c, trading_max) for pair, c in costs.items()}
    return BatchPlan("CancelAll", {}, targets, capped, [], None)
