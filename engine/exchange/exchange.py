"""The simulated Kraken exchange: an independent referee for backtests and the loopback server.

:class:`SimulatedKraken` answers Kraken REST requests in process, synchronously, at the
arrival time it is given: ``handle(endpoint, params, key=..., now=..., client=...)``
returns Kraken's envelope ``{"error": [], "result": {...}}`` or ``{"error": ["<error>"]}``.
``now`` is clock seconds; UNIX time is ``epoch + now``.  Time never runs backwards: an
earlier ``now`` is read as the latest one seen.

A public request (``Time``, ``SystemStatus``, ``Assets``, ``AssetPairs``, ``Ticker``,
``Depth``, ``Trades``) from a ``client`` address counts against that address's per-IP
limit (:mod:`engine.exchange.public_limit`: over it, ``EGeneral:Too many requests``);
``client=None`` (in process, no network) is not limited.

A private request passes these gates, in order; a refusal at any of them changes nothing
(except the lockout's count of offences):

1. the endpoint exists (``EGeneral:Unknown method``) and the key is registered
   (``EAPI:Invalid key``);
2. the key is not locked out (``EGeneral:Temporary lockout``, see
   :mod:`engine.exchange.lockout`);
3. concurrency: an admitted request occupies its key from ``now`` to
   ``now + processing_time``; with ``max_concurrent`` requests already in flight it is
   refused with ``EService:Throttled:<UNIX time a slot frees, rounded up>``;
4. nonce, when ``params`` carry one: above the key's highest accepted nonce, or within
   ``nonce_window`` below it and never used (``EAPI:Invalid nonce``);
5. the key's API counter (tier max and decay, cost from :mod:`engine.exchange.costs`, order
   endpoints 0): refused with ``EAPI:Rate limit exceeded`` exactly when
   ``level + cost > max`` -- an offence towards a lockout.

An admitted request is charged its API cost, consumes its nonce and occupies a slot,
whatever the endpoint then answers (:mod:`engine.exchange.order_endpoints` for orders and
the trading counter, with their own refusals and fixed-part charges).
``GetWebSocketsToken`` (API cost 1) issues a WebSocket token (:mod:`engine.exchange.tokens`).

:meth:`SimulatedKraken.handle_ws` runs an order action that arrived over WebSocket v2 (the
route checked its token): the *same* order handlers, so the same trading counter, penalties,
caps and errors -- but no key gates, no nonce and nothing on the API counter.

The referee shares nothing with what it referees: its tiers, penalties, API costs, error
strings, markets and time formats are its own tables (:mod:`engine.exchange.tiers`,
:mod:`~engine.exchange.penalties`, :mod:`~engine.exchange.costs`,
:mod:`~engine.exchange.replies`, :mod:`~engine.exchange.markets`,
:mod:`~engine.exchange.times`), written from ``kraken-rate-limits.md``; markets built
elsewhere are read structurally.  Constructor arguments out of range (NaN, infinite,
negative, absurdly large) raise :class:`~engine.exchange.errors.InvalidSimSetting`.

Undocumented by Kraken, chosen here: ``max_concurrent`` 15 and ``processing_time`` 0 s (so
by default the throttle never triggers: set a processing time to model it), one account
shared by every key, decay granularity the same for both counters, a one-tick spread,
lockout after 10 refused calls in a row, a public burst of 15.

Before each request, and whenever :meth:`advance` is called, the exchange catches up with
time: it consumes each pair's price path up to ``now`` (filling resting orders the quote
reaches), fires the dead-man switch and expires GTD orders, each at its own time.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from engine.exchange import order_endpoints as orders
from engine.exchange import public, queries
from engine.exchange import replies as ke
from engine.exchange.accounts import Account, KeyState
from engine.exchange.costs import api_cost
from engine.exchange.counters import TickCounter
from engine.exchange.errors import check_int, check_number
from engine.exchange.events import LifecycleSubscriber, Subscriber
from engine.exchange.lockout import DEFAULT_LOCKOUT_AFTER, DEFAULT_LOCKOUT_SECONDS
from engine.exchange.markets import DEFAULT_MARKETS, ExchangeMarket, exchange_markets
from engine.exchange.matching import DEFAULT_SPREAD_TICKS, MatchingEngine
from engine.exchange.orders import order_info
from engine.exchange.params import Reject
from engine.exchange.prices import DEFAULT_VOLATILITY, PricePath, RandomWalk
from engine.exchange.public_limit import DEFAULT_PUBLIC_BURST, DEFAULT_PUBLIC_RATE, PublicLimit
from engine.exchange.stats import ExchangeStats
from engine.exchange.tiers import TierRules, tier_rules
from engine.exchange.times import DEFAULT_EPOCH
from engine.exchange.tokens import DEFAULT_TOKEN_TTL, WsTokens

__all__ = [
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_PROCESSING_TIME",
    "ENDPOINTS",
    "MAX_SETTING_SECONDS",
    "PUBLIC_ENDPOINTS",
    "WS_ORDER_ENDPOINTS",
    "WS_TOKEN_ENDPOINT",
    "SimulatedKraken",
]

#: Requests one key may have in flight (undocumented by Kraken: a generous choice).
DEFAULT_MAX_CONCURRENT = 15
#: Seconds a request occupies its key (0: requests complete at once, never throttled).
DEFAULT_PROCESSING_TIME = 0.0
#: The longest any time setting may be (s): one day.  Longer ones are typos, and would
#: stall the exchange (a decay step of 1e308 s never releases anything).
MAX_SETTING_SECONDS = 86_400.0

_INF = math.inf

_Handler = Callable[[MatchingEngine, Mapping[str, Any], float], Any]


class _Feed:
    """One pair's price path, read one tick ahead."""

    __slots__ = ("_it", "market", "next_price", "next_time", "tick")

    def __init__(self, market: ExchangeMarket, path: PricePath) -> None:
        self.market = market
        self.tick = float(market.tick_size)
        self._it: Iterator[tuple[float, float]] = iter(path)
        self.next_time = math.inf
        self.next_price = market.start_price
        self.pull()

    def pull(self) -> None:
        """Read the next tick (``next_time`` becomes +inf when the path ends)."""
        for t, p in self._it:
            # finite time, finite price > 0 (NaN fails every comparison)
            if not (-_INF < t < _INF and 0.0 < p < _INF):
                raise ValueError(f"{self.market.name}: bad price tick ({t!r}, {p!r})")
            self.next_time, self.next_price = float(t), float(p)
            return
        self.next_time = _INF

    def ticks(self, price: float) -> int:
        """``price`` in whole ticks (nearest, at least 1)."""
        return max(1, round(price / self.tick))


