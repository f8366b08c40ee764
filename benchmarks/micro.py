"""Micro-benchmarks: the scheduler alone, its memory, throughput with the exchange, 24 h replay.

All run on a virtual clock (time jumps to the next timer; :class:`~benchmarks.clock.
CreepingClock`, as the workloads), so wall time is pure CPU:

* :func:`scheduler_cost` -- µs of wall time per intent from ``submit`` to send (and its
  reply handled) with an *instant* venue that answers every request at once and keeps no
  book: the scheduler's own cost.  Side by side in the same run, the same intents through
  :class:`~benchmarks.client.PacedClient` with aiolimiter and with no limiter at all.
* :func:`memory_per_queued_intent` -- bytes ``tracemalloc`` sees per intent held in the
  engine's queue (handle, queue item, order record, queue slot); the intents themselves are
  built before tracing starts, and their own size is reported beside it.
* :func:`throughput` -- intents per second of wall time through the engine *and* the
  simulated exchange (no network delay), Pro tier, non-filling IOC adds on three pairs; and
  the simulated exchange's own cost per request, called directly, for the floor.
* :func:`profile_throughput` -- the same run under :mod:`cProfile`: the functions that take
  the time (for the report's notes).
* :func:`replay_24h` -- wall seconds of the 24-hour market-maker backtest on three pairs
  (:func:`engine.run.backtest.run_backtest`).

Each returns plain dicts (JSON-ready); timings are medians over ``repeats`` runs.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import itertools
import pstats
import statistics
import time
import tracemalloc
from collections.abc import Callable, Coroutine, Mapping, Sequence
from decimal import Decimal
from typing import Any

from benchmarks.baselines import AioLimiterPacer, NoLimitPacer
from benchmarks.client import PacedClient, Pacer
from benchmarks.clock import CreepingClock
from engine.clock import VirtualClock
from engine.core.engine import Engine
from engine.core.requests import add_order_params
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder, Side, TimeInForce
from engine.markets import DEFAULT_MARKETS
from engine.run.backtest import BacktestConfig, run_backtest
from engine.venues.base import Reply
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings, Tier, tier_limits

__all__ = [
    "memory_per_queued_intent",
    "profile_throughput",
    "replay_24h",
    "scheduler_cost",
    "throughput",
]

PAIRS = ("XBT/USD", "ETH/USD", "SOL/USD")
REPLAY_PAIRS = PAIRS
DAY = 86_400.0


def build_intents(n: int) -> list[AddOrder]:
    """``n`` IOC limit adds, 5% below mid (never fill), round robin over :data:`PAIRS`."""
    out = []
    for i in range(n):
        m = DEFAULT_MARKETS.get(PAIRS[i % len(PAIRS)])
        price = (Decimal(str(m.start_price)) * Decimal("0.95")).quantize(m.tick_size)
        volume = max(m.ordermin, (m.costmin / price) * 2).quantize(Decimal("0.00000001"))
        out.append(AddOrder(pair=m.name, side=Side.BUY, volume=volume * 10, price=price,
                            time_in_force=TimeInForce.IOC))
    return out


class InstantVenue:
    """A venue that accepts every request at once, with a fresh txid, and keeps nothing."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        return {"error": [], "result": {"txid": [f"O{next(self._ids):06d}-AAAAA-BBBBBB"]}}

    async def aclose(self) -> None:
        return None


class SilentVenue:
    """A venue that never answers (requests stay in flight until closed)."""

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        return None


def _median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def _timed(factory: Callable[[VirtualClock], Coroutine[Any, Any, None]]) -> float:
    """Wall seconds to run ``factory(clock)`` on a fresh virtual clock (GC off meanwhile)."""
    clock = CreepingClock()
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        clock.run(factory(clock))
        return time.perf_counter() - t0
    finally:
        gc.enable()


def _engine_run(intents: Sequence[AddOrder], venue_factory: Callable[[VirtualClock], Any],
                ) -> Callable[[VirtualClock], Coroutine[Any, Any, None]]:
    async def main(clock: VirtualClock) -> None:
        async with Engine(venue_factory(clock), tier=Tier.PRO, clock=clock,
                          limits=LimiterSettings.exact(), markets=DEFAULT_MARKETS) as engine:
            for intent in intents:
                engine.submit(intent)
            await engine.drain()
    return main


def _client_run(intents: Sequence[AddOrder], pacer: Callable[[], Pacer],
                ) -> Callable[[VirtualClock], Coroutine[Any, Any, None]]:
    async def main(clock: VirtualClock) -> None:
        client = PacedClient(InstantVenue(), pacer(), clock=clock, markets=DEFAULT_MARKETS)
        for intent in intents:
            client.submit(intent)
        await client.drain()
    return main


def scheduler_cost(n: int, repeats: int) -> dict[str, Any]:
    """µs per intent, submit to send, instant venue; orderpace and two baselines side by side."""
    intents = build_intents(n)
    limits = tier_limits(Tier.PRO)
    contenders: dict[str, Callable[[VirtualClock], Coroutine[Any, Any, None]]] = {
        "orderpace": _engine_run(intents, lambda _c: InstantVenue()),
        "aiolimiter": _client_run(intents, lambda: AioLimiterPacer(limits)),
        "none": _client_run(intents, NoLimitPacer),
    }
    runs: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):  # interleaved, so drift hits every contender alike
        for name, factory in contenders.items():
            runs[name].append(1e6 * _timed(factory) / n)
    submit = []
    for _ in range(repeats):
        submit.append(1e6 * _submit_only(intents) / n)
    med = {k: _median(v) for k, v in runs.items()}
    return {
        "intents": n, "repeats": repeats, "tier": Tier.PRO.value,
        "us_per_intent": med, "runs": runs,
        "submit_us": _median(submit),
        "ratio_orderpace_to_aiolimiter": med["orderpace"] / med["aiolimiter"],
        "ratio_orderpace_to_none": med["orderpace"] / med["none"],
    }


