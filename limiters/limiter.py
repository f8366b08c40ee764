"""A named counter bound to a store: the object the engine charges requests against."""

from __future__ import annotations

from limiters.counter import ChargeResult, CounterSpec, CounterState
from limiters.store import CounterStore, MemoryStore

__all__ = ["Counter"]


class Counter:
    """A :class:`CounterSpec` whose state lives in ``store`` under ``key``.

    Every method takes ``now`` (seconds on the caller's clock) and is otherwise pure
    arithmetic over the stored state; see :mod:`limiters.counter` for the model.
    """

    __slots__ = ("key", "spec", "store")

    def __init__(
        self, spec: CounterSpec, store: CounterStore | None = None, key: str = "counter"
    ) -> None:
        self.spec = spec
        self.store: CounterStore = store if store is not None else MemoryStore()
        self.key = key

    def state(self, now: float) -> CounterState:
        """The state decayed to ``now``."""
        return self.spec.advance(self.store.load(self.key, now), now)

    def level(self, now: float) -> float:
        """Level (counter units) at ``now``."""
        return self.state(now).level

    def fits(self, cost: float, now: float) -> bool:
        """Whether ``cost`` fits under the capacity at ``now``."""
        return self.spec.fits(self.store.load(self.key, now), cost, now)

    def time_until_fits(self, cost: float, now: float) -> float:
        """Seconds from ``now`` until ``cost`` fits (0 if it fits now)."""
        return self.spec.time_until_fits(self.store.load(self.key, now), cost, now)

    def try_charge(self, cost: float, now: float) -> ChargeResult:
        """Charge ``cost`` if it fits now; otherwise report how long to wait."""

        def step(s: CounterState) -> tuple[CounterState, ChargeResult]:
            r = self.spec.try_charge(s, cost, now)
            return r.state, r

        return self.store.update(self.key, now, step)

    def charge(self, cost: float, now: float) -> None:
        """Charge ``cost`` whether or not it fits (what the exchange did anyway)."""
        self.store.update(self.key, now, lambda s: (self.spec.charge(s, cost, now), None))

    def saturate(self, now: float) -> None:
        """Set the level to the maximum (the estimate proved wrong: an unexpected refusal)."""
        self.store.update(self.key, now, lambda s: (self.spec.saturate(s, now), None))

    def resync(self, level: float, now: float) -> None:
        """Adopt a level the exchange published (counter units)."""
        self.store.update(self.key, now, lambda s: (self.spec.resync(s, level, now), None))

    def __repr__(self) -> str:
        s = self.spec
        return f"Counter(key={self.key!r}, max={s.maximum:g}, decay={s.decay:g}/s)"
