"""Running a strategy live: against Kraken, or a Kraken-compatible server such as
``orderpace simulate-exchange``.

:func:`run_live` assembles, for a :class:`LiveConfig` and API :class:`Credentials`:

* the venue stack: :class:`~engine.venues.kraken_rest.rest.KrakenRestVenue` (``dry_run`` adds
  ``validate=true`` to adds), under :class:`~engine.venues.kraken_rest.recovery.RecoveringVenue`
  (settles fate-unknown adds and cancels; its lookups paced on the engine's API counter by
  an :class:`~engine.venues.kraken_rest.pacing.ApiPacer`), under a
  :class:`~kraken_rest.dryrun.DryRunVenue` in a dry run (cancels, amends and edits answered
  locally, never sent);
* the pair rules (tick size, order minimums, decimals), read from the venue's public
  ``AssetPairs`` asked for exactly the configured pairs: any pair the exchange lists can be
  traded (names are checked for their ``BASE/QUOTE`` spelling up front, existence there);
* an :class:`~engine.core.engine.Engine` on the real clock with :func:`limiter_settings`:
  ``LimiterSettings.live()`` against Kraken, or the margins that match a local server
  whose decay step and jitter are known (``decay_step``, ``jitter``);
* the strategy behind a :class:`~strategies.host.StrategyHost` -- the same host and
  context the backtest uses -- fed with prices from :class:`~kraken_rest.prices.TickerFeed`
  and with orders that left the book from :class:`~kraken_rest.poller.OrderPoller` (fills
  go to ``on_fill``, other closes to the strategy's bookkeeping; both tell the engine).

Before the strategy starts, one OpenOrders through the engine checks the key: a wrong key,
signature or permission, or a lockout, raises :class:`LiveError` naming Kraken's error,
before any order is attempted.

The run lasts ``duration`` seconds (None: until ``stop`` is set), or until the strategy
raises.  Then, with ``on_exit="cancel"`` (the default), the strategy's ``stop`` runs (it
cancels its orders), every order the engine still holds open is cancelled, and the engine
drains for at most ``drain_timeout`` seconds; with ``on_exit="leave"`` the strategy is
halted without its ``stop``, nothing more is sent, and resting orders stay on the book.
Either way the engine is closed, which resolves every remaining handle.

A key that turns out unusable mid-run (``EAPI:Invalid key``, ``EAPI:Invalid signature``,
``EGeneral:Temporary lockout``: the engine stops sending on them) also ends the run:
nothing more can be sent, so it ends as with ``on_exit="leave"``, and the summary's
``failure`` names Kraken's error (also ``details["key_error"]``).

The result's :class:`~engine.run.summary.Summary` has the backtest's keys, from what this
client saw: ``requests`` it sent (engine, recovery, prices; dry-run local answers
excluded), ``errors`` and ``rate_limit_errors`` from the replies the engine received,
``budget_utilization`` and the counters' ``peak`` from the engine's own model (the
exchange's levels are not observable) over the strategy's run up to its stop -- the exit
cancels are left out: a CancelOrderBatch may take a counter past its max, as Kraken allows
-- ``simulated_seconds`` the run's length on the clock (real seconds here).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import httpx
import structlog

from engine import kraken_errors as ke
from engine.clock import RealClock
from engine.core.engine import Engine, EngineSettings
from engine.core.metrics import PairStats
from engine.errors import EngineError
from engine.intents import CancelOrderBatch, QueryOpenOrders
from engine.markets import Markets
from engine.outcomes import Handle, Outcome, Status
from engine.run.summary import OutcomeTally, Summary, jsonable, percentile
from engine.venues.base import TransportError, Venue
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.dryrun import DryRunVenue
from engine.venues.kraken_rest.pacing import api_pacer_for
from engine.venues.kraken_rest.poller import ClosedOrder, OrderPoller
from engine.venues.kraken_rest.prices import TickerFeed
from engine.venues.kraken_rest.recovery import RecoveringVenue, RecoverySettings
from engine.venues.kraken_rest.rest import DEFAULT_BASE_URL, KrakenRestVenue, check_base_url
from limiters import LimiterSettings, MemoryStore, Tier, tier_limits
from strategies.context import StrategyContext
from strategies.host import StrategyFailed, StrategyHost
from strategies.params import describe_params, parse_params
from strategies.registry import Registry, discover

__all__ = [
    "LOOPBACK_JITTER",
    "LiveConfig",
    "LiveError",
    "LiveResult",
    "limiter_settings",
    "run_live",
]

#: Seconds of latency spread allowed on top of a local server's own jitter: the client's
#: send lock, the event loops and the sockets between engine and server.
LOOPBACK_JITTER = 0.05

_KEY_ID = "live"
_EXIT_STRATEGY = "orderpace.exit"
_START_STRATEGY = "orderpace.start"
#: A pair's WebSocket name: BASE/QUOTE, asset codes of letters, digits and dots ("XBT/USD").
_PAIR_NAME = re.compile(r"[A-Z0-9][A-Z0-9.]{0,15}/[A-Z0-9][A-Z0-9.]{0,15}")
#: Kraken errors after which nothing sent with the key can succeed -- those on which the
#: engine stops sending: a wrong key or signature, a lockout.
_KEY_ERRORS = frozenset({ke.INVALID_KEY, ke.INVALID_SIGNATURE, ke.TEMPORARY_LOCKOUT})
#: At most this many pair names in an error message.
_SHOWN = 8
#: Orders per CancelOrderBatch (Kraken's maximum).
_BATCH_CANCEL = 50

_log = structlog.get_logger("orderpace.live")


class LiveError(RuntimeError):
    """A live run that cannot start or proceed (venue unreachable, no prices, bad config)."""


def _tier(value: str | Tier) -> Tier:
    return Tier.parse(value)


def _pairs(value: Any) -> tuple[str, ...]:
    """Pair names from ``"XBT/USD,ETH/USD"`` or a sequence, upper-cased as Kraken spells them."""
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(p).strip().upper() for p in value if str(p).strip())


def _check_pair_names(pairs: tuple[str, ...]) -> None:
    """Each name once, each in Kraken's WebSocket form ``BASE/QUOTE``; else :class:`LiveError`.

    Only the spelling is checked here: which pairs exist is the exchange's ``AssetPairs``
    to say, at start.
    """
    if not pairs or len(set(pairs)) != len(pairs):
        raise LiveError(f"pairs: give each pair once, got {', '.join(pairs) or 'none'}")
    for name in pairs:
        if not _PAIR_NAME.fullmatch(name):
            raise LiveError(f"pairs: {name!r} is not a pair name like XBT/USD (BASE/QUOTE)")


def _shown(names: Sequence[str]) -> str:
    """``names`` for a message: at most :data:`_SHOWN` of them, then how many more."""
    if not names:
        return "none"
    more = len(names) - _SHOWN
    return ", ".join(names[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _on_exit(_i: object, _a: object, value: str) -> None:
    if value not in ("cancel", "leave"):
        raise LiveError(f"on_exit must be 'cancel' or 'leave', got {value!r}")


@attrs.frozen(slots=True)
class LiveConfig:
    """What to run live.  Times in seconds.

    ``decay_step`` / ``jitter``: the server's decay step and arrival jitter when they are
    known (a local simulated exchange); None against Kraken.  ``poll_interval``: seconds
    between OpenOrders polls; ``price_interval``: between Ticker polls; ``timeout``: per
    request; ``drain_timeout``: how long the shutdown may take.
    """

    strategy: str = "market-maker"
    tier: Tier = attrs.field(default=Tier.INTERMEDIATE, converter=_tier)
    pairs: tuple[str, ...] = attrs.field(default=("XBT/USD", "ETH/USD"), converter=_pairs)
    duration: float | None = None
    settings: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    base_url: str = DEFAULT_BASE_URL
    dry_run: bool = False
    on_exit: str = attrs.field(default="cancel", validator=_on_exit)
    decay_step: float | None = None
    jitter: float | None = None
    poll_interval: float = 5.0
    price_interval: float = 1.0
    timeout: float = 10.0
    drain_timeout: float = 30.0
    seed: int = 0
    recovery: RecoverySettings = attrs.field(factory=RecoverySettings)
    engine: EngineSettings = attrs.field(factory=EngineSettings)

    def __attrs_post_init__(self) -> None:
        for name in ("poll_interval", "price_interval", "timeout", "drain_timeout"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and v > 0 and v != float("inf")):
                raise LiveError(f"{name} must be a finite number of seconds > 0, got {v!r}")
        if self.duration is not None and not self.duration > 0:
            raise LiveError(f"duration must be > 0 seconds, got {self.duration!r}")
        for name in ("decay_step", "jitter"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int | float) and 0 <= v < float("inf")):
                raise LiveError(f"{name} must be a finite number of seconds >= 0, got {v!r}")
        _check_pair_names(self.pairs)
        try:
            check_base_url(self.base_url)
        except ValueError as e:
            raise LiveError(str(e)) from None


def limiter_settings(config: LiveConfig) -> LimiterSettings:
    """The engine's margins for ``config``.

    Against Kraken (nothing known): :meth:`LimiterSettings.live`.  With the server's
    ``decay_step`` known the model steps exactly like it (phase unknown, which the stepped
    model allows for); with its ``jitter`` known the margin allows that plus
    :data:`LOOPBACK_JITTER`.  What is not given keeps the live default.
    """
    live = LimiterSettings.live()
    if config.decay_step is None and config.jitter is None:
        return live
    if config.decay_step is None:
        step, unseen = live.decay_step, live.unseen_step
    else:
        step, unseen = config.decay_step, 0.0
    jitter = live.jitter if config.jitter is None else config.jitter + LOOPBACK_JITTER
    margin = live.margin if config.decay_step is None else 0.0
    return LimiterSettings(decay_step=step, unseen_step=unseen, jitter=jitter, margin=margin)


@attrs.frozen(slots=True)
class LiveResult:
    """A run's :class:`Summary` and what the live machinery did (``details``, JSON-ready).

    ``interrupted``: the run was stopped (``stop`` set) before its ``duration``.
    """

    summary: Summary
    details: Mapping[str, Any]
    interrupted: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The summary's keys (``duration`` null when open-ended), then ``"live"``."""
        return {**self.summary.as_dict(), "live": dict(self.details)}


