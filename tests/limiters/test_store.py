"""MemoryStore: the in-process CounterStore."""

from __future__ import annotations

import pytest

from limiters.counter import CounterState
from limiters.store import CounterStore, MemoryStore


def test_memory_store_is_a_counter_store() -> None:
    assert isinstance(MemoryStore(), CounterStore)


def test_unknown_key_loads_an_empty_counter_without_storing_it() -> None:
    store = MemoryStore()
    assert store.load("api:key", 12.5) == CounterState(0.0, 12.5, 12.5)
    assert store.keys() == []
    assert repr(store) == "MemoryStore(keys=0)"


def test_update_replaces_the_state_and_returns_the_result() -> None:
    store = MemoryStore()
    seen: list[CounterState] = []

    def fn(state: CounterState) -> tuple[CounterState, str]:
        seen.append(state)
        return CounterState(state.level + 2.0, 3.0, 3.0), "done"

    assert store.update("trade:XBT/USD", 1.0, fn) == "done"
    assert seen == [CounterState(0.0, 1.0, 1.0)]
    assert store.load("trade:XBT/USD", 99.0) == CounterState(2.0, 3.0, 3.0)
    assert store.update("trade:XBT/USD", 4.0, fn) == "done"
    assert seen[-1] == CounterState(2.0, 3.0, 3.0)  # the stored state, not a new one
    assert store.load("trade:XBT/USD", 0.0).level == 4.0
    assert store.keys() == ["trade:XBT/USD"]
    assert repr(store) == "MemoryStore(keys=1)"


def test_keys_are_independent() -> None:
    store = MemoryStore()
    store.update("a", 0.0, lambda s: (CounterState(5.0, 0.0, 0.0), None))
    store.update("b", 0.0, lambda s: (CounterState(7.0, 0.0, 0.0), None))
    assert store.load("a", 0.0).level == 5.0
    assert store.load("b", 0.0).level == 7.0
    assert sorted(store.keys()) == ["a", "b"]


def test_a_failing_update_leaves_the_state_unchanged() -> None:
    store = MemoryStore()
    store.update("k", 0.0, lambda s: (CounterState(5.0, 1.0, 1.0), None))

    def boom(state: CounterState) -> tuple[CounterState, None]:
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        store.update("k", 2.0, boom)
    with pytest.raises(RuntimeError, match="refused"):
        store.update("new", 2.0, boom)
    assert store.load("k", 3.0) == CounterState(5.0, 1.0, 1.0)
    assert store.keys() == ["k"]
