"""What a strategy sees of the world: the :class:`StrategyContext`.

The context is the strategy's only handle on the engine and the clock.  It gives:

* ``submit(intent)``: hand an intent to the engine, tagged with the strategy's name;
  returns the engine's :class:`~engine.outcomes.Handle`;
* ``open_orders(pair)`` / ``order(id)``: the strategy's orders that are live -- added but
  not yet acknowledged (``pending``), or resting on the book -- as :class:`OrderView`;
* ``position(pair)`` (base units) and ``cash(pair)`` (quote units) from the fills;
* ``mid(pair)``: the last price seen (quote units);
* ``clock`` / ``now()`` (seconds), ``call_later`` / ``call_at`` (timers, cancelled at stop);
* ``params`` (validated), ``markets`` (the run's pairs and their order-size rules),
  ``rng`` (seeded: a run is deterministic for its seed), ``end`` (when the run stops,
  seconds on the clock, or None when open-ended);
* ``metrics()``: the engine's :class:`~engine.core.metrics.MetricsSnapshot` now -- its model's
  counter levels (units), queue depths, requests in flight, open orders, outcome counts;
* ``report(key, value)``: figures the strategy wants in the run's summary (e.g. a TWAP's
  shortfall).

The bookkeeping (orders, position) is fed by :class:`~strategies.host.StrategyHost`,
which routes outcomes, fills and price ticks to both the context and the strategy.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from engine.clock import Clock
from engine.core.metrics import MetricsSnapshot
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelOrder,
    EditOrder,
    Intent,
    OrderType,
    Side,
    TimeInForce,
)
from engine.markets import Market, Markets
from engine.outcomes import Handle, Outcome, Status

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["OrderView", "StrategyContext"]

P = TypeVar("P")
_ZERO = Decimal(0)


@attrs.frozen(slots=True)
class OrderView:
    """A snapshot of one of the strategy's live orders.

    ``pending``: its add is queued or on the wire; ``closing``: a cancel of it was
    submitted.  ``placed_at`` (seconds) is when the add or last amend was acknowledged
    (None while pending).  ``price`` / ``volume`` are the latest acknowledged values.
    """

    cl_ord_id: str
    pair: str
    side: Side
    price: Decimal | None
    volume: Decimal
    pending: bool
    closing: bool
    placed_at: float | None
    txid: str | None


class _Order:
    """The context's mutable record of one order."""

    __slots__ = ("cl_ord_id", "closing", "pair", "pending", "placed_at", "price", "side",
                 "txid", "volume")

    def __init__(self, o: AddOrder) -> None:
        self.cl_ord_id = o.cl_ord_id
        self.pair = o.pair
        self.side = o.side
        self.price = o.price
        self.volume = o.volume
        self.pending = True
        self.closing = False
        self.placed_at: float | None = None
        self.txid: str | None = None

    def view(self) -> OrderView:
        return OrderView(self.cl_ord_id, self.pair, self.side, self.price, self.volume,
                         self.pending, self.closing, self.placed_at, self.txid)


def _call(fn: Callable[[], object]) -> None:
    fn()


