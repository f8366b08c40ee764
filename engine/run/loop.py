"""One run's skeleton, shared by backtests, bench cells and live runs.

A :class:`RunLoop` holds what every run does the same way:

* **hosting**: one :class:`~strategies.host.StrategyHost` per strategy (:meth:`RunLoop.add`);
  a constructor that raises, or a hook that raises later, is the run's ``failure`` and ends
  it;
* **routing**: prices go to every host trading the pair (:meth:`RunLoop.tick`); a fill or a
  close goes to the host that owns the order (:meth:`RunLoop.fill`, :meth:`RunLoop.closed`);
  an order no host owns is closed in every client directly (``order_closed``), so that it
  frees its slot under the open-orders cap.  :meth:`RunLoop.on_exchange_event` turns the
  simulated exchange's events into those calls;
* **fills**: counted per pair as they are routed (:meth:`RunLoop.fills`);
* **the tally**: every terminal outcome of every host's intents goes to one
  :class:`~engine.run.summary.OutcomeTally` (or to ``observe``, which must tally it);
* **the end**: :meth:`RunLoop.wait` returns at a clock time, at a strategy failure, or when
  one of the given :class:`asyncio.Event` is set -- whichever is first; then :meth:`stop`
  (the strategies' ``stop`` hooks: they cancel their orders) or :meth:`halt` (no hook), and
  :meth:`drain` waits, at most ``timeout`` clock seconds, until the clients have nothing
  queued or in flight.

``clients`` are what the strategies submit through: an :class:`~engine.core.engine.Engine`
(one shared by every strategy, or one per key), or anything with the same ``order_closed``,
``drain`` and ``aclose`` (the bench's baseline clients).  Only those are used.

What a run does differently stays with it: the backtest's sampling and recording, the
bench's contenders and CPU timing, the live run's venue stack, key checks and exit cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from engine.clock import Clock
from engine.exchange import CancelReason, Event, OrderCancelled, OrderFilled, PriceTick
from engine.outcomes import Handle, Outcome
from engine.run.summary import OutcomeTally
from strategies.base import Strategy
from strategies.context import StrategyContext
from strategies.host import StrategyFailed, StrategyHost

__all__ = ["Client", "RunLoop", "settle"]

#: Closes the engine learns of from its own request's reply (a cancel it sent, a CancelAll,
#: an IOC remainder): the host only updates the strategy's bookkeeping.
_ENGINE_KNOWS = frozenset({CancelReason.REQUESTED, CancelReason.CANCEL_ALL, CancelReason.IOC})


class Client(Protocol):
    """What the loop asks of whatever the strategies submit through."""

    def order_closed(self, order_id: str, reason: str = ...) -> Any: ...

    async def drain(self) -> None: ...

    async def aclose(self) -> None: ...


async def settle(turns: int = 3) -> None:
    """Give the loop ``turns`` turns: handles' done-callbacks run before figures are read."""
    for _ in range(turns):
        await asyncio.sleep(0)


