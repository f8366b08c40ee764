"""The engine: validates intents, queues them per pair, and sends each at the earliest
moment the rate limits allow.

This module keeps the public API, the pump, the timer, round trips and applying verdicts;
collaborators hold the state and return decisions (``Intake``, ``Queues``, ``OrderBook``,
``Budget``, ``Fences``, ``Scheduler``, ``judge``, ``Settlement``).

1. ``submit`` validates the intent, folds it into what is queued, and queues it on its pair.
2. ``_pump`` charges each queue head's cost *now* (penalties depend on the order's age):
   what is charged is sent; the first head that does not fit gives the earliest moment it
   will.  A pass *decides*, an observer records the batch, then it *dispatches* (nothing is
   sent unrecorded).  A budget may answer later: the item waits aside, its pair blocked.
3. One timer, armed at the earliest such moment over all queues, runs the pump again;
   replies run it too.  No polling, no sleep-and-retry.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Self

import attrs
import structlog

from engine import kraken_errors as ke
from engine.clock import Clock, RealClock
from engine.core.adopt import Adopted, adopt_into
from engine.core.apikeys import KeyRing
from engine.core.book import OrderBook
from engine.core.budget import Budget, BudgetAnswer, Charge, MemoryBudget
from engine.core.fences import Fences
from engine.core.intake import Intake
from engine.core.items import Item
from engine.core.metrics import Decision, MetricsSnapshot, PairStats
from engine.core.observer import Observer, Outgoing
from engine.core.orders import OrderView
from engine.core.queues import Queues
from engine.core.roundtrips import RoundTrips
from engine.core.scheduler import Asked, Scheduler
from engine.core.settings import EngineSettings
from engine.core.settlement import Settlement
from engine.core.tasks import Tasks
from engine.core.timer import Timer
from engine.core.trace import Tracer
from engine.core.verdicts import Action, Effect, judge, retryable
from engine.errors import EngineClosed, EngineLocked
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder, Intent
from engine.markets import DEFAULT_MARKETS, Markets
from engine.outcomes import Handle, Outcome, Status
from engine.venues.base import Reply, TransportError, Venue
from limiters import Counter, KrakenProfile, LimiterSettings, Tier
from limiters.store import CounterStore

__all__ = ["Engine", "EngineSettings"]

_log = structlog.get_logger("orderpace.engine")
_INF = math.inf


class Engine:
    """Rate-limit-aware order execution over a :class:`~engine.venues.base.Venue`.

    Use as ``async with Engine(venue=..., tier=..., clock=...) as engine:``; ``submit``
    returns a :class:`~engine.outcomes.Handle` to await.  ``limits`` overrides the margins
    of the rate model (default: :meth:`LimiterSettings.live`).  ``budget`` replaces the
    in-process :class:`~engine.core.budget.MemoryBudget` (over ``store``); ``observer``
    sees intents, requests, replies, outcomes and order records (a journal).  ``key_ids``:
    a key pool, one API counter per key (:mod:`engine.core.apikeys`; ``key_id``: lookups').
    """

    def __init__(
        self, venue: Venue, *, tier: str | Tier = Tier.INTERMEDIATE, clock: Clock | None = None,
        limits: LimiterSettings | None = None, settings: EngineSettings | None = None,
        markets: Markets | None = None, store: CounterStore | None = None,
        key_id: str = "default", budget: Budget | None = None, observer: Observer | None = None,
        key_ids: Sequence[str] | None = None,
    ) -> None:
        self.venue = venue
        self.clock: Clock = clock if clock is not None else RealClock()
        self.profile = KrakenProfile.for_tier(tier, limits)
        self.settings = settings if settings is not None else EngineSettings()
        self.markets = markets if markets is not None else DEFAULT_MARKETS
        self.budget: Budget = (budget if budget is not None
                               else MemoryBudget(self.profile, self.settings, store))
        self._key = key_id
        self.keys = KeyRing(key_ids) if key_ids else None  # a pool: an API counter per key
        self._queues = Queues()
        self._book = OrderBook(track=observer is not None)
        self._fences = Fences(self.profile.settings.jitter)
        self._tracer = Tracer(keep=self.settings.trace, log=self.settings.log_decisions)
        self._observer, self._pushes = observer, observer is not None  # see pull_orders
        self._scheduler = Scheduler(
            self._queues, self._book, self.budget, self._fences, self._tracer, self.settings,
            self.markets, key=key_id, max_open=self.profile.max_open_orders, wall=self.clock.wall,
            ring=self.keys)
        self._settlement = Settlement(self._queues, self._book, self.budget)
        self._intake = Intake(self._queues, self._book, self.markets, self.settings.max_queue)
        self._tasks = Tasks()
        self._trips = RoundTrips(venue, self._tasks, self._complete)
        self._next_id = 0
        self._timer = Timer(self.clock, self._pump)
        self._paused_until = -_INF
        self._started = self._closed = self._locked = False
        self._locked_by = ""  # the Kraken error that stopped the engine
        self._idle: asyncio.Event | None = None
        self.outcomes: Tally[str] = Tally()
        self.requests: Tally[str] = Tally()
        self.errors: Tally[str] = Tally()

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def start(self) -> None:
        """Accept intents from now on (``async with`` calls this)."""
        self._started = True

    async def drain(self) -> None:
        """Wait until nothing is queued or in flight."""
        while self._queues.queued or self.budget.inflight.count:
            if self._idle is None:
                self._idle = asyncio.Event()
            self._idle.clear()
            await self._idle.wait()

    async def aclose(self) -> None:
        """Stop: refuse new intents; queued ones fail (not sent), requests without a reply
        after ``shutdown_timeout`` seconds fail (sent).  Every handle is resolved."""
        if self._closed:
            return
        self._closed = True
        self._timer.cancel()
        self._fail_queued("engine shut down before sending")
        await self._tasks.close(self.settings.shutdown_timeout)

    def submit(self, intent: Intent, *, strategy: str = "default") -> Handle:
        """Queue ``intent``; return the handle to await for its :class:`Outcome`.  Raises
        at once, touching nothing queued (:mod:`~engine.core.intake`): :class:`InvalidIntent`,
        :class:`UnknownOrder`, :class:`QueueFull` (never for a cancel), :class:`EngineClosed`,
        :class:`EngineLocked`."""
        if self._closed or not self._started:
            raise EngineClosed("engine is not running: use 'async with Engine(...)'")
        if self._locked:
            raise EngineLocked(f"engine stopped sending after {self._locked_by}")
        intake, kind = self._intake, type(intent)
        if kind is AddOrder or kind is AddOrderBatch:
            market = intake.check_add(intent)  # type: ignore[arg-type]
            item = self._new_item(intent, strategy)
            intake.place_add(item, market)
            self._pump()
        elif kind is AmendOrder or kind is EditOrder or kind is CancelOrder:
            rec, res = intake.check_change(intent)  # type: ignore[arg-type]
            item = self._new_item(intent, strategy)
            queued = intake.place_change(item, rec, res)
            self._resolve_all(intake.resolved)
            if queued:
                self._pump()
        else:
            lane = intake.check_lane(intent)
            item = self._new_item(intent, strategy)
            self._queues.enqueue_lane(item, lane)
            self._pump()
        if self._pushes:
            self._flush()
        return item.future

    def _new_item(self, intent: Intent, strategy: str) -> Item:
        self._next_id += 1
        handle = Handle(self._next_id, intent, strategy, asyncio.get_running_loop())
        item = Item(handle, self.clock.now())
        if self._observer is not None:
            self._observer.intent_accepted(item.hid, intent, strategy, item.queued_at)
        return item

    # -- the pump ----------------------------------------------------------------------

    def _pump(self) -> None:
        """Send everything that fits now; arm one timer for the earliest next fit."""
        if self._closed or self._locked:
            return
        now = self.clock.now()
        q, sch = self._queues, self._scheduler
        if q.deadlines and q.deadlines[0][0] <= now:
            for item in q.expire(now):
                self._resolve(item, Status.EXPIRED, error="deadline passed while queued")
                self._settlement.expired(item)
            self._resolve_settled()
        if now < self._paused_until:
            self._timer.arm(self._paused_until)
            return
        self._timer.arm(sch.run(now))
        if sch.resolved:
            self._resolve_all(sch.resolved)
        if sch.answers:
            for answer, asked in sch.answers:
                self._await_answer(answer, asked)
            sch.answers.clear()
        if sch.ops:
            for op in sch.ops:
                self._tasks.keep(op)
            sch.ops.clear()
        if sch.outbox:
            self._dispatch(now)
        if self._pushes:
            self._flush()
        if self._idle is not None and not self.budget.inflight.count and not q.queued:
            self._idle.set()

    def _await_answer(self, answer: BudgetAnswer, asked: Asked) -> None:
        """A budget answers later: hand the answer to the scheduler, then pump."""

        def answered(f: asyncio.Future[Charge]) -> None:
            if f.cancelled() or self._closed or self._locked:
                self._queues.end_charging(asked.key)
            else:
                self._scheduler.answered(asked, f, self.clock.now())
                self._pump()

        self._tasks.track(answer).add_done_callback(answered)  # type: ignore[arg-type]

    # -- round trips ---------------------------------------------------------------------

    def _dispatch(self, now: float) -> None:
        """Start the round trips of what the pass decided (after the observer recorded it)."""
        out = self._scheduler.outbox
        self._scheduler.outbox = []
        for _item, endpoint, _params in out:
            self.requests[endpoint] += 1
        if self._observer is not None:
            try:
                ready = self._observer.requests_ready(
                    [Outgoing(i.hid, i.attempts, e, p, now, i.pair) for i, e, p in out])
            except Exception as e:
                self._unrecorded(out, e)
                return
            if ready is not None:  # sent once recorded (callbacks run in the order added)
                self._tasks.track(ready).add_done_callback(partial(self._recorded, out))
                return
        for item, endpoint, params in out:
            self._trips.start(item, endpoint, params)

    def _recorded(self, out: list[tuple[Item, str, dict[str, Any]]],
                  done: asyncio.Future[Any]) -> None:
        e = asyncio.CancelledError() if done.cancelled() else done.exception()
        if e is not None:
            self._unrecorded(out, e if isinstance(e, Exception) else RuntimeError(repr(e)))
            return
        for item, endpoint, params in out:
            self._trips.start(item, endpoint, params)

    def _unrecorded(self, out: list[tuple[Item, str, dict[str, Any]]], e: Exception) -> None:
        """The observer could not record a batch: none of it is sent; sending stops."""
        error = self._lock(f"journal write failed: {e}")
        for item, endpoint, _params in out:
            self._after(item)
            self._on_transport_error(item, TransportError(error, endpoint=endpoint, sent=False))
        self._fail_queued(f"engine stopped sending: {error}")

    def _complete(self, item: Item, endpoint: str, reply: Reply | None,
                  e: BaseException | None) -> None:
        """A round trip ended: a reply, or an error (neither: cut short at shutdown)."""
        self._after(item)
        try:
            if reply is not None:
                self._on_reply(item, endpoint, reply)
            elif isinstance(e, TransportError):
                self._on_transport_error(item, e)
            else:
                why = "no reply before shutdown" if e is None else repr(e)
                self._on_transport_error(item, TransportError(why, endpoint=endpoint))
        finally:
            self._pump()

    def _after(self, item: Item) -> None:
        self.budget.inflight.release()
        self._scheduler.done(item)
        if item.lane is self._queues.global_lane:
            self._queues.dirty.update(self._queues.pairs)
        if item.order is not None:
            item.order.busy = False

    # -- applying verdicts -------------------------------------------------------------

    def _on_reply(self, item: Item, endpoint: str, reply: Mapping[str, Any]) -> None:
        now = self.clock.now()
        v = judge(reply, item.attempts, nonce_retry=not self._closed,
                  retry_allowed=self.settings.retry_rate_limited and not self._closed)
        if self._observer is not None:
            self._observer.reply(item.hid, endpoint, reply, None, now)
        if v.action is Action.ACCEPT:
            if self.budget.inflight.accepted():
                self._queues.touch_all()
            txid = self._settlement.accepted(item, v.result, now)
            if self._settlement.resolved:
                self._resolve_all(self._settlement.resolved)
            self._resolve(item, Status.ACCEPTED, txid=txid, result=v.result)
            return
        for e in v.errors:
            self.errors[e] += 1
        if v.effect is Effect.SATURATE_TRADING and item.pair:
            self._tasks.keep(self.budget.saturate_trading(item.pair, now))
        elif v.effect is Effect.SATURATE_API:
            self._tasks.keep(self.budget.saturate_api(item.key or self._key, now))
        elif v.effect is Effect.PAUSE:
            self.budget.inflight.throttled()
            self._queues.touch_all()
            wall = self.clock.wall()
            resume = now + max(0.0, (v.resume_at or wall + 1.0) - wall)
            self._paused_until = max(self._paused_until, resume)
        error = v.error or ""
        if v.action is Action.LOCK:
            self._stop_sending(item, error)
            return
        if retryable(v.kind):
            _log.warning("rate_limited", endpoint=endpoint, error=error, pair=item.pair,
                         attempts=item.attempts, retry=v.action is Action.RETRY)
        else:
            _log.info("rejected", endpoint=endpoint, error=error, pair=item.pair)
        if v.action is Action.RETRY:
            self._settlement.retry(item)
            return
        self._settlement.refused(item, error)
        self._resolve_settled()
        status = Status.EXPIRED if v.action is Action.EXPIRE else Status.REJECTED
        self._resolve(item, status, error=error, result=v.result)

    def _on_transport_error(self, item: Item, e: TransportError) -> None:
        if self._observer is not None:
            self._observer.reply(item.hid, e.endpoint or "", None, str(e), self.clock.now())
        self._settlement.lost(item, e.sent)
        self._resolve_settled()
        _log.warning("transport_error", endpoint=e.endpoint, sent=e.sent, error=str(e))
        self._resolve(item, Status.FAILED, error=str(e), sent=e.sent)

    def _stop_sending(self, item: Item, error: str) -> None:
        """A lockout, or a key the exchange does not accept: nothing more can succeed."""
        self._lock(error)
        self._settlement.refused(item, error)
        self._resolve_settled()
        self._resolve(item, Status.FAILED, error=error, sent=True)
        self._fail_queued(f"engine stopped sending: {error}")

    def _lock(self, error: str) -> str:
        self._locked, self._locked_by = True, error
        self._timer.cancel()
        _log.error("stopped_sending", error=error)
        return error

    def _fail_queued(self, why: str) -> None:
        for item in self._queues.drain_all():
            self._resolve(item, Status.FAILED, error=why)
        if self._idle is not None:
            self._idle.set()

    def _resolve_settled(self) -> None:
        if self._settlement.resolved:
            self._resolve_all(self._settlement.resolved)

    def _resolve_all(self, done: list[tuple[Item, Status, str]]) -> None:
        for item, status, error in done:
            self._resolve(item, status, error=error)
        done.clear()

    def _resolve(self, item: Item, status: Status, *, txid: str | None = None,
                 error: str | None = None, result: Mapping[str, Any] | None = None,
                 sent: bool | None = None) -> None:
        if not item.end():  # one outcome per intent, even if a waiter cancelled its handle
            return
        self.outcomes[status._value_] += 1  # (an enum's .value is a slow property)
        outcome = Outcome(status, item.intent, item.queued_at, self.clock.now(), item.sent_at,
                          txid, error, result, item.attempts > 0 if sent is None else sent,
                          item.attempts)
        item.settle(outcome)
        if self._observer is not None:
            self._observer.outcome(item.hid, outcome)

    def _flush(self) -> None:
        """Tell the observer which order records changed."""
        if (changed := self._book.take_changed()) and self._observer is not None:
            self._observer.orders_changed([r.view() for r in changed])

    def pull_orders(self) -> Callable[[], list[OrderView]]:
        """Push no order views: the callable returned takes those changed since its last call."""
        self._pushes = False
        return lambda: [r.view() for r in self._book.take_changed()]

    def order_closed(self, order_id: str, reason: str = "filled", *,
                     expected: bool = False) -> None:
        """Tell the engine an order left the book (filled, expired, cancelled elsewhere):
        its slot is freed; queued amends/edits of it are rejected, cancels coalesced.  A
        close reported before its add's reply takes effect with that reply.  ``expected``:
        a request of ours on the wire caused it; its reply does the bookkeeping."""
        rec = self._book.get(order_id)
        if rec is None:
            return
        if expected:
            self._book.report_closed(rec)
        elif self._settlement.reported_closed(rec, reason):
            self._resolve_settled()
            self._pump()
        if self._pushes:
            self._flush()

    def adopt(self, orders: Iterable[Adopted]) -> list[OrderView]:
        """Take open orders found on the exchange (a restart) as the engine's own: they
        count under the caps and age from ``placed_at`` (see :mod:`engine.core.adopt`)."""
        views = adopt_into(self._book, self._intake, orders)
        self._queues.dirty.update(v.pair for v in views)
        self._pump()
        return views

    def resync_trading(self, pair: str, level: float) -> None:
        """Adopt the trading-counter level the exchange published for ``pair``."""
        name = self._intake.market(pair).name
        self._tasks.keep(self.budget.resync_trading(name, level, self.clock.now()))
        self._queues.dirty.add(name)
        self._pump()

    def order(self, order_id: str) -> OrderView | None:
        """A snapshot of the engine's record of an order (by cl_ord_id or txid), while it
        is known (closed orders are forgotten)."""
        rec = self._book.get(order_id)
        return None if rec is None else rec.view()

    def open_orders(self, pair: str | None = None, strategy: str | None = None,
                    ) -> list[OrderView]:
        """Acknowledged orders (of ``pair``, of ``strategy``), oldest first."""
        return [r.view() for r in self._book.open_orders(pair, strategy)]

    def live_orders(self, pair: str | None = None, strategy: str | None = None,
                    ) -> list[OrderView]:
        """Orders queued, on the wire or open, not reported gone (a strategy's orders)."""
        return [r.view() for r in self._book.live_orders(pair, strategy)]

    def live_count(self, pair: str | None = None, strategy: str | None = None) -> int:
        return sum(1 for _ in self._book.live_orders(pair, strategy))

    @property
    def api_counter(self) -> Counter:
        """The key's API counter as modelled (same store): for requests made behind the
        engine's back (order lookups), charged on the one budget it paces against."""
        if not isinstance(self.budget, MemoryBudget):
            raise TypeError("api_counter needs the in-process MemoryBudget")
        return self.budget.api_counter(self._key)

    def trading_level(self, pair: str) -> float:
        """The model's trading-counter level for ``pair`` now (counter units)."""
        return self.budget.trading_level(pair, self.clock.now())

    def api_level(self) -> float:
        return self.budget.api_level(self._key, self.clock.now())

    @property
    def stats(self) -> dict[str, PairStats]:
        """Running totals per pair (and ``"api"``), from the budget."""
        return self.budget.stats

    @property
    def trace(self) -> list[Decision]:
        """Every scheduling decision, when ``EngineSettings.trace`` is on."""
        return self._tracer.decisions

    def metrics(self) -> MetricsSnapshot:
        """A snapshot of counter levels, queue depths and outcome counts."""
        q, b = self._queues, self.budget
        pairs = sorted(set(q.pairs) | {p for p in b.stats if p != "api"})
        return MetricsSnapshot(
            time=self.clock.now(), trading_levels={p: self.trading_level(p) for p in pairs},
            trading_max=b.trading_max, api_level=self.api_level(), api_max=b.api_max,
            queue_depths=q.depths(), queued=q.queued, inflight=b.inflight.count,
            inflight_cap=b.inflight.slots, open_orders=dict(self._book.open_count),
            outcomes=MetricsSnapshot.counts(self.outcomes),
            requests=MetricsSnapshot.counts(self.requests),
            errors=MetricsSnapshot.counts(self.errors),
            rate_limit_errors=sum(n for e, n in self.errors.items() if ke.is_rate_limit_error(e)),
            pairs={p: attrs.evolve(s) for p, s in b.stats.items()}, locked=self._locked,
        )

    def queue_depths(self) -> dict[str, int]:
        """Intents queued per pair, as :meth:`metrics` reports them (nothing else: cheap)."""
        return self._queues.depths()

    @property
    def queued(self) -> int:
        return self._queues.queued

    @property
    def inflight(self) -> int:
        return self.budget.inflight.count

    def __repr__(self) -> str:
        return (f"Engine(tier={self.profile.tier.value}, queued={self.queued}, "
                f"inflight={self.inflight})")
