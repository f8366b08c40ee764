"""What the engine keeps per submitted intent while it owns it, and per-intent lookups."""

from __future__ import annotations

from engine.core.orders import OrderRecord
from engine.core.queues import ClassQueue, Priority
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
from engine.outcomes import Handle

__all__ = ["PRIORITY_OF", "Item", "orders_of", "rests"]


class Item:
    """One submitted intent while the engine owns it."""

    __slots__ = (
        "attempts",
        "cost",
        "deadline",
        "future",
        "hid",
        "intent",
        "lane",
        "live",
        "order",
        "pair",
        "priority",
        "queued_at",
        "ripe",
        "sent_at",
        "strategy",
        "targets",
    )

    def __init__(self, handle: Handle, now: float) -> None:
        self.hid = handle.id
        self.intent: Intent = handle.intent
        self.strategy = handle.strategy
        self.future = handle
        self.queued_at = now
        self.deadline: float | None = handle.intent.deadline
        self.pair = ""  # "" for the key lanes
        self.priority = Priority.ADD
        self.lane: ClassQueue[Item] | None = None  # the queue holding it, None when parked
        self.order: OrderRecord | None = None
        self.attempts = 0
        self.sent_at: float | None = None
        self.cost = 0.0
        self.live = True  # False once taken out of its queue (sent, coalesced, expired)
        self.targets: list[OrderRecord] = []  # a batch cancel's open orders when it left
        self.ripe = False  # a lazy cancel that has waited for its cheaper bucket


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
