"""Backtests: one strategy against the simulated exchange, on the virtual clock.

:func:`run_backtest` builds, for a :class:`BacktestConfig`:

* a :class:`~engine.exchange.SimulatedKraken` for the tier and pairs, with decay released in
  ``decay_step``-second ticks at a phase drawn from the seed (Kraken: "every couple of
  seconds"), seeded random-walk prices, and a :class:`~engine.exchange.SimulatedVenue` with a
  one-way network delay of ``latency + U(0, jitter)`` seconds;
* an :class:`~engine.core.engine.Engine` whose rate model matches the exchange:
  ``LimiterSettings.matching(decay_step, jitter)``;
* the strategy, behind a :class:`~strategies.host.StrategyHost`: the exchange's price ticks
  go to ``on_tick``, its fills to ``engine.order_closed`` and ``on_fill``, its other closes
  to the strategy's bookkeeping.

The run lasts ``duration`` simulated seconds; then the strategy's ``stop`` runs (it
cancels its orders) and the engine drains -- every intent reaches a terminal outcome --
for at most ``drain_timeout`` more simulated seconds.  The result is a
:class:`~engine.run.summary.Summary` (figures from the exchange, the referee, where it keeps
them) plus, with ``record=True``, every request and a time series of counter levels and
queue depths for :mod:`engine.run.report`.  Same config, same seed: same summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from engine import kraken_errors as ke
from engine.clock import VirtualClock
from engine.core.engine import Engine, EngineSettings
from engine.core.metrics import Decision
from engine.exchange import (
    CancelReason,
    Event,
    OrderCancelled,
    OrderFilled,
    PriceTick,
    SimulatedKraken,
    drive_market,
)
from engine.markets import DEFAULT_MARKETS, Markets, UnknownPair
from engine.outcomes import Handle, Outcome
from engine.run.summary import OutcomeTally, Summary, jsonable, percentile
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings, Tier, tier_limits
from strategies.context import StrategyContext
from strategies.host import StrategyFailed, StrategyHost
from strategies.params import describe_params, parse_params
from strategies.registry import Registry, discover

__all__ = [
    "DEFAULT_DECAY_STEP",
    "DEFAULT_DURATION",
    "DEFAULT_JITTER",
    "DEFAULT_LATENCY",
    "DEFAULT_PAIRS",
    "DEFAULT_STRATEGY",
    "MAX_DURATION",
    "BacktestConfig",
    "BacktestError",
    "BacktestResult",
    "Progress",
    "RequestRecord",
    "Sample",
    "run_backtest",
]

DEFAULT_STRATEGY = "market-maker"
DEFAULT_PAIRS: tuple[str, ...] = ("XBT/USD", "ETH/USD")
DEFAULT_DURATION = 3600.0
#: The simulated exchange releases decay every 2 s (Kraken: "every couple of seconds").
DEFAULT_DECAY_STEP = 2.0
#: One-way network delay: 50 ms plus up to 20 ms of jitter.
DEFAULT_LATENCY = 0.05
DEFAULT_JITTER = 0.02
#: Longest run accepted: 30 days of simulated time (s).  Longer runs are refused up front:
#: they would take hours of wall time and their samples would be hours apart.
MAX_DURATION = 30 * 86_400.0
#: Most simulated seconds the engine may take to drain after the strategy stops.
DEFAULT_DRAIN_TIMEOUT = 300.0
#: Samples of counter levels and queue depths over a run (for means and charts).
SAMPLES_PER_RUN = 3600


class BacktestError(ValueError):
    """A backtest that cannot start: bad duration, pairs, seed, strategy or parameters."""


def _tier(value: str | Tier) -> Tier:
    try:
        return Tier.parse(value)
    except ValueError as e:
        raise BacktestError(f"tier: {e}") from None


def _pairs(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(p.strip() for p in value if p.strip())


@attrs.frozen(slots=True)
class BacktestConfig:
    """What to run.  Times in seconds; ``settings`` are the strategy's ``key=value`` texts.

    ``duration`` is ``0 < duration <= MAX_DURATION`` (30 days).  ``record`` keeps every
    request and a time series for :mod:`engine.run.report`; ``log_decisions`` makes the engine
    emit a structlog ``debug`` event ``decision`` per scheduling decision (what ``-vv``
    turns on).
    """

    strategy: str = DEFAULT_STRATEGY
    tier: Tier = attrs.field(default=Tier.INTERMEDIATE, converter=_tier)
    pairs: tuple[str, ...] = attrs.field(default=DEFAULT_PAIRS, converter=_pairs)
    duration: float = DEFAULT_DURATION
    seed: int = 1
    settings: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    decay_step: float = DEFAULT_DECAY_STEP
    latency: float = DEFAULT_LATENCY
    jitter: float = DEFAULT_JITTER
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT
    record: bool = False
    log_decisions: bool = False
    markets: Markets = DEFAULT_MARKETS

    def __attrs_post_init__(self) -> None:
        for name in ("duration", "decay_step", "latency", "jitter", "drain_timeout"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise BacktestError(f"{name} must be a finite number of seconds, got {v!r}")
            if v < 0 or (name == "duration" and v <= 0):
                raise BacktestError(
                    f"{name} must be {'> 0' if name == 'duration' else '>= 0'} seconds, "
                    f"got {v!r}"
                )
        if self.duration > MAX_DURATION:
            raise BacktestError(
                f"duration must be at most {MAX_DURATION:,.0f} seconds (30 days) of simulated "
                f"time, got {self.duration!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise BacktestError(f"seed must be an integer, got {self.seed!r}")
        if not self.pairs:
            raise BacktestError("pairs: give at least one pair, e.g. XBT/USD")
        try:
            names = tuple(self.markets.get(p).name for p in self.pairs)  # alias -> "XBT/USD"
        except UnknownPair as e:
            raise BacktestError(f"pairs: {e}") from None
        if len(set(names)) != len(names):
            raise BacktestError(f"pairs: each pair once, got {', '.join(self.pairs)}")
        object.__setattr__(self, "pairs", names)  # frozen: set once, here


@attrs.frozen(slots=True)
class Progress:
    """How far a run is: simulated seconds done of ``duration``, counts so far."""

    simulated: float
    duration: float
    intents: int
    errors: int
    stopping: bool


@attrs.frozen(slots=True)
class Sample:
    """Levels at ``time``: the exchange's trading counter per pair and API counter (units),
    and the engine's queue depth per pair (intents)."""

    time: float
    trading: Mapping[str, float]
    api: float
    queued: Mapping[str, int]


