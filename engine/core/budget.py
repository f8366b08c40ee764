"""The budget: what the rate limits allow, and what has been spent.

A :class:`Budget` holds the counters (a trading counter per pair, an API counter per key),
their specs, the cancel reserve, running totals (:class:`~engine.core.metrics.PairStats`)
and the in-flight cap.  The engine asks it, per request, "charge ``cost`` units if they fit"
and gets a :class:`Charge` back.

Units: counter units for costs and levels, seconds for ``now`` and waits.

**The seam for a shared store.**  The counters may live in another process (Redis: one
atomic server-side step per decision).  So every decision may answer *later*: the charge
methods return either a :class:`Charge` at once (:class:`MemoryBudget`, what backtests use:
no awaits on the hot path) or an awaitable of one; ``force``, ``saturate`` and ``resync``
return ``None`` or an awaitable.  The engine handles both (``engine.core.engine``): while a
charge is on its way the pair (or the key lane) waits, and its item keeps its place.  A
remote budget must apply the operations of one engine in the order they were issued.

**The cancel reserve.**  Adds, amends and edits may fill a pair's trading counter only to
``capacity - held`` where ``held = min(reserve, 8 * n)``: ``reserve = max(cancel_reserve *
capacity, min_cancel_reserve)`` units, ``8`` the dearest cancel (a brand-new order), ``n``
the orders on the pair a cancel may be wanted for (the caller counts them: open, of unknown
fate, or resting adds on the wire).  Cancels may use the whole capacity.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import NamedTuple, Protocol

from engine.core.inflight import InflightCap
from engine.core.metrics import PairStats
from engine.core.settings import EngineSettings
from engine.errors import InvalidIntent
from limiters import Counter, CounterSpec, CounterState, KrakenProfile, Transaction, penalty
from limiters.store import CounterStore, MemoryStore

__all__ = ["Budget", "BudgetAnswer", "Charge", "Done", "MemoryBudget", "cancel_reserve"]


class Charge(NamedTuple):
    """A budget's answer to "charge ``cost`` if it fits"."""

    charged: bool
    wait: float  # seconds until the cost may fit (0.0 when charged)
    level: float  # the counter's level (units): after the charge, or now when refused


#: What a charge method returns: the answer now, or an awaitable of it.
BudgetAnswer = Charge | Awaitable[Charge]
#: What ``force``/``saturate``/``resync`` return: nothing, or an awaitable to wait for.
Done = Awaitable[None] | None


class Budget(Protocol):
    """The engine's rate budget (see the module docstring).  Keys of stats: pair names,
    and ``"api"`` for the API counter."""

    inflight: InflightCap
    stats: dict[str, PairStats]
    reserve: float  # units kept for cancels on a pair (at most)

    @property
    def trading_max(self) -> float: ...

    @property
    def api_max(self) -> float: ...

    def held(self, at_risk: int) -> float:
        """Units adds, amends and edits leave free on a pair with ``at_risk`` orders."""
        ...

    def charge_trading(self, pair: str, cost: float, now: float, held: float) -> BudgetAnswer:
        """Charge ``cost`` on ``pair``'s trading counter if it fits under ``capacity - held``."""
        ...

    def charge_api(self, key: str, cost: float, now: float) -> BudgetAnswer:
        """Charge ``cost`` on API key ``key``'s counter if it fits."""
        ...

    def force_trading(self, pair: str, cost: float, now: float) -> Done:
        """Charge without a fit check (batch cancels: Kraken accepts them past the max)."""
        ...

    def saturate_trading(self, pair: str, now: float) -> Done:
        """An unexpected rate-limit reply: the counter is full."""
        ...

    def saturate_api(self, key: str, now: float) -> Done: ...

    def resync_trading(self, pair: str, level: float, now: float) -> Done:
        """Adopt the level the exchange published."""
        ...

    def trading_level(self, pair: str, now: float) -> float:
        """The level as last known here (a remote budget may answer from a cache)."""
        ...

    def api_level(self, key: str, now: float) -> float: ...


def cancel_reserve(profile: KrakenProfile, settings: EngineSettings) -> float:
    """The reserve in units: ``max(cancel_reserve * capacity, min_cancel_reserve)``; it must
    leave at least one unit for adds (else :class:`InvalidIntent`)."""
    trading = profile.trading
    reserve = max(settings.cancel_reserve * trading.capacity, settings.min_cancel_reserve)
    if reserve >= trading.capacity - 1.0:
        raise InvalidIntent("cancel_reserve", reserve, "leaving room for adds under the max")
    return reserve


