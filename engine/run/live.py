"""Running a strategy live: against Kraken, or a Kraken-compatible server such as
``orderpace simulate-exchange``.

:func:`run_live` assembles, for a :class:`LiveConfig` and API :class:`Credentials`:

* the venue stack: :class:`~engine.venues.kraken_rest.rest.KrakenRestVenue` (``dry_run`` adds
  ``validate=true`` to adds), under :class:`~engine.venues.kraken_rest.recovery.RecoveringVenue`
  (settles fate-unknown adds and cancels; its lookups paced on the engine's API counter by
  an :class:`~engine.venues.kraken_rest.pacing.ApiPacer`), under a
  :class:`~kraken_rest.dryrun.DryRunVenue` in a dry run (cancels, amends and edits answered
  locally, never sent);
* the keys: one, or a pool of several keys of the account (:mod:`engine.run.live_keys`),
  one private request per key on the wire unless ``EngineSettings.nonce_window`` declares
  the keys' Kraken nonce window (:mod:`engine.core.keys`); the engine's in-flight cap follows
  the pool's concurrency; ``EOrder:Unknown order`` on an amend, edit or cancel is looked up
  (:class:`~engine.venues.kraken_rest.gone.GoneOrderLookup`): a fill found there goes to the
  strategy like the poller's, and the summary's ``fills`` count both;
* the pair rules (tick size, order minimums, decimals), read from the venue's public
  ``AssetPairs`` asked for exactly the configured pairs: any pair the exchange lists can be
  traded (names are checked for their ``BASE/QUOTE`` spelling up front, existence there);
* an :class:`~engine.core.engine.Engine` on the real clock with
  :func:`~engine.run.live_config.limiter_settings`:
  ``LimiterSettings.live()`` against Kraken, or the margins that match a local server
  whose decay step and jitter are known (``decay_step``, ``jitter``);
* the strategy behind a :class:`~strategies.host.StrategyHost` -- the same host and
  context the backtest uses -- fed with prices from :class:`~kraken_rest.prices.TickerFeed`
  and with orders that left the book from :class:`~kraken_rest.poller.OrderPoller` (fills
  go to ``on_fill``, other closes to the strategy's bookkeeping; both tell the engine).

Before the strategy starts, one OpenOrders through the engine checks the key: a wrong key,
signature or permission, or a lockout, raises :class:`LiveError` naming Kraken's error,
before any order is attempted; so does ``EAPI:Invalid nonce`` -- the key already took a
larger nonce than ours, and the message explains nonce units and the key's nonce window
(:func:`~engine.run.live_start.nonce_refused_message`).

The strategy runs in the shared :class:`~engine.run.loop.RunLoop` (hosting, routing,
tally, end); this module keeps what only a live run does: the venue stack, the key, the
price feed and order poller, the exit cancels and the figures from the engine's model.

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
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx
import structlog

from engine import kraken_errors as ke
from engine.clock import RealClock
from engine.core.engine import Engine
from engine.core.metrics import PairStats
from engine.errors import EngineError
from engine.intents import CancelOrderBatch, QueryOpenOrders
from engine.journal.live import LiveJournal
from engine.markets import Markets
from engine.numbers import positive_decimal
from engine.outcomes import Handle, Outcome, Status
from engine.run.live_config import (
    LOOPBACK_JITTER,
    LiveConfig,
    LiveError,
    MarginTooLarge,
    limiter_settings,
)
from engine.run.live_keys import (
    bind_pool,
    closed_order,
    engine_settings,
    key_list,
    pool_ids,
    rest_venue,
)
from engine.run.live_start import key_refused_message, load_markets, nonce_refused_message
from engine.run.live_ws import LiveTransport
from engine.run.loop import RunLoop
from engine.run.sampling import Sample, Sampler
from engine.run.summary import OutcomeTally, Summary, params_of, rate_limit_errors
from engine.shared.live import SharedPacer, SharedStore, held_open, open_shared
from engine.shared.nonces import RedisNonces
from engine.venues.base import TransportError, Venue
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.dryrun import DryRunVenue
from engine.venues.kraken_rest.gone import GoneOrderLookup
from engine.venues.kraken_rest.nonce import WallClockNonces
from engine.venues.kraken_rest.pacing import ApiPacer, api_pacer_for
from engine.venues.kraken_rest.poller import ClosedOrder, OrderPoller
from engine.venues.kraken_rest.prices import TickerFeed
from engine.venues.kraken_rest.recovery import RecoveringVenue
from engine.venues.kraken_rest.rest import KrakenRestVenue
from limiters import KrakenProfile, MemoryStore, tier_limits
from strategies.context import StrategyContext
from strategies.params import parse_params
from strategies.registry import Registry, discover

__all__ = [
    "LOOPBACK_JITTER",
    "LiveConfig",
    "LiveError",
    "LiveResult",
    "MarginTooLarge",
    "limiter_settings",
    "run_live",
]

_KEY_ID = "live"
_EXIT_STRATEGY = "orderpace.exit"
_START_STRATEGY = "orderpace.start"
#: Kraken errors after which nothing sent with the key can succeed -- those on which the
#: engine stops sending: a wrong key or signature, a lockout.
_KEY_ERRORS = frozenset({ke.INVALID_KEY, ke.INVALID_SIGNATURE, ke.TEMPORARY_LOCKOUT})
#: Orders per CancelOrderBatch (Kraken's maximum).
_BATCH_CANCEL = 50
#: Seconds between samples of the engine's counter levels (for the means).
_SAMPLE_INTERVAL = 1.0

_log = structlog.get_logger("orderpace.live")


@attrs.frozen(slots=True)
class LiveResult:
    """A run's :class:`Summary` and what the live machinery did (``details``, JSON-ready).

    ``interrupted``: the run was stopped (``stop`` set) before its ``duration``.
    """

    summary: Summary
    details: Mapping[str, Any]
    interrupted: bool = False
    fills: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The summary's keys (``duration`` null when open-ended), ``"fills"`` (per pair:
        ``count`` and ``volume``, as the exchange reported them), then ``"live"``."""
        return {**self.summary.as_dict(), "fills": dict(self.fills), "live": dict(self.details)}


