"""The engine's order book: its orders by cl_ord_id and txid, and the counts per pair that
the open-orders cap and the cancel reserve are computed from.

Counts (orders) per pair:

* ``open_count``: acknowledged orders, plus orders whose add met a transport failure
  (their fate is unknown: counted as open, conservative for the cap);
* ``pending_adds``: orders of adds on the wire; ``pending_resting``: those of them that
  would rest (not IOC, not market).

Methods change records and report what changed as values (an :class:`AddFate` per order,
the records closed); they never reach back into the scheduler.  With ``track`` on, every
record changed is also collected for :meth:`take_changed` (the engine's observer).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from engine.core.items import rests
from engine.core.orders import LIVE_STATES, OrderRecord, OrderState
from engine.intents import AddOrder, AmendOrder, EditOrder

__all__ = ["AddFate", "OrderBook"]


class AddFate(enum.Enum):
    """What an accepted add left of one of its orders."""

    RESTING = "resting"  # open on the book
    NOT_RESTING = "not_resting"  # IOC or market: opened and closed by one reply
    CLOSED_EARLY = "closed_early"  # reported closed before the reply (filled on arrival)


class OrderBook:
    """Orders by cl_ord_id and by txid, with per-pair counts (see the module docstring)."""

    __slots__ = ("_by_id", "_by_txid", "_changed", "open_count", "pending_adds",
                 "pending_resting", "track")

    def __init__(self, *, track: bool = False) -> None:
        self._by_id: dict[str, OrderRecord] = {}
        self._by_txid: dict[str, OrderRecord] = {}
        self.open_count: dict[str, int] = {}
        self.pending_adds: dict[str, int] = {}
        self.pending_resting: dict[str, int] = {}
        self.track = track
        self._changed: dict[int, OrderRecord] = {}

    def take_changed(self) -> list[OrderRecord]:
        """The records changed since the last call (only while ``track`` is on)."""
        out = list(self._changed.values())
        self._changed.clear()
        return out

    # -- lookups ---------------------------------------------------------------------

    def get(self, order_id: str) -> OrderRecord | None:
        """The order with this cl_ord_id or txid."""
        r = self._by_id.get(order_id)
        return r if r is not None else self._by_txid.get(order_id)

    def open_orders(self, pair: str | None = None, strategy: str | None = None,
                    ) -> Iterator[OrderRecord]:
        """Acknowledged orders, oldest add first."""
        for r in self._by_id.values():
            if (r.state is OrderState.OPEN and (pair is None or r.pair == pair)
                    and (strategy is None or r.strategy == strategy)):
                yield r

    def live_orders(self, pair: str | None = None, strategy: str | None = None,
                    ) -> Iterator[OrderRecord]:
        """Orders queued, on the wire or open and not reported gone, oldest add first."""
        for r in self._by_id.values():
            if (r.state in LIVE_STATES and not r.closed_early and not r.reported_closed
                    and (pair is None or r.pair == pair)
                    and (strategy is None or r.strategy == strategy)):
                yield r

    def pending_orders(self) -> Iterator[OrderRecord]:
        """Orders whose add is on the wire."""
        for r in self._by_id.values():
            if r.state is OrderState.PENDING:
                yield r

    def at_risk(self, pair: str) -> int:
        """Orders on ``pair`` a cancel may be wanted for: open (or of unknown fate), and
        adds on the wire that would rest."""
        return self.open_count.get(pair, 0) + self.pending_resting.get(pair, 0)

    def room(self, pair: str, n: int, maximum: int) -> bool:
        """Whether ``n`` more orders fit under the open-orders cap ``maximum`` on ``pair``
        (open, unknown and on-the-wire orders all count)."""
        return self.open_count.get(pair, 0) + self.pending_adds.get(pair, 0) + n <= maximum

    def __len__(self) -> int:
        return len(self._by_id)

    # -- changes ---------------------------------------------------------------------

    def add(self, record: OrderRecord) -> None:
        self._by_id[record.cl_ord_id] = record
        if self.track:
            self._changed[id(record)] = record

    def set_txid(self, record: OrderRecord, txid: str) -> None:
        if record.txid is not None:
            self._by_txid.pop(record.txid, None)
        record.txid = txid
        self._by_txid[txid] = record
        if self.track:
            self._changed[id(record)] = record

    def mark_open(self, record: OrderRecord, now: float) -> None:
        if record.state is not OrderState.OPEN:
            self.open_count[record.pair] = self.open_count.get(record.pair, 0) + 1
        record.state = OrderState.OPEN
        record.aged_from = now
        if self.track:
            self._changed[id(record)] = record

    def close(self, record: OrderRecord) -> None:
        """Mark closed and forget it (its ids are no longer resolvable)."""
        if record.state is OrderState.OPEN or record.state is OrderState.UNKNOWN:
            self.open_count[record.pair] = self.open_count.get(record.pair, 0) - 1
        record.state = OrderState.CLOSED
        self._by_id.pop(record.cl_ord_id, None)
        if record.txid is not None:
            self._by_txid.pop(record.txid, None)
        if self.track:
            self._changed[id(record)] = record

    def mark_unknown(self, record: OrderRecord) -> None:
        """A transport failure: count it as open (conservative for the open-orders cap)."""
        if record.state is not OrderState.OPEN:
            self.open_count[record.pair] = self.open_count.get(record.pair, 0) + 1
        record.state = OrderState.UNKNOWN
        if self.track:
            self._changed[id(record)] = record

    def report_closed(self, record: OrderRecord, *, early: bool = False) -> None:
        """The exchange reported the order gone; the reply to a request of ours does the
        bookkeeping (``early``: its add's reply, which then closes it)."""
        if early:
            record.closed_early = True
        else:
            record.reported_closed = True
        if self.track:
            self._changed[id(record)] = record

    def set_cancel_queued(self, record: OrderRecord, value: bool) -> None:
        record.cancel_queued = value
        if self.track:
            self._changed[id(record)] = record

    def sending_add(self, pair: str, orders: tuple[AddOrder, ...]) -> None:
        """The add of ``orders`` leaves: count them on the wire, their records pending."""
        self._count_pending(pair, orders, 1)
        for o in orders:
            rec = self._by_id.get(o.cl_ord_id)
            if rec is not None:
                rec.state = OrderState.PENDING
                rec.add_item = None
                if self.track:
                    self._changed[id(rec)] = rec

    def add_back(self, pair: str, orders: tuple[AddOrder, ...], item: object) -> None:
        """A refused add goes back to the queue (``item``) for another try."""
        self._count_pending(pair, orders, -1)
        for o in orders:
            rec = self._by_id.get(o.cl_ord_id)
            if rec is not None:
                rec.state = OrderState.QUEUED
                rec.add_item = item
                if self.track:
                    self._changed[id(rec)] = rec

    def add_accepted(self, pair: str, orders: tuple[AddOrder, ...], txids: list[str],
                     now: float) -> list[tuple[OrderRecord, AddFate]]:
        """The exchange accepted the add: ids and open counts; each order's fate."""
        self._count_pending(pair, orders, -1)
        fates = []
        for i, o in enumerate(orders):
            rec = self._by_id.get(o.cl_ord_id)
            if rec is None:
                continue
            if i < len(txids):
                self.set_txid(rec, txids[i])
            self.mark_open(rec, now)
            if not rests(o):
                fates.append((rec, AddFate.NOT_RESTING))
            elif rec.closed_early:
                fates.append((rec, AddFate.CLOSED_EARLY))
            else:
                fates.append((rec, AddFate.RESTING))
        return fates

    def add_failed(self, pair: str, orders: tuple[AddOrder, ...], *, maybe_sent: bool,
                   ) -> list[tuple[OrderRecord, bool]]:
        """The add got no acceptance: each order closed -- or, when the request may have
        reached the exchange (``maybe_sent``), of unknown fate.  Returns ``(record,
        unknown)`` pairs."""
        self._count_pending(pair, orders, -1)
        out = []
        for o in orders:
            rec = self._by_id.get(o.cl_ord_id)
            if rec is None:
                continue
            if maybe_sent:
                self.mark_unknown(rec)
            else:
                self.close(rec)
            out.append((rec, maybe_sent))
        return out

    def changed(self, record: OrderRecord, change: AmendOrder | EditOrder,
                txids: list[str], now: float) -> None:
        """An amend or edit was accepted: new price/volume, the age restarts (an edit also
        gives the order a new txid)."""
        if change.price is not None:
            record.price = change.price
        if change.volume is not None:
            record.volume = change.volume
        if isinstance(change, EditOrder) and txids:
            self.set_txid(record, txids[0])
        record.aged_from = now
        if self.track:
            self._changed[id(record)] = record

    def folded(self, record: OrderRecord, order: AddOrder) -> None:
        """A queued amend or edit was folded into the record's unsent add ``order``."""
        record.price, record.volume = order.price, order.volume
        if self.track:
            self._changed[id(record)] = record

    def _count_pending(self, pair: str, orders: tuple[AddOrder, ...], sign: int) -> None:
        self.pending_adds[pair] = self.pending_adds.get(pair, 0) + sign * len(orders)
        resting = sum(map(rests, orders))
        if resting:
            self.pending_resting[pair] = self.pending_resting.get(pair, 0) + sign * resting