class MemoryBudget:
    """A :class:`Budget` in this process, over a :class:`~limiters.store.CounterStore`
    (keys ``trade:<pair>`` and ``api:<key>``).  Every answer is immediate."""

    __slots__ = ("_api", "_cancel_max", "_held_specs", "_keys", "_memory", "_store",
                 "_trading", "inflight", "reserve", "stats")

    def __init__(self, profile: KrakenProfile, settings: EngineSettings,
                 store: CounterStore | None = None) -> None:
        self._store: CounterStore = store if store is not None else MemoryStore()
        # an in-process store is charged in place (no step closure per charge)
        self._memory = self._store if type(self._store) is MemoryStore else None
        self._trading: CounterSpec = profile.trading
        self._api: CounterSpec = profile.api
        self.reserve = cancel_reserve(profile, settings)
        self._cancel_max = float(penalty(Transaction.CANCEL, 0.0))  # a brand-new order
        self._held_specs: dict[float, CounterSpec] = {0.0: self._trading}
        self._keys: dict[str, str] = {}
        self.inflight = InflightCap(settings.max_inflight)
        self.stats: dict[str, PairStats] = {}

    @property
    def trading_max(self) -> float:
        return self._trading.maximum

    @property
    def api_max(self) -> float:
        return self._api.maximum

    @property
    def store(self) -> CounterStore:
        return self._store

    def held(self, at_risk: int) -> float:
        return min(self.reserve, at_risk * self._cancel_max)

    def _trade_key(self, pair: str) -> str:
        k = self._keys.get(pair)
        if k is None:
            k = self._keys[pair] = f"trade:{pair}"
        return k

    def _spec(self, held: float) -> CounterSpec:
        spec = self._held_specs.get(held)
        if spec is None:
            t = self._trading
            spec = self._held_specs[held] = t.with_margin(t.margin + held)
        return spec

    def _try(self, key: str, spec: CounterSpec, cost: float, now: float, stat: str) -> Charge:
        def step(s: CounterState) -> tuple[CounterState, Charge]:
            r = spec.try_charge(s, cost, now)
            return r.state, Charge(r.charged, r.wait, r.state.level)

        answer = self._store.update(key, now, step)
        if answer.charged:
            st = self.stats.get(stat)
            (st if st is not None else self._stat(stat)).record(now, cost, answer.level)
        return answer

    def charge_trading(self, pair: str, cost: float, now: float, held: float) -> Charge:
        key = self._keys.get(pair)
        spec = self._held_specs.get(held)
        if spec is None:
            spec = self._spec(held)
        if key is None:
            key = self._trade_key(pair)
        if self._memory is not None:
            r = self._memory.try_charge(key, spec, cost, now)
            answer = Charge(r.charged, r.wait, r.state.level)
        else:
            s = spec  # bound for the step below

            def step(state: CounterState) -> tuple[CounterState, Charge]:
                r = s.try_charge(state, cost, now)
                return r.state, Charge(r.charged, r.wait, r.state.level)

            answer = self._store.update(key, now, step)
        if answer.charged:
            st = self.stats.get(pair)
            (st if st is not None else self._stat(pair)).record(now, cost, answer.level)
        return answer

    def charge_api(self, key: str, cost: float, now: float) -> Charge:
        return self._try(f"api:{key}", self._api, cost, now, "api")

    def force_trading(self, pair: str, cost: float, now: float) -> None:
        spec = self._trading

        def step(s: CounterState) -> tuple[CounterState, float]:
            new = spec.charge(s, cost, now)
            return new, new.level

        level = self._store.update(self._trade_key(pair), now, step)
        self._stat(pair).record(now, cost, level)

    def saturate_trading(self, pair: str, now: float) -> None:
        spec = self._trading
        self._store.update(self._trade_key(pair), now, lambda s: (spec.saturate(s, now), None))

    def saturate_api(self, key: str, now: float) -> None:
        spec = self._api
        self._store.update(f"api:{key}", now, lambda s: (spec.saturate(s, now), None))

    def resync_trading(self, pair: str, level: float, now: float) -> None:
        spec = self._trading
        self._store.update(self._trade_key(pair), now,
                           lambda s: (spec.resync(s, level, now), None))

    def trading_level(self, pair: str, now: float) -> float:
        return self._trading.level(self._store.load(self._trade_key(pair), now), now)

    def api_level(self, key: str, now: float) -> float:
        return self._api.level(self._store.load(f"api:{key}", now), now)

    def api_counter(self, key: str) -> Counter:
        """Key ``key``'s API counter over the same store (for requests made outside the
        engine, e.g. order lookups, so that they are charged on the one budget)."""
        return Counter(self._api, self._store, f"api:{key}")

    def _stat(self, key: str) -> PairStats:
        st = self.stats.get(key)
        if st is None:
            st = self.stats[key] = PairStats()
        return st

    def __repr__(self) -> str:
        return f"MemoryBudget(reserve={self.reserve:g}, {self.inflight!r})"
