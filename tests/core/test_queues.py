"""Queues: the one owner of the queued count.  Whatever the order of operations -- queue,
park, take, drop, defer, ripen, charge, requeue, expire, settle, fail all -- the count
equals the items held, every lane's live count equals its held items, and nothing goes
below zero."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine.core.items import Item, Where
from engine.core.lanes import Priority
from engine.core.orders import OrderRecord, OrderState
from engine.core.queues import KEY_LANE, Queues
from engine.intents import AddOrder, AmendOrder, CancelOrder, QueryBalance

from .streams import examples

PAIRS = ("XBT/USD", "ETH/USD")


def make_item(hid: int, intent: Any, strategy: str = "s") -> Item:
    return Item(SimpleNamespace(id=hid, intent=intent, strategy=strategy), 0.0)  # type: ignore[arg-type]


class QueuesMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.q = Queues()
        self.recs = [OrderRecord(f"o{i}", PAIRS[i % 2], OrderState.OPEN) for i in range(4)]
        self.items: list[Item] = []
        self.sent: list[Item] = []  # taken out to be sent: a refusal may requeue them
        self.now = 0.0

    def _new(self, intent: Any, strategy: str) -> Item:
        item = make_item(len(self.items) + 1, intent, strategy)
        self.items.append(item)
        return item

    def _held(self) -> list[Item]:
        return [i for i in self.items if i.where is not Where.OUT]

    def _heads(self) -> list[Item]:
        out = []
        for pq in self.q.pairs.values():
            for lane in pq.classes:
                head = lane.peek()
                if head is not None:
                    out.append(head)
        for lane in (self.q.global_lane, self.q.key_lane):
            head = lane.peek()
            if head is not None:
                out.append(head)
        return out

    @rule(pair=st.sampled_from(PAIRS), strategy=st.sampled_from("ab"),
          deadline=st.sampled_from([None, 1.0, 5.0]))
    def add(self, pair: str, strategy: str, deadline: float | None) -> None:
        item = self._new(AddOrder(pair, "buy", "1", "1", deadline=deadline), strategy)
        item.pair = pair
        self.q.enqueue(item, Priority.ADD)

    @rule(r=st.integers(0, 3), cancel=st.booleans(), strategy=st.sampled_from("ab"),
          deadline=st.sampled_from([None, 2.0]))
    def change(self, r: int, cancel: bool, strategy: str, deadline: float | None) -> None:
        rec = self.recs[r]
        intent = (CancelOrder(rec.cl_ord_id, deadline=deadline) if cancel
                  else AmendOrder(rec.cl_ord_id, price="2", deadline=deadline))
        item = self._new(intent, strategy)
        item.pair, item.order = rec.pair, rec
        self.q.enqueue(item, Priority.CANCEL if cancel else Priority.MODIFY)

    @rule(r=st.integers(0, 3))
    def park_new(self, r: int) -> None:
        rec = self.recs[r]
        item = self._new(AmendOrder(rec.cl_ord_id, volume="3"), "a")
        item.pair, item.order = rec.pair, rec
        self.q.park(item, rec)

    @rule(key=st.booleans())
    def add_lane(self, key: bool) -> None:
        item = self._new(QueryBalance(), "a")
        self.q.enqueue_lane(item, self.q.key_lane if key else self.q.global_lane)

    @precondition(lambda self: bool(self._heads()))
    @rule(data=st.data(), what=st.sampled_from(["take", "park", "defer", "charge"]))
    def head(self, data: st.DataObject, what: str) -> None:
        item = data.draw(st.sampled_from(self._heads()))
        rec = item.order
        if what == "park" and rec is not None:
            self.q.park(item, rec)
        elif what == "defer" and isinstance(item.intent, CancelOrder):
            self.q.defer(item, self.now + 1.0)
        elif what == "charge":
            key = item.pair if item.pair else KEY_LANE
            if key in self.q.charging or item.lane is self.q.global_lane:
                return
            self.q.start_charging(item, key)
        else:
            self.q.take(item)
            self.sent.append(item)

    @precondition(lambda self: bool(self.q.charging))
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.q.charging)))
        item = self.q.end_charging(key)
        assert item is None or item.where is Where.LANE

    @precondition(lambda self: bool(self.items))
    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(self.items))
        was = item.where is not Where.OUT
        assert self.q.drop(item) is was
        if item in self.sent:
            self.sent.remove(item)

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(self.sent))
        self.sent.remove(item)
        self.q.requeue_front(item)

    @rule(r=st.integers(0, 3), settle=st.booleans())
    def order_ready(self, r: int, settle: bool) -> None:
        rec = self.recs[r]
        if settle:
            for item in self.q.settle(rec):
                assert item.where is Where.OUT
        else:
            self.q.unpark(rec)

    @rule(dt=st.sampled_from([0.5, 1.0, 3.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.q.ripen(self.now)
        for item in self.q.expire(self.now):
            assert item.where is Where.OUT

    @rule()
    def fail_all(self) -> None:
        self.q.drain_all()
        assert self.q.queued == 0

    @invariant()
    def count_is_the_items_held(self) -> None:
        held = self._held()
        assert self.q.queued == len(held) >= 0
        assert all(i.live is (i.where is not Where.OUT) for i in self.items)
        for pq in self.q.pairs.values():
            for lane in pq.classes:
                assert lane.live == sum(1 for _ in lane)
        assert self.q.key_lane.live == sum(1 for _ in self.q.key_lane)
        in_lanes = sum(len(pq) for pq in self.q.pairs.values()) + len(self.q.global_lane) + len(
            self.q.key_lane)
        assert in_lanes == sum(1 for i in held if i.where is Where.LANE)
        assert self.q.next_due() >= 0.0 or not math.isfinite(self.q.next_due())


QueuesMachine.TestCase.settings = settings(max_examples=examples(0.5, at_least=50), deadline=None,
                                           stateful_step_count=40)
TestQueues = QueuesMachine.TestCase


def test_moving_an_item_that_is_not_the_head_is_refused() -> None:
    q = Queues()
    first, second = make_item(1, AddOrder("XBT/USD", "buy", "1", "1")), make_item(
        2, AddOrder("XBT/USD", "buy", "1", "1"))
    for i in (first, second):
        i.pair = "XBT/USD"
        q.enqueue(i, Priority.ADD)
    with pytest.raises(RuntimeError, match="not the head"):
        q.take(second)
    with pytest.raises(RuntimeError, match="already held"):
        q.enqueue(first, Priority.ADD)
    assert q.queued == 2


def test_releasing_more_than_was_held_raises_instead_of_going_negative() -> None:
    q = Queues()
    item = make_item(1, QueryBalance())
    q.enqueue_lane(item, q.key_lane)
    q.take(item)
    item.where = Where.DEFERRED  # a bookkeeping bug elsewhere, simulated
    with pytest.raises(RuntimeError, match="negative"):
        q.drop(item)
