"""The engine: validates intents, queues them per pair, and sends each at the earliest
moment the rate limits allow.

How a decision is made (see ``design.md``, "How data flows"):

1. ``submit`` validates the intent, folds it into what is queued (coalescing), and puts it
   on its pair's queue (cancels, then amends/edits, then adds; strategies take turns).
2. ``_pump`` walks the queue heads.  For each it computes the cost *now* -- the penalty of
   an amend, edit or cancel depends on the order's age -- and asks the counter whether it
   fits.  What fits is charged and sent at once (work-conserving).  For the first head that
   does not fit, it takes the earliest moment it will: when the counter has decayed enough,
   or when the order reaches a cheaper age bucket, whichever comes first.
3. One timer, armed through the clock at the earliest such moment over all queues, runs the
   pump again.  Replies run it too.  There is no polling and no sleep-and-retry.

Budgets (counter units):

* trading counter per pair: cancels may fill it to ``capacity``; amends, edits and adds
  only to ``capacity - held`` where ``held = min(reserve, 8 * n)``, ``reserve =
  max(cancel_reserve * capacity, min_cancel_reserve)`` (by default at least 8 units: one
  cancel of a brand-new order) and ``n`` the orders on the pair that rest or may rest, so a
  strategy can always pull its quotes (IOC and market adds alone hold nothing back);
* API counter per key: private queries at their endpoint cost;
* open orders per pair: acknowledged + in-flight adds never exceed the tier's maximum;
* at most ``max_inflight`` requests on the wire at once (avoids ``EService:Throttled``),
  one of them kept for cancels.  Each ``EService:Throttled`` halves that cap (down to 1);
  every run of as many accepted replies as the cap raises it by one again, back up to
  ``max_inflight`` (additive increase, multiplicative decrease).

CancelOrderBatch and CancelAll go out at once: Kraken accepts them even past the max, and
their penalties are charged to every pair they touch.  They are fenced so that nothing on
the wire can trade places with them: each leaves ``jitter`` after the last request on its
pairs, and nothing on those pairs (on any pair, after a CancelAll) leaves until ``jitter``
after it.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections import Counter as Tally
from collections.abc import Mapping
from typing import Any, Self

import attrs
import structlog

from engine import kraken_errors as ke
from engine.clock import Clock, RealClock
from engine.core.items import PRIORITY_OF, Item, orders_of, rests
from engine.core.metrics import Decision, MetricsSnapshot, PairStats
from engine.core.orders import OrderRecord, OrderRegistry, OrderState
from engine.core.queues import ClassQueue, PairQueue, Priority
from engine.core.requests import (
    add_order_fields,
    add_order_params,
    amend_params,
    edit_params,
    query_request,
    reply_txids,
)
from engine.core.settings import EngineSettings
from engine.errors import EngineClosed, EngineLocked, InvalidIntent, QueueFull, UnknownOrder
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CancelOrderBatch,
    EditOrder,
    Intent,
)
from engine.markets import DEFAULT_MARKETS, Market, Markets
from engine.outcomes import Handle, Outcome, Status
from engine.timefmt import rfc3339
from engine.venues.base import TransportError, Venue
from limiters import (
    Counter,
    CounterSpec,
    CounterState,
    KrakenProfile,
    LimiterSettings,
    MemoryStore,
    Tier,
    Transaction,
    add_batch_penalty,
    add_penalty,
    api_cost,
    next_cheaper_age,
    penalty,
)
from limiters.store import CounterStore

__all__ = ["Engine", "EngineSettings"]

_log = structlog.get_logger("orderpace.engine")

_INF = math.inf


class Engine:
    """Rate-limit-aware order execution over a :class:`~engine.venues.base.Venue`.

    Use as ``async with Engine(venue=..., tier=..., clock=...) as engine:``; ``submit``
    returns a :class:`~engine.outcomes.Handle` to await.  ``limits`` overrides the
    margins of the rate model (default: :meth:`LimiterSettings.live`).
    """

    def __init__(
        self,
        venue: Venue,
        *,
        tier: str | Tier = Tier.INTERMEDIATE,
        clock: Clock | None = None,
        limits: LimiterSettings | None = None,
        settings: EngineSettings | None = None,
        markets: Markets | None = None,
        store: CounterStore | None = None,
        key_id: str = "default",
    ) -> None:
        self.venue = venue
        self.clock: Clock = clock if clock is not None else RealClock()
        self.profile = KrakenProfile.for_tier(tier, limits)
        self.settings = settings if settings is not None else EngineSettings()
        self.markets = markets if markets is not None else DEFAULT_MARKETS
        self._store: CounterStore = store if store is not None else MemoryStore()
        self._api_key = f"api:{key_id}"
        trading = self.profile.trading
        reserve = max(
            self.settings.cancel_reserve * trading.capacity, self.settings.min_cancel_reserve
        )
        if reserve >= trading.capacity - 1.0:
            raise InvalidIntent("cancel_reserve", reserve, "leaving room for adds under the max")
        self._trading: CounterSpec = trading  # cancels: the whole capacity
        self._reserve = reserve
        self._cancel_max = float(penalty(Transaction.CANCEL, 0.0))  # units, a brand-new order
        self._reserve_specs: dict[float, CounterSpec] = {}  # reserve held -> adds' counter
        self._api: CounterSpec = self.profile.api
        self._max_open = self.profile.max_open_orders
        # requests on the wire at once: halved on EService:Throttled, regrown one at a time
        self._slots = self.settings.max_inflight
        self._slot_credit = 0  # replies since the cap last changed
        # one in-flight slot is kept for cancels, like the budget reserve
        self._shared_slots = max(1, self._slots - 1)

        self._queues: dict[str, PairQueue[Item]] = {}
        self._global: ClassQueue[Item] = ClassQueue()  # batch cancels, CancelAll
        self._keyq: ClassQueue[Item] = ClassQueue()  # private queries (API counter)
        self._orders = OrderRegistry()
        self._pending_adds: dict[str, int] = {}  # per pair: orders of adds on the wire
        self._pending_resting: dict[str, int] = {}  # ... of them, those that would rest
        self._deadlines: list[tuple[float, int, Item]] = []
        self._parked_orders: set[OrderRecord] = set()
        self._lazy: list[tuple[float, int, Item]] = []  # non-urgent cancels biding their time
        # per pair: the earliest moment its head may fit (-inf: look again at every pump),
        # and the pairs whose situation changed since (a new intent, a reply, a close)
        self._pair_wake: dict[str, float] = {}
        self._last_send: dict[str, float] = {}  # per pair: when its last request left
        self._fence: dict[str, float] = {}  # per pair: no request before (a batch cancel)
        self._fence_all = -_INF  # no trading request before (a CancelAll)
        self._dirty: set[str] = set()
        self._queued = 0
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = _INF
        self._paused_until = -_INF
        self._started = False
        self._closed = False
        self._locked = False
        self._locked_by = ""  # the Kraken error that stopped the engine
        self._idle: asyncio.Event | None = None

        self.outcomes: Tally[str] = Tally()
        self.requests: Tally[str] = Tally()
        self.errors: Tally[str] = Tally()
        self.stats: dict[str, PairStats] = {}
        self.trace: list[Decision] = []

    # -- lifecycle ---------------------------------------------------------------------

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
        while self._queued or self._inflight:
            if self._idle is None:
                self._idle = asyncio.Event()
            self._idle.clear()
            await self._idle.wait()

    async def aclose(self) -> None:
        """Stop: refuse new intents, fail what is still queued, wait for in-flight replies.

        Every pending handle is resolved: queued intents as ``failed`` (not sent); requests
        without a reply after ``shutdown_timeout`` seconds as ``failed`` (sent).
        """
        if self._closed:
            return
        self._closed = True
        self._cancel_timer()
        self._fail_queued("engine shut down before sending")
        if self._tasks:
            _done, pending = await asyncio.wait(
                set(self._tasks), timeout=self.settings.shutdown_timeout
            )
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending)

    # -- submitting --------------------------------------------------------------------

    def submit(self, intent: Intent, *, strategy: str = "default") -> Handle:
        """Queue ``intent``; return the handle to await for its :class:`Outcome`.

        Raises at once, touching nothing queued: :class:`InvalidIntent` (bad field, unknown
        pair, tick size, order minimum), :class:`UnknownOrder`, :class:`QueueFull`,
        :class:`EngineClosed`, :class:`EngineLocked`.
        """
        if self._closed or not self._started:
            raise EngineClosed("engine is not running: use 'async with Engine(...)'")
        if self._locked:
            raise EngineLocked(f"engine stopped sending after {self._locked_by}")
        if self._queued >= self.settings.max_queue:
            raise QueueFull("the engine", self.settings.max_queue)
        kind = type(intent)
        if kind is AddOrder or kind is AddOrderBatch:
            return self._submit_add(intent, strategy)  # type: ignore[arg-type]
        if kind in (AmendOrder, EditOrder, CancelOrder):
            return self._submit_on_order(intent, strategy)  # type: ignore[arg-type]
        if kind is CancelOrderBatch:
            for oid in intent.order_ids:  # type: ignore[union-attr]
                if self._orders.get(oid) is None:
                    raise UnknownOrder(oid)
            return self._enqueue_lane(self._global, intent, strategy)
        if kind is CancelAll:
            return self._enqueue_lane(self._global, intent, strategy)
        try:
            query_request(intent)  # type: ignore[arg-type]
        except TypeError:
            raise InvalidIntent("intent", intent, "an orderpace intent") from None
        return self._enqueue_lane(self._keyq, intent, strategy)

    def _new_item(self, intent: Intent, strategy: str) -> Item:
        self._next_id += 1
        handle = Handle(self._next_id, intent, strategy, asyncio.get_running_loop())
        return Item(handle, self.clock.now())

    def _market(self, pair: str) -> Market:
        try:
            return self.markets.get(pair)
        except ValueError as e:
            raise InvalidIntent("pair", pair, str(e)) from None

    def _check_order(self, o: AddOrder) -> Market:
        m = self._market(o.pair)
        if o.volume < m.ordermin:
            raise InvalidIntent("volume", o.volume, f"at least the {m.name} minimum {m.ordermin}")
        if o.price is not None:
            if o.price % m.tick_size != 0:
                raise InvalidIntent("price", o.price, f"a multiple of {m.name} tick {m.tick_size}")
            if o.volume * o.price < m.costmin:
                raise InvalidIntent(
                    "volume", o.volume, f"an order cost of at least {m.costmin} on {m.name}"
                )
        if self._orders.get(o.cl_ord_id) is not None:
            raise InvalidIntent("cl_ord_id", o.cl_ord_id, "unique among this engine's orders")
        return m

    def _submit_add(self, intent: AddOrder | AddOrderBatch, strategy: str) -> Handle:
        orders = orders_of(intent)
        market = None
        for o in orders:
            market = self._check_order(o)
        assert market is not None
        item = self._new_item(intent, strategy)
        item.pair = market.name
        for o in orders:
            rec = OrderRecord(o.cl_ord_id, market.name, OrderState.QUEUED)
            rec.add_item = item
            self._orders.add(rec)
        self._enqueue_pair(item, Priority.ADD)
        return item.future

    def _submit_on_order(
        self, intent: AmendOrder | EditOrder | CancelOrder, strategy: str
    ) -> Handle:
        rec = self._orders.get(intent.order_id)
        if rec is None:
            if intent.pair is None:
                raise UnknownOrder(intent.order_id)
            # an order placed elsewhere: age unknown, so charged as brand new (dearest)
            market = self._market(intent.pair)
            rec = OrderRecord(intent.order_id, market.name, OrderState.OPEN)
            if not _looks_like_cl_ord_id(intent.order_id):
                rec.txid = intent.order_id
        item = self._new_item(intent, strategy)
        item.pair = rec.pair
        item.order = rec
        handle = item.future
        if self._coalesce(item, rec):
            return handle
        if isinstance(intent, CancelOrder):
            rec.cancel_queued = True
        if rec.state is OrderState.PENDING or rec.busy:
            self._park(item, rec)
        else:
            self._enqueue_pair(item, PRIORITY_OF[type(intent)])
        return handle

    def _enqueue_lane(self, lane: ClassQueue[Item], intent: Intent, strategy: str) -> Handle:
        item = self._new_item(intent, strategy)
        item.lane = lane
        lane.push(item)
        self._track(item)
        self._pump()
        return item.future

    def _enqueue_pair(self, item: Item, priority: Priority) -> None:
        item.priority = priority
        q = self._queues.get(item.pair)
        if q is None:
            q = self._queues[item.pair] = PairQueue()
        item.lane = q[priority]
        item.lane.push(item)
        self._dirty.add(item.pair)
        self._track(item)
        self._pump()

    def _track(self, item: Item) -> None:
        self._queued += 1
        if item.deadline is not None:
            heapq.heappush(self._deadlines, (item.deadline, item.hid, item))

    def _park(self, item: Item, rec: OrderRecord) -> None:
        """Hold ``item`` until ``rec`` is acknowledged and has nothing in flight."""
        item.priority = PRIORITY_OF[type(item.intent)]
        item.lane = None
        rec.parked.append(item)
        self._parked_orders.add(rec)
        self._track(item)

    # -- coalescing --------------------------------------------------------------------

    def _coalesce(self, item: Item, rec: OrderRecord) -> bool:
        """Fold ``item`` into what is queued for ``rec``; True if nothing more is needed."""
        intent = item.intent
        if rec.state is OrderState.QUEUED:
            add = rec.add_item
            if isinstance(intent, CancelOrder):
                # cancel of an unsent add: both resolved, no request
                self._drop_order_from_add(add, rec)
                self._resolve(item, Status.COALESCED, error="its order was never sent")
                return True
            assert isinstance(intent, AmendOrder | EditOrder)
            self._fold_into_add(add, rec, intent)
            self._resolve(item, Status.COALESCED, error="folded into the queued add")
            return True
        if rec.cancel_queued:
            self._resolve(item, Status.COALESCED, error="a cancel of this order is queued")
            return True
        if isinstance(intent, CancelOrder):
            # a queued amend/edit of an order about to be cancelled is pointless
            for other in self._queued_on(rec):
                if isinstance(other.intent, AmendOrder | EditOrder):
                    self._unqueue(other)
                    self._resolve(other, Status.COALESCED, error="its order is being cancelled")
            return False
        assert isinstance(intent, AmendOrder | EditOrder)
        for other in self._queued_on(rec):
            if isinstance(other.intent, AmendOrder | EditOrder):
                # the newer amend replaces the queued one; fields it leaves out carry over
                merged = attrs.evolve(
                    intent,
                    volume=intent.volume if intent.volume is not None else other.intent.volume,
                    price=intent.price if intent.price is not None else other.intent.price,
                )
                item.intent = merged
                self._unqueue(other)
                self._resolve(other, Status.COALESCED, error="replaced by a newer amend")
        return False

    def _queued_on(self, rec: OrderRecord) -> list[Item]:
        """Live, unsent items about ``rec`` (parked or in its pair's queue)."""
        found = [i for i in rec.parked if i.live]
        found.extend(e[2] for e in self._lazy if e[2].live and e[2].order is rec)
        q = self._queues.get(rec.pair)
        if q is not None:
            for prio in (Priority.CANCEL, Priority.MODIFY):
                found.extend(i for i in q[prio] if i.order is rec)
        return found

    def _fold_into_add(self, add: Item, rec: OrderRecord, change: AmendOrder | EditOrder) -> None:
        def changed(o: AddOrder) -> AddOrder:
            return attrs.evolve(
                o,
                volume=change.volume if change.volume is not None else o.volume,
                price=change.price if change.price is not None and o.price is not None else o.price,
            )

        if isinstance(add.intent, AddOrderBatch):
            batch = add.intent
            orders = tuple(changed(o) if o.cl_ord_id == rec.cl_ord_id else o for o in batch.orders)
            add.intent = attrs.evolve(batch, orders=orders)
        else:
            assert isinstance(add.intent, AddOrder)
            add.intent = changed(add.intent)

    def _drop_order_from_add(self, add: Item, rec: OrderRecord) -> None:
        self._orders.close(rec)
        if isinstance(add.intent, AddOrderBatch):
            rest = tuple(o for o in add.intent.orders if o.cl_ord_id != rec.cl_ord_id)
            if len(rest) >= 2:
                add.intent = attrs.evolve(add.intent, orders=rest)
                return
            if len(rest) == 1:
                add.intent = rest[0]
                return
        self._unqueue(add)
        self._resolve(add, Status.COALESCED, error="cancelled before it was sent")

    def _unqueue(self, item: Item) -> None:
        """Take a queued (or parked) item out, unsent."""
        if not item.live:
            return
        item.live = False
        self._queued -= 1
        if item.lane is not None:
            item.lane.discard()
        elif item.order is not None and item in item.order.parked:
            item.order.parked.remove(item)

    # -- the pump ----------------------------------------------------------------------

    def _pump(self) -> None:
        """Send everything that fits now; arm one timer for the earliest next fit."""
        if self._closed or self._locked:
            return
        now = self.clock.now()
        if self._deadlines and self._deadlines[0][0] <= now:
            self._expire(now)
        if now < self._paused_until:
            self._arm(self._paused_until)
            return
        lazy = self._lazy
        while lazy and lazy[0][0] <= now:
            item = heapq.heappop(lazy)[2]
            if item.live:
                item.ripe = True
                item.lane = self._queues[item.pair][Priority.CANCEL]
                item.lane.push_front(item)
                self._dirty.add(item.pair)
        wake = self._pump_lanes(now)
        dirty = self._dirty
        pair_wake = self._pair_wake
        for pair, q in self._queues.items():
            if not len(q):
                continue
            at = pair_wake.get(pair, -_INF)
            if at > now and pair not in dirty:
                wake = min(wake, at)  # nothing changed: its head still cannot fit before then
                continue
            at = pair_wake[pair] = self._pump_pair(pair, q, now)
            if at > now:  # -inf means "blocked on a request slot": a reply pumps again
                wake = min(wake, at)
        dirty.clear()
        if self._deadlines:
            wake = min(wake, self._deadlines[0][0])
        if lazy:
            wake = min(wake, lazy[0][0])
        self._arm(wake)
        if self._idle is not None and not self._queued and not self._inflight:
            self._idle.set()

    def _pump_lanes(self, now: float) -> float:
        while self._global.live and self._inflight < self._slots:
            item = self._global.peek()
            assert item is not None
            if isinstance(item.intent, CancelOrderBatch) and self._batch_waits(item.intent):
                break  # an add it cancels is still on the wire: its reply pumps again
            hold = self._overtake_guard(item.intent)
            if hold > now:
                return hold
            self._pop(item)
            self._send_global(item, now)
        while self._keyq.live and self._inflight < self._shared_slots:
            item = self._keyq.peek()
            assert item is not None
            endpoint, params = query_request(item.intent)  # type: ignore[arg-type]
            cost = api_cost(endpoint)
            fit = self._charge(self._api_key, self._api, cost, now, item, "api", endpoint)
            if fit > 0.0:
                return now + fit
            self._pop(item)
            self._send(item, endpoint, params, now)
        return _INF

    def _pump_pair(self, pair: str, q: PairQueue[Item], now: float) -> float:
        fence = max(self._fence.get(pair, -_INF), self._fence_all)
        if fence > now:
            if self.settings.trace:
                self.trace.append(Decision(now, 0, pair, "blocked", "fence", 0.0, 0.0, fence - now))
            return fence  # a batch cancel just left: let it arrive first
        for prio in (Priority.CANCEL, Priority.MODIFY, Priority.ADD):
            lane = q[prio]
            slots = self._slots if prio is Priority.CANCEL else self._shared_slots
            while lane.live:
                if self._inflight >= slots:
                    if self.settings.trace:
                        self._blocked(pair, lane, "inflight", now)
                    return -_INF  # waiting for a slot: look again at the next pump
                item = lane.peek()
                assert item is not None
                wait = self._try_send(item, pair, now)
                if wait > 0.0:
                    return now + wait  # strict priority: lower classes wait behind it
        return _INF

    def _try_send(self, item: Item, pair: str, now: float) -> float:
        """Send ``item`` if it fits now (return 0), else return seconds until it may."""
        intent = item.intent
        rec = item.order
        if isinstance(intent, AddOrder | AddOrderBatch):
            n = len(intent.orders) if isinstance(intent, AddOrderBatch) else 1
            if self._orders.open_count.get(pair, 0) + self._pending_adds.get(pair, 0) + n > (
                self._max_open
            ):
                if self.settings.trace:
                    self._blocked(pair, None, "open_orders", now, item)
                return _INF  # woken when an order closes
            cost = float(add_batch_penalty(n) if n > 1 else add_penalty())
            spec = self._shared_spec(pair, sum(map(rests, orders_of(intent))))
            fit = self._charge(f"trade:{pair}", spec, cost, now, item, pair, "add")
            if fit > 0.0:
                return fit
            self._pop(item)
            self._send_add(item, pair, now)
            return 0.0
        assert rec is not None
        if rec.state is OrderState.CLOSED:
            self._pop(item)
            if isinstance(intent, CancelOrder):
                self._resolve(item, Status.COALESCED, error="the order had already closed")
            else:
                self._resolve(item, Status.REJECTED, error="the order had already closed")
            return 0.0
        if rec.busy:
            self._pop(item)
            item.live = True
            self._queued -= 1
            self._park(item, rec)
            return 0.0
        age = rec.age(now)
        tx = _TRANSACTION[type(intent)]
        if isinstance(intent, CancelOrder) and not intent.urgent and not item.ripe:
            cheaper = next_cheaper_age(tx, age)
            patience = self.settings.lazy_cancel_patience
            if cheaper is not None and cheaper - age <= patience:
                self._pop(item)  # steps aside: still queued, but holds nobody up
                item.live = True
                self._queued += 1
                item.lane = None
                delay = max(cheaper - age, 1e-9)
                heapq.heappush(self._lazy, (now + delay, item.hid, item))
                if self.settings.trace:
                    self.trace.append(
                        Decision(now, item.hid, pair, "defer", tx.value, 0.0, 0.0, delay)
                    )
                if self.settings.log_decisions:
                    _log.debug("decision", pair=pair, kind=tx.value, deferred=delay, hid=item.hid)
                return 0.0
        cost = float(penalty(tx, age))
        spec = self._trading if tx is Transaction.CANCEL else self._shared_spec(pair)
        fit = self._charge(f"trade:{pair}", spec, cost, now, item, pair, tx.value)
        if fit > 0.0:
            cheaper = next_cheaper_age(tx, age)
            # at least 1 ns: a bucket edge closer than the clock's float resolution would
            # give a timer at ``now`` itself, re-firing forever at the same virtual time
            return fit if cheaper is None else min(fit, max(cheaper - age, 1e-9))
        self._pop(item)
        market = self.markets.get(pair)
        if isinstance(intent, CancelOrder):
            self._send(item, "CancelOrder", {"txid": rec.ref}, now)
        elif isinstance(intent, AmendOrder):
            by_cl = rec.txid is None
            self._send(item, "AmendOrder", amend_params(intent, rec.ref, by_cl_ord_id=by_cl), now)
        else:
            assert isinstance(intent, EditOrder)
            self._send(item, "EditOrder", edit_params(intent, rec.ref, market.altname), now)
        return 0.0

    def _shared_spec(self, pair: str, new_resting: int = 0) -> CounterSpec:
        """The trading counter as adds, amends and edits see it: less the cancel reserve.

        The reserve held is ``min(reserve, 8 * n)`` units, ``n`` the orders on ``pair`` a
        cancel may be wanted for -- open (or of unknown fate), on the wire and resting, plus
        the ``new_resting`` an add would place -- 8 being the dearest cancel.  With nothing
        that can rest (IOC or market adds only) nothing is held back.
        """
        at_risk = (self._orders.open_count.get(pair, 0) + self._pending_resting.get(pair, 0)
                   + new_resting)
        need = min(self._reserve, at_risk * self._cancel_max)
        spec = self._reserve_specs.get(need)
        if spec is None:
            trading = self._trading
            spec = self._reserve_specs[need] = trading.with_margin(trading.margin + need)
        return spec

    def _count_pending(self, pair: str, orders: tuple[AddOrder, ...], sign: int) -> None:
        """Count ``orders`` (an add's) onto the wire (``sign`` 1) or off it (-1)."""
        self._pending_adds[pair] = self._pending_adds.get(pair, 0) + sign * len(orders)
        resting = sum(map(rests, orders))
        if resting:
            self._pending_resting[pair] = self._pending_resting.get(pair, 0) + sign * resting

    def _pop(self, item: Item) -> None:
        assert item.lane is not None
        popped = item.lane.pop()
        assert popped is item
        item.live = False
        self._queued -= 1

    def _charge(
        self,
        key: str,
        spec: CounterSpec,
        cost: float,
        now: float,
        item: Item,
        pair: str,
        kind: str,
    ) -> float:
        """Charge ``cost`` on ``key`` if it fits: return 0.0, else the seconds to wait."""

        def step(s: CounterState) -> tuple[CounterState, tuple[bool, float, float]]:
            r = spec.try_charge(s, cost, now)
            return r.state, (r.charged, r.wait, r.state.level)

        charged, wait, level = self._store.update(key, now, step)
        if charged:
            self._stat(pair).record(now, cost, level)
            item.cost = cost
        if self.settings.trace:
            self.trace.append(
                Decision(now, item.hid, pair, "send" if charged else "wait", kind, cost,
                         level - cost if charged else level, wait)
            )
        if self.settings.log_decisions:
            _log.debug("decision", pair=pair, kind=kind, cost=cost, level=level, wait=wait,
                       sent=charged, hid=item.hid)
        return 0.0 if charged else max(wait, 1e-9)

    def _blocked(
        self, pair: str, lane: ClassQueue[Item] | None, why: str, now: float,
        item: Item | None = None,
    ) -> None:
        """Trace a head that waits for an event (a free slot, a closed order), not a time."""
        head = item if item is not None else (lane.peek() if lane is not None else None)
        hid = head.hid if head is not None else 0
        self.trace.append(Decision(now, hid, pair, "blocked", why, 0.0, 0.0, _INF))

    def _force_charge(self, pair: str, cost: float, now: float) -> None:
        """Charge without a fit check (batch cancels: Kraken accepts them past the max)."""
        key = f"trade:{pair}"
        spec = self._trading

        def step(s: CounterState) -> tuple[CounterState, float]:
            new = spec.charge(s, cost, now)
            return new, new.level

        level = self._store.update(key, now, step)
        self._stat(pair).record(now, cost, level)

    def _stat(self, pair: str) -> PairStats:
        st = self.stats.get(pair)
        if st is None:
            st = self.stats[pair] = PairStats()
        return st

    def _arm(self, when: float) -> None:
        if when == _INF:
            self._cancel_timer()
            return
        if self._timer is not None and self._timer_at <= when:
            return
        self._cancel_timer()
        self._timer_at = when
        self._timer = self.clock.call_at(when, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = _INF

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = _INF
        self._pump()

    def _expire(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _when, _hid, item = heapq.heappop(self._deadlines)
            if item.live:
                self._unqueue(item)
                self._dirty.add(item.pair)
                self._resolve(item, Status.EXPIRED, error="deadline passed while queued")
                if isinstance(item.intent, AddOrder | AddOrderBatch):
                    self._forget_unsent_add(item)

    def _forget_unsent_add(self, item: Item) -> None:
        orders = orders_of(item.intent)
        for o in orders:
            assert isinstance(o, AddOrder)
            rec = self._orders.get(o.cl_ord_id)
            if rec is not None and rec.state is OrderState.QUEUED:
                self._orders.close(rec)
                self._settle_parked(rec, "its add was never sent")

    # -- sending -----------------------------------------------------------------------

    def _send_add(self, item: Item, pair: str, now: float) -> None:
        intent = item.intent
        market = self.markets.get(pair)
        orders: tuple[AddOrder, ...]
        if isinstance(intent, AddOrderBatch):
            orders = intent.orders
            params: dict[str, Any] = {
                "pair": market.altname,
                "orders": [add_order_fields(o) for o in orders],
            }
            endpoint = "AddOrderBatch"
        else:
            assert isinstance(intent, AddOrder)
            orders = (intent,)
            params = add_order_params(intent, market.altname)
            endpoint = "AddOrder"
        if self.settings.exchange_deadline and item.deadline is not None:
            ahead = item.deadline - now
            if 2.0 <= ahead <= 60.0:
                params["deadline"] = rfc3339(self.clock.wall() + ahead)
        self._count_pending(pair, orders, 1)
        for o in orders:
            rec = self._orders.get(o.cl_ord_id)
            if rec is not None:
                rec.state = OrderState.PENDING
                rec.add_item = None
        self._send(item, endpoint, params, now)

    def _fenced_pairs(self, intent: Intent) -> set[str]:
        """The pairs a batch cancel touches (CancelAll: every pair that has sent)."""
        if isinstance(intent, CancelOrderBatch):
            return {r.pair for r in map(self._orders.get, intent.order_ids) if r is not None}
        return set(self._last_send)

    def _overtake_guard(self, intent: Intent) -> float:
        """When a batch cancel may leave without trading places with a request on the wire.

        A batch cancel may take the exchange's counter past the max, and cancels whatever
        reached the exchange before it.  A request sent just before it but arriving just
        after it (arrival jitter, or two sends at one instant) would then be refused, or an
        add arriving first would be cancelled and charged unforeseen.  So a batch cancel is
        fenced: it leaves ``jitter`` (+1 us) after the last trading request on its pairs,
        and no trading request on them leaves until ``jitter`` (+1 us) after it.
        """
        pairs = self._fenced_pairs(intent)
        last = max((self._last_send.get(p, -_INF) for p in pairs), default=-_INF)
        return last + self.profile.settings.jitter + _FENCE_EPSILON

    def _batch_waits(self, intent: CancelOrderBatch) -> bool:
        """Whether a batch cancel must wait: one of its orders' adds is on the wire (the
        exchange may not know the order yet, and one unknown id refuses the whole batch)."""
        for oid in intent.order_ids:
            rec = self._orders.get(oid)
            if rec is not None and (rec.state is OrderState.PENDING or rec.busy):
                return True
        return False

    def _send_global(self, item: Item, now: float) -> None:
        """Send a CancelOrderBatch or CancelAll: no fit check (Kraken accepts them past the
        max), each pair charged the sum of its orders' cancel penalties."""
        intent = item.intent
        costs: dict[str, float] = {}
        targets: list[OrderRecord] = []
        if isinstance(intent, CancelOrderBatch):
            for oid in intent.order_ids:
                rec = self._orders.get(oid)
                if rec is None or rec.state is OrderState.CLOSED:
                    continue
                if rec.state is OrderState.QUEUED:  # its add never left: drop it
                    self._drop_order_from_add(rec.add_item, rec)
                    continue
                targets.append(rec)
            if not targets:
                self._resolve(item, Status.COALESCED, error="no order of the batch was open")
                return
            endpoint, params = "CancelOrderBatch", {"orders": [r.ref for r in targets]}
        else:
            targets = list(self._orders.open_orders())
            endpoint, params = "CancelAll", {}
            # adds on the wire may reach the exchange first: charge them too, as brand new
            for rec in self._orders.pending_orders():
                costs[rec.pair] = costs.get(rec.pair, 0.0) + penalty(Transaction.CANCEL, 0.0)
        for rec in targets:
            rec.cancel_queued = True
            # an amend or edit on the wire may reach the exchange first and restart the
            # order's age there: charge such an order as brand new
            unit = penalty(Transaction.CANCEL, 0.0 if rec.busy else rec.age(now))
            costs[rec.pair] = costs.get(rec.pair, 0.0) + unit
        if isinstance(intent, CancelAll):
            for pair in costs:  # charged like a batch cancel, capped at the max
                costs[pair] = min(costs[pair], self._trading.maximum)
        item.targets = targets
        fence = now + self.profile.settings.jitter + _FENCE_EPSILON
        if isinstance(intent, CancelAll):
            self._fence_all = fence  # every pair, including ones with nothing sent yet
        else:
            for pair in self._fenced_pairs(intent):
                self._fence[pair] = fence
        for pair, c in costs.items():
            self._force_charge(pair, c, now)
        item.cost = sum(costs.values())
        self._send(item, endpoint, params, now)

    def _send(self, item: Item, endpoint: str, params: dict[str, Any], now: float) -> None:
        item.attempts += 1
        if item.sent_at is None:
            item.sent_at = now
        self._inflight += 1
        self.requests[endpoint] += 1
        if item.pair:
            self._last_send[item.pair] = now
        if item.order is not None:
            item.order.busy = True
        task = asyncio.get_running_loop().create_task(self._roundtrip(item, endpoint, params))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _roundtrip(self, item: Item, endpoint: str, params: dict[str, Any]) -> None:
        try:
            reply = await self.venue.request(endpoint, params)
        except TransportError as e:
            self._after(item)
            self._on_transport_error(item, e)
        except asyncio.CancelledError:
            self._after(item)
            self._on_transport_error(
                item, TransportError("no reply before shutdown", endpoint=endpoint)
            )
            raise
        except Exception as e:  # a venue bug must not leave the handle pending
            self._after(item)
            self._on_transport_error(item, TransportError(repr(e), endpoint=endpoint))
        else:
            self._after(item)
            self._on_reply(item, endpoint, reply)
        finally:
            self._pump()

    def _after(self, item: Item) -> None:
        self._inflight -= 1
        if item.lane is self._global:
            self._dirty.update(self._queues)
        rec = item.order
        if rec is not None:
            rec.busy = False

    # -- replies -----------------------------------------------------------------------

    def _on_reply(self, item: Item, endpoint: str, reply: Mapping[str, Any]) -> None:
        now = self.clock.now()
        errors = [e for e in reply.get("error") or () if isinstance(e, str) and e[:1] == "E"]
        result = reply.get("result")
        result = result if isinstance(result, Mapping) else None
        if not errors:
            self._on_accepted(item, endpoint, result, now)
            return
        error = errors[0]
        for e in errors:
            self.errors[e] += 1
        kind = ke.classify(error)
        # a throttled request was not processed: it may try again after each pause
        attempts = _THROTTLED_ATTEMPTS if kind is ke.ErrorKind.THROTTLED else 2
        retry = self.settings.retry_rate_limited and item.attempts < attempts and not self._closed
        if kind is ke.ErrorKind.ORDER_RATE_LIMIT and item.pair:
            self._saturate(f"trade:{item.pair}", self._trading, now)
        elif kind is ke.ErrorKind.API_RATE_LIMIT:
            self._saturate(self._api_key, self._api, now)
        elif kind is ke.ErrorKind.THROTTLED:
            self._resize_slots(max(1, self._slots // 2))
            until = ke.throttled_until(error)
            resume = now + max(0.0, (until or self.clock.wall() + 1.0) - self.clock.wall())
            self._paused_until = max(self._paused_until, resume)
        elif kind is ke.ErrorKind.LOCKOUT or error in _KEY_REFUSED:
            self._stop_sending(item, error)
            return
        retry = retry and kind in _RETRYABLE
        if kind in _RETRYABLE:
            _log.warning("rate_limited", endpoint=endpoint, error=error, pair=item.pair,
                         attempts=item.attempts, retry=retry)
        else:
            _log.info("rejected", endpoint=endpoint, error=error, pair=item.pair)
        if retry:
            self._requeue(item)
            return
        if kind is ke.ErrorKind.TRANSIENT and error == ke.DEADLINE_ELAPSED:
            self._on_failed_order(item, error)
            self._resolve(item, Status.EXPIRED, error=error, result=result)
            return
        self._on_failed_order(item, error)
        self._resolve(item, Status.REJECTED, error=error, result=result)

    def _on_accepted(
        self, item: Item, endpoint: str, result: Mapping[str, Any] | None, now: float
    ) -> None:
        if self._slots < self.settings.max_inflight:
            self._slot_credit += 1
            if self._slot_credit >= self._slots:
                self._resize_slots(self._slots + 1)
        intent = item.intent
        txid: str | None = None
        if isinstance(intent, AddOrder | AddOrderBatch):
            orders = orders_of(intent)
            txids = reply_txids(result)
            self._count_pending(item.pair, orders, -1)
            for i, o in enumerate(orders):
                rec = self._orders.get(o.cl_ord_id)
                if rec is None:
                    continue
                if i < len(txids):
                    self._orders.set_txid(rec, txids[i])
                self._orders.mark_open(rec, now)
                if not rests(o):
                    # opened and closed by this one reply: the reserve is as it was
                    self._close(rec, "it does not rest on the book", reserve_changed=False)
                elif rec.closed_early:
                    self._close(rec, "filled before its acknowledgement")
                else:
                    self._unpark(rec)
            txid = txids[0] if txids else None
        elif isinstance(intent, AmendOrder):
            rec = item.order
            assert rec is not None
            rec.aged_from = now  # the amend restarts the order's age
            txid = rec.txid
            self._unpark(rec)
        elif isinstance(intent, EditOrder):
            rec = item.order
            assert rec is not None
            txids = reply_txids(result)
            if txids:
                self._orders.set_txid(rec, txids[0])
            rec.aged_from = now  # a new order on the exchange
            txid = rec.txid
            self._unpark(rec)
        elif isinstance(intent, CancelOrder):
            assert item.order is not None
            self._close(item.order, "cancelled")
        elif isinstance(intent, CancelOrderBatch | CancelAll):
            for rec in item.targets:  # the orders open when it left; later adds may stand
                self._close(rec, "cancelled")
        self._resolve(item, Status.ACCEPTED, txid=txid, result=result)

    def _on_failed_order(self, item: Item, error: str) -> None:
        """Bookkeeping for an order-changing request the exchange refused."""
        intent = item.intent
        if isinstance(intent, AddOrder | AddOrderBatch):
            orders = orders_of(intent)
            self._count_pending(item.pair, orders, -1)
            self._dirty.add(item.pair)  # room under the open-orders cap
            for o in orders:
                rec = self._orders.get(o.cl_ord_id)
                if rec is not None:
                    self._orders.close(rec)
                    self._settle_parked(rec, f"its add was rejected: {error}")
        elif item.targets:
            for rec in item.targets:  # a refused batch cancel cancelled nothing
                rec.cancel_queued = False
        elif item.order is not None:
            rec = item.order
            if error == ke.UNKNOWN_ORDER:
                self._close(rec, "unknown to the exchange")
            else:
                if isinstance(intent, CancelOrder):
                    rec.cancel_queued = False
                self._unpark(rec)

    def _on_transport_error(self, item: Item, e: TransportError) -> None:
        intent = item.intent
        if isinstance(intent, AddOrder | AddOrderBatch):
            orders = orders_of(intent)
            self._count_pending(item.pair, orders, -1)
            self._dirty.add(item.pair)
            for o in orders:
                rec = self._orders.get(o.cl_ord_id)
                if rec is not None:
                    if e.sent:
                        self._orders.mark_unknown(rec)
                        self._unpark(rec)
                    else:
                        self._orders.close(rec)
                        self._settle_parked(rec, "its add was never sent")
        elif item.order is not None:
            if isinstance(intent, CancelOrder):
                item.order.cancel_queued = False
            self._unpark(item.order)
        for rec in item.targets:  # a batch cancel of unknown fate: the orders may stand
            rec.cancel_queued = False
        _log.warning("transport_error", endpoint=e.endpoint, sent=e.sent, error=str(e))
        self._resolve(item, Status.FAILED, error=str(e), sent=e.sent)

    def _stop_sending(self, item: Item, error: str) -> None:
        """A lockout, or a key the exchange does not accept: nothing more can succeed."""
        self._locked = True
        self._locked_by = error
        self._cancel_timer()
        _log.error("stopped_sending", error=error)
        self._on_failed_order(item, error)
        self._resolve(item, Status.FAILED, error=error, sent=True)
        self._fail_queued(f"engine stopped sending: {error}")

    def _resize_slots(self, slots: int) -> None:
        """Set the in-flight cap (one slot of it kept for cancels while it is above 1)."""
        if slots != self._slots:
            _log.info("inflight_cap", slots=slots, was=self._slots)
        self._slots = slots
        self._shared_slots = max(1, slots - 1)
        self._slot_credit = 0
        self._dirty.update(self._queues)

    def _saturate(self, key: str, spec: CounterSpec, now: float) -> None:
        self._store.update(key, now, lambda s: (spec.saturate(s, now), None))

    def _requeue(self, item: Item) -> None:
        """Put a refused item back at the front of its queue for one more try."""
        item.live = True
        self._queued += 1
        if isinstance(item.intent, AddOrder | AddOrderBatch):
            orders = orders_of(item.intent)
            self._count_pending(item.pair, orders, -1)
            for o in orders:
                rec = self._orders.get(o.cl_ord_id)
                if rec is not None:
                    rec.state = OrderState.QUEUED
                    rec.add_item = item
        assert item.lane is not None
        item.lane.push_front(item)
        self._dirty.add(item.pair)

    def _close(self, rec: OrderRecord, why: str, *, reserve_changed: bool = True) -> None:
        self._orders.close(rec)
        self._touch_after_close(rec, reserve_changed)
        self._settle_parked(rec, f"the order closed ({why})")

    def _touch_after_close(self, rec: OrderRecord, reserve_changed: bool) -> None:
        """Mark ``rec``'s pair for a new look only if the close can change its head's fate:
        the head waits for an event (an order slot, a request slot), is about ``rec``, or
        the cancel reserve held for the pair may have shrunk (``reserve_changed``).  A head
        waiting for the budget until a known time otherwise waits just the same."""
        pair = rec.pair
        if not math.isfinite(self._pair_wake.get(pair, -_INF)):
            self._dirty.add(pair)
            return
        if reserve_changed and self._shared_spec(pair).margin < (
            self._reserve + self._trading.margin
        ):
            self._dirty.add(pair)  # the cancel reserve held for the pair shrank
            return
        q = self._queues.get(pair)
        if q is not None:
            for prio in (Priority.CANCEL, Priority.MODIFY):
                head = q[prio].peek()
                if head is not None and head.order is rec:
                    self._dirty.add(pair)
                    return

    def _unpark(self, rec: OrderRecord) -> None:
        """Return items waiting on ``rec`` to the front of their queues, in order."""
        self._parked_orders.discard(rec)
        if not rec.parked:
            return
        parked, rec.parked = rec.parked, []
        self._dirty.add(rec.pair)
        for item in reversed(parked):
            if not item.live:
                continue
            q = self._queues.get(rec.pair)
            if q is None:
                q = self._queues[rec.pair] = PairQueue()
            item.lane = q[item.priority]
            item.lane.push_front(item)

    def _settle_parked(self, rec: OrderRecord, why: str) -> None:
        self._parked_orders.discard(rec)
        parked, rec.parked = rec.parked, []
        for item in parked:
            if item.live:
                item.live = False
                self._queued -= 1
                cancel = isinstance(item.intent, CancelOrder)
                self._resolve(item, Status.COALESCED if cancel else Status.REJECTED, error=why)

    def _fail_queued(self, why: str) -> None:
        lanes: list[ClassQueue[Item]] = [self._global, self._keyq]
        for q in self._queues.values():
            lanes.extend(q.classes)
        for lane in lanes:
            for item in list(lane):
                self._unqueue(item)
                self._resolve(item, Status.FAILED, error=why)
        for rec in list(self._parked_orders):
            for item in list(rec.parked):
                self._unqueue(item)
                self._resolve(item, Status.FAILED, error=why)
        for _when, _hid, item in self._lazy:
            if item.live:
                self._unqueue(item)
                self._resolve(item, Status.FAILED, error=why)
        self._lazy.clear()
        if self._idle is not None:
            self._idle.set()

    def _resolve(
        self,
        item: Item,
        status: Status,
        *,
        txid: str | None = None,
        error: str | None = None,
        result: Mapping[str, Any] | None = None,
        sent: bool | None = None,
    ) -> None:
        item.live = False
        if item.future.done():
            return
        self.outcomes[status.value] += 1
        outcome = Outcome(
            status=status,
            intent=item.intent,
            queued_at=item.queued_at,
            done_at=self.clock.now(),
            sent_at=item.sent_at,
            txid=txid,
            error=error,
            result=result,
            sent=item.attempts > 0 if sent is None else sent,
            attempts=item.attempts,
        )
        item.future.set_result(outcome)

    # -- order updates from the venue --------------------------------------------------

    def order_closed(self, order_id: str, reason: str = "filled") -> None:
        """Tell the engine an order left the book (filled, expired, cancelled elsewhere).

        Frees its slot under the open-orders cap; queued amends/edits of it are rejected
        and queued cancels coalesced when they reach the front.  ``order_id`` is a
        cl_ord_id or txid; a close reported while the add's reply is still on its way
        (an order filled on arrival) takes effect when that reply arrives.
        """
        rec = self._orders.get(order_id)
        if rec is None:
            return
        if rec.state is OrderState.PENDING:
            rec.closed_early = True  # filled on arrival: closed as soon as its reply comes
        elif rec.state in (OrderState.OPEN, OrderState.UNKNOWN):
            self._close(rec, reason)
            self._pump()

    def resync_trading(self, pair: str, level: float) -> None:
        """Adopt the trading-counter level the exchange published for ``pair``."""
        name = self._market(pair).name
        now = self.clock.now()
        spec = self._trading
        self._store.update(f"trade:{name}", now, lambda s: (spec.resync(s, level, now), None))
        self._dirty.add(name)
        self._pump()

    # -- reading -----------------------------------------------------------------------

    def order(self, order_id: str) -> OrderRecord | None:
        """The engine's record of an order (by cl_ord_id or txid), if it is still known."""
        return self._orders.get(order_id)

    def open_orders(self, pair: str | None = None) -> list[OrderRecord]:
        return list(self._orders.open_orders(pair))

    @property
    def api_counter(self) -> Counter:
        """The key's API counter as the engine models it (same store, same state).

        For requests made behind the engine's back -- order lookups after a transport
        error -- so that they are charged on the one budget the engine paces against.
        """
        return Counter(self._api, self._store, self._api_key)

    def trading_level(self, pair: str) -> float:
        """The model's trading-counter level for ``pair`` now (counter units)."""
        now = self.clock.now()
        return self._trading.level(self._store.load(f"trade:{pair}", now), now)

    def api_level(self) -> float:
        now = self.clock.now()
        return self._api.level(self._store.load(self._api_key, now), now)

    def metrics(self) -> MetricsSnapshot:
        """A snapshot of counter levels, queue depths and outcome counts."""
        pairs = sorted(set(self._queues) | {p for p in self.stats if p != "api"})
        return MetricsSnapshot(
            time=self.clock.now(),
            trading_levels={p: self.trading_level(p) for p in pairs},
            trading_max=self._trading.maximum,
            api_level=self.api_level(),
            api_max=self._api.maximum,
            queue_depths={p: len(q) for p, q in sorted(self._queues.items())},
            queued=self._queued,
            inflight=self._inflight,
            inflight_cap=self._slots,
            open_orders=dict(self._orders.open_count),
            outcomes=MetricsSnapshot.counts(self.outcomes),
            requests=MetricsSnapshot.counts(self.requests),
            errors=MetricsSnapshot.counts(self.errors),
            rate_limit_errors=sum(n for e, n in self.errors.items() if ke.is_rate_limit_error(e)),
            pairs={p: attrs.evolve(s) for p, s in self.stats.items()},
            locked=self._locked,
        )

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def inflight(self) -> int:
        return self._inflight

    def __repr__(self) -> str:
        return (
            f"Engine(tier={self.profile.tier.value}, queued={self._queued}, "
            f"inflight={self._inflight})"
        )


_TRANSACTION: dict[type, Transaction] = {
    AmendOrder: Transaction.AMEND,
    EditOrder: Transaction.EDIT,
    CancelOrder: Transaction.CANCEL,
}

#: Seconds added to every fence, so that two sends never share one instant (their arrival
#: order would then be arbitrary).
_FENCE_EPSILON = 1e-6

#: Tries for a request refused with EService:Throttled (it was not processed): the first
#: and nine more, each after the pause the exchange asked for.
_THROTTLED_ATTEMPTS = 10

#: Refusals of the key itself: every further request would meet them too.
_KEY_REFUSED = frozenset({ke.INVALID_KEY, ke.INVALID_SIGNATURE})

_RETRYABLE = frozenset(
    {ke.ErrorKind.ORDER_RATE_LIMIT, ke.ErrorKind.API_RATE_LIMIT, ke.ErrorKind.THROTTLED,
     ke.ErrorKind.ORDERS_LIMIT}
)


def _looks_like_cl_ord_id(order_id: str) -> bool:
    """Kraken txids look like ``OUF4EM-FRGI2-MQMWZD``; anything else is taken as cl_ord_id."""
    parts = order_id.split("-")
    return not (len(parts) == 3 and [len(p) for p in parts] == [6, 5, 6] and order_id.isupper())

