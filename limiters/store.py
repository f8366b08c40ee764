"""Where counter state lives between calls.

Callers never hold a :class:`~limiters.counter.CounterState` themselves: they go through a
:class:`CounterStore`, whose :meth:`~CounterStore.update` is an atomic read-modify-write.
:class:`MemoryStore` keeps state in a dict for one process.  A store shared by several
processes on one API key (Redis: a ``WATCH``/``MULTI`` transaction or a Lua script around
the same pure functions) implements the same protocol, so callers do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from limiters.counter import ChargeResult, CounterSpec, CounterState

__all__ = ["CounterStore", "MemoryStore"]

T = TypeVar("T")


@runtime_checkable
class CounterStore(Protocol):
    """Holds :class:`CounterState` by key (for example ``"api:<key id>"``, ``"trade:XBT/USD"``)."""

    def load(self, key: str, now: float) -> CounterState:
        """The stored state, or an empty counter as of ``now`` if the key is new."""
        ...

    def update(
        self, key: str, now: float, fn: Callable[[CounterState], tuple[CounterState, T]]
    ) -> T:
        """Atomically replace the state with ``fn(state)[0]`` and return ``fn(state)[1]``."""
        ...


class MemoryStore:
    """An in-process :class:`CounterStore` (a dict; atomic because the engine is one thread)."""

    __slots__ = ("_states",)

    def __init__(self) -> None:
        self._states: dict[str, CounterState] = {}

    def load(self, key: str, now: float) -> CounterState:
        state = self._states.get(key)
        return state if state is not None else CounterState.empty(now)

    def update(
        self, key: str, now: float, fn: Callable[[CounterState], tuple[CounterState, T]]
    ) -> T:
        new_state, result = fn(self.load(key, now))
        self._states[key] = new_state
        return result

    def try_charge(self, key: str, spec: CounterSpec, cost: float, now: float) -> ChargeResult:
        """``spec.try_charge`` on the state under ``key``, whose new state is kept: what
        :meth:`update` does with that step, without a closure per charge (a hot path)."""
        state = self._states.get(key)
        r = spec.try_charge(state if state is not None else CounterState.empty(now), cost, now)
        self._states[key] = r.state
        return r

    def keys(self) -> list[str]:
        """Keys that hold state."""
        return list(self._states)

    def __repr__(self) -> str:
        return f"MemoryStore(keys={len(self._states)})"