class SimulatedKraken:
    """Kraken's REST API, rate limits and matching engine, simulated (see module docstring)."""

    def __init__(
        self,
        tier: str | TierRules = "starter",
        decay_step: float = 0.0,
        decay_phase: float = 0.0,
        markets: object = DEFAULT_MARKETS,
        prices: Mapping[str, PricePath] | None = None,
        seed: int = 0,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        processing_time: float = DEFAULT_PROCESSING_TIME,
        nonce_window: int = 0,
        epoch: float = DEFAULT_EPOCH,
        balances: Mapping[str, Decimal | str | int] | None = None,
        *,
        keys: Iterable[str] = ("sim",),
        price_interval: float = 1.0,
        volatility: float = DEFAULT_VOLATILITY,
        closed_history: int = 10_000,
        spread: int = DEFAULT_SPREAD_TICKS,
        lockout_after: int = DEFAULT_LOCKOUT_AFTER,
        lockout_seconds: float = DEFAULT_LOCKOUT_SECONDS,
        public_rate: float = DEFAULT_PUBLIC_RATE,
        public_burst: int = DEFAULT_PUBLIC_BURST,
        ws_token_ttl: float = DEFAULT_TOKEN_TTL,
    ) -> None:
        me, day = "SimulatedKraken", MAX_SETTING_SECONDS
        decay_step = check_number(me, "decay_step", decay_step, unit="seconds", maximum=day)
        decay_phase = check_number(me, "decay_phase", decay_phase, unit="seconds")
        processing_time = check_number(me, "processing_time", processing_time, unit="seconds",
                                       maximum=day)
        epoch = check_number(me, "epoch", epoch, unit="UNIX seconds")
        price_interval = check_number(me, "price_interval", price_interval, unit="seconds",
                                      positive=True, maximum=day)
        volatility = check_number(me, "volatility", volatility, unit="per price step",
                                  maximum=1.0)
        lockout_seconds = check_number(me, "lockout_seconds", lockout_seconds, unit="seconds",
                                       maximum=day)
        public_rate = check_number(me, "public_rate", public_rate, unit="requests per second",
                                   maximum=1e6)
        ws_token_ttl = check_number(me, "ws_token_ttl", ws_token_ttl, unit="seconds",
                                    positive=True, maximum=day)
        check_int(me, "max_concurrent", max_concurrent, minimum=1)
        check_int(me, "nonce_window", nonce_window, minimum=0, maximum=2**64 - 1)
        check_int(me, "closed_history", closed_history, minimum=0)
        check_int(me, "spread", spread, minimum=0, maximum=10**6)
        check_int(me, "lockout_after", lockout_after, minimum=0)
        check_int(me, "public_burst", public_burst, minimum=1)
        self.rules: TierRules = tier_rules(tier)
        self.markets = markets = exchange_markets(markets)
        self.epoch = epoch
        self.decay_step = decay_step
        self.decay_phase = decay_phase
        self.max_concurrent = max_concurrent
        self.processing_time = processing_time
        self.nonce_window = nonce_window
        self.lockout_after = lockout_after
        self.lockout_seconds = lockout_seconds
        self.public_limit = PublicLimit(public_rate, public_burst)
        self.stats = ExchangeStats()
        self._subscribers: list[Subscriber] = []
        self._lifecycle: list[LifecycleSubscriber] = []
        self.ws_tokens = WsTokens(ws_token_ttl)
        self._keys: dict[str, KeyState] = {}
        self._now = -math.inf
        self.engine = MatchingEngine(
            rules=self.rules, markets=markets, account=Account(balances), stats=self.stats,
            subscribers=self._subscribers, decay_step=self.decay_step,
            decay_phase=self.decay_phase, epoch=self.epoch, seed=seed,
            closed_history=closed_history, spread=spread, lifecycle_subscribers=self._lifecycle,
        )
        given = {markets.get(name).name: path for name, path in (prices or {}).items()}
        self._feeds: list[_Feed] = []
        for m in markets:
            path = given[m.name] if m.name in given else RandomWalk(
                m.start_price, seed=seed, name=m.name, interval=price_interval,
                volatility=volatility,
            )
            feed = _Feed(m, path)
            self.engine.prices[m.name] = feed.ticks(feed.next_price)
            self._feeds.append(feed)
        # pending price ticks: (time, feed index), earliest first; ties by pair order
        self._ticks: list[tuple[float, int]] = [
            (f.next_time, i) for i, f in enumerate(self._feeds) if f.next_time < math.inf
        ]
        heapq.heapify(self._ticks)
        self._next_event = self._compute_next_event()
        for k in keys:
            self.add_key(k)

    # -- keys ----------------------------------------------------------------------------

    def add_key(self, key: str, secret: str | None = None) -> None:
        """Register API ``key`` (with its ``secret``, for an HTTP front end to verify).

        Registering a known key again only replaces its secret: its counter and nonces stay.
        """
        if not isinstance(key, str) or not key:
            raise ValueError("an API key must be a non-empty string")
        known = self._keys.get(key)
        if known is not None:
            known.set_secret(secret)
        else:
            self._keys[key] = KeyState(key, secret, self.nonce_window,
                                       lockout_after=self.lockout_after,
                                       lockout_seconds=self.lockout_seconds)

    def has_key(self, key: str) -> bool:
        return key in self._keys

    def secret_for(self, key: str) -> str | None:
        """The secret registered with ``key`` (None: unknown key or no secret)."""
        ks = self._keys.get(key)
        return ks.secret if ks is not None else None

    # -- time ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The latest time the exchange has seen (-inf before the first call)."""
        return self._now

    def _compute_next_event(self) -> float:
        t = self._ticks[0][0] if self._ticks else math.inf
        timer = self.engine.next_timer()
        return timer if timer is not None and timer < t else t

    def next_event_time(self) -> float:
        """Clock time of the next price tick, dead-man trigger or expiry (+inf: none)."""
        return self._next_event

    def advance(self, now: float) -> None:
        """Process every price tick and timer due at or before ``now``, in time order."""
        if now > self._now:
            self._now = now
        now = self._now
        if self._next_event > now:
            return
        engine, ticks, feeds = self.engine, self._ticks, self._feeds
        next_timer, set_price, heapreplace = engine.next_timer, engine.set_price, heapq.heapreplace
        while True:
            t = ticks[0][0] if ticks else _INF
            timer = next_timer()
            if timer is not None and timer < t:  # ties: the price tick first
                if timer > now:
                    break
                engine.fire_timers(timer)
                continue
            if t > now:
                break
            feed = feeds[ticks[0][1]]
            k = round(feed.next_price / feed.tick)  # feed.ticks(), inline (per tick)
            set_price(feed.market, k if k > 1 else 1, t)
            feed.pull()
            if feed.next_time < _INF:
                heapreplace(ticks, (feed.next_time, ticks[0][1]))
            else:
                heapq.heappop(ticks)
        self._next_event = self._compute_next_event()

    # -- events --------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber | LifecycleSubscriber, *,
                  lifecycle: bool = False) -> Callable[[], None]:
        """Call ``callback(event)`` for every fill, cancel and price tick -- and, with
        ``lifecycle``, every order placed or amended too (:data:`~engine.exchange.events.
        Lifecycle`); returns unsubscribe."""
        targets: list[Any] = self._lifecycle if lifecycle else self._subscribers
        targets.append(callback)

        def unsubscribe() -> None:
            if callback in targets:
                targets.remove(callback)

        return unsubscribe

    # -- requests ------------------------------------------------------------------------

    def handle(
        self, endpoint: str, params: Mapping[str, Any], *, key: str | None, now: float,
        client: str | None = None,
    ) -> dict[str, Any]:
        """Process one request arriving at ``now`` (from network address ``client``, if any);
        Kraken's reply envelope."""
        if now > self._now:  # advance(now), its quick exit inline (once per request)
            self._now = now
        now = self._now
        if self._next_event <= now:
            self.advance(now)
        self.stats.requests[endpoint] += 1
        try:
            result = self._dispatch(endpoint, params, key, now, client)
        except Reject as r:
            reply = self._refused(r.error)
        else:
            reply = {"error": [], "result": result}  # ke.envelope(result), inline
        self._next_event = self._compute_next_event()
        return reply

    def handle_ws(self, endpoint: str, params: Mapping[str, Any], *, now: float
                  ) -> dict[str, Any]:
        """An order action arriving over WebSocket v2 at ``now`` (its token already checked):
        one of :data:`WS_ORDER_ENDPOINTS`, with REST-style ``params``, run by the same
        handler as over REST -- no key gates, no nonce, nothing on the API counter.  Kraken's
        REST envelope."""
        handler = _PRIVATE.get(endpoint) if endpoint in WS_ORDER_ENDPOINTS else None
        if handler is None:
            return ke.refusal(ke.UNKNOWN_METHOD)
        self.advance(now)
        now = self._now
        self.stats.requests[endpoint] += 1
        return self._answer(functools.partial(handler, self.engine, params, now))

    def _answer(self, call: Callable[[], Any]) -> dict[str, Any]:
        try:
            result = call()
        except Reject as r:
            reply = self._refused(r.error)
        else:
            reply = ke.envelope(result)
        self._next_event = self._compute_next_event()
        return reply

    def _refused(self, err: str) -> dict[str, Any]:
        """Count the refusal ``err`` (throttles under their bare name) and reply with it."""
        self.stats.errors[ke.THROTTLED if err.startswith(ke.THROTTLED) else err] += 1
        return ke.refusal(err)

    def is_public(self, endpoint: str) -> bool:
        """Whether ``endpoint`` is one of the public endpoints this exchange serves."""
        return endpoint in _PUBLIC

    def _dispatch(
        self, endpoint: str, params: Mapping[str, Any], key: str | None, now: float,
        client: str | None,
    ) -> Any:
        public_handler = _PUBLIC.get(endpoint)
        if public_handler is not None:
            if client is not None and not self.public_limit.admit(client, now):
                raise Reject(ke.TOO_MANY_REQUESTS)
            return public_handler(self.engine, params, now)
        handler = _PRIVATE.get(endpoint)
        if handler is None and endpoint != WS_TOKEN_ENDPOINT:
            raise Reject(ke.UNKNOWN_METHOD)
        ks = self._keys.get(key) if key is not None else None
        if ks is None:
            raise Reject(ke.INVALID_KEY)
        lockout = ks.lockout
        if lockout.until is not None and lockout.locked(now):
            raise Reject(ke.TEMPORARY_LOCKOUT)
        if self.processing_time > 0:
            busy = ks.busy_until(now, self.max_concurrent)
            if busy is not None:
                raise Reject(ke.throttled(math.ceil(self.epoch + busy)))
        raw_nonce = params.get("nonce")
        nonce = _parse_nonce(raw_nonce) if raw_nonce is not None else None
        if nonce is not None and not ks.nonces.acceptable(nonce):
            raise Reject(ke.INVALID_NONCE)
        cost = _API_COST[endpoint]
        api = ks.api
        if api is None:
            api = ks.api = TickCounter(
                self.rules.api_max, self.rules.api_decay,
                step=self.decay_step, phase=self.decay_phase, start=now,
            )
        if not api.fits(cost, now):
            lockout.offended(now)
            raise Reject(ke.API_RATE_LIMIT)
        # admitted: from here on the request is processed, whatever the endpoint answers
        lockout.admitted()
        if cost:
            api.charge(cost, now)
        if nonce is not None:
            ks.nonces.record(nonce)
        if self.processing_time > 0:
            ks.occupy(now + self.processing_time)
        if handler is None:  # GetWebSocketsToken
            return self.ws_tokens.issue(ks.key, now)
        return handler(self.engine, params, now)

    # -- read-only views (the referee's own numbers) --------------------------------------

    @property
    def tier(self) -> str:
        """The tier's name: ``starter``, ``intermediate`` or ``pro``."""
        return self.rules.name

    @property
    def spread(self) -> int:
        """The quoted spread (ticks)."""
        return self.engine.spread

    def price(self, pair: str) -> Decimal:
        """The pair's current market price, its last trade (quote units)."""
        return self.engine.price(self.markets.get(pair))

    def quote(self, pair: str) -> tuple[Decimal, Decimal]:
        """The pair's current ``(bid, ask)`` (quote units)."""
        return self.engine.quote(self.markets.get(pair))

    def trading_level(self, pair: str, now: float) -> float:
        """The pair's trading-counter level at ``now`` (units; changes nothing)."""
        counter = self.engine.counters.get(pair)  # keyed by wsname: the sampler's names
        if counter is not None:
            return counter.level(self._now if self._now > now else now)  # max(now, _now)
        return self.engine.trading_level(self.markets.get(pair), max(now, self._now))

    def api_level(self, key: str, now: float) -> float:
        """The key's API-counter level at ``now`` (units; changes nothing)."""
        ks = self._keys.get(key)
        if ks is None or ks.api is None:
            return 0.0
        return ks.api.level(max(now, self._now))

    def locked_until(self, key: str) -> float | None:
        """Clock time the key's lockout ends (None: not locked out)."""
        ks = self._keys.get(key)
        return ks.lockout.until if ks is not None else None

    def peak_levels(self) -> dict[str, dict[str, float]]:
        """Highest level each counter reached: ``{"trading": {pair: u}, "api": {key: u}}``."""
        return {
            "trading": {n: c.peak for n, c in self.engine.counters.items()},
            "api": {k: ks.api.peak for k, ks in self._keys.items() if ks.api is not None},
        }

    def open_orders_named(self, ident: object) -> list[tuple[str, str | None]]:
        """``(txid, cl_ord_id)`` of the open orders a txid, userref or cl_ord_id names."""
        return [(o.txid, o.cl_ord_id) for o in self.engine.resolve(ident)]

    def open_order_count(self, pair: str) -> int:
        """Open orders on ``pair``."""
        return len(self.engine.books[self.markets.get(pair).name])

    def open_orders(self, pair: str | None = None) -> dict[str, dict[str, Any]]:
        """Open orders (all pairs, or ``pair``) as Kraken's OpenOrders describes them."""
        name = self.markets.get(pair).name if pair is not None else None
        return {
            t: order_info(o, self.epoch)
            for t, o in self.engine.open.items()
            if name is None or o.market.name == name
        }

    def budget_utilization(self) -> dict[str, float]:
        """Penalty charged / most allowed (``max + decay * (last - first)``), per pair and
        ``"overall"`` (sums over pairs); 0 where nothing was allowed."""
        out: dict[str, float] = {}
        charged = allowed = 0.0
        for name in self.stats.first_request:
            a = self.stats.allowed(name, self.rules.trading_max, self.rules.trading_decay)
            c = self.stats.penalty.get(name, 0.0)
            out[name] = c / a if a > 0 else 0.0
            charged += c
            allowed += a
        out["overall"] = charged / allowed if allowed > 0 else 0.0
        return out

    def summary(self) -> dict[str, Any]:
        """The referee's report, JSON-ready: :class:`ExchangeStats` tallies, ``peak`` levels,
        ``budget_utilization`` and ``open_orders`` per pair."""
        return {
            **self.stats.as_dict(),
            "peak": self.peak_levels(),
            "budget_utilization": self.budget_utilization(),
            "open_orders": {name: len(book) for name, book in self.engine.books.items()},
        }

    def snapshot(self, now: float) -> dict[str, Any]:
        """The exchange's state at ``now`` as plain data (orders, balances, counter levels)."""
        snap = self.engine.snapshot(max(now, self._now))
        t = max(now, self._now)
        snap["api"] = {
            k: lv for k, ks in self._keys.items() if ks.api is not None and (lv := ks.api.level(t))
        }
        return snap

    def __repr__(self) -> str:
        return (
            f"SimulatedKraken(tier={self.tier}, pairs={len(self.markets)}, "
            f"keys={len(self._keys)}, open={len(self.engine.open)})"
        )