class StrategyContext(Generic[P]):
    """The strategy's view of the engine, the clock and its own orders (see module doc)."""

    def __init__(
        self,
        *,
        name: str,
        engine: Engine,
        params: P,
        markets: Markets,
        rng: random.Random | None = None,
        end: float | None = None,
    ) -> None:
        self.name = name
        self.params = params
        self.markets = markets
        self.rng = rng if rng is not None else random.Random(0)
        self.end = end
        self._engine = engine
        self._orders: dict[str, _Order] = {}
        self._by_txid: dict[str, str] = {}
        self._mids: dict[str, Decimal] = {}
        self._position: dict[str, Decimal] = {}
        self._cash: dict[str, Decimal] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._report: dict[str, Any] = {}
        self._on_outcome: Callable[[Handle, Outcome], None] | None = None
        self._guard: Callable[[Callable[[], object]], None] = _call
        self.submitted = 0
        self.stopped = False

    # -- reading -------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._engine.clock

    def now(self) -> float:
        """Seconds on the engine's clock."""
        return self._engine.clock.now()

    @property
    def pairs(self) -> tuple[str, ...]:
        """The run's pairs (WebSocket names, e.g. ``"XBT/USD"``)."""
        return self.markets.names

    def market(self, pair: str) -> Market:
        """Order-size rules of ``pair`` (raises ``UnknownPair``)."""
        return self.markets.get(pair)

    def mid(self, pair: str) -> Decimal | None:
        """The last price seen for ``pair`` (quote units), None before the first."""
        return self._mids.get(pair)

    def metrics(self) -> MetricsSnapshot:
        """The engine's :class:`~engine.core.metrics.MetricsSnapshot` at this moment: counter
        levels as its model estimates them (units), queue depths and in-flight requests
        (intents), open orders per pair, outcome and request counts.  Read-only, cheap
        enough to call on every tick."""
        return self._engine.metrics()

    def open_orders(self, pair: str | None = None) -> list[OrderView]:
        """The strategy's live orders (pending or resting), oldest first."""
        self._prune()
        return [o.view() for o in self._orders.values() if pair is None or o.pair == pair]

    def open_count(self, pair: str | None = None) -> int:
        """How many live orders (pending or resting) the strategy has on ``pair`` (or all)."""
        self._prune()
        if pair is None:
            return len(self._orders)
        return sum(1 for o in self._orders.values() if o.pair == pair)

    def order(self, order_id: str) -> OrderView | None:
        """One live order by cl_ord_id or txid."""
        rec = self._find(order_id)
        return None if rec is None else rec.view()

    def position(self, pair: str) -> Decimal:
        """Net base units bought (> 0) or sold (< 0) on ``pair`` since the start."""
        return self._position.get(pair, _ZERO)

    def cash(self, pair: str) -> Decimal:
        """Quote units received (> 0) or paid (< 0) on ``pair`` since the start."""
        return self._cash.get(pair, _ZERO)

    # -- acting --------------------------------------------------------------------------

    def submit(self, intent: Intent) -> Handle:
        """Hand ``intent`` to the engine; return its handle.

        Raises what :meth:`engine.Engine.submit` raises (``InvalidIntent``,
        ``UnknownOrder``, ``QueueFull``, ...), in which case nothing was recorded.
        """
        handle = self._engine.submit(intent, strategy=self.name)
        self.submitted += 1
        if isinstance(intent, AddOrder):
            self._orders[intent.cl_ord_id] = _Order(intent)
        elif isinstance(intent, AddOrderBatch):
            for o in intent.orders:
                self._orders[o.cl_ord_id] = _Order(o)
        elif isinstance(intent, CancelOrder):
            rec = self._find(intent.order_id)
            if rec is not None:
                rec.closing = True

        handle.add_done_callback(self._resolved)
        return handle

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        """Run ``callback`` at clock time ``when`` (seconds); cancelled when the run stops."""
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(timer)
            if not self.stopped:
                self._guard(callback)

        timer = self.clock.call_at(when, fire)
        self._timers.add(timer)
        return timer

    def call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        """Run ``callback`` ``delay`` seconds from now."""
        return self.call_at(self.now() + max(0.0, delay), callback)

    def report(self, key: str, value: Any) -> None:
        """Record a figure for the run's summary (JSON-ready value), under ``key``."""
        self._report[key] = value

    @property
    def reported(self) -> dict[str, Any]:
        """What the strategy reported, by key."""
        return dict(self._report)

    # -- helpers for strategies ----------------------------------------------------------

    def round_price(self, pair: str, price: Decimal, side: Side) -> Decimal:
        """``price`` on the pair's tick grid: down for a buy, up for a sell (passive side)."""
        tick = self.market(pair).tick_size
        mode = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
        return (price / tick).to_integral_value(rounding=mode) * tick

    def volume_for(self, pair: str, notional: Decimal, price: Decimal) -> Decimal:
        """Base volume worth ``notional`` quote units at ``price``, rounded up to the lot
        and to at least the pair's order minimum and cost minimum."""
        m = self.market(pair)
        lot = Decimal(1).scaleb(-m.lot_decimals)
        vol = max(notional / price, m.ordermin, m.costmin / price)
        return (vol / lot).to_integral_value(rounding=ROUND_CEILING) * lot

    def limit_order(
        self, pair: str, side: Side, volume: Decimal, price: Decimal, *,
        post_only: bool = False, ioc: bool = False, deadline: float | None = None,
    ) -> AddOrder:
        """A limit :class:`AddOrder` (not submitted)."""
        return AddOrder(
            pair=pair, side=side, volume=volume, price=price, order_type=OrderType.LIMIT,
            post_only=post_only, time_in_force=TimeInForce.IOC if ioc else TimeInForce.GTC,
            deadline=deadline,
        )

    # -- bookkeeping (fed by the host) ---------------------------------------------------

    def _lookup(self, order_id: str) -> _Order | None:
        """The record named by ``order_id`` (cl_ord_id or txid), live or not."""
        rec = self._orders.get(order_id)
        if rec is None:
            cid = self._by_txid.get(order_id)
            rec = self._orders.get(cid) if cid is not None else None
        return rec

    def _find(self, order_id: str) -> _Order | None:
        """The record of a live order, forgetting it if the engine already has.

        The engine learns first -- an add expired in its queue, an order closed by the
        reply to an amend -- and the context hears of it through the handle's callback,
        one loop step later; in between, the engine's registry is the truth.
        """
        rec = self._lookup(order_id)
        if rec is not None and self._engine.order(rec.cl_ord_id) is None:
            self._forget(rec)
            return None
        return rec

    def _prune(self) -> None:
        engine = self._engine
        dead = [r for r in self._orders.values() if engine.order(r.cl_ord_id) is None]
        for rec in dead:
            self._forget(rec)

    def _set_mid(self, pair: str, price: Decimal) -> None:
        self._mids[pair] = price

    def _forget(self, rec: _Order) -> None:
        self._orders.pop(rec.cl_ord_id, None)
        if rec.txid is not None:
            self._by_txid.pop(rec.txid, None)

    def _filled(self, order_ids: tuple[str | None, ...], side: Side, pair: str,
                price: Decimal, volume: Decimal) -> str | None:
        """Book a fill of the order named by any of ``order_ids``; return its cl_ord_id,
        or None (and book nothing) when it is not one of this strategy's orders."""
        rec = next((r for i in order_ids if i is not None and (r := self._lookup(i))), None)
        if rec is None:
            return None
        sign = 1 if side is Side.BUY else -1
        self._position[pair] = self._position.get(pair, _ZERO) + sign * volume
        self._cash[pair] = self._cash.get(pair, _ZERO) - sign * volume * price
        self._forget(rec)
        return rec.cl_ord_id

    def _closed(self, order_id: str) -> str | None:
        rec = self._lookup(order_id)
        if rec is None:
            return None
        self._forget(rec)
        return rec.cl_ord_id

    def owns(self, order_id: str) -> bool:
        """Whether ``order_id`` (cl_ord_id or txid) is one of this strategy's live orders."""
        return self._find(order_id) is not None

    def _resolved(self, handle: asyncio.Future[Outcome]) -> None:
        if handle.cancelled():  # someone stopped waiting; the engine still resolves it
            return
        assert isinstance(handle, Handle)
        outcome = handle.result()
        intent = outcome.intent
        now = outcome.done_at
        ok = outcome.status is Status.ACCEPTED
        if isinstance(intent, AddOrder | AddOrderBatch):
            orders = intent.orders if isinstance(intent, AddOrderBatch) else (intent,)
            txids = outcome.result.get("txid") if outcome.result else None
            if isinstance(txids, str):
                txids = [txids]
            for i, o in enumerate(orders):
                rec = self._orders.get(o.cl_ord_id)
                if rec is None:
                    continue  # already filled or closed
                if not ok or o.time_in_force is TimeInForce.IOC:
                    self._forget(rec)
                    continue
                rec.pending = False
                rec.placed_at = now
                # the engine may have folded a queued amend into the add
                rec.price, rec.volume = o.price, o.volume
                if isinstance(txids, list) and i < len(txids) and isinstance(txids[i], str):
                    rec.txid = txids[i]
                    self._by_txid[txids[i]] = rec.cl_ord_id
        elif isinstance(intent, AmendOrder | EditOrder):
            rec = self._lookup(intent.order_id)
            if rec is not None and ok:
                rec.placed_at = now
                if intent.price is not None:
                    rec.price = intent.price
                if intent.volume is not None:
                    rec.volume = intent.volume
                if isinstance(intent, EditOrder) and outcome.txid is not None:
                    if rec.txid is not None:
                        self._by_txid.pop(rec.txid, None)
                    rec.txid = outcome.txid
                    self._by_txid[outcome.txid] = rec.cl_ord_id
        elif isinstance(intent, CancelOrder):
            rec = self._lookup(intent.order_id)
            if rec is not None:
                if ok or self._engine.order(rec.cl_ord_id) is None:
                    self._forget(rec)  # cancelled, or gone for another reason
                elif outcome.status is not Status.COALESCED:
                    rec.closing = False  # refused: the order still rests
                # coalesced with the order still known: an earlier cancel is on its way
        if self._on_outcome is not None:
            self._on_outcome(handle, outcome)

    def _cancel_timers(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()
