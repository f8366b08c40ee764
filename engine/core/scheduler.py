"""One pump pass: which queue heads leave now, and when to look again.

:meth:`Scheduler.run` walks the lanes at ``now`` (seconds, engine clock) and returns the
earliest moment anything held may fit (``inf``: only an event can help).  What it decided
is left in buffers the engine takes afterwards -- it never calls the engine:

* ``outbox``: requests to send, in decision order (the engine dispatches them after the
  pass; a journal may record the batch first);
* ``resolved``: items that ended without a request (their order had closed, a batch cancel
  with nothing open), with their status and reason;
* ``answers``: budget answers still on their way (an asynchronous budget), each with the
  :class:`Asked` context the engine hands back to :meth:`Scheduler.answered`;
* ``ops``: budget operations to keep alive until they complete (forced charges).

Per pair heads go cancels, then amends/edits, then adds (strict priority).  A head's cost
is its penalty at the order's age now (adds: 1, a batch ``ceil(n/2)``); it is sent when
the budget charges it, else the pair waits until it fits or until the order reaches a
cheaper age bucket, whichever is first.  A lazy cancel steps aside (``defer``) when a
cheaper bucket is within ``lazy_cancel_patience``.  Batch cancels go first, unpaced but
fenced; private queries are paced on the key's API counter.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import structlog

from engine.core.apikeys import KeyRing
from engine.core.batches import batch_pairs, batch_waits, plan_batch
from engine.core.book import OrderBook
from engine.core.budget import Budget, BudgetAnswer, Charge
from engine.core.fences import Fences
from engine.core.items import Item, orders_of, rests
from engine.core.lanes import PairQueue
from engine.core.orders import OrderRecord, OrderState
from engine.core.queues import KEY_LANE, Queues
from engine.core.requests import add_request, change_request, query_request
from engine.core.settings import EngineSettings
from engine.core.settlement import drop_from_queued_add
from engine.core.trace import Tracer
from engine.intents import AddOrderBatch, AmendOrder, CancelOrder, CancelOrderBatch, EditOrder
from engine.markets import Markets
from engine.outcomes import Status
from engine.timefmt import rfc3339
from limiters import (
    Transaction,
    add_batch_penalty,
    add_penalty,
    api_cost,
    next_cheaper_age,
    penalty,
)

__all__ = ["Asked", "Scheduler"]

_log = structlog.get_logger("orderpace.engine")
_INF = math.inf
_ADD_COST = float(add_penalty())
_TRANSACTION = {AmendOrder: Transaction.AMEND, EditOrder: Transaction.EDIT,
                CancelOrder: Transaction.CANCEL}
_CHARGING = -1.0  # a head's budget answer is on its way: its pair waits for it


class Asked(NamedTuple):
    """A charge whose answer is on its way: ``key`` (a pair, or the key lane) is blocked;
    ``alt_at``: the cheaper age bucket's moment (seconds), the latest look if refused;
    ``epoch``: the pair's count of forced charges when asked (see :meth:`Scheduler.answered`)."""

    key: str
    label: str  # the trace's pair ("api" for the key lane)
    kind: str
    cost: float
    alt_at: float
    epoch: int = 0


