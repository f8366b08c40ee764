"""Backtests: one strategy against the simulated exchange, on the virtual clock.

:func:`run_backtest` builds, for a :class:`BacktestConfig`, the simulated world of
:func:`engine.run.simulated.simulated_world` (the exchange with decay released in
``decay_step``-second ticks at a seeded phase and seeded prices; a venue with a one-way
delay of ``latency + U(0, jitter)`` seconds), an :class:`~engine.core.engine.Engine` whose
rate model matches it (``LimiterSettings.matching(decay_step, jitter)``), and the strategy
in a :class:`~engine.run.loop.RunLoop`: prices to ``on_tick``, fills to
``engine.order_closed`` and ``on_fill``, other closes to the strategy's bookkeeping.

The run lasts ``duration`` simulated seconds; then the strategy's ``stop`` runs (it
cancels its orders) and the engine drains -- every intent reaches a terminal outcome --
for at most ``drain_timeout`` more simulated seconds.  The result is a
:class:`~engine.run.summary.Summary` (figures from the exchange, the referee, where it keeps
them) plus, with ``record=True``, every request and a time series of counter levels and
queue depths for :mod:`engine.run.report`.  Same config, same seed: same summary.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from engine.clock import VirtualClock
from engine.core.engine import Engine, EngineSettings
from engine.exchange import SimulatedKraken
from engine.markets import DEFAULT_MARKETS, Markets, UnknownPair
from engine.numbers import BadNumber, real, whole
from engine.run.loop import RunLoop
from engine.run.margins import (
    check_decay_step,
    largest_decay_step,
    largest_jitter,
    margin_problem,
)
from engine.run.sampling import Sample, Sampler
from engine.run.simulated import (
    DEFAULT_DECAY_STEP,
    DEFAULT_JITTER,
    DEFAULT_LATENCY,
    play,
    simulated_world,
)
from engine.run.summary import OutcomeTally, Summary, params_of, rate_limit_errors
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings, Tier, tier_limits
from strategies.context import StrategyContext
from strategies.params import parse_params
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

    ``duration`` is ``0 < duration <= MAX_DURATION`` (30 days); ``decay_step`` and
    ``jitter`` must leave the engine's margins room on the tier
    (:mod:`engine.run.margins`).  ``record`` keeps every request and a time series for
    :mod:`engine.run.report`; ``log_decisions`` makes the engine emit a structlog ``debug``
    event ``decision`` per scheduling decision (what ``-vv`` turns on).
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
        try:
            real(self.duration, "duration", unit="seconds", gt=0)
            for name in ("decay_step", "latency", "jitter", "drain_timeout"):
                real(getattr(self, name), name, unit="seconds", ge=0)
            whole(self.seed, "seed")
        except BadNumber as e:
            raise BacktestError(str(e)) from None
        step_problem = check_decay_step(self.decay_step)
        if step_problem is not None:
            raise BacktestError(step_problem)
        if self.duration > MAX_DURATION:
            raise BacktestError(
                f"duration must be at most {MAX_DURATION:,.0f} seconds (30 days) of simulated "
                f"time, got {self.duration!r}"
            )
        self._check_margins()
        if not self.pairs:
            raise BacktestError("pairs: give at least one pair, e.g. XBT/USD")
        try:
            names = tuple(self.markets.get(p).name for p in self.pairs)  # alias -> "XBT/USD"
        except UnknownPair as e:
            raise BacktestError(f"pairs: {e}") from None
        if len(set(names)) != len(names):
            raise BacktestError(f"pairs: each pair once, got {', '.join(self.pairs)}")
        object.__setattr__(self, "pairs", names)  # frozen: set once, here

    @property
    def limits(self) -> LimiterSettings:
        """The engine's margins: matching the simulated exchange's step and jitter."""
        return LimiterSettings.matching(self.decay_step, self.jitter)

    def _check_margins(self) -> None:
        problem = margin_problem(self.tier, self.limits)
        if problem is None:
            return
        step = largest_decay_step(self.tier, jitter=self.jitter)
        if step is not None:
            name, value, largest = "decay_step", self.decay_step, step
        else:
            name, value = "jitter", self.jitter
            largest = largest_jitter(self.tier, decay_step=self.decay_step)
        raise BacktestError(f"{name} {value:g} s is too large for the {self.tier.value} tier: "
                            f"{problem}; the largest it allows is {largest:g} s")


@attrs.frozen(slots=True)
class Progress:
    """How far a run is: simulated seconds done of ``duration``, counts so far."""

    simulated: float
    duration: float
    intents: int
    errors: int
    stopping: bool


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
    """A run's :class:`Summary`, its fills per pair (``count``, ``volume`` as text: what the
    exchange executed), and with ``record`` its requests and samples."""

    summary: Summary
    config: BacktestConfig
    trading_max: float
    api_max: float
    fills: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: orders still resting on the simulated exchange when the run ended, per pair
    open_at_end: Mapping[str, int] = attrs.field(factory=dict)
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
    run = _Backtest(config, markets, strategy_type, params, clock, progress)
    clock.run(run.main())
    return run.result(time.perf_counter() - wall0)


class _Backtest:
    """What a backtest adds to the run loop: its engine, sampling and recording."""

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
        self.exchange: SimulatedKraken
        self.venue: SimulatedVenue
        self.exchange, self.venue = simulated_world(
            config.tier, markets, seed=config.seed, clock=clock, decay_step=config.decay_step,
            latency=config.latency, jitter=config.jitter)
        self.tally = OutcomeTally(config.record)
        self.names = tuple(m.name for m in markets)  # the pairs sampled, in market order
        self.sampler = Sampler(clock, max(1.0, config.duration / SAMPLES_PER_RUN), self._take,
                               keep=True, on_sample=self._progress)
        self.loop: RunLoop | None = None
        self.trace: list[Any] = []

    async def main(self) -> None:
        cfg = self.config
        engine = Engine(
            self.venue, tier=cfg.tier, clock=self.clock, limits=cfg.limits,
            settings=EngineSettings(trace=cfg.record, log_decisions=cfg.log_decisions),
            markets=self.markets,
        )
        engine.start()
        self.engine = engine
        run = self.loop = RunLoop(self.clock, [engine], tally=self.tally)
        ctx: StrategyContext[Any] = StrategyContext(
            name=cfg.strategy, engine=engine, params=self.params, markets=self.markets,
            rng=random.Random(f"strategy:{cfg.seed}"), end=cfg.duration,
        )
        if run.add(self.strategy_type, ctx, engine) is None:
            await engine.aclose()
            return

        def drained() -> None:
            self.sampler.stop()
            self.trace = engine.trace

        await play(run, self.exchange, until=cfg.duration, drain_timeout=cfg.drain_timeout,
                   started=self.sampler.start, stopping=self.sampler.pause, drained=drained)

    def _take(self, now: float) -> Sample:
        ex, names = self.exchange, self.names
        queues = self.engine.queue_depths()  # not a whole metrics() snapshot per sample
        level = ex.trading_level
        return Sample(
            now,
            {name: level(name, now) for name in names},
            ex.api_level("sim", now),
            {name: queues.get(name, 0) for name in names},
        )

    def _progress(self, sample: Sample) -> None:
        if self.progress is not None:
            run = self.loop
            self.progress(Progress(
                sample.time, self.config.duration, run.submitted if run else 0,
                rate_limit_errors(self.exchange.stats.errors),
                run.stopping if run else False,
            ))

    # -- the result ----------------------------------------------------------------------

    def result(self, wall: float) -> BacktestResult:
        cfg = self.config
        ex = self.exchange
        run = self.loop
        limits = tier_limits(cfg.tier)
        util = ex.budget_utilization()
        budget = {"overall": util.pop("overall", 0.0)}
        for m in self.markets:
            budget[m.name] = util.get(m.name, 0.0)
        peaks = ex.peak_levels()
        sampler = self.sampler
        counters: dict[str, dict[str, float]] = {
            m.name: {"max": limits.trading_max, "peak": peaks["trading"].get(m.name, 0.0),
                     "mean": sampler.mean(m.name)}
            for m in self.markets
        }
        counters["api"] = {"max": limits.api_max, "peak": peaks["api"].get("sim", 0.0),
                           "mean": sampler.mean("api")}
        failure = run.failure if run is not None else None
        submitted = run.submitted if run is not None else 0
        tally = self.tally
        errors = dict(sorted(ex.stats.errors.items()))
        summary = Summary(
            strategy=cfg.strategy,
            tier=cfg.tier.value,
            pairs=cfg.pairs,
            seed=cfg.seed,
            duration=cfg.duration,
            params=params_of(self.params),
            intents=submitted,
            sent=tally.sent,
            outcomes=tally.outcomes,
            unresolved=submitted - tally.resolved,
            requests=dict(sorted(ex.stats.requests.items())),
            errors=errors,
            rate_limit_errors=rate_limit_errors(errors),
            budget_utilization=budget,
            counters=counters,
            queue_wait=tally.queue_wait(),
            strategy_report=run.reported() if run is not None else {},
            simulated_seconds=self.clock.now(),
            wall_seconds=wall,
            failure=None if failure is None else str(failure),
        )
        record = cfg.record
        return BacktestResult(
            summary=summary, config=cfg, trading_max=limits.trading_max,
            api_max=limits.api_max, fills=run.fills() if run is not None else {},
            open_at_end={p: self.exchange.open_order_count(p) for p in cfg.pairs},
            requests=self._requests() if record else (),
            samples=tuple(sampler.series or ()) if record else (),
            waits=tuple(sorted(tally.waits)) if record else (),
        )

    def _requests(self) -> tuple[RequestRecord, ...]:
        by_hid = self.tally.by_hid or {}
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
