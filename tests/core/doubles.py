"""Test doubles: a scripted venue, a budget that answers later, an observer that records.

:class:`AsyncBudget` stands for a budget whose state lives in another process (Redis, one
atomic server-side step per decision): it wraps a :class:`MemoryBudget` and applies each
operation ``delay`` seconds after it was issued (0: on the next loop turn), in the order
issued, answering through a future.  The charge is judged when it is applied, at that
moment's clock time, as a remote store would.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from engine.clock import Clock, VirtualClock
from engine.core import (
    Charge,
    Engine,
    EngineSettings,
    InflightCap,
    MemoryBudget,
    OrderView,
    Outgoing,
    PairStats,
)
from engine.intents import AddOrder, Intent
from engine.outcomes import Outcome
from engine.venues.base import TransportError
from limiters import LimiterSettings

T = TypeVar("T")


class AsyncBudget:
    """A :class:`~engine.core.budget.Budget` whose every decision arrives later (module doc)."""

    def __init__(self, inner: MemoryBudget, clock: Clock, delay: float = 0.0) -> None:
        self.inner = inner
        self.clock = clock
        self.delay = delay
        self.inflight: InflightCap = inner.inflight
        self.stats: dict[str, PairStats] = inner.stats
        self.reserve = inner.reserve
        self._pending: collections.deque[tuple[float, Callable[[float], Any],
                                               asyncio.Future[Any]]] = collections.deque()
        self._armed = False
        self.asked = 0  # operations issued
        self.applied = 0

    @property
    def trading_max(self) -> float:
        return self.inner.trading_max

    @property
    def api_max(self) -> float:
        return self.inner.api_max

    def held(self, at_risk: int) -> float:
        return self.inner.held(at_risk)

    def _later(self, op: Callable[[float], T]) -> asyncio.Future[T]:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((self.clock.now() + self.delay, op, fut))
        self.asked += 1
        self._arm()
        return fut

    def _arm(self) -> None:
        if self._armed or not self._pending:
            return
        self._armed = True
        due = self._pending[0][0]
        if self.delay > 0:
            self.clock.call_at(due, self._apply)
        else:
            asyncio.get_running_loop().call_soon(self._apply)

    def _apply(self) -> None:
        self._armed = False
        now = self.clock.now()
        while self._pending and self._pending[0][0] <= now:
            _due, op, fut = self._pending.popleft()
            self.applied += 1
            result = op(now)
            if not fut.done():
                fut.set_result(result)
        self._arm()

    def charge_trading(self, pair: str, cost: float, now: float,
                       held: float) -> asyncio.Future[Charge]:
        return self._later(lambda t: self.inner.charge_trading(pair, cost, t, held))

    def charge_api(self, key: str, cost: float, now: float) -> asyncio.Future[Charge]:
        return self._later(lambda t: self.inner.charge_api(key, cost, t))

    def force_trading(self, pair: str, cost: float, now: float) -> asyncio.Future[None]:
        return self._later(lambda t: self.inner.force_trading(pair, cost, t))

    def saturate_trading(self, pair: str, now: float) -> asyncio.Future[None]:
        return self._later(lambda t: self.inner.saturate_trading(pair, t))

    def saturate_api(self, key: str, now: float) -> asyncio.Future[None]:
        return self._later(lambda t: self.inner.saturate_api(key, t))

    def resync_trading(self, pair: str, level: float, now: float) -> asyncio.Future[None]:
        return self._later(lambda t: self.inner.resync_trading(pair, level, t))

    def trading_level(self, pair: str, now: float) -> float:
        return self.inner.trading_level(pair, now)

    def api_level(self, key: str, now: float) -> float:
        return self.inner.api_level(key, now)


class RecordingObserver:
    """An :class:`~engine.core.observer.Observer` that keeps every call in ``events``;
    ``hold``: make ``requests_ready`` return a future the test resolves (a slow commit)."""

    def __init__(self, *, hold: bool = False) -> None:
        self.events: list[tuple[str, Any]] = []
        self.hold = hold
        self.commits: list[asyncio.Future[None]] = []

    def intent_accepted(self, hid: int, intent: Intent, strategy: str, time: float) -> None:
        self.events.append(("intent", hid))

    def requests_ready(self, batch: Sequence[Outgoing]) -> asyncio.Future[None] | None:
        self.events.append(("ready", tuple(batch)))
        if not self.hold:
            return None
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.commits.append(fut)
        return fut

    def reply(self, hid: int, endpoint: str, reply: Mapping[str, Any] | None,
              error: str | None, time: float) -> None:
        self.events.append(("reply", hid))

    def outcome(self, hid: int, outcome: Outcome) -> None:
        self.events.append(("outcome", hid))

    def orders_changed(self, views: Sequence[OrderView]) -> None:
        self.events.append(("orders", tuple(views)))

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]


Script = Callable[[str, Mapping[str, Any]], dict[str, Any] | None]


class ScriptedVenue:
    """Answers like Kraken (txids, counts) after a fixed latency; a test may script error
    replies or transport failures.  It keeps no rate-limit rules of its own."""

    def __init__(self, clock: VirtualClock, latency: float = 0.01) -> None:
        self.clock = clock
        self.latency = latency
        self.log: list[tuple[float, str, dict[str, Any]]] = []
        self.script: Script | None = None
        self.fail_transport: Callable[[str], TransportError | None] | None = None
        self._ids = itertools.count(1)

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.log.append((self.clock.now(), endpoint, dict(params)))
        await asyncio.sleep(self.latency)
        if self.fail_transport is not None:
            err = self.fail_transport(endpoint)
            if err is not None:
                raise err
        if self.script is not None:
            reply = self.script(endpoint, params)
            if reply is not None:
                return reply
        if endpoint == "AddOrder":
            return {"error": [], "result": {"txid": [self.txid()]}}
        if endpoint == "AddOrderBatch":
            orders = [{"txid": self.txid()} for _ in params["orders"]]
            return {"error": [], "result": {"orders": orders}}
        if endpoint == "EditOrder":
            return {"error": [], "result": {"txid": self.txid(), "originaltxid": params["txid"]}}
        if endpoint == "AmendOrder":
            return {"error": [], "result": {"amend_id": "A1"}}
        return {"error": [], "result": {"count": 1}}

    def txid(self) -> str:
        return f"OABCDE-FGHIJ-{next(self._ids):06d}"

    def endpoints(self) -> list[str]:
        return [e for _, e, _ in self.log]

    async def aclose(self) -> None:
        return None


def run(
    body: Callable[[Engine, ScriptedVenue, VirtualClock], Awaitable[None]],
    *,
    tier: str = "intermediate",
    settings: EngineSettings | None = None,
    latency: float = 0.01,
    **engine_kw: Any,
) -> None:
    """Run ``body`` with an engine (exact limits) over a :class:`ScriptedVenue`."""
    clock = VirtualClock()

    async def main() -> None:
        venue = ScriptedVenue(clock, latency)
        engine = Engine(
            venue, tier=tier, clock=clock, limits=LimiterSettings.exact(),
            settings=settings or EngineSettings(trace=True), **engine_kw,
        )
        async with engine:
            await body(engine, venue, clock)

    clock.run(main())


def add(price: float = 60000.0, **kw: Any) -> AddOrder:
    return AddOrder("XBT/USD", "buy", "0.01", price, **kw)
