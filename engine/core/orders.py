"""The engine's own record of the orders it placed: ids, pair, age, and what is in flight.

Order age (seconds) for penalties is measured from ``aged_from``: the moment the engine
received the acknowledgement of the add, of the last amend, or of the edit that created
the order.  The exchange ages the order from the *arrival* of that request, which is
earlier, so ``now - aged_from`` is a lower bound of the age the exchange will use and the
penalty computed from it an upper bound of what it will charge.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

__all__ = ["OrderRecord", "OrderRegistry", "OrderState"]


class OrderState(enum.StrEnum):
    QUEUED = "queued"  # its add is still in the engine's queue
    PENDING = "pending"  # its add is on the wire
    OPEN = "open"  # acknowledged, resting
    CLOSED = "closed"  # cancelled, filled, rejected or replaced
    UNKNOWN = "unknown"  # a transport failure left its fate unknown


class OrderRecord:
    """One order as the engine knows it (mutable; owned by the engine)."""

    __slots__ = (
        "add_item",
        "aged_from",
        "busy",
        "cancel_queued",
        "cl_ord_id",
        "closed_early",
        "pair",
        "parked",
        "state",
        "txid",
    )

    def __init__(self, cl_ord_id: str, pair: str, state: OrderState) -> None:
        self.cl_ord_id = cl_ord_id
        self.pair = pair
        self.state = state
        self.txid: str | None = None
        self.aged_from: float | None = None
        self.busy = False  # a request about this order is in flight
        self.parked: list[Any] = []  # queued items waiting for the order to be ready
        self.add_item: Any = None  # the queued add item, while the add is unsent
        self.cancel_queued = False
        self.closed_early = False  # the exchange reported it closed before its add's reply

    @property
    def ref(self) -> str:
        """The id to send: txid once known (EditOrder requires it), else cl_ord_id."""
        return self.txid if self.txid is not None else self.cl_ord_id

    def age(self, now: float) -> float:
        """Lower bound of the order's age at ``now`` (0 when never acknowledged)."""
        return 0.0 if self.aged_from is None else max(0.0, now - self.aged_from)

    def __repr__(self) -> str:
        return f"<Order {self.cl_ord_id} {self.pair} {self.state.value} txid={self.txid}>"


class OrderRegistry:
    """Orders by cl_ord_id and by txid, with per-pair open counts."""

    __slots__ = ("_by_id", "_by_txid", "open_count")

    def __init__(self) -> None:
        self._by_id: dict[str, OrderRecord] = {}
        self._by_txid: dict[str, OrderRecord] = {}
        self.open_count: dict[str, int] = {}

    def add(self, record: OrderRecord) -> None:
        self._by_id[record.cl_ord_id] = record

    def get(self, order_id: str) -> OrderRecord | None:
        """The order with this cl_ord_id or txid."""
        r = self._by_id.get(order_id)
        return r if r is not None else self._by_txid.get(order_id)

    def set_txid(self, record: OrderRecord, txid: str) -> None:
        if record.txid is not None:
            self._by_txid.pop(record.txid, None)
        record.txid = txid
        self._by_txid[txid] = record

    def mark_open(self, record: OrderRecord, now: float) -> None:
        if record.state is not OrderState.OPEN:
            self.open_count[record.pair] = self.open_count.get(record.pair, 0) + 1
        record.state = OrderState.OPEN
        record.aged_from = now

    def close(self, record: OrderRecord) -> None:
        """Mark closed and forget it (its ids are no longer resolvable)."""
        if record.state is OrderState.OPEN or record.state is OrderState.UNKNOWN:
            self.open_count[record.pair] = self.open_count.get(record.pair, 0) - 1
        record.state = OrderState.CLOSED
        self._by_id.pop(record.cl_ord_id, None)
        if record.txid is not None:
            self._by_txid.pop(record.txid, None)

    def mark_unknown(self, record: OrderRecord) -> None:
        """A transport failure: count it as open (conservative for the open-orders cap)."""
        if record.state is not OrderState.OPEN:
            self.open_count[record.pair] = self.open_count.get(record.pair, 0) + 1
        record.state = OrderState.UNKNOWN

    def open_orders(self, pair: str | None = None) -> Iterator[OrderRecord]:
        for r in self._by_id.values():
            if r.state is OrderState.OPEN and (pair is None or r.pair == pair):
                yield r

    def pending_orders(self) -> Iterator[OrderRecord]:
        """Orders whose add is on the wire."""
        for r in self._by_id.values():
            if r.state is OrderState.PENDING:
                yield r

    def __len__(self) -> int:
        return len(self._by_id)
