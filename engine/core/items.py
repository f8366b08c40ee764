"""What the engine keeps per submitted intent while it owns it, and per-intent lookups."""

from __future__ import annotations

import enum

from engine.core.lanes import ClassQueue, Priority
from engine.core.orders import OrderRecord
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelOrder,
    EditOrder,
    Intent,
    OrderType,
    TimeInForce,
)
from engine.outcomes import Handle, Outcome

__all__ = ["PRIORITY_OF", "Item", "Where", "orders_of", "rests"]


class Where(enum.IntEnum):
    """Where a queued item is held.  Only :class:`~engine.core.queues.Queues` moves it."""

    OUT = 0  # not held: never queued yet, on the wire, or resolved
    LANE = 1  # in a lane (a pair's class queue, the global or the key lane)
    PARKED = 2  # waiting for its order to be acknowledged / to have nothing in flight
    DEFERRED = 3  # a lazy cancel biding its time until a cheaper age bucket
    CHARGING = 4  # its budget decision is on its way (an asynchronous budget)


class Item:
    """One submitted intent while the engine owns it."""

    __slots__ = (
        "attempts",
        "cost",
        "deadline",
        "ended",
        "epoch",
        "future",
        "hid",
        "intent",
        "key",
        "lane",
        "live",
        "order",
        "pair",
        "precharged",
        "priority",
        "queued_at",
        "ripe",
        "sent_at",
        "strategy",
        "targets",
        "where",
    )

    def __init__(self, handle: Handle, now: float) -> None:
        self.hid = handle.id
        self.intent: Intent = handle.intent
        self.strategy = handle.strategy
        self.future = handle
        self.queued_at = now
        self.deadline: float | None = handle.intent.deadline
        self.pair = ""  # "" for the global and key lanes
        self.priority = Priority.ADD
        self.lane: ClassQueue[Item] | None = None  # the lane it belongs to (None: parked)
        self.order: OrderRecord | None = None
        self.attempts = 0
        self.sent_at: float | None = None
        self.cost = 0.0  # units charged for its (last) request
        self.live = False  # held by the queues (``where`` is not OUT)
        self.where = Where.OUT
        self.targets: list[OrderRecord] = []  # a batch cancel's open orders when it left
        self.ripe = False  # a lazy cancel that has waited for its cheaper bucket
        self.precharged = False  # its cost was charged by an asynchronous budget answer
        self.epoch = 0  # ... with its pair's count of forced charges then
        self.key: str | None = None  # the API key it goes out on (a key pool; None: any)
        self.ended = False  # its outcome was decided (see end)

    def end(self) -> bool:
        """Mark the intent's outcome decided: True the first time, False after.  Not the
        handle's state: a waiter that cancelled the handle stopped only its own wait (a
        task awaiting the handle, cancelled at shutdown), and the intent still gets its
        one outcome -- told to the observer (the journal) like any other."""
        if self.ended:
            return False
        self.ended = True
        return True

    def settle(self, outcome: Outcome) -> None:
        """Give the handle ``outcome``, unless a waiter cancelled it."""
        if not self.future.done():
            self.future.set_result(outcome)


PRIORITY_OF: dict[type, Priority] = {
    CancelOrder: Priority.CANCEL,
    AmendOrder: Priority.MODIFY,
    EditOrder: Priority.MODIFY,
    AddOrder: Priority.ADD,
    AddOrderBatch: Priority.ADD,
}


def orders_of(intent: Intent) -> tuple[AddOrder, ...]:
    """The orders an add or batch add places."""
    if isinstance(intent, AddOrderBatch):
        return intent.orders
    assert isinstance(intent, AddOrder)
    return (intent,)


def rests(order: AddOrder) -> bool:
    """Whether ``order`` can rest on the book (and so may need a cancel): not IOC, not market."""
    return order.order_type is not OrderType.MARKET and order.time_in_force is not TimeInForce.IOC