class Scheduler:
    """Decides one pump pass over the engine's collaborators (see the module docstring)."""

    __slots__ = ("_book", "_budget", "_charge_add", "_fences", "_forced", "_key", "_markets",
                 "_max_open", "_queues", "_ring", "_settings", "_tracer", "_wall", "answers",
                 "ops", "outbox", "resolved")

    def __init__(self, queues: Queues, book: OrderBook, budget: Budget, fences: Fences,
                 tracer: Tracer, settings: EngineSettings, markets: Markets, *, key: str,
                 max_open: int, wall: Callable[[], float], ring: KeyRing | None = None) -> None:
        self._queues, self._book, self._budget, self._fences = queues, book, budget, fences
        self._ring = ring  # a key pool: an API counter and a wire slot per key
        self._tracer, self._settings, self._markets = tracer, settings, markets
        self._key, self._max_open, self._wall = key, max_open, wall
        self.outbox: list[tuple[Item, str, dict[str, Any]]] = []
        self.resolved: list[tuple[Item, Status, str]] = []
        self.answers: list[tuple[BudgetAnswer, Asked]] = []
        self.ops: list[Awaitable[None]] = []
        self._forced: dict[str, int] = {}  # pair -> batch-cancel charges forced on it so far
        # a budget whose open-order cap is shared (engine.shared) takes adds' slots with
        # their charge: charge_add(pair, cost, now, held, mine, n)
        self._charge_add: Callable[..., BudgetAnswer] | None = getattr(budget, "charge_add", None)

    def run(self, now: float) -> float:
        """Send what fits at ``now``; the earliest moment to look again."""
        q = self._queues
        lazy = q.lazy
        if lazy and lazy[0][0] <= now:
            q.ripen(now)
        wake = self._lanes(now)
        dirty, pair_wake = q.dirty, q.wake
        for pair, pq in q.pairs.items():
            if not len(pq):
                continue
            at = pair_wake.get(pair, -_INF)
            if at > now and pair not in dirty:
                wake = min(wake, at)  # nothing changed: its head still cannot fit before then
                continue
            at = pair_wake[pair] = self._pair(pair, pq, now)
            if at > now:  # -inf means "blocked on an event": a reply or an answer pumps again
                wake = min(wake, at)
        dirty.clear()
        if q.deadlines and q.deadlines[0][0] < wake:
            wake = q.deadlines[0][0]
        return lazy[0][0] if lazy and lazy[0][0] < wake else wake

    def _lanes(self, now: float) -> float:
        q, book, inflight = self._queues, self._book, self._budget.inflight
        lane = q.global_lane
        while lane.live and inflight.count < inflight.slots:
            item = lane.peek()
            assert item is not None
            intent = item.intent
            if isinstance(intent, CancelOrderBatch):
                if batch_waits(intent, book):
                    break  # an add it cancels is still on the wire: its reply pumps again
                hold = self._fences.earliest(batch_pairs(intent, book))
            else:
                hold = self._fences.earliest(self._fences.sent_pairs())
            if hold > now:
                return hold
            q.take(item)
            self._send_batch(item, now)
        lane = q.key_lane
        if KEY_LANE in q.charging or not lane.live:
            return _INF
        if now < q.key_wake:
            return q.key_wake
        if self._ring is not None:
            return self._pooled_queries(now)
        while lane.live and inflight.count < inflight.shared:
            item = lane.peek()
            assert item is not None
            endpoint, params = query_request(item.intent)  # type: ignore[arg-type]
            if not item.precharged:
                cost = float(api_cost(endpoint))
                answer = self._budget.charge_api(self._key, cost, now)
                if type(answer) is not Charge:
                    self._ask(answer, item, Asked(KEY_LANE, "api", endpoint, cost, _INF))
                    break
                if self._tracer.on:
                    self._tracer.charge(now, item.hid, "api", endpoint, cost, answer.level,
                                        answer.charged, answer.wait)
                if not answer.charged:  # looked at again at each pass (it is cheap)
                    return now + max(answer.wait, 1e-9)
                item.cost = cost
            item.precharged = False
            q.take(item)
            self._emit(item, endpoint, params, now)
        return _INF

    def _pooled_queries(self, now: float) -> float:
        """The key lane over a key pool: each head is charged on a key whose wire slot has
        room and whose API counter takes it (see :mod:`engine.core.apikeys`), and goes out
        on that key.  Returns when to look again (inf: a reply or an answer pumps)."""
        q, ring, inflight, lane = self._queues, self._ring, self._budget.inflight, \
            self._queues.key_lane
        assert ring is not None
        while lane.live and inflight.count < inflight.shared:
            item = lane.peek()
            assert item is not None
            endpoint, params = query_request(item.intent)  # type: ignore[arg-type]
            if item.precharged and item.key is not None:
                if not ring.has_room(item.key):
                    if item.key in ring.removed:  # its key left: charge again on another
                        item.precharged = False
                        continue
                    return _INF  # charged on that key: it waits for that key's wire
                key = item.key
            else:
                cost = float(api_cost(endpoint))
                found = None
                for k in ring.candidates(now):
                    answer = self._budget.charge_api(k, cost, now)
                    if type(answer) is not Charge:
                        item.key = k
                        self._ask(answer, item, Asked(KEY_LANE, "api", endpoint, cost, _INF))
                        return _INF
                    if self._tracer.on:
                        self._tracer.charge(now, item.hid, "api", endpoint, cost, answer.level,
                                            answer.charged, answer.wait)
                    if answer.charged:
                        found = k
                        break
                    ring.refused(k, now + max(answer.wait, 1e-9))
                if found is None:
                    return ring.next_ready()
                key, item.cost = found, cost
            item.precharged = False
            q.take(item)
            self._emit(item, endpoint, params, now, key)
        return _INF

    def done(self, item: Item) -> None:
        """``item``'s round trip is over: its key's wire slot has room again."""
        if self._ring is not None and item.key is not None:
            self._ring.done(item.key)

    def _pair(self, pair: str, pq: PairQueue[Item], now: float) -> float:
        if pair in self._queues.charging:
            return -_INF
        fence = self._fences.until(pair) if self._fences.latest > now else -_INF
        if fence > now:
            if self._tracer.keep:
                self._tracer.blocked(now, 0, pair, "fence", fence)
            return fence  # a batch cancel just left: let it arrive first
        inflight = self._budget.inflight
        cap = inflight.slots  # cancels may use every slot; the other classes the shared ones
        for lane in pq.classes:  # cancels, amends/edits, adds
            while lane.live:
                if inflight.count >= cap:
                    if self._tracer.keep:
                        head = lane.peek()
                        self._tracer.blocked(now, head.hid if head else 0, pair, "inflight")
                    return -_INF  # waiting for a slot: look again at the next pump
                item = lane.peek()
                assert item is not None
                wait = self._head(item, pair, now)
                if wait > 0.0:
                    return now + wait  # strict priority: lower classes wait behind it
                if wait == _CHARGING:
                    return -_INF
            cap = inflight.shared
        return _INF

    def _head(self, item: Item, pair: str, now: float) -> float:
        """Send the head ``item`` if it fits now (0), else the seconds until it may."""
        intent, rec, book = item.intent, item.order, self._book
        if rec is None:  # an add
            n = len(intent.orders) if isinstance(intent, AddOrderBatch) else 1
            if not book.room(pair, n, self._max_open):
                if self._tracer.keep:
                    self._tracer.blocked(now, item.hid, pair, "open_orders")
                return _INF  # woken when an order closes
            cost = float(add_batch_penalty(n)) if n > 1 else _ADD_COST
            held = self._budget.held(book.at_risk(pair) + sum(map(rests, orders_of(intent))))
            opens = (None if self._charge_add is None else
                     (book.open_count.get(pair, 0) + book.pending_adds.get(pair, 0), n))
            return self._charge(item, pair, cost, held, "add", now, _INF, opens)
        if rec.state is OrderState.CLOSED:
            self._queues.take(item)
            status = Status.COALESCED if isinstance(intent, CancelOrder) else Status.REJECTED
            self.resolved.append((item, status, "the order had already closed"))
            return 0.0
        if rec.busy:
            item.precharged = False  # the order's age may restart: charge again
            self._queues.park(item, rec)
            return 0.0
        age = rec.age(now)
        tx = _TRANSACTION[type(intent)]
        cheaper = next_cheaper_age(tx, age)
        if (tx is Transaction.CANCEL and not item.precharged and not item.ripe
                and not intent.urgent and cheaper is not None  # type: ignore[union-attr]
                and cheaper - age <= self._settings.lazy_cancel_patience):
            delay = max(cheaper - age, 1e-9)  # steps aside: still queued, holds nobody up
            self._queues.defer(item, now + delay)
            if self._tracer.on:
                self._tracer.defer(now, item.hid, pair, tx.value, delay)
            return 0.0
        # at least 1 ns: a bucket edge closer than the clock's float resolution would give a
        # timer at ``now`` itself, re-firing forever at the same virtual time
        alt = _INF if cheaper is None else max(cheaper - age, 1e-9)
        held = 0.0 if tx is Transaction.CANCEL else self._budget.held(book.at_risk(pair))
        return self._charge(item, pair, float(penalty(tx, age)), held, tx._value_, now, alt)

    def _charge(self, item: Item, pair: str, cost: float, held: float, kind: str, now: float,
                alt: float, opens: tuple[int, int] | None = None) -> float:
        """Charge the head ``item`` and send it (0), or the seconds to wait: until it fits,
        or ``alt`` (a cheaper age bucket), whichever is first."""
        if item.precharged and item.epoch != self._forced.get(pair, 0):
            item.precharged = False  # a batch cancel's charge came between: charge again
        if not item.precharged:
            answer = (self._budget.charge_trading(pair, cost, now, held) if opens is None
                      else self._charge_add(pair, cost, now, held, *opens))  # type: ignore[misc]
            if type(answer) is not Charge:
                epoch = self._forced.get(pair, 0)
                self._ask(answer, item, Asked(pair, pair, kind, cost, now + alt, epoch))
                return _CHARGING
            if self._tracer.on:
                self._tracer.charge(now, item.hid, pair, kind, cost, answer.level,
                                    answer.charged, answer.wait)
            if not answer.charged:
                wait = max(answer.wait, 1e-9)
                return wait if wait < alt else alt
            item.cost = cost
        item.precharged = False
        self._queues.take(item)
        self._send_pair(item, pair, now)
        return 0.0

    def _ask(self, answer: BudgetAnswer, item: Item, asked: Asked) -> None:
        self._queues.start_charging(item, asked.key)
        self.answers.append((answer, asked))

    def answered(self, asked: Asked, fut: asyncio.Future[Charge], now: float) -> None:
        """A budget answer came (the engine pumps next): a charged item leaves at the next
        pass; a refused one waits as the answer says (a failed budget: one second).

        A charged item not yet sent when a batch cancel forces its pair loses its charge
        (it is charged again: the model counts both, conservative): its fit was judged
        without the batch's units, which reach the exchange first."""
        q = self._queues
        item = q.end_charging(asked.key)
        err = fut.exception()
        if err is not None:
            _log.error("budget_failed", key=asked.key, error=repr(err))
        answer = Charge(False, 1.0, 0.0) if err is not None else fut.result()
        if item is None:
            return  # released meanwhile (coalesced, expired): what was charged stays charged
        if self._tracer.on:
            self._tracer.charge(now, item.hid, asked.label, asked.kind, asked.cost,
                                answer.level, answer.charged, answer.wait)
        if answer.charged:
            item.precharged, item.cost, item.epoch = True, asked.cost, asked.epoch
            if asked.key == KEY_LANE:
                q.key_wake = -_INF
            else:
                q.dirty.add(asked.key)
            return
        wake = min(now + max(answer.wait, 1e-9), max(asked.alt_at, now + 1e-9))
        if asked.key == KEY_LANE and self._ring is not None and item.key is not None:
            self._ring.refused(item.key, wake)  # the next pass tries the other keys
            item.key = None
            q.key_wake = -_INF
        elif asked.key == KEY_LANE:
            q.key_wake = wake
        else:
            q.wake[asked.key] = wake

    # -- sending ---------------------------------------------------------------------

    def _send_pair(self, item: Item, pair: str, now: float) -> None:
        intent, market, rec = item.intent, self._markets.get(pair), item.order
        if rec is not None:
            endpoint, params = change_request(intent, rec.ref, has_txid=rec.txid is not None,  # type: ignore[arg-type]
                                              rest_pair=market.altname)
            self._emit(item, endpoint, params, now)
            return
        endpoint, params, orders = add_request(intent, market.altname)  # type: ignore[arg-type]
        if self._settings.exchange_deadline and item.deadline is not None:
            ahead = item.deadline - now
            if 2.0 <= ahead <= 60.0:
                params["deadline"] = rfc3339(self._wall() + ahead)
        self._book.sending_add(pair, orders)
        self._emit(item, endpoint, params, now)

    def _send_batch(self, item: Item, now: float) -> None:
        """A CancelOrderBatch or CancelAll: no fit check (Kraken accepts them past the max),
        each pair forced the sum of its orders' cancel penalties, its pairs fenced."""
        book = self._book
        plan = plan_batch(item.intent, book, now, self._budget.trading_max)  # type: ignore[arg-type]
        for rec in plan.drops:  # their adds never left: drop them
            self._drop_from_add(rec)
        if plan.endpoint is None:
            self.resolved.append((item, Status.COALESCED, "no order of the batch was open"))
            return
        for rec in plan.targets:
            book.set_cancel_queued(rec, True)
        item.targets = plan.targets
        self._fences.raise_after(plan.pairs, now)
        for pair, c in plan.costs.items():
            self._forced[pair] = self._forced.get(pair, 0) + 1
            done = self._budget.force_trading(pair, c, now)
            if done is not None:
                self.ops.append(done)
        item.cost = sum(plan.costs.values())
        self._emit(item, plan.endpoint, plan.params, now)

    def _drop_from_add(self, rec: OrderRecord) -> None:
        add = drop_from_queued_add(rec, self._book, self._queues)
        if add is not None:
            self.resolved.append((add, Status.COALESCED, "cancelled before it was sent"))

    def _emit(self, item: Item, endpoint: str, params: dict[str, Any], now: float,
              key: str | None = None) -> None:
        """``item`` leaves: it holds a slot, its order is busy, its pair has sent; over a key
        pool it goes out on ``key`` (a query: the key charged), else the least busy key."""
        if self._ring is not None:
            item.key = key if key is not None else self._ring.pick()
            self._ring.sent(item.key)
        item.attempts += 1
        if item.sent_at is None:
            item.sent_at = now
        self._budget.inflight.take()
        if item.pair:
            self._fences.sent(item.pair, now)
        if item.order is not None:
            item.order.busy = True
        self.outbox.append((item, endpoint, params))