@attrs.frozen(slots=True)
class RequestRecord:
    """One request the engine sent: ``time`` (s), ``pair``, ``action``, ``cost`` (units
    charged by the engine's model at send time -- its estimate, not the exchange's charge),
    the model's counter level before and after, and how its intent ended (``outcome``
    status and the exchange's ``error``, if any)."""

    time: float
    pair: str
    action: str
    cost: float
    level_before: float
    level_after: float
    outcome: str
    error: str | None


@attrs.frozen(slots=True)
class BacktestResult:
    """A run's :class:`Summary`, and with ``record`` its requests and samples."""

    summary: Summary
    config: BacktestConfig
    trading_max: float
    api_max: float
    requests: tuple[RequestRecord, ...] = ()
    samples: tuple[Sample, ...] = ()
    waits: tuple[float, ...] = ()


def run_backtest(
    config: BacktestConfig,
    *,
    registry: Registry | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> BacktestResult:
    """Run ``config`` to the end (see the module docstring) and return its result.

    Raises :class:`BacktestError` for a bad configuration, an unknown strategy
    (:class:`~strategies.registry.UnknownStrategy`) or bad parameters
    (:class:`~strategies.params.ParameterError`) before anything runs.  A strategy that
    raises during the run stops it; the summary's ``failure`` says why.
    """
    reg = registry if registry is not None else discover()
    strategy_type = reg.load(config.strategy)
    params = parse_params(strategy_type.params_type, config.settings, strategy=config.strategy)
    markets = config.markets.subset(config.pairs)
    clock = VirtualClock()
    wall0 = time.perf_counter()
    run = _Run(config, markets, strategy_type, params, clock, progress)
    clock.run(run.main())
    return run.result(time.perf_counter() - wall0)


class _Run:
    """One backtest's moving parts (see :func:`run_backtest`)."""

    def __init__(
        self, config: BacktestConfig, markets: Markets, strategy_type: Any, params: Any,
        clock: VirtualClock, progress: Callable[[Progress], None] | None,
    ) -> None:
        self.config = config
        self.markets = markets
        self.strategy_type = strategy_type
        self.params = params
        self.clock = clock
        self.progress = progress
        rng = random.Random(config.seed)
        phase = rng.uniform(0.0, config.decay_step) if config.decay_step > 0 else 0.0
        self.exchange = SimulatedKraken(
            config.tier, decay_step=config.decay_step, decay_phase=phase, markets=markets,
            seed=config.seed,
        )
        self.venue = SimulatedVenue(
            self.exchange, clock, latency=config.latency, jitter=config.jitter,
            seed=config.seed,
        )
        self.strategy_rng = random.Random(f"strategy:{config.seed}")
        self.stats = OutcomeTally(config.record)
        self.samples: list[Sample] = []
        self.failure: StrategyFailed | None = None
        self.stopping = False
        self.engine: Engine | None = None
        self.host: StrategyHost | None = None
        self.ctx: StrategyContext[Any] | None = None
        self.interval = max(1.0, config.duration / SAMPLES_PER_RUN)
        self.trace: list[Decision] = []

    # -- the run -------------------------------------------------------------------------

    async def main(self) -> None:
        cfg = self.config
        engine = Engine(
            self.venue, tier=cfg.tier, clock=self.clock,
            limits=LimiterSettings.matching(cfg.decay_step, cfg.jitter),
            settings=EngineSettings(trace=cfg.record, log_decisions=cfg.log_decisions),
            markets=self.markets,
        )
        self.engine = engine
        async with engine:
            ctx: StrategyContext[Any] = StrategyContext(
                name=cfg.strategy, engine=engine, params=self.params, markets=self.markets,
                rng=self.strategy_rng, end=cfg.duration,
            )
            finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def on_error(err: StrategyFailed) -> None:
                self.failure = err
                if not finished.done():
                    finished.set_result(None)

            self.ctx = ctx
            try:
                host = StrategyHost(self.strategy_type, ctx, engine, on_error=on_error,
                                    on_outcome=self._on_outcome)
            except StrategyFailed as e:
                self.failure = e
                return
            self.host = host
            self.exchange.subscribe(self._on_event)
            driver = drive_market(self.exchange, self.clock)  # prices at t=0 reach the host
            host.start()
            self._sample()

            def times_up() -> None:
                if not finished.done():
                    finished.set_result(None)

            end = self.clock.call_at(cfg.duration, times_up)
            await finished
            end.cancel()
            self.stopping = True
            host.stop()
            with contextlib.suppress(TimeoutError):  # what is left, aclose fails
                await asyncio.wait_for(engine.drain(), cfg.drain_timeout)
            driver.stop()
            self._sample(final=True)
            self.trace = engine.trace
        for _ in range(3):  # let the handles' done-callbacks run
            await asyncio.sleep(0)

    def _on_outcome(self, handle: Handle, outcome: Outcome) -> None:
        self.stats.add(outcome, handle.id)

    def _on_event(self, event: Event) -> None:
        host = self.host
        if host is None:
            return
        if type(event) is PriceTick:
            host.tick(event.pair, event.price, event.time)
        elif type(event) is OrderFilled:
            host.fill(event.txid, event.cl_ord_id, event.pair, event.side, event.price,
                      event.volume, event.time, maker=event.maker)
        elif type(event) is OrderCancelled:
            if event.reason is CancelReason.REPLACED:
                return  # an EditOrder: the order lives on under a new txid
            knows = event.reason in (CancelReason.REQUESTED, CancelReason.CANCEL_ALL,
                                     CancelReason.IOC)
            host.closed(event.txid, event.cl_ord_id, event.pair, event.reason.value,
                        event.time, engine_knows=knows)

    def _sample(self, final: bool = False) -> None:
        engine = self.engine
        assert engine is not None
        now = self.clock.now()
        ex = self.exchange
        queues = engine.metrics().queue_depths
        self.samples.append(Sample(
            now,
            {m.name: ex.trading_level(m.name, now) for m in self.markets},
            ex.api_level("sim", now),
            {m.name: queues.get(m.name, 0) for m in self.markets},
        ))
        if self.progress is not None:
            self.progress(Progress(
                now, self.config.duration, self.ctx.submitted if self.ctx else 0,
                sum(n for e, n in ex.stats.errors.items() if ke.is_rate_limit_error(e)),
                self.stopping,
            ))
        if not final:
            self.clock.call_at(now + self.interval, self._sample_if_running)

    def _sample_if_running(self) -> None:
        if not self.stopping:
            self._sample()

    # -- the result ----------------------------------------------------------------------

    def result(self, wall: float) -> BacktestResult:
        cfg = self.config
        ex = self.exchange
        ctx = self.ctx
        submitted = ctx.submitted if ctx is not None else 0
        limits = tier_limits(cfg.tier)
        st = self.stats
        waits = sorted(st.waits)
        errors = dict(sorted(ex.stats.errors.items()))
        util = ex.budget_utilization()
        budget = {"overall": util.pop("overall", 0.0)}
        for m in self.markets:
            budget[m.name] = util.get(m.name, 0.0)
        peaks = ex.peak_levels()
        counters: dict[str, dict[str, float]] = {}
        n = max(1, len(self.samples))
        for m in self.markets:
            counters[m.name] = {
                "max": limits.trading_max,
                "peak": peaks["trading"].get(m.name, 0.0),
                "mean": sum(s.trading[m.name] for s in self.samples) / n,
            }
        counters["api"] = {
            "max": limits.api_max,
            "peak": peaks["api"].get("sim", 0.0),
            "mean": sum(s.api for s in self.samples) / n,
        }
        failure = None if self.failure is None else str(self.failure)
        summary = Summary(
            strategy=cfg.strategy,
            tier=cfg.tier.value,
            pairs=cfg.pairs,
            seed=cfg.seed,
            duration=cfg.duration,
            params={p.name: jsonable(getattr(self.params, p.name))
                    for p in describe_params(type(self.params))},
            intents=submitted,
            sent=st.sent,
            outcomes=dict(sorted(st.outcomes.items())),
            unresolved=submitted - st.resolved,
            requests=dict(sorted(ex.stats.requests.items())),
            errors=errors,
            rate_limit_errors=sum(n for e, n in errors.items() if ke.is_rate_limit_error(e)),
            budget_utilization=budget,
            counters=counters,
            queue_wait={
                "p50": percentile(waits, 50), "p99": percentile(waits, 99),
                "max": waits[-1] if waits else None,
            },
            strategy_report=ctx.reported if ctx is not None else {},
            simulated_seconds=self.clock.now(),
            wall_seconds=wall,
            failure=failure,
        )
        return BacktestResult(
            summary=summary, config=cfg, trading_max=limits.trading_max,
            api_max=limits.api_max, requests=self._requests() if cfg.record else (),
            samples=tuple(self.samples) if cfg.record else (),
            waits=tuple(waits) if cfg.record else (),
        )

    def _requests(self) -> tuple[RequestRecord, ...]:
        by_hid = self.stats.by_hid or {}
        out = []
        for d in self.trace:
            if d.action != "send":
                continue
            o = by_hid.get(d.hid)
            out.append(RequestRecord(
                d.time, d.pair, d.kind, d.cost, d.level, d.level + d.cost,
                o.status.value if o is not None else "unresolved",
                o.error if o is not None else None,
            ))
        return tuple(out)
