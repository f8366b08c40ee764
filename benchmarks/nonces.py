"""Nonce discipline: what one private request per key on the wire costs, and what a pool of
keys or a nonce window buys back (issue 11).

Each cell runs the ``burst`` workload (adds at 20/s on XBT/USD and ETH/USD, each cancelled
at a random age of 1-30 s) for ``duration`` simulated seconds through one
:class:`~engine.core.engine.Engine` over a :class:`~engine.venues.pooled.PooledSimVenue`:
private requests take a key of the pool and hold its wire slot until the reply, as the live
REST venue does; the exchange checks every nonce per key (``nonce_window`` as declared) and
its connections jitter independently, so requests may reorder.  One-way delay
``rtt / 2 + U(0, jitter)`` seconds per leg.  The engine's margins match the exchange's decay
step and the jitter; its in-flight cap is the pool's concurrency.

Figures from the exchange (the referee): ``utilization`` (trading penalty charged / the
most the rules allowed, ``max + decay x seconds`` from first to last request, over both
pairs), ``invalid_nonce`` and ``rate_limit_errors``; from the run: private requests sent
per second and the queue waits (seconds from submit to send, p50 and p99: serial REST
lengthens them when many intents come at once).

* :func:`burst_section` -- Pro, 30 ms of jitter (50 ms RTT): one key, a pool of 3 keys, one
  key with a nonce window;
* :func:`serial_section` -- one key, no window, on every tier at 50 and 150 ms RTT, with the
  pool of 3 and the window beside it: the cost of serial REST;
* :func:`startup_seconds` -- the wire-bound case: 20 resting adds per pair submitted at once
  (a grid starting), seconds until the last is acknowledged.
"""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from typing import Any

import attrs

from benchmarks.clock import CreepingClock
from benchmarks.runner import DECAY_STEP
from engine import kraken_errors as ke
from engine.core.engine import Engine
from engine.core.settings import EngineSettings
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder, Side
from engine.markets import DEFAULT_MARKETS
from engine.run.loop import RunLoop
from engine.run.simulated import play
from engine.run.summary import OutcomeTally, percentile, rate_limit_errors
from engine.venues.pooled import pooled_sim_venue
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings, Tier
from strategies.burst import Burst
from strategies.context import StrategyContext
from strategies.params import parse_params

__all__ = ["NonceCell", "burst_section", "run_nonce_cell", "run_nonces", "serial_section",
           "startup_seconds"]

PAIRS = ("XBT/USD", "ETH/USD")
#: Nonce window declared in the "window" rows (ms: the nonces are wall-clock milliseconds).
WINDOW = 1_000
#: The setups compared: (name, keys, nonce window).
SETUPS = (("one key", 1, 0), ("pool of 3", 3, 0), (f"one key, window {WINDOW}", 1, WINDOW))


@attrs.frozen(slots=True)
class NonceCell:
    """One cell's figures (see the module docstring).  Times in seconds."""

    setup: str
    tier: str
    rtt: float
    jitter: float
    keys: int
    window: int
    duration: float
    utilization: float
    invalid_nonce: int
    rate_limit_errors: int
    private_per_second: float
    wait_p50: float | None
    wait_p99: float | None
    unresolved: int
    wall_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def run_nonce_cell(setup: str, keys: int, window: int, *, tier: str, rtt: float,
                   jitter: float, duration: float, seed: int = 1) -> NonceCell:
    """Burst for ``duration`` simulated seconds over a pool of ``keys`` (see the module)."""
    t = Tier.parse(tier)
    clock = CreepingClock()
    markets = DEFAULT_MARKETS.subset(PAIRS)
    labels = tuple(f"key{i + 1}" for i in range(keys))
    phase = random.Random(seed).uniform(0.0, DECAY_STEP)
    exchange = SimulatedKraken(t.value, decay_step=DECAY_STEP, decay_phase=phase,
                               markets=markets, seed=seed, keys=labels, nonce_window=window)
    sim = SimulatedVenue(exchange, clock, latency=rtt / 2, jitter=jitter, seed=seed)
    venue = pooled_sim_venue(sim, labels, window=window)
    tally = OutcomeTally()
    wall0 = time.perf_counter()

    async def main() -> RunLoop:
        engine = Engine(venue, tier=t, clock=clock, markets=markets,
                        limits=LimiterSettings.matching(DECAY_STEP, jitter),
                        settings=EngineSettings(max_inflight=min(8, venue.pool.concurrency),
                                                nonce_window=window))
        venue.pool.on_capacity = engine.budget.inflight.limit
        engine.start()
        run = RunLoop(clock, [engine], tally=tally)
        ctx: StrategyContext[Any] = StrategyContext(
            name="burst", engine=engine, params=parse_params(Burst.params_type, (),
                                                             strategy="burst"),
            markets=markets, rng=random.Random(f"{seed}:burst"), end=duration)
        run.add(Burst, ctx, engine)
        await play(run, exchange, until=duration, drain_timeout=60.0)
        return run

    run = clock.run(main())
    errors = exchange.stats.errors
    waits = sorted(tally.waits)
    private = sum(k.health.requests for k in venue.pool.keys)
    return NonceCell(
        setup=setup, tier=t.value, rtt=rtt, jitter=jitter, keys=keys, window=window,
        duration=duration, utilization=round(exchange.budget_utilization()["overall"], 4),
        invalid_nonce=errors.get(ke.INVALID_NONCE, 0),
        rate_limit_errors=rate_limit_errors(dict(errors)),
        private_per_second=round(private / max(clock.now(), 1e-9), 2),
        wait_p50=_round(percentile(waits, 50)), wait_p99=_round(percentile(waits, 99)),
        unresolved=run.submitted - tally.resolved,
        wall_seconds=round(time.perf_counter() - wall0, 2),
    )


