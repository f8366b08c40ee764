"""Counter: a CounterSpec bound to a store; refused calls must leave the stored state alone."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limiters.counter import CounterSpec, CounterState
from limiters.errors import CostExceedsCapacity, InvalidAmount, LimiterError
from limiters.limiter import Counter
from limiters.store import CounterStore, MemoryStore

T = TypeVar("T")

SPEC = CounterSpec(maximum=20, decay=1.0, margin=2.0)  # capacity 18


def test_defaults() -> None:
    counter = Counter(SPEC)
    assert isinstance(counter.store, MemoryStore)
    assert counter.key == "counter"
    assert counter.spec is SPEC
    assert repr(counter) == "Counter(key='counter', max=20, decay=1/s)"
    assert counter.level(5.0) == 0.0


def test_charging_through_the_store() -> None:
    store = MemoryStore()
    counter = Counter(SPEC, store, "api:k1")
    result = counter.try_charge(10, 0.0)
    assert result.charged
    assert result.wait == 0.0
    assert counter.level(0.0) == 10.0
    assert counter.level(4.0) == 6.0
    assert counter.state(4.0) == CounterState(6.0, 4.0, 4.0)
    assert counter.fits(12, 4.0)
    assert not counter.fits(12.5, 4.0)
    assert counter.time_until_fits(14, 4.0) == pytest.approx(2.0)

    refused = counter.try_charge(14, 4.0)
    assert not refused.charged
    assert refused.wait == pytest.approx(2.0)
    assert counter.level(4.0) == 6.0

    counter.charge(30, 4.0)  # unconditional, like the exchange
    assert counter.level(4.0) == 36.0
    counter.resync(3.0, 5.0)
    assert counter.level(5.0) == 3.0
    counter.saturate(6.0)
    assert counter.level(6.0) == 20.0
    assert store.keys() == ["api:k1"]


def test_counters_sharing_a_store_and_key_share_state() -> None:
    store = MemoryStore()
    a = Counter(SPEC, store, "trade:XBT/USD")
    b = Counter(SPEC, store, "trade:XBT/USD")
    other = Counter(SPEC, store, "trade:ETH/USD")
    a.charge(5, 0.0)
    b.charge(5, 0.0)
    assert a.level(0.0) == b.level(0.0) == 10.0
    assert other.level(0.0) == 0.0


class RecordingStore:
    """A minimal CounterStore of our own: the Counter must need nothing more."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.calls: list[tuple[str, str, float]] = []

    def load(self, key: str, now: float) -> CounterState:
        self.calls.append(("load", key, now))
        return self.inner.load(key, now)

    def update(
        self, key: str, now: float, fn: Callable[[CounterState], tuple[CounterState, T]]
    ) -> T:
        self.calls.append(("update", key, now))
        return self.inner.update(key, now, fn)


def test_any_counter_store_works() -> None:
    store = RecordingStore()
    assert isinstance(store, CounterStore)
    counter = Counter(SPEC, store, "k")
    counter.try_charge(1, 1.0)
    counter.charge(1, 2.0)
    assert counter.level(2.0) == pytest.approx(1.0)
    assert [c[0] for c in store.calls] == ["update", "update", "load"]


BAD_NUMBERS: list[object] = [math.nan, math.inf, -math.inf, True, "1", None]

# method, arguments, error, the field its message starts with
REFUSED: list[tuple[str, tuple[object, ...], type[LimiterError], str]] = [
    *[("try_charge", (v, 1.0), InvalidAmount, "cost") for v in [*BAD_NUMBERS, -1.0]],
    *[("charge", (v, 1.0), InvalidAmount, "cost") for v in [*BAD_NUMBERS, -1.0]],
    *[("try_charge", (1, v), InvalidAmount, "now") for v in BAD_NUMBERS],
    *[("charge", (1, v), InvalidAmount, "now") for v in BAD_NUMBERS],
    *[("saturate", (v,), InvalidAmount, "now") for v in BAD_NUMBERS],
    *[("resync", (v, 1.0), InvalidAmount, "level") for v in [*BAD_NUMBERS, -0.5]],
    *[("resync", (1.0, v), InvalidAmount, "now") for v in BAD_NUMBERS],
    ("try_charge", (18.5, 1.0), CostExceedsCapacity, "cost"),
    ("fits", (19, 1.0), CostExceedsCapacity, "cost"),
    ("time_until_fits", (19, 1.0), CostExceedsCapacity, "cost"),
    ("fits", (math.nan, 1.0), InvalidAmount, "cost"),
    ("time_until_fits", (1, math.nan), InvalidAmount, "now"),
    ("level", (math.inf,), InvalidAmount, "now"),
    ("state", ("3",), InvalidAmount, "now"),
]


@pytest.mark.parametrize(
    ("method", "args", "error", "field"),
    REFUSED,
    ids=[f"{m}{a!r}" for m, a, _, _ in REFUSED],
)
def test_refused_calls_leave_the_state_unchanged(
    method: str, args: tuple[object, ...], error: type[LimiterError], field: str
) -> None:
    store = MemoryStore()
    counter = Counter(SPEC, store, "k")
    counter.charge(7, 0.0)
    before = store.load("k", 0.0)
    with pytest.raises(error) as info:
        getattr(counter, method)(*args)
    assert str(info.value).startswith(f"{field} ")
    assert store.load("k", 0.0) == before
    assert store.keys() == ["k"]


@pytest.mark.parametrize("cost", [math.nan, -1.0, 100.0])
def test_refused_call_on_a_new_key_stores_nothing(cost: float) -> None:
    store = MemoryStore()
    with pytest.raises(LimiterError):
        Counter(SPEC, store, "fresh").try_charge(cost, 0.0)
    assert store.keys() == []


@given(
    charges=st.lists(
        st.tuples(st.floats(0, 5), st.floats(0, 18)), min_size=1, max_size=10
    ),
    bad=st.sampled_from([math.nan, math.inf, -1.0, 18.01, 1e9]),
)
def test_refusals_never_change_state_after_any_history(
    charges: list[tuple[float, float]], bad: float
) -> None:
    store = MemoryStore()
    counter = Counter(SPEC, store, "k")
    now = 0.0
    for dt, cost in charges:
        now += dt
        counter.try_charge(cost, now)
    before = store.load("k", now)
    with pytest.raises(LimiterError):
        counter.try_charge(bad, now + 1.0)
    assert store.load("k", now) == before