async def run_live(
    config: LiveConfig,
    credentials: Credentials | Sequence[Credentials],
    *,
    registry: Registry | None = None,
    stop: asyncio.Event | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LiveResult:
    """Run ``config`` live until its duration ends or ``stop`` is set (module docstring).

    ``credentials``: one key, or several keys of the account (a pool: see
    :mod:`engine.run.live_keys`).  ``registry``: where to find the strategy (default:
    :func:`strategies.registry.discover`);
    ``transport``: an httpx transport for the REST venue (tests).  Raises
    :class:`LiveError` when the run cannot start (exchange unreachable, a pair it does not
    list, the key or its nonce refused, no prices), and the registry's / parameters' errors
    for an unknown strategy or bad ``settings``.  A strategy that raises (its constructor
    included), or a key refused mid-run, ends the run; the summary's ``failure`` says why.
    """
    reg = registry if registry is not None else discover()
    strategy_type = reg.load(config.strategy)
    params = parse_params(strategy_type.params_type, config.settings, strategy=config.strategy)
    wall0 = time.perf_counter()
    clock = RealClock()
    keys = key_list(credentials)
    shared = await open_shared(config.store, config.account, [k.key for k in keys],
                               config.store_lease)
    nonces: WallClockNonces | RedisNonces = WallClockNonces() if shared is None else shared.nonces()
    rest = rest_venue(config, keys, nonces, transport,
                      None if shared is None else shared.wires(keys, config))
    hooks = LiveTransport.for_config(config)
    journal = LiveJournal.open(config, keys[0].key, clock, account=rest.base_url)
    orders_venue = hooks.venue(rest)
    journal.watch(rest, orders_venue)  # key and nonce (ws: req_id) journaled before the wire
    recovering = RecoveringVenue(orders_venue, config.recovery)
    gone = GoneOrderLookup(recovering)
    dry = DryRunVenue(gone) if config.dry_run else None
    venue: Venue = dry if dry is not None else gone
    try:
        markets = await load_markets(rest, config.pairs)
        run = _LiveRun(config, keys[0], strategy_type, params, markets, clock, rest,
                       recovering, dry, venue, nonces, gone, journal, shared)
        run.hooks = hooks
        await run.main(stop if stop is not None else asyncio.Event())
    except BaseException:
        journal.close(None)  # the run never ended cleanly: recovery looks at it next time
        raise
    finally:
        await venue.aclose()
        if shared is not None:
            await shared.aclose()
    result = run.result(time.perf_counter() - wall0)
    journal.close(result.as_dict())
    return result


class _LiveRun:
    """What a live run adds to the run loop (see :func:`run_live`)."""

    def __init__(
        self, config: LiveConfig, credentials: Credentials, strategy_type: Any, params: Any,
        markets: Markets, clock: RealClock, rest: KrakenRestVenue, recovering: RecoveringVenue,
        dry: DryRunVenue | None, venue: Venue, nonces: WallClockNonces | RedisNonces,
        gone: GoneOrderLookup, journal: LiveJournal,
        shared: SharedStore | None = None,
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
        self.nonces = nonces
        self.tally = OutcomeTally()
        self.journal = journal
        limits = limiter_settings(config)
        self.shared = shared
        # over WS orders carry no nonce: only REST's own wire slots serialise its calls
        settings = (config.engine if config.transport.transport == "ws"
                    else engine_settings(config, rest))
        ids = None if config.transport.transport == "ws" else pool_ids(rest)  # API per key
        key_id = ids[0] if ids else _KEY_ID
        self.engine = Engine(
            venue, tier=config.tier, clock=clock, limits=limits,
            settings=settings, markets=markets, store=MemoryStore(),
            key_id=key_id, observer=journal.observer, key_ids=ids,
            budget=None if shared is None else shared.budget(
                KrakenProfile.for_tier(config.tier, limits), settings,
                key_id, ids),
        )
        self.pacer: ApiPacer | SharedPacer = (
            api_pacer_for(self.engine) if shared is None else shared.pacer(key_id, clock))
        if shared is not None:  # open-order leases renewed while this process lives
            shared.start(held_open(self.engine), markets.names)
        recovering.pace = gone.pace = self.pacer
        self.gone = gone
        gone.on_gone = self._looked_up
        bind_pool(self.engine, rest)
        self.loop = RunLoop(clock, [self.engine], tally=self.tally, observe=self._observe)
        self.feed: TickerFeed | None = None
        self.poller: OrderPoller | None = None
        self.sampler = Sampler(clock, _SAMPLE_INTERVAL, self._take,
                               on_sample=lambda _s: self._check_key_error())
        self.key_error: str | None = None  # the Kraken error that made the key unusable
        self._key_refused = asyncio.Event()
        self.interrupted = False
        self.started_at = clock.now()
        self.exit_cancels = 0
        self.stats_at_stop: dict[str, PairStats] = {}
        self.hooks = LiveTransport.for_config(config)

    # -- the run -------------------------------------------------------------------------

    async def main(self, stop: asyncio.Event) -> None:
        cfg = self.config
        engine = self.engine
        run = self.loop
        async with engine:
            if self.shared is None:  # a shared store holds the account's counters itself
                self.journal.seed(engine)  # counters from the journal, before any request
            await self._check_key()
            await self.hooks.start(engine, run, self.markets, self.pacer, self._order_gone)
            await self.journal.recover(engine)  # a crashed run's orders and intents
            ctx: StrategyContext[Any] = StrategyContext(
                name=cfg.strategy, engine=engine, params=self.params, markets=self.markets,
                rng=random.Random(f"strategy:{cfg.seed}"),
                end=None if cfg.duration is None else self.clock.now() + cfg.duration,
            )
            if run.add(self.strategy_type, ctx, engine) is None:
                return  # its constructor raised: the summary's failure says so
            feed = TickerFeed(self.rest, self.markets, self.clock, run.tick,
                              interval=cfg.price_interval)
            self.feed = feed
            await self._first_prices(feed)
            self.sampler.start()
            self.started_at = self.clock.now()
            _log.info("live.start", strategy=cfg.strategy, pairs=list(self.markets.names),
                      base_url=self.rest.base_url, key=self.key_prefix, dry_run=cfg.dry_run,
                      tier=cfg.tier.value, duration=cfg.duration)
            run.start()
            feed.start()
            if not cfg.dry_run and not self.hooks.feed_on:  # dry run: orders only in the engine
                self.poller = OrderPoller(engine, interval=cfg.poll_interval,
                                          on_closed=self._order_gone).start()
            until = None if cfg.duration is None else self.clock.now() + cfg.duration
            await run.wait(until, (stop, self._key_refused))
            self._check_key_error()  # a strategy failing on EngineLocked: the key is the cause
            self.interrupted = (stop.is_set() and run.failure is None
                                and self.key_error is None)
            self.stats_at_stop = {p: attrs.evolve(st) for p, st in engine.stats.items()}
            await self._shutdown(feed)
        self.sampler.stop()

    async def _check_key(self) -> None:
        """Fail fast on a bad key: one OpenOrders (2 API units, paced through the engine --
        the run needs that permission anyway, to poll its orders) before anything trades.

        Raises :class:`LiveError` naming Kraken's error when the key, its signature or its
        permissions are refused (``EGeneral:Permission denied`` included: the run cannot
        poll its orders without that permission), the key is locked out, or its nonce is
        refused (:func:`~engine.run.live_start.nonce_refused_message`); other failures are
        logged and the run goes on.
        """
        outcome = await self.engine.submit(QueryOpenOrders(), strategy=_START_STRATEGY)
        if outcome.ok:
            return
        self._check_key_error()
        error = outcome.error or ""
        if self.key_error is None and ke.classify(error) is ke.ErrorKind.AUTH:
            self.key_error = error
        if self.key_error is not None:
            raise LiveError(key_refused_message(self.key_prefix, self.key_error))
        if ke.classify(error) is ke.ErrorKind.NONCE:
            raise LiveError(nonce_refused_message(self.key_prefix, self.nonces.per_second))
        _log.warning("live.key_check_failed", status=outcome.status.value, error=outcome.error)

    def _observe(self, handle: Handle, outcome: Outcome) -> None:
        """The strategy's outcomes: tallied; a refusal may mean the key is unusable."""
        self.tally.add(outcome, handle.id)
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

    def _take(self, now: float) -> Sample:
        engine = self.engine
        return Sample(now, {m.name: engine.trading_level(m.name) for m in self.markets},
                      engine.api_level(), {})

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

    async def _shutdown(self, feed: TickerFeed) -> None:
        cfg = self.config
        engine = self.engine
        # with the key refused nothing more can be sent: orders stay, as with "leave"
        leave = cfg.on_exit == "leave" or self.key_error is not None
        _log.info("live.stopping", on_exit="leave" if leave else cfg.on_exit,
                  interrupted=self.interrupted, open_orders=len(engine.open_orders()),
                  queued=engine.queued, inflight=engine.inflight)
        if leave:
            self.loop.halt()
        else:
            self.loop.stop()
        await feed.stop()
        if self.poller is not None:
            await self.poller.stop()
        if self.key_error is not None and engine.open_orders():
            _log.warning("live.orders_left", open_orders=len(engine.open_orders()),
                         why="the exchange refused the key")
        if leave:
            await (self.hooks.halt() if self.key_error is not None else self.hooks.stop())
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
        await (self.hooks.halt() if self.key_error is not None else self.hooks.stop())

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
            chunk = tuple(ids[i:i + _BATCH_CANCEL])
            try:
                handle = self.engine.submit(CancelOrderBatch(chunk), strategy=_EXIT_STRATEGY)
            except EngineError as e:
                _log.warning("live.exit_cancel_refused", orders=len(chunk), error=str(e))
                continue
            self.exit_cancels += 1
            handle.add_done_callback(self._exit_outcome)
            handles.append(handle)
        return handles

    def _exit_outcome(self, handle: asyncio.Future[Outcome]) -> None:
        if not handle.cancelled():
            assert isinstance(handle, Handle)
            self.tally.add(handle.result(), handle.id)

    def _looked_up(self, ref: str, info: Mapping[str, Any]) -> None:
        """An order met ``EOrder:Unknown order``; the exchange says what became of it."""
        closed = closed_order(self.engine, ref, info)
        if closed is not None:
            self._order_gone(closed)

    def _order_gone(self, closed: ClosedOrder) -> None:
        """The poller found an order gone: a fill to its strategy, or a close."""
        now = self.clock.now()
        info = closed.info
        descr = info.get("descr") if isinstance(info.get("descr"), Mapping) else {}
        side = descr.get("type") if isinstance(descr, Mapping) else None
        txid = closed.txid or closed.cl_ord_id
        if closed.filled and side in ("buy", "sell"):
            volume = positive_decimal(info.get("vol_exec"))
            price = positive_decimal(info.get("price")) or positive_decimal(
                descr.get("price") if isinstance(descr, Mapping) else None)
            if volume is not None and price is not None:
                self.loop.fill(txid, closed.cl_ord_id, closed.pair, str(side), price, volume,
                               now)
                return
        self.loop.closed(txid, closed.cl_ord_id, closed.pair, closed.reason, now)

    # -- the result ----------------------------------------------------------------------

    def result(self, wall: float) -> LiveResult:
        cfg = self.config
        engine = self.engine
        run = self.loop
        limits = tier_limits(cfg.tier)
        tally = self.tally
        requests: Counter[str] = Counter(engine.requests)
        if self.dry is not None:
            requests.subtract(self.dry.local)
        requests.update(self.recovering.extra_requests)
        requests.update(self.hooks.extra_requests())
        requests["QueryOrders"] += self.gone.stats["lookups"] + self.gone.stats["failed"]
        requests["AssetPairs"] += 1
        if self.feed is not None:
            requests["Ticker"] += self.feed.polls
        errors = dict(sorted(engine.errors.items()))
        stats = self.stats_at_stop or engine.stats
        budget = _utilization(stats, self.markets.names, limits.trading_max,
                              limits.trading_decay)
        counters: dict[str, dict[str, float]] = {}
        for m in self.markets:
            st = stats.get(m.name)
            counters[m.name] = {"max": limits.trading_max,
                                "peak": st.peak_level if st is not None else 0.0,
                                "mean": self.sampler.mean(m.name)}
        api = stats.get("api")
        counters["api"] = {"max": limits.api_max, "peak": api.peak_level if api else 0.0,
                           "mean": self.sampler.mean("api")}
        submitted = run.submitted + self.exit_cancels
        summary = Summary(
            strategy=cfg.strategy,
            tier=cfg.tier.value,
            pairs=self.markets.names,
            seed=cfg.seed,
            duration=cfg.duration,
            params=params_of(self.params),
            intents=submitted,
            sent=tally.sent,
            outcomes=tally.outcomes,
            unresolved=submitted - tally.resolved,
            requests=dict(sorted((k, v) for k, v in requests.items() if v > 0)),
            errors=errors,
            rate_limit_errors=rate_limit_errors(errors),
            budget_utilization=budget,
            counters=counters,
            queue_wait=tally.queue_wait(),
            strategy_report=run.reported(),
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
            "gone_lookups": dict(sorted(self.gone.stats.items())),
            "keys": self.rest.pool.report() if self.rest.pool is not None else [],
            "lookup_units_charged": self.pacer.charged,
            "polls": self.poller.polls if self.poller is not None else 0,
            "closed_by_poller": self.poller.closed if self.poller is not None else 0,
            "dry_run_local": dict(self.dry.local) if self.dry is not None else {},
            "limits": attrs.asdict(limiter_settings(cfg)),
            **self.hooks.details(self.clock.now() - self.started_at, cfg.poll_interval),
            "journal": self.journal.details(),
            **({} if self.shared is None else self.shared.details()),
        }
        return LiveResult(summary, details, self.interrupted, run.fills())

    def _failure_text(self) -> str | None:
        """Why the run failed: the key refused (first: it explains the rest), the strategy."""
        if self.key_error is not None:
            return key_refused_message(self.key_prefix, self.key_error)
        failure = self.loop.failure
        return None if failure is None else str(failure)


def _utilization(stats: Mapping[str, PairStats], pairs: tuple[str, ...], maximum: float,
                 decay: float) -> dict[str, float]:
    """Per pair and ``"overall"``: units charged / ``max + decay * seconds`` from the pair's
    first request to its last (the engine's own model: the exchange's is not observable)."""
    budget: dict[str, float] = {}
    charged = allowed = 0.0
    for pair in pairs:
        st = stats.get(pair)
        if st is None or st.first_request is None or st.last_request is None:
            budget[pair] = 0.0
            continue
        a = maximum + decay * (st.last_request - st.first_request)
        budget[pair] = st.charged / a if a > 0 else 0.0
        charged += st.charged
        allowed += a
    return {"overall": charged / allowed if allowed > 0 else 0.0, **budget}