def startup_seconds(keys: int, window: int, *, tier: str, rtt: float, jitter: float,
                    seed: int = 1, per_pair: int = 20) -> float:
    """Seconds from submitting ``per_pair`` resting adds on each pair at once to the last
    acknowledgement (within every tier's budget: the wire is what paces them)."""
    t = Tier.parse(tier)
    clock = CreepingClock()
    markets = DEFAULT_MARKETS.subset(PAIRS)
    labels = tuple(f"key{i + 1}" for i in range(keys))
    exchange = SimulatedKraken(t.value, decay_step=DECAY_STEP, markets=markets, seed=seed,
                               keys=labels, nonce_window=window)
    venue = pooled_sim_venue(SimulatedVenue(exchange, clock, latency=rtt / 2, jitter=jitter,
                                            seed=seed), labels, window=window)

    async def main() -> float:
        engine = Engine(venue, tier=t, clock=clock, markets=markets,
                        limits=LimiterSettings.matching(DECAY_STEP, jitter),
                        settings=EngineSettings(max_inflight=min(8, venue.pool.concurrency),
                                                nonce_window=window))
        async with engine:
            exchange.advance(clock.now())
            handles = []
            for pair in PAIRS:
                price = exchange.price(pair) * Decimal("0.9")
                price = price.quantize(markets.get(pair).tick_size)
                volume = (Decimal(50) / price).quantize(Decimal("0.0001"))
                handles += [engine.submit(AddOrder(pair, Side.BUY, volume, price))
                            for _ in range(per_pair)]
            start = clock.now()
            outcomes = await asyncio.gather(*handles)
            assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
            return clock.now() - start

    return round(clock.run(main()), 3)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def burst_section(quick: bool) -> list[dict[str, Any]]:
    """Burst on Pro at 30 ms of jitter, 50 ms RTT: one key, pool of 3, window."""
    duration = 30.0 if quick else 300.0
    return [run_nonce_cell(name, keys, window, tier="pro", rtt=0.05, jitter=0.03,
                           duration=duration).as_dict()
            for name, keys, window in SETUPS]


def serial_section(quick: bool) -> list[dict[str, Any]]:
    """Every tier at 50 and 150 ms RTT (10 ms jitter): one key, pool of 3, window; with
    :func:`startup_seconds` of each."""
    duration = 30.0 if quick else 300.0
    return [{**run_nonce_cell(name, keys, window, tier=tier.value, rtt=rtt, jitter=0.01,
                              duration=duration).as_dict(),
             "startup_seconds": startup_seconds(keys, window, tier=tier.value, rtt=rtt,
                                                jitter=0.01)}
            for tier in Tier for rtt in (0.05, 0.15) for name, keys, window in SETUPS]


def run_nonces(quick: bool) -> dict[str, Any]:
    """The bench's "nonce discipline" section: both tables."""
    return {"burst_pro_30ms": burst_section(quick), "serial": serial_section(quick)}


def render_nonces(section: dict[str, Any] | None) -> list[str]:
    """The section as markdown lines (nothing when the run had none)."""
    if not section:
        return []

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    def secs(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}"

    lines = [
        "## Nonce discipline",
        "",
        "One private request per API key on the wire (no nonce window), against a pool of 3 "
        f"keys and one key with a {WINDOW} ms nonce window; the exchange checks nonces per key "
        "and its connections jitter independently (see `benchmarks/nonces.py`).",
        "",
        "Burst on Pro, 50 ms RTT, 30 ms jitter per leg:",
        "",
        "| setup | utilization | invalid nonce | rate-limit errors | private req/s "
        "| wait p50 s | wait p99 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in section["burst_pro_30ms"]:
        lines.append(f"| {r['setup']} | {pct(r['utilization'])} | {r['invalid_nonce']} "
                     f"| {r['rate_limit_errors']} | {r['private_per_second']:.2f} "
                     f"| {secs(r['wait_p50'])} | {secs(r['wait_p99'])} |")
    lines += [
        "",
        "Serial REST per tier (burst; 10 ms jitter; start-up: 20 resting adds per pair at "
        "once, seconds to the last acknowledgement):",
        "",
        "| tier | RTT ms | setup | utilization | invalid nonce | rate-limit errors "
        "| wait p50 s | start-up s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in section["serial"]:
        lines.append(f"| {r['tier']} | {1000 * r['rtt']:.0f} | {r['setup']} "
                     f"| {pct(r['utilization'])} | {r['invalid_nonce']} "
                     f"| {r['rate_limit_errors']} | {secs(r['wait_p50'])} "
                     f"| {secs(r['startup_seconds'])} |")
    return [*lines, ""]
