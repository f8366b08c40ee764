"""Driving one strategy: routing prices, fills, closes and outcomes to it and its context.

A runner (backtest or live) owns one :class:`StrategyHost` per strategy and calls:

* :meth:`StrategyHost.tick` on every price update;
* :meth:`StrategyHost.fill` when an order executed -- the host looks the order up in the
  engine's records (is it this strategy's?), tells the engine (``engine.order_closed``,
  which frees the order's slot under the open-orders cap), books the fill in the context,
  then calls ``on_fill``;
* :meth:`StrategyHost.closed` when an order left the book without a fill (see there);
* :meth:`StrategyHost.start` once prices are known, :meth:`StrategyHost.stop` at the end.

A strategy whose constructor raises makes :class:`StrategyHost` raise
:class:`StrategyFailed`.  An exception raised by a strategy hook is caught, kept in
:attr:`StrategyHost.error` and reported through ``on_error``; no further hook is called.
A strategy bug thus ends the run with a clear message instead of being logged and
ignored by the event loop.  ``on_outcome`` sees every terminal outcome of the strategy's
intents, before and after ``stop`` (for the run's statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.core.orders import OrderView
from engine.intents import Side
from engine.outcomes import Handle, Outcome
from strategies.base import Fill, OrderEvent, OrderUpdate, Strategy, Tick
from strategies.context import OrderSource, StrategyContext

__all__ = ["StrategyFailed", "StrategyHost"]


class StrategyFailed(RuntimeError):
    """A strategy hook raised: the run stops.  ``__cause__`` is the original exception."""

    def __init__(self, name: str, hook: str, error: BaseException) -> None:
        self.strategy = name
        self.hook = hook
        super().__init__(f"strategy {name!r} failed in {hook}: {type(error).__name__}: {error}")


class StrategyHost:
    """Owns one strategy instance and its context; see the module docstring."""

    def __init__(
        self,
        strategy_type: type[Strategy[Any]],
        ctx: StrategyContext[Any],
        engine: OrderSource,
        *,
        on_error: Callable[[StrategyFailed], None] | None = None,
        on_outcome: Callable[[Handle, Outcome], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.error: StrategyFailed | None = None
        self._on_error = on_error
        self._observer = on_outcome
        self._running = False
        self._feed = ctx.attach(guard=self._guarded_timer, on_outcome=self._outcome)
        try:
            self.strategy: Strategy[Any] = strategy_type(ctx)
        except Exception as e:
            err = StrategyFailed(ctx.name, "__init__", e)
            raise err from e

    @property
    def running(self) -> bool:
        return self._running

    def _fail(self, hook: str, e: Exception) -> None:
        err = StrategyFailed(self.ctx.name, hook, e)
        err.__cause__ = e
        if self.error is None:
            self.error = err
        self._running = False
        self._feed.stop()
        if self._on_error is not None:
            self._on_error(err)

    def _guarded_timer(self, fn: Callable[[], object]) -> None:
        if not self._running:
            return
        try:
            fn()
        except Exception as e:
            self._fail("a timer callback", e)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Call the strategy's ``start``."""
        self._running = True
        try:
            self.strategy.start()
        except Exception as e:
            self._fail("start", e)

    def stop(self) -> None:
        """Call the strategy's ``stop`` (it may still submit, e.g. cancels); then no hooks."""
        if not self._running:
            return
        try:
            self.strategy.stop()
        except Exception as e:
            self._fail("stop", e)
            return
        self.halt()

    def halt(self) -> None:
        """Stop without the strategy's ``stop`` hook: no more hooks, submits or timers.

        For a runner that leaves the strategy's orders as they are (``--on-exit leave``).
        """
        self._running = False
        self._feed.stop()

    # -- events --------------------------------------------------------------------------

    def tick(self, pair: str, price: Decimal, time: float) -> None:
        """The price of ``pair`` is ``price`` (quote units) at ``time``."""
        self._feed.set_mid(pair, price)
        if self._running:
            try:
                self.strategy.on_tick(Tick(pair, price, time))
            except Exception as e:
                self._fail("on_tick", e)

    def fill(
        self, txid: str, cl_ord_id: str | None, pair: str, side: str, price: Decimal,
        volume: Decimal, time: float, *, maker: bool = True,
    ) -> None:
        """An order executed in full (see the module docstring for the order of effects)."""
        order_id = cl_ord_id if cl_ord_id is not None else txid
        mine = self._mine(cl_ord_id, txid)
        self.engine.order_closed(order_id, "filled")
        if mine is None:
            return  # not one of this strategy's orders
        s = Side(side)
        self._feed.book_fill(pair, s, price, volume)
        if self._running:
            try:
                self.strategy.on_fill(Fill(mine.cl_ord_id, txid, pair, s, price, volume, time,
                                           maker))
            except Exception as e:
                self._fail("on_fill", e)

    def closed(self, txid: str, cl_ord_id: str | None, pair: str, reason: str,
               time: float, *, engine_knows: bool = False) -> None:
        """The order left the book without a fill, for ``reason``.

        ``engine_knows``: the close follows a request the engine sent (a cancel, an IOC
        add), so the engine does its bookkeeping on the reply; it is told the close was
        expected (the order stops showing as live) and the strategy hears of it through
        that request's outcome.  Otherwise (expiry, dead man switch, a cancel from
        elsewhere) the engine closes the order and the strategy gets a ``CLOSED`` update.
        """
        order_id = cl_ord_id if cl_ord_id is not None else txid
        mine = self._mine(cl_ord_id, txid)
        self.engine.order_closed(order_id, reason, expected=engine_knows)
        if mine is not None and self._running and not engine_knows:
            try:
                self.strategy.on_order_update(
                    OrderUpdate(OrderEvent.CLOSED, mine.cl_ord_id, pair, time, reason=reason)
                )
            except Exception as e:
                self._fail("on_order_update", e)

    def _mine(self, cl_ord_id: str | None, txid: str) -> OrderView | None:
        """The strategy's live order named by either id, as the engine knows it now."""
        view = self.ctx.order(cl_ord_id) if cl_ord_id is not None else None
        return view if view is not None else self.ctx.order(txid)

    def _outcome(self, handle: Handle, outcome: Outcome) -> None:
        if self._observer is not None:
            self._observer(handle, outcome)
        if not self._running:
            return
        intent = outcome.intent
        cid = getattr(intent, "cl_ord_id", None) or getattr(intent, "order_id", None)
        pair = getattr(intent, "pair", None)
        try:
            self.strategy.on_order_update(
                OrderUpdate(OrderEvent.OUTCOME, cid, pair, outcome.done_at, outcome=outcome)
            )
        except Exception as e:
            self._fail("on_order_update", e)
