"""What a strategy sees of the world: the :class:`StrategyContext`.

The context is the strategy's only handle on the engine and the clock.  It gives:

* ``submit(intent)``: hand an intent to the engine, tagged with the strategy's name;
  returns the engine's :class:`~engine.outcomes.Handle`;
* ``open_orders(pair)`` / ``order(id)``: the strategy's orders that are live -- added but
  not yet acknowledged (``pending``), or resting on the book -- as :class:`OrderView`
  snapshots of **the engine's own order records** (one book: batch-placed orders carry
  their txids, amends their new price as soon as the engine knows);
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

A :class:`~strategies.host.StrategyHost` drives the context through the small interface
:meth:`StrategyContext.attach` returns (a :class:`ContextFeed`): prices, fills, stopping.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Generic, Protocol, TypeVar

from engine.clock import Clock
from engine.core.metrics import MetricsSnapshot
from engine.core.orders import OrderView
from engine.intents import AddOrder, Intent, OrderType, Side, TimeInForce
from engine.markets import Market, Markets
from engine.outcomes import Handle, Outcome

__all__ = ["ContextFeed", "OrderSource", "OrderView", "StrategyContext"]

P = TypeVar("P")
_ZERO = Decimal(0)


class OrderSource(Protocol):
    """What a context needs of its engine (:class:`~engine.core.engine.Engine`, or a
    benchmark's baseline client offering the same surface)."""

    @property
    def clock(self) -> Clock: ...

    def submit(self, intent: Intent, *, strategy: str = "default") -> Handle: ...

    def order(self, order_id: str) -> OrderView | None: ...

    def live_orders(self, pair: str | None = None, strategy: str | None = None,
                    ) -> list[OrderView]: ...

    def live_count(self, pair: str | None = None, strategy: str | None = None) -> int: ...

    def order_closed(self, order_id: str, reason: str = "filled", *,
                     expected: bool = False) -> None: ...

    def metrics(self) -> MetricsSnapshot: ...


def _call(fn: Callable[[], object]) -> None:
    fn()


class ContextFeed:
    """The host's side of one context: what it feeds in (prices, fills) and how it stops
    it.  Internal to :mod:`strategies.host`; a strategy never sees it."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: StrategyContext[Any]) -> None:
        self._ctx = ctx

    def set_mid(self, pair: str, price: Decimal) -> None:
        """The last price of ``pair`` (quote units)."""
        self._ctx._mids[pair] = price

    def book_fill(self, pair: str, side: Side, price: Decimal, volume: Decimal) -> None:
        """``volume`` base units of one of the strategy's orders executed at ``price``."""
        c = self._ctx
        sign = 1 if side is Side.BUY else -1
        c._position[pair] = c._position.get(pair, _ZERO) + sign * volume
        c._cash[pair] = c._cash.get(pair, _ZERO) - sign * volume * price

    def stop(self) -> None:
        """No more timers or hooks: the strategy has stopped."""
        c = self._ctx
        c.stopped = True
        for t in c._timers:
            t.cancel()
        c._timers.clear()


class StrategyContext(Generic[P]):
    """The strategy's view of the engine, the clock and its own orders (see module doc)."""

    def __init__(
        self,
        *,
        name: str,
        engine: OrderSource,
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
        self._mids: dict[str, Decimal] = {}
        self._ticks: dict[str, Decimal] = {}  # pair -> its tick size (quote units)
        self._position: dict[str, Decimal] = {}
        self._cash: dict[str, Decimal] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._report: dict[str, Any] = {}
        self._on_outcome: Callable[[Handle, Outcome], None] | None = None
        self._guard: Callable[[Callable[[], object]], None] = _call
        self.submitted = 0
        self.stopped = False

    def attach(self, *, guard: Callable[[Callable[[], object]], None],
               on_outcome: Callable[[Handle, Outcome], None]) -> ContextFeed:
        """For the host: run timer callbacks through ``guard``, route every outcome of the
        strategy's intents to ``on_outcome``; returns the :class:`ContextFeed`."""
        self._guard = guard
        self._on_outcome = on_outcome
        return ContextFeed(self)

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
        return self._engine.live_orders(pair, strategy=self.name)

    def open_count(self, pair: str | None = None) -> int:
        """How many live orders (pending or resting) the strategy has on ``pair`` (or all)."""
        return self._engine.live_count(pair, strategy=self.name)

    def order(self, order_id: str) -> OrderView | None:
        """One of the strategy's live orders, by cl_ord_id or txid."""
        view = self._engine.order(order_id)
        return view if view is not None and view.live and view.strategy == self.name else None

    def owns(self, order_id: str) -> bool:
        """Whether ``order_id`` (cl_ord_id or txid) is one of this strategy's live orders."""
        return self.order(order_id) is not None

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
        tick = self._ticks.get(pair)
        if tick is None:
            tick = self._ticks[pair] = self.market(pair).tick_size
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

    def _resolved(self, handle: asyncio.Future[Outcome]) -> None:
        if handle.cancelled():  # someone stopped waiting; the engine still resolves it
            return
        assert isinstance(handle, Handle)
        if self._on_outcome is not None:
            self._on_outcome(handle, handle.result())