async def _load_markets(venue: Venue, pairs: tuple[str, ...]) -> Markets:
    """The rules of exactly ``pairs`` (tick size, minimums, decimals), in that order, from
    the venue's ``AssetPairs`` (all pairs: one public request, matched on their WebSocket
    names, so no guess is made about which spellings the pair filter accepts).

    Any pair the exchange lists can be traded.  Raises :class:`LiveError` naming the pairs
    the exchange does not know, or saying why its reply cannot be used.
    """
    result = await _asset_pairs(venue)
    if not all(isinstance(k, str) and isinstance(v, Mapping) for k, v in result.items()):
        raise LiveError("AssetPairs reply not understood: entries are not pair objects")
    try:
        listed = Markets.from_asset_pairs(result)
    except (ValueError, KeyError, TypeError, ArithmeticError) as e:
        raise LiveError(f"AssetPairs reply not understood: {e}") from None
    missing = [p for p in pairs if p not in listed]
    if missing:
        raise LiveError(f"the exchange's AssetPairs does not list {_shown(missing)} "
                        f"(pairs are named as in its wsname, like XBT/USD)")
    try:
        markets = listed.subset(pairs)
    except ValueError:
        raise LiveError(f"pairs: {', '.join(pairs)} name the same pair twice") from None
    for rest_name, info in result.items():
        status = info.get("status")
        if status not in (None, "online") and rest_name in markets:
            _log.warning("live.pair_status", pair=markets.get(rest_name).name, status=status)
    return markets


