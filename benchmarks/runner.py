"""One bench cell: a workload, on a tier, paced by one limiter, with one seed, measured.

The setting is the backtest's -- the same simulated world
(:func:`engine.run.simulated.simulated_world`: decay released every :data:`DECAY_STEP`
seconds at a seeded phase, a one-way delay of ``latency + U(0, jitter)`` seconds) and the
same run loop (:class:`~engine.run.loop.RunLoop` and :func:`~engine.run.simulated.play`) --
on a virtual clock that creeps 1 ns per loop iteration like a real one
(:mod:`benchmarks.clock`).  Only what stands between the strategies and the venue changes:

* ``orderpace`` -- one :class:`~engine.core.engine.Engine` for the key, its rate model matching
  the simulated exchange (``LimiterSettings.matching(step, jitter)``, as the backtest);
* ``orderpace-live`` -- the same engine with the safe live margins
  (``LimiterSettings.live()``: it does not know the exchange's step or phase);
* the baselines -- a :class:`~benchmarks.client.PacedClient` per strategy around a fresh
  baseline limiter (:mod:`benchmarks.baselines`): strategies sharing a key each bring
  their own limiter, as separate bots on one key do.

Figures (:class:`CellResult`) come from the exchange where it keeps them (it is the
referee): rate-limit errors, budget utilization.  Accepted orders, queue waits and CPU
time come from the run's own outcomes and ``time.process_time``.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import attrs

from benchmarks.baselines import (
    AioLimiterPacer,
    CcxtStylePacer,
    HummingbotStylePacer,
    NoLimitPacer,
    ThrottlePacer,
    loop_clock,
)
from benchmarks.client import PacedClient, Pacer
from benchmarks.clock import CreepingClock
from benchmarks.workloads import Workload
from engine.core.engine import Engine
from engine.markets import DEFAULT_MARKETS, Markets
from engine.run.loop import RunLoop
from engine.run.simulated import (
    DEFAULT_DECAY_STEP,
    DEFAULT_JITTER,
    DEFAULT_LATENCY,
    play,
    simulated_world,
)
from engine.run.summary import OutcomeTally, percentile, rate_limit_errors
from limiters import LimiterSettings, Tier, TierLimits, tier_limits
from strategies.context import StrategyContext
from strategies.params import parse_params

__all__ = ["DRAIN_TIMEOUT", "LIMITERS", "CellResult", "LimiterSpec", "limiter", "run_cell"]

#: Exchange and network, as in the backtest: decay every 2 s, 50 ms + U(0, 20 ms) one way.
DECAY_STEP = DEFAULT_DECAY_STEP
LATENCY = DEFAULT_LATENCY
JITTER = DEFAULT_JITTER
#: Simulated seconds allowed after the strategies stop for what they left to finish.
DRAIN_TIMEOUT = 120.0


@attrs.frozen(slots=True)
class LimiterSpec:
    """A contender: orderpace with ``settings``, or a baseline ``pacer`` factory."""

    name: str
    description: str
    settings: Callable[[], LimiterSettings] | None = None
    pacer: Callable[[TierLimits], Pacer] | None = None
    patch_clock: bool = False  # asyncio-throttle: point its clock at the loop (baselines)

    @property
    def is_orderpace(self) -> bool:
        return self.settings is not None


LIMITERS: tuple[LimiterSpec, ...] = (
    LimiterSpec("orderpace", "orderpace, rate model matching the exchange (as backtests run)",
                settings=lambda: LimiterSettings.matching(DECAY_STEP, JITTER)),
    LimiterSpec("orderpace-live", "orderpace with the safe live margins (LimiterSettings.live)",
                settings=LimiterSettings.live),
    LimiterSpec("asyncio-throttle", "asyncio-throttle (real library) at the sustained rates",
                pacer=ThrottlePacer, patch_clock=True),
    LimiterSpec("aiolimiter", "aiolimiter (real library), leaky bucket of max and decay",
                pacer=AioLimiterPacer),
    LimiterSpec("ccxt-style", "re-creation of ccxt's Kraken throttle (1000 ms, costs 0/3/6)",
                pacer=lambda _limits: CcxtStylePacer()),
    LimiterSpec("hummingbot-style",
                "re-creation of hummingbot's 60 s windows sized max + 60 x decay",
                pacer=HummingbotStylePacer),
    LimiterSpec("none", "no limiter", pacer=lambda _limits: NoLimitPacer()),
)


def limiter(name: str) -> LimiterSpec:
    """The contender called ``name`` (:class:`KeyError` listing the names otherwise)."""
    for spec in LIMITERS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown limiter {name!r}; known: {', '.join(s.name for s in LIMITERS)}")


@attrs.frozen(slots=True)
class CellResult:
    """What one cell measured.  Times in seconds; rates per simulated minute.

    ``utilization``: trading penalty charged / (max + decay x seconds from the pair's first
    request to its last), per pair and ``"overall"`` -- the exchange's figure.
    ``cpu_us_per_intent``: process CPU time of the whole run (strategies, limiter, simulated
    exchange) / intents submitted, microseconds.
    """

    workload: str
    tier: str
    limiter: str
    seed: int
    duration: float
    intents: int
    sent: int
    outcomes: dict[str, int]
    rate_limit_errors: int
    errors: dict[str, int]
    utilization: dict[str, float]
    orders_per_min: float
    transactions_per_min: float
    queries_per_min: float
    wait_p50: float | None
    wait_p99: float | None
    cpu_us_per_intent: float
    cpu_seconds: float
    wall_seconds: float
    simulated_seconds: float
    unresolved: int
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class _Cell:
    """What a cell adds to the run loop: its contenders and its figures (see :func:`run_cell`)."""

    def __init__(
        self, work: Workload, tier: Tier, spec: LimiterSpec, seed: int, duration: float
    ) -> None:
        self.work = work
        self.tier = tier
        self.spec = spec
        self.seed = seed
        self.duration = duration
        self.clock = CreepingClock()
        self.markets: Markets = DEFAULT_MARKETS.subset(work.pairs)
        self.exchange, self.venue = simulated_world(
            tier, self.markets, seed=seed, clock=self.clock, decay_step=DECAY_STEP,
            latency=LATENCY, jitter=JITTER)
        self.tally = OutcomeTally()
        self.run: RunLoop | None = None

    def _make_clients(self) -> list[Engine | PacedClient]:
        n = len(self.work.strategies)
        if self.spec.settings is not None:
            engine = Engine(self.venue, tier=self.tier, clock=self.clock,
                            limits=self.spec.settings(), markets=self.markets)
            engine.start()
            return [engine] * n
        assert self.spec.pacer is not None
        limits = tier_limits(self.tier)
        return [PacedClient(self.venue, self.spec.pacer(limits), clock=self.clock,
                            markets=self.markets) for _ in range(n)]

    async def main(self) -> None:
        clients = self._make_clients()
        run = self.run = RunLoop(self.clock, clients, tally=self.tally)
        for spec, client in zip(self.work.strategies, clients, strict=True):
            params = parse_params(spec.strategy.params_type, spec.settings, strategy=spec.name)
            # a PacedClient offers the part of Engine's surface strategies use
            engine = cast(Engine, client)
            ctx: StrategyContext[Any] = StrategyContext(
                name=spec.name, engine=engine, params=params,
                markets=self.markets.subset(spec.pairs),
                rng=random.Random(f"{self.seed}:{spec.name}"), end=self.duration,
            )
            run.add(spec.strategy, ctx, engine)
        await play(run, self.exchange, until=self.duration, drain_timeout=DRAIN_TIMEOUT)

    def result(self, cpu: float, wall: float) -> CellResult:
        ex = self.exchange
        errors = {e: n for e, n in sorted(ex.stats.errors.items()) if n}
        t = self.tally
        waits = sorted(t.waits)
        run = self.run
        intents = run.submitted if run is not None else 0
        failure = run.failure if run is not None else None
        minutes = self.duration / 60.0
        return CellResult(
            workload=self.work.name, tier=self.tier.value, limiter=self.spec.name,
            seed=self.seed, duration=self.duration, intents=intents, sent=t.sent,
            outcomes=dict(sorted(t.outcomes.items())),
            rate_limit_errors=rate_limit_errors(errors),
            errors=errors,
            utilization={k: round(v, 6) for k, v in ex.budget_utilization().items()},
            orders_per_min=t.orders / minutes, transactions_per_min=t.transactions / minutes,
            queries_per_min=t.queries / minutes,
            wait_p50=percentile(waits, 50), wait_p99=percentile(waits, 99),
            cpu_us_per_intent=1e6 * cpu / intents if intents else 0.0,
            cpu_seconds=cpu, wall_seconds=wall, simulated_seconds=self.clock.now(),
            unresolved=intents - t.resolved,
            failure=str(failure) if failure is not None else None,
        )


@contextlib.contextmanager
def _clock_patch(spec: LimiterSpec) -> Iterator[None]:
    if spec.patch_clock:
        with loop_clock():
            yield
    else:
        yield


def run_cell(
    work: Workload, tier: str | Tier, spec: LimiterSpec, *, seed: int, duration: float
) -> CellResult:
    """Run ``work`` on ``tier`` paced by ``spec`` for ``duration`` simulated seconds."""
    cell = _Cell(work, Tier.parse(tier), spec, seed, duration)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with _clock_patch(spec):
        cell.clock.run(cell.main())
    return cell.result(time.process_time() - cpu0, time.perf_counter() - wall0)