def _parse_nonce(raw: object) -> int:
    if isinstance(raw, bool):
        raise Reject(ke.INVALID_NONCE)
    try:
        n = int(raw) if type(raw) is str or isinstance(raw, int | str) else -1
    except ValueError:
        raise Reject(ke.INVALID_NONCE) from None
    if not 0 <= n < 2**64:
        raise Reject(ke.INVALID_NONCE)
    return n


_PUBLIC: dict[str, _Handler] = {
    "Time": public.server_time,
    "SystemStatus": public.system_status,
    "Assets": public.assets,
    "AssetPairs": public.asset_pairs,
    "Ticker": public.ticker,
    "Depth": public.depth,
    "Trades": public.trades,
}

_PRIVATE: dict[str, _Handler] = {
    "AddOrder": orders.add_order,
    "AddOrderBatch": orders.add_order_batch,
    "AmendOrder": orders.amend_order,
    "EditOrder": orders.edit_order,
    "CancelOrder": orders.cancel_order,
    "CancelOrderBatch": orders.cancel_order_batch,
    "CancelAll": orders.cancel_all,
    "CancelAllOrdersAfter": orders.cancel_all_after,
    "OpenOrders": lambda x, p, _t: queries.open_orders(x, p),
    "ClosedOrders": lambda x, p, _t: queries.closed_orders(x, p),
    "QueryOrders": lambda x, p, _t: queries.query_orders(x, p),
    "Balance": lambda x, p, _t: queries.balance(x, p),
    "BalanceEx": lambda x, p, _t: queries.balance_ex(x, p),
    "TradeBalance": lambda x, p, _t: queries.trade_balance(x, p),
    "TradesHistory": lambda x, p, _t: queries.trades_history(x, p),
    "QueryTrades": lambda x, p, _t: queries.query_trades(x, p),
}

#: The private endpoint issuing WebSocket tokens (API cost 1).
WS_TOKEN_ENDPOINT = "GetWebSocketsToken"

#: API cost of each private endpoint (:func:`~engine.exchange.costs.api_cost`, looked up once).
_API_COST: dict[str, int] = {e: api_cost(e) for e in (*_PRIVATE, WS_TOKEN_ENDPOINT)}

#: The order endpoints WebSocket v2 reaches (:meth:`SimulatedKraken.handle_ws`).
WS_ORDER_ENDPOINTS: frozenset[str] = frozenset({
    "AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder", "CancelOrderBatch",
    "CancelAll", "CancelAllOrdersAfter",
})

#: The public endpoints served (limited per IP, no key).
PUBLIC_ENDPOINTS: frozenset[str] = frozenset(_PUBLIC)

#: Every endpoint the exchange serves, public and private (Kraken's names).
ENDPOINTS: frozenset[str] = frozenset(_PUBLIC) | frozenset(_PRIVATE) | {WS_TOKEN_ENDPOINT}
