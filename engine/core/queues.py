"""Every intent the engine holds unsent, where it is held, and the one count of them.

:class:`Queues` is the only owner of the queued count.  An item is *held* in exactly one
place (:class:`~engine.core.items.Where`): a lane (one pair's priority classes, the global
lane of batch cancels, the key lane of private queries), parked on its order, deferred (a
lazy cancel), or charging (its budget answer is on its way).  Every method moves an item
between those places or in and out of the held set, and only leaving the held set lowers
the count -- so the count equals the number of held items and cannot go below zero (a
negative count raises at once rather than leaving ``drain`` waiting forever).

Per pair it also keeps what the pump needs to skip work: ``wake`` (the earliest moment the
pair's head may fit, seconds on the engine clock) and ``dirty`` (pairs whose situation
changed since the last pump).  Deadlines and lazy cancels sit in two heaps.
"""

from __future__ import annotations

import heapq
import math

from engine.core.items import PRIORITY_OF, Item, Where
from engine.core.lanes import ClassQueue, PairQueue, Priority
from engine.core.orders import OrderRecord

__all__ = ["KEY_LANE", "ClassQueue", "PairQueue", "Priority", "Queues"]

#: The ``charging`` key of the key lane (pairs use their names).
KEY_LANE = ""

_INF = math.inf