class RunLoop:
    """Strategy hosts on one clock, the events routed to them, one tally, one end."""

    def __init__(
        self, clock: Clock, clients: Iterable[Client], *, tally: OutcomeTally | None = None,
        observe: Callable[[Handle, Outcome], None] | None = None,
    ) -> None:
        self.clock = clock
        self.clients: list[Client] = list(dict.fromkeys(clients))  # each once, in order
        self.tally = tally if tally is not None else OutcomeTally()
        self._observe = observe if observe is not None else self.tally.observe
        self.hosts: list[StrategyHost] = []
        self.failure: StrategyFailed | None = None
        self.stopping = False
        self._fills: dict[str, tuple[int, Decimal]] = {}
        self._trading: dict[str, list[StrategyHost]] = {}  # pair -> hosts trading it
        self._finished: asyncio.Future[None] | None = None

    # -- hosting -------------------------------------------------------------------------

    def add(self, strategy_type: type[Strategy[Any]], ctx: StrategyContext[Any],
            engine: Any) -> StrategyHost | None:
        """Host ``strategy_type`` in ``ctx``, submitting through ``engine``; None (and the
        run's ``failure`` set) when its constructor raises."""
        try:
            host = StrategyHost(strategy_type, ctx, engine, on_error=self._failed,
                                on_outcome=self._observe)
        except StrategyFailed as e:
            self._failed(e)
            return None
        self.hosts.append(host)
        self._trading.clear()
        return host

    @property
    def submitted(self) -> int:
        """Intents the strategies submitted (the contexts' counts)."""
        return sum(h.ctx.submitted for h in self.hosts)

    def reported(self) -> dict[str, Any]:
        """What the strategies reported for the summary (``ctx.report``), merged in order."""
        out: dict[str, Any] = {}
        for h in self.hosts:
            out.update(h.ctx.reported)
        return out

    def fills(self) -> dict[str, dict[str, Any]]:
        """Fills routed so far, per pair: ``count`` and ``volume`` (base units, as text)."""
        return {pair: {"count": n, "volume": str(v)} for pair, (n, v) in self._fills.items()}

    def _failed(self, err: StrategyFailed) -> None:
        if self.failure is None:
            self.failure = err
        self._finish()

    # -- routing -------------------------------------------------------------------------

    def tick(self, pair: str, price: Decimal, time: float) -> None:
        """``pair`` trades at ``price`` (quote units) at ``time``: every host trading it."""
        hosts = self._trading.get(pair)
        if hosts is None:  # looked up once per pair (hosts are only ever added)
            hosts = self._trading[pair] = [h for h in self.hosts if pair in h.ctx.markets]
        for host in hosts:
            host.tick(pair, price, time)

    def _owners(self, ids: Sequence[str | None]) -> list[StrategyHost]:
        return [h for h in self.hosts if any(i is not None and h.ctx.owns(i) for i in ids)]

    def fill(self, txid: str, cl_ord_id: str | None, pair: str, side: str, price: Decimal,
             volume: Decimal, time: float, *, maker: bool = True) -> None:
        """An order executed in full: its owner's ``on_fill``; the clients close it."""
        count, total = self._fills.get(pair, (0, Decimal(0)))
        self._fills[pair] = (count + 1, total + volume)
        owners = self._owners((cl_ord_id, txid))
        for host in owners:
            host.fill(txid, cl_ord_id, pair, side, price, volume, time, maker=maker)
        if not owners:
            for c in self.clients:
                c.order_closed(cl_ord_id or txid, "filled")

    def closed(self, txid: str, cl_ord_id: str | None, pair: str, reason: str, time: float,
               *, engine_knows: bool = False) -> None:
        """An order left the book unfilled, for ``reason`` (see
        :meth:`~strategies.host.StrategyHost.closed` for ``engine_knows``)."""
        owners = self._owners((cl_ord_id, txid))
        for host in owners:
            host.closed(txid, cl_ord_id, pair, reason, time, engine_knows=engine_knows)
        if not owners and not engine_knows:
            for c in self.clients:
                c.order_closed(cl_ord_id or txid, reason)

    def on_exchange_event(self, event: Event) -> None:
        """The simulated exchange's events, routed (subscribe this to the exchange)."""
        kind = type(event)
        if kind is PriceTick:
            assert isinstance(event, PriceTick)
            self.tick(event.pair, event.price, event.time)
        elif kind is OrderFilled:
            assert isinstance(event, OrderFilled)
            self.fill(event.txid, event.cl_ord_id, event.pair, event.side, event.price,
                      event.volume, event.time, maker=event.maker)
        elif kind is OrderCancelled:
            assert isinstance(event, OrderCancelled)
            if event.reason is CancelReason.REPLACED:
                return  # an EditOrder: the order lives on under a new txid
            self.closed(event.txid, event.cl_ord_id, event.pair, event.reason.value,
                        event.time, engine_knows=event.reason in _ENGINE_KNOWS)

    # -- the run -------------------------------------------------------------------------

    def start(self) -> None:
        """Call every strategy's ``start``."""
        for host in self.hosts:
            host.start()

    def _finish(self) -> None:
        if self._finished is None:
            self._finished = asyncio.get_running_loop().create_future()
        if not self._finished.done():
            self._finished.set_result(None)

    async def wait(self, until: float | None, events: Sequence[asyncio.Event] = ()) -> None:
        """Return at clock time ``until`` (None: no time limit), at a strategy failure, or
        once any of ``events`` is set, whichever comes first."""
        if self._finished is None:
            self._finished = asyncio.get_running_loop().create_future()
        end = self.clock.call_at(until, self._finish) if until is not None else None
        watchers = [asyncio.ensure_future(e.wait()) for e in events]
        for w in watchers:
            w.add_done_callback(lambda _w: self._finish())
        try:
            await self._finished
        finally:
            if end is not None:
                end.cancel()
            for w in watchers:
                w.cancel()

    def stop(self) -> None:
        """The strategies' ``stop`` hooks (they may still submit, e.g. cancels); then no
        more hooks."""
        self.stopping = True
        for host in self.hosts:
            host.stop()

    def halt(self) -> None:
        """Stop the strategies without their ``stop`` hooks: nothing more is submitted."""
        self.stopping = True
        for host in self.hosts:
            host.halt()

    async def drain(self, timeout: float) -> None:
        """Wait until no client has anything queued or in flight, at most ``timeout``
        seconds (what is left then fails when the clients close)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(c.drain() for c in self.clients)), timeout)

    async def aclose(self) -> None:
        """Close every client: every handle still pending is resolved."""
        for c in self.clients:
            await c.aclose()