async def _public(venue: Venue, endpoint: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """A public request's reply; :class:`LiveError` when the exchange cannot be reached."""
    try:
        return await venue.request(endpoint, params)
    except TransportError as e:
        raise LiveError(f"cannot reach the exchange: {e}") from None


async def _asset_pairs(venue: Venue) -> Mapping[str, Any]:
    """``AssetPairs``' result for every pair; :class:`LiveError` on an error reply."""
    reply = await _public(venue, "AssetPairs", {})
    errors = [str(e) for e in reply.get("error") or ()]
    result = reply.get("result")
    if errors or not isinstance(result, Mapping):
        raise LiveError(f"AssetPairs failed: {', '.join(errors) or 'no result'}")
    return result


class _Sampler:
    """Engine-model counter levels every ``interval`` seconds (for the means); ``on_sample``
    is called after each periodic sample."""

    def __init__(
        self, engine: Engine, markets: Markets, interval: float = 1.0,
        on_sample: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.markets = markets
        self.interval = interval
        self.on_sample = on_sample
        self.sums: dict[str, float] = {}
        self.n = 0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        sums = self.sums
        for m in self.markets:
            sums[m.name] = sums.get(m.name, 0.0) + self.engine.trading_level(m.name)
        sums["api"] = sums.get("api", 0.0) + self.engine.api_level()
        self.n += 1

    async def _run(self) -> None:
        while True:
            self.sample()
            if self.on_sample is not None:
                self.on_sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()

    def mean(self, name: str) -> float:
        return self.sums.get(name, 0.0) / self.n if self.n else 0.0


async def run_live(
    config: LiveConfig,
    credentials: Credentials,
    *,
    registry: Registry | None = None,
    stop: asyncio.Event | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LiveResult:
    """Run ``config`` live until its duration ends or ``stop`` is set (module docstring).

    ``registry``: where to find the strategy (default: :func:`strategies.registry.discover`);
    ``transport``: an httpx transport for the REST venue (tests).  Raises
    :class:`LiveError` when the run cannot start (exchange unreachable, a pair it does not
    list, the key refused, no prices), and the registry's / parameters' errors for an
    unknown strategy or bad ``settings``.  A strategy that raises, or a key refused
    mid-run, ends the run; the summary's ``failure`` says why.
    """
    reg = registry if registry is not None else discover()
    strategy_type = reg.load(config.strategy)
    params = parse_params(strategy_type.params_type, config.settings, strategy=config.strategy)
    wall0 = time.perf_counter()
    clock = RealClock()
    rest = KrakenRestVenue(
        credentials, base_url=config.base_url, dry_run=config.dry_run, transport=transport,
        timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout),
                              pool=min(5.0, config.timeout)),
    )
    recovering = RecoveringVenue(rest, config.recovery)
    dry = DryRunVenue(recovering) if config.dry_run else None
    venue: Venue = dry if dry is not None else recovering
    try:
        markets = await _load_markets(rest, config.pairs)
        run = _LiveRun(config, credentials, strategy_type, params, markets, clock, rest,
                       recovering, dry, venue)
        await run.main(stop if stop is not None else asyncio.Event())
    finally:
        await venue.aclose()
    return run.result(time.perf_counter() - wall0)


class _LiveRun:
    """One live run's moving parts (see :func:`run_live`)."""

    def __init__(
        self, config: LiveConfig, credentials: Credentials, strategy_type: Any, params: Any,
        markets: Markets, clock: RealClock, rest: KrakenRestVenue, recovering: RecoveringVenue,
        dry: DryRunVenue | None, venue: Venue,
    ) -> None:
        self.config = config
        self.key_prefix = credentials.key_prefix
        self.strategy_type = strategy_type
        self.params = params
        self.markets = markets
        self.clock = clock
        self.rest = rest
        self.recovering = recovering
        self.dry = dry
        self.venue = venue
        self.tally = OutcomeTally()
        self.store = MemoryStore()
        self.engine = Engine(
            venue, tier=config.tier, clock=clock, limits=limiter_settings(config),
            settings=config.engine, markets=markets, store=self.store, key_id=_KEY_ID,
        )
        self.pacer = api_pacer_for(self.engine)
        recovering.pace = self.pacer
        self.host: StrategyHost | None = None
        self.feed: TickerFeed | None = None
        self.poller: OrderPoller | None = None
        self.sampler = _Sampler(self.engine, markets, on_sample=self._check_key_error)
        self.failure: StrategyFailed | None = None
        self.key_error: str | None = None  # the Kraken error that made the key unusable
        self._key_refused = asyncio.Event()
        self.interrupted = False
        self.started_at = clock.now()
        self.exit_cancels = 0
        self.stats_at_stop: dict[str, PairStats] = {}

    # -- the run -------------------------------------------------------------------------

    async def main(self, stop: asyncio.Event) -> None:
        cfg = self.config
        engine = self.engine
        async with engine:
            await self._check_key()
            ctx: StrategyContext[Any] = StrategyContext(
                name=cfg.strategy, engine=engine, params=self.params, markets=self.markets,
                rng=random.Random(f"strategy:{cfg.seed}"),
                end=None if cfg.duration is None else self.clock.now() + cfg.duration,
            )
            failed = asyncio.Event()

            def on_error(err: StrategyFailed) -> None:
                self.failure = err
                failed.set()

            host = StrategyHost(self.strategy_type, ctx, engine, on_error=on_error,
                                on_outcome=self._observe)
            self.host = host
            feed = TickerFeed(self.rest, self.markets, self.clock, host.tick,
                              interval=cfg.price_interval)
            self.feed = feed
            await self._first_prices(feed)
            self.sampler.start()
            self.started_at = self.clock.now()
            _log.info("live.start", strategy=cfg.strategy, pairs=list(self.markets.names),
                      base_url=self.rest.base_url, key=self.key_prefix, dry_run=cfg.dry_run,
                      tier=cfg.tier.value, duration=cfg.duration)
            host.start()
            feed.start()
            if not cfg.dry_run:  # dry-run orders exist only in the engine's books
                self.poller = OrderPoller(engine, interval=cfg.poll_interval,
                                          on_closed=self._order_gone).start()
            self.interrupted = await self._wait_for_end(stop, failed)
            self.stats_at_stop = {p: attrs.evolve(st) for p, st in engine.stats.items()}
            await self._shutdown(host, feed)
        await self.sampler.stop()

    async def _check_key(self) -> None:
        """Fail fast on a bad key: one OpenOrders (2 API units, paced through the engine --
        the run needs that permission anyway, to poll its orders) before anything trades.

        Raises :class:`LiveError` naming Kraken's error when the key, its signature or its
        permissions are refused (``EGeneral:Permission denied`` included: the run cannot
        poll its orders without that permission), or the key is locked out; other failures
        are logged and the run goes on.
        """
        outcome = await self.engine.submit(QueryOpenOrders(), strategy=_START_STRATEGY)
        if outcome.ok:
            return
        self._check_key_error()
        error = outcome.error or ""
        if self.key_error is None and ke.classify(error) is ke.ErrorKind.AUTH:
            self.key_error = error
        if self.key_error is not None:
            raise LiveError(self._key_refused_message())
        _log.warning("live.key_check_failed", status=outcome.status.value, error=outcome.error)

    def _observe(self, handle: Handle, outcome: Outcome) -> None:
        """The strategy's outcomes: tallied; a refusal may mean the key is unusable."""
        self.tally.observe(handle, outcome)
        if outcome.status is not Status.ACCEPTED:
            self._check_key_error()

    def _check_key_error(self) -> None:
        """Note the first key-refusing error (:data:`_KEY_ERRORS`) the engine met, or that
        it stopped sending."""
        if self.key_error is not None:
            return
        error = next((e for e in self.engine.errors if e in _KEY_ERRORS), None)
        if error is None and self.engine.metrics().locked:
            error = "the engine stopped sending"
        if error is not None:
            self.key_error = error
            self._key_refused.set()
            _log.error("live.key_refused", error=error, key=self.key_prefix)

    def _key_refused_message(self) -> str:
        error = self.key_error
        if error is not None and ke.classify(error) is ke.ErrorKind.LOCKOUT:
            return f"the exchange locked out API key {self.key_prefix} ({error})"
        return (f"the exchange refused API key {self.key_prefix} ({error}): check the key, "
                "its secret and its permissions")

    async def _first_prices(self, feed: TickerFeed) -> None:
        for attempt in range(5):
            try:
                await feed.poll_once()
            except TransportError as e:
                _log.warning("live.ticker_failed", attempt=attempt + 1, error=str(e))
            if feed.complete:
                return
            await asyncio.sleep(self.config.price_interval)
        missing = [m.name for m in self.markets if m.name not in feed.last]
        raise LiveError(f"no price for {', '.join(missing)} from the exchange's Ticker")

    async def _wait_for_end(self, stop: asyncio.Event, failed: asyncio.Event) -> bool:
        """Wait for the duration's end, ``stop``, a strategy failure or an unusable key;
        return whether the run was interrupted (``stop``, nothing failed)."""
        events = (stop, failed, self._key_refused)
        waits = {asyncio.ensure_future(e.wait()) for e in events}
        timeout = self.config.duration
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        self._check_key_error()  # a strategy failing on EngineLocked: the key is the cause
        return stop.is_set() and not failed.is_set() and self.key_error is None

    async def _shutdown(self, host: StrategyHost, feed: TickerFeed) -> None:
        cfg = self.config
        engine = self.engine
        # with the key refused nothing more can be sent: orders stay, as with "leave"
        leave = cfg.on_exit == "leave" or self.key_error is not None
        _log.info("live.stopping", on_exit="leave" if leave else cfg.on_exit,
                  interrupted=self.interrupted, open_orders=len(engine.open_orders()),
                  queued=engine.queued, inflight=engine.inflight)
        if leave:
            host.halt()
        else:
            host.stop()
        await feed.stop()
        if self.poller is not None:
            await self.poller.stop()
        if self.key_error is not None and engine.open_orders():
            _log.warning("live.orders_left", open_orders=len(engine.open_orders()),
                         why="the exchange refused the key")
        if leave:
            return  # closing the engine fails what is queued and waits for what is in flight
        deadline = self.clock.now() + cfg.drain_timeout
        while self.clock.now() < deadline:
            batches = self._cancel_open_orders()
            if batches:
                await asyncio.wait(batches, timeout=max(0.0, deadline - self.clock.now()))
            if not engine.queued and not engine.inflight and not engine.open_orders():
                break
            self._check_key_error()
            if self.key_error is not None:  # refused while cancelling: nothing more can go
                _log.warning("live.orders_left", open_orders=len(engine.open_orders()),
                             why="the exchange refused the key")
                break
            await asyncio.sleep(0.1)  # adds in flight become open, then are swept
        if engine.queued or engine.inflight:
            _log.warning("live.drain_timeout", queued=engine.queued, inflight=engine.inflight)

    def _cancel_open_orders(self) -> list[Handle]:
        """Cancel every open order not already being cancelled, 50 per CancelOrderBatch.

        A batch goes out at once (Kraken accepts it even past the trading counter's max),
        so pulling every quote takes a request per 50 orders instead of minutes of paced
        single cancels.  Single cancels still queued for those orders then resolve as
        coalesced.
        """
        ids = [r.cl_ord_id for r in self.engine.open_orders() if not r.busy]
        handles: list[Handle] = []
        for i in range(0, len(ids), _BATCH_CANCEL):
            try:
                handle = self.engine.submit(CancelOrderBatch(tuple(ids[i:i + _BATCH_CANCEL])),
                                            strategy=_EXIT_STRATEGY)
            except EngineError as e:
                _log.warning("live.exit_cancel_refused", orders=len(ids[i:i + 50]),
                             error=str(e))
                continue
            self.exit_cancels += 1
            handle.add_done_callback(self._exit_outcome)
            handles.append(handle)
        return handles

    def _exit_outcome(self, handle: asyncio.Future[Outcome]) -> None:
        if not handle.cancelled():
            assert isinstance(handle, Handle)
            self.tally.observe(handle, handle.result())

    def _order_gone(self, closed: ClosedOrder) -> None:
        """The poller found an order gone: a fill to the strategy, or a close."""
        host = self.host
        if host is None:
            self.engine.order_closed(closed.order_id, closed.reason)
            return
        now = self.clock.now()
        info = closed.info
        descr = info.get("descr") if isinstance(info.get("descr"), Mapping) else {}
        side = descr.get("type") if isinstance(descr, Mapping) else None
        txid = closed.txid or closed.cl_ord_id
        if closed.filled and side in ("buy", "sell"):
            volume = _decimal(info.get("vol_exec"))
            price = _decimal(info.get("price")) or _decimal(
                descr.get("price") if isinstance(descr, Mapping) else None)
            if volume is not None and price is not None:
                host.fill(txid, closed.cl_ord_id, closed.pair, str(side), price, volume, now)
                return
        host.closed(txid, closed.cl_ord_id, closed.pair, closed.reason, now,
                    engine_knows=False)

    # -- the result ----------------------------------------------------------------------

    def result(self, wall: float) -> LiveResult:
        cfg = self.config
        engine = self.engine
        host = self.host
        limits = tier_limits(cfg.tier)
        tally = self.tally
        waits = sorted(tally.waits)
        requests: Counter[str] = Counter(engine.requests)
        if self.dry is not None:
            requests.subtract(self.dry.local)
        requests.update(self.recovering.extra_requests)
        requests["AssetPairs"] += 1
        if self.feed is not None:
            requests["Ticker"] += self.feed.polls
        errors = dict(sorted(engine.errors.items()))
        budget: dict[str, float] = {}
        charged = allowed = 0.0
        stats = self.stats_at_stop or engine.stats
        for m in self.markets:
            st = stats.get(m.name)
            if st is None or st.first_request is None or st.last_request is None:
                budget[m.name] = 0.0
                continue
            a = limits.trading_max + limits.trading_decay * (st.last_request - st.first_request)
            budget[m.name] = st.charged / a if a > 0 else 0.0
            charged += st.charged
            allowed += a
        budget = {"overall": charged / allowed if allowed > 0 else 0.0, **budget}
        counters: dict[str, dict[str, float]] = {}
        for m in self.markets:
            st = stats.get(m.name)
            counters[m.name] = {"max": limits.trading_max,
                                "peak": st.peak_level if st is not None else 0.0,
                                "mean": self.sampler.mean(m.name)}
        api = stats.get("api")
        counters["api"] = {"max": limits.api_max, "peak": api.peak_level if api else 0.0,
                           "mean": self.sampler.mean("api")}
        submitted = (host.ctx.submitted if host is not None else 0) + self.exit_cancels
        summary = Summary(
            strategy=cfg.strategy,
            tier=cfg.tier.value,
            pairs=self.markets.names,
            seed=cfg.seed,
            duration=cfg.duration,
            params={p.name: jsonable(getattr(self.params, p.name))
                    for p in describe_params(type(self.params))},
            intents=submitted,
            sent=tally.sent,
            outcomes=dict(sorted(tally.outcomes.items())),
            unresolved=submitted - tally.resolved,
            requests=dict(sorted((k, v) for k, v in requests.items() if v > 0)),
            errors=errors,
            rate_limit_errors=sum(n for e, n in errors.items() if ke.is_rate_limit_error(e)),
            budget_utilization=budget,
            counters=counters,
            queue_wait={"p50": percentile(waits, 50), "p99": percentile(waits, 99),
                        "max": waits[-1] if waits else None},
            strategy_report=host.ctx.reported if host is not None else {},
            simulated_seconds=self.clock.now() - self.started_at,
            wall_seconds=wall,
            failure=self._failure_text(),
        )
        details: dict[str, Any] = {
            "base_url": self.rest.base_url,
            "dry_run": cfg.dry_run,
            "on_exit": cfg.on_exit,
            "interrupted": self.interrupted,
            "key_error": self.key_error,
            "exit_cancels": self.exit_cancels,
            "open_orders_left": len(engine.open_orders()),
            "recovery": dict(sorted(self.recovering.stats.items())),
            "lookup_units_charged": self.pacer.charged,
            "polls": self.poller.polls if self.poller is not None else 0,
            "closed_by_poller": self.poller.closed if self.poller is not None else 0,
            "dry_run_local": dict(self.dry.local) if self.dry is not None else {},
            "limits": attrs.asdict(limiter_settings(cfg)),
        }
        return LiveResult(summary, details, self.interrupted)

    def _failure_text(self) -> str | None:
        """Why the run failed: the key refused (first: it explains the rest), the strategy."""
        if self.key_error is not None:
            return self._key_refused_message()
        return None if self.failure is None else str(self.failure)


def _decimal(value: object) -> Decimal | None:
    if not isinstance(value, str | int):
        return None
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return None
    return d if d.is_finite() and d > 0 else None