def _submit_only(intents: Sequence[AddOrder]) -> float:
    """Wall seconds of ``submit`` alone for ``intents`` (the pump runs; nothing replies)."""
    elapsed = 0.0

    async def main(clock: VirtualClock) -> None:
        nonlocal elapsed
        async with Engine(SilentVenue(), tier=Tier.PRO, clock=clock,
                          limits=LimiterSettings.exact(), markets=DEFAULT_MARKETS) as engine:
            t0 = time.perf_counter()
            for intent in intents:
                engine.submit(intent)
            elapsed = time.perf_counter() - t0

    clock = CreepingClock()
    clock.run(main(clock))
    return elapsed


def memory_per_queued_intent(n: int) -> dict[str, Any]:
    """Bytes per queued intent held by the engine (``tracemalloc``), and per intent object."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        intents = build_intents(n)
        intent_bytes = (tracemalloc.get_traced_memory()[0] - before) / n
        held: dict[str, float] = {}

        async def main(clock: VirtualClock) -> None:
            async with Engine(SilentVenue(), tier=Tier.PRO, clock=clock,
                              limits=LimiterSettings.exact(), markets=DEFAULT_MARKETS) as engine:
                gc.collect()
                start = tracemalloc.get_traced_memory()[0]
                for intent in intents:
                    engine.submit(intent)
                gc.collect()
                held["bytes"] = tracemalloc.get_traced_memory()[0] - start
                held["queued"] = engine.queued

        clock = CreepingClock()
        clock.run(main(clock))
    finally:
        tracemalloc.stop()
    return {
        "intents": n, "queued": int(held["queued"]),
        "bytes_per_queued_intent": held["bytes"] / n,
        "bytes_per_intent_object": intent_bytes,
    }


def _sim_run(intents: Sequence[AddOrder]) -> Callable[[VirtualClock], Coroutine[Any, Any, None]]:
    def venue(clock: VirtualClock) -> SimulatedVenue:
        return SimulatedVenue(SimulatedKraken(Tier.PRO, markets=DEFAULT_MARKETS), clock)
    return _engine_run(intents, venue)


def throughput(n: int, repeats: int) -> dict[str, Any]:
    """Intents per wall second through engine + simulated exchange, and the exchange alone."""
    intents = build_intents(n)
    engine_runs = [n / _timed(_sim_run(intents)) for _ in range(repeats)]
    exchange_runs = [_exchange_alone(intents) for _ in range(repeats)]
    return {
        "intents": n, "repeats": repeats, "tier": Tier.PRO.value,
        "intents_per_second": _median(engine_runs), "runs": engine_runs,
        "exchange_alone_us_per_request": _median(exchange_runs),
    }


def _exchange_alone(intents: Sequence[AddOrder]) -> float:
    """µs per AddOrder handled by :class:`SimulatedKraken` called directly (one per second)."""
    ex = SimulatedKraken(Tier.PRO, markets=DEFAULT_MARKETS)
    reqs = [add_order_params(i, DEFAULT_MARKETS.get(i.pair).altname) for i in intents]
    t0 = time.perf_counter()
    for k, r in enumerate(reqs):
        ex.handle("AddOrder", r, key="sim", now=float(k))
    return 1e6 * (time.perf_counter() - t0) / len(reqs)


def profile_throughput(n: int, top: int = 15) -> dict[str, Any]:
    """:func:`throughput`'s run under cProfile: the ``top`` functions by own time."""
    intents = build_intents(n)
    prof = cProfile.Profile()
    clock = CreepingClock()
    prof.enable()
    clock.run(_sim_run(intents)(clock))
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_cc, calls, tottime, cumtime, _callers) in sorted(
        stats.stats.items(), key=lambda kv: -kv[1][2]  # type: ignore[attr-defined]
    )[:top]:
        where = path.split("/work/main/")[-1].split("site-packages/")[-1]
        rows.append({"function": f"{where}:{line}({func})", "calls": calls,
                     "own_share": tottime / total, "cumulative_share": cumtime / total,
                     "calls_per_intent": calls / n})
    return {"intents": n, "profiled_seconds": total, "top": rows}


def replay_24h(duration: float, repeats: int) -> dict[str, Any]:
    """Wall seconds of the market-maker backtest on three pairs over ``duration`` s,
    scaled to 24 hours when ``duration`` is shorter (then ``extrapolated`` is true)."""
    walls = []
    summary: dict[str, Any] = {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = run_backtest(BacktestConfig(strategy="market-maker", pairs=REPLAY_PAIRS,
                                             duration=duration, seed=1))
        walls.append(time.perf_counter() - t0)
        summary = result.summary.as_dict()
    wall = _median(walls)
    return {
        "simulated_seconds": duration, "repeats": repeats, "runs": walls,
        "wall_seconds": wall, "wall_seconds_24h": wall * DAY / duration,
        "extrapolated": duration < DAY, "intents": summary.get("intents"),
        "rate_limit_errors": summary.get("rate_limit_errors"),
        "budget_utilization": summary.get("budget_utilization"),
    }