class Queues:
    """The engine's unsent items and the queued count (see the module docstring)."""

    __slots__ = ("_count", "_parked", "charging", "deadlines", "dirty", "global_lane",
                 "key_lane", "key_wake", "lazy", "pairs", "wake")

    def __init__(self) -> None:
        self.pairs: dict[str, PairQueue[Item]] = {}
        self.global_lane: ClassQueue[Item] = ClassQueue()  # batch cancels, CancelAll
        self.key_lane: ClassQueue[Item] = ClassQueue()  # private queries (API counter)
        self._parked: dict[OrderRecord, list[Item]] = {}
        # heaps of (time, hid, item), read by the pump, changed only here
        self.lazy: list[tuple[float, int, Item]] = []  # deferred lazy cancels
        self.deadlines: list[tuple[float, int, Item]] = []
        self.charging: dict[str, Item] = {}  # pair (or KEY_LANE) -> item awaiting its budget
        self.dirty: set[str] = set()
        self.wake: dict[str, float] = {}  # pair -> earliest moment its head may fit
        self.key_wake = -_INF  # the key lane's head cannot fit before then
        self._count = 0

    @property
    def queued(self) -> int:
        """Items held: in a lane, parked, deferred or charging."""
        return self._count

    # -- entering and leaving the held set ---------------------------------------------

    def _hold(self, item: Item, where: Where, *, new: bool) -> None:
        if item.where is not Where.OUT:
            raise RuntimeError(f"item #{item.hid} is already held ({item.where.name})")
        item.where = where
        item.live = True
        self._count += 1
        if new and item.deadline is not None:
            heapq.heappush(self.deadlines, (item.deadline, item.hid, item))

    def _release(self, item: Item) -> None:
        item.where = Where.OUT
        item.live = False
        self._count -= 1
        if self._count < 0:
            raise RuntimeError("the queued count went negative")

    def _lane_of(self, item: Item) -> ClassQueue[Item]:
        q = self.pairs.get(item.pair)
        if q is None:
            q = self.pairs[item.pair] = PairQueue()
        return q[item.priority]

    def enqueue(self, item: Item, priority: Priority) -> None:
        """Hold a new item at the back of its pair's ``priority`` class."""
        item.priority = priority
        q = self.pairs.get(item.pair)
        if q is None:
            q = self.pairs[item.pair] = PairQueue()
        if item.where is not Where.OUT:
            raise RuntimeError(f"item #{item.hid} is already held ({item.where.name})")
        item.lane = lane = q[priority]
        lane.push(item)
        item.where = Where.LANE  # held: the count goes up (as in _hold)
        item.live = True
        self._count += 1
        if item.deadline is not None:
            heapq.heappush(self.deadlines, (item.deadline, item.hid, item))
        self.dirty.add(item.pair)

    def enqueue_lane(self, item: Item, lane: ClassQueue[Item]) -> None:
        """Hold a new item at the back of the global or the key lane."""
        item.lane = lane
        lane.push(item)
        self._hold(item, Where.LANE, new=True)
        if lane is self.key_lane:
            self.key_wake = -_INF

    def requeue_front(self, item: Item) -> None:
        """Hold again, at the front of its lane, an item whose request was refused."""
        assert item.lane is not None
        item.lane.push_front(item)
        self._hold(item, Where.LANE, new=False)
        if item.lane is self.key_lane:
            self.key_wake = -_INF
        else:
            self.dirty.add(item.pair)

    def take(self, item: Item) -> None:
        """Release the head of its lane: it is being sent (or resolved without a request)."""
        lane = item.lane
        if item.where is not Where.LANE or lane is None or lane.pop() is not item:
            raise RuntimeError(f"item #{item.hid} is not the head of its lane")
        item.where = Where.OUT  # released: the count goes down (as in _release)
        item.live = False
        self._count -= 1
        if self._count < 0:
            raise RuntimeError("the queued count went negative")

    def drop(self, item: Item) -> bool:
        """Release ``item`` wherever it is held (coalesced, expired, failed); False if it
        was not held.  A lane keeps it as a dead entry, skipped when it reaches the front."""
        where = item.where
        if where is Where.OUT:
            return False
        if where is Where.LANE:
            assert item.lane is not None
            item.lane.discard()
        elif where is Where.PARKED:
            assert item.order is not None
            self._parked[item.order].remove(item)
        self._release(item)  # DEFERRED / CHARGING: their heap or slot entry goes stale
        return True

    def _pop_head(self, item: Item) -> None:
        if item.where is not Where.LANE or item.lane is None:
            raise RuntimeError(f"item #{item.hid} is not in a lane ({item.where.name})")
        popped = item.lane.pop()
        if popped is not item:
            raise RuntimeError(f"item #{item.hid} is not the head of its lane")

    # -- moving between places -------------------------------------------------------

    def park(self, item: Item, rec: OrderRecord) -> None:
        """Hold ``item`` (new, or the head of its lane) until ``rec`` is ready for it."""
        item.priority = PRIORITY_OF[type(item.intent)]
        if item.where is Where.LANE:
            self._pop_head(item)
            item.where = Where.PARKED
        else:
            self._hold(item, Where.PARKED, new=True)
        item.lane = None
        self._parked.setdefault(rec, []).append(item)

    def unpark(self, rec: OrderRecord) -> None:
        """Return the items parked on ``rec`` to the front of their lanes, in order."""
        parked = self._parked.pop(rec, None)
        if not parked:
            return
        self.dirty.add(rec.pair)
        for item in reversed(parked):
            if item.where is not Where.PARKED:
                continue
            item.lane = lane = self._lane_of(item)
            lane.push_front(item)
            item.where = Where.LANE

    def settle(self, rec: OrderRecord) -> list[Item]:
        """Release the items parked on ``rec`` (its order is gone); the caller resolves them."""
        parked = self._parked.pop(rec, None)
        if not parked:
            return []
        out = [i for i in parked if i.where is Where.PARKED]
        for item in out:
            self._release(item)
        return out

    def defer(self, item: Item, until: float) -> None:
        """Move the head ``item`` (a lazy cancel) aside until ``until``: it holds nobody up."""
        self._pop_head(item)
        item.where = Where.DEFERRED
        item.lane = None
        heapq.heappush(self.lazy, (until, item.hid, item))

    def ripen(self, now: float) -> None:
        """Lazy cancels whose moment came go to the front of their pair's cancel class."""
        lazy = self.lazy
        while lazy and lazy[0][0] <= now:
            item = heapq.heappop(lazy)[2]
            if item.where is Where.DEFERRED:
                item.ripe = True
                item.lane = lane = self._lane_of(item)
                lane.push_front(item)
                item.where = Where.LANE
                self.dirty.add(item.pair)

    def start_charging(self, item: Item, key: str) -> None:
        """Take the head ``item`` aside while its budget answer is on its way; ``key`` (its
        pair, or :data:`KEY_LANE`) is blocked meanwhile."""
        self._pop_head(item)
        item.where = Where.CHARGING
        self.charging[key] = item

    def end_charging(self, key: str) -> Item | None:
        """The answer for ``key`` came: its item back at the front of its lane, or None if
        it was released meanwhile (coalesced, expired, failed)."""
        item = self.charging.pop(key)
        if item.where is not Where.CHARGING:
            return None
        assert item.lane is not None
        item.lane.push_front(item)
        item.where = Where.LANE
        return item

    # -- time ------------------------------------------------------------------------

    def expire(self, now: float) -> list[Item]:
        """Release the items whose deadline is ``now`` or earlier; the caller resolves them."""
        out = []
        deadlines = self.deadlines
        while deadlines and deadlines[0][0] <= now:
            item = heapq.heappop(deadlines)[2]
            if self.drop(item):
                out.append(item)
                if item.pair:
                    self.dirty.add(item.pair)
        return out

    def next_due(self) -> float:
        """The earliest deadline or lazy-cancel moment held (inf when none)."""
        at = self.deadlines[0][0] if self.deadlines else _INF
        return min(at, self.lazy[0][0]) if self.lazy else at

    def due(self, now: float) -> bool:
        """Whether a deadline is due at ``now``."""
        return bool(self.deadlines) and self.deadlines[0][0] <= now

    # -- reading ---------------------------------------------------------------------

    def queued_on(self, rec: OrderRecord) -> list[Item]:
        """Held, unsent items about ``rec``: parked, deferred, charging, or in its pair's
        cancel and amend/edit classes."""
        parked = self._parked.get(rec)
        found = [] if parked is None else [i for i in parked if i.where is Where.PARKED]
        if self.lazy:
            found.extend(e[2] for e in self.lazy
                         if e[2].where is Where.DEFERRED and e[2].order is rec)
        charging = self.charging.get(rec.pair)
        if charging is not None and charging.where is Where.CHARGING and charging.order is rec:
            found.append(charging)
        q = self.pairs.get(rec.pair)
        if q is not None:
            for lane in q.classes[:2]:  # cancels, amends/edits (adds name no open order)
                if lane.live:
                    found.extend(i for i in lane if i.order is rec)
        return found

    def drain_all(self) -> list[Item]:
        """Release every held item (shutdown, lockout); the caller resolves them."""
        held: list[Item] = [*self.global_lane, *self.key_lane]
        for q in self.pairs.values():
            for lane in q.classes:
                held.extend(lane)
        for items in self._parked.values():
            held.extend(i for i in items if i.where is Where.PARKED)
        held.extend(e[2] for e in self.lazy if e[2].where is Where.DEFERRED)
        held.extend(i for i in self.charging.values() if i.where is Where.CHARGING)
        for item in held:
            self.drop(item)
        self._parked.clear()
        self.lazy.clear()
        return held

    def touch_all(self) -> None:
        """Every pair's situation may have changed (a request slot freed, the cap moved)."""
        self.dirty.update(self.pairs)
        self.key_wake = -_INF

    def depths(self) -> dict[str, int]:
        """Items in each pair's lanes (parked, deferred and charging ones not included)."""
        out = {}
        for p, q in sorted(self.pairs.items()):
            c = q.classes  # len(q), inline: a sampler asks every sample
            out[p] = c[0].live + c[1].live + c[2].live
        return out

    def __repr__(self) -> str:
        return f"Queues(queued={self._count}, pairs={len(self.pairs)})"
