"""The limiters a user would otherwise pick, configured for a Kraken tier.

Every baseline counts requests, not Kraken's penalties: one unit per request (the
libraries' own notion), or ccxt's and hummingbot's documented per-endpoint weights.

* ``asyncio-throttle`` -- the real library (:class:`asyncio_throttle.Throttler`), one
  throttler per pair for order endpoints at the trading counter's sustained rate
  (``rate_limit=1`` per ``1 / decay`` seconds) and one per key for private queries at the
  API counter's rate.  The library reads ``time.monotonic()`` directly; here its module's
  ``time`` is pointed at the running loop's clock for the run (:func:`loop_clock`).  On a
  real event loop ``loop.time()`` *is* ``time.monotonic()``, so its behaviour (including
  its 10 ms polling) is unchanged; on the virtual loop it sees virtual time.
* ``aiolimiter`` -- the real library (:class:`aiolimiter.AsyncLimiter`), a leaky bucket
  per pair with the tier's trading ``max`` and decay (``AsyncLimiter(max, max / decay)``),
  and one per key with the API counter's; one unit per request.  It reads ``loop.time()``
  and arms ``loop.call_at`` itself: it runs on the virtual clock as is.
* ``ccxt-style`` -- a faithful re-creation (not ccxt's code) of ccxt's leaky-bucket
  throttle as ccxt configures Kraken: ``rateLimit`` 1000 ms, one bucket per exchange
  instance (per key) for every endpoint, FIFO; tokens start at 0, refill at
  ``1 / rateLimit`` per ms up to a capacity of 1, a call goes when ``tokens >= 0`` and
  takes its cost, the queue is polled every 1 ms while waiting.  Costs from ccxt's Kraken
  API table: order endpoints 0, most private calls 3, Ledgers / TradesHistory 6.
* ``hummingbot-style`` -- a faithful re-creation (not hummingbot's code) of hummingbot's
  ``AsyncThrottler`` with its Kraken limits: sliding 60 s windows sized ``max + 60 x
  decay`` (private pool 15+20 / 20+30 / 20+60; AddOrder and CancelOrder each
  60+60 / 125+140 / 180+225), per endpoint and per key (not per pair), a 5% safety margin
  on the window, capacity re-checked every 0.1 s.  Balance, OpenOrders and QueryOrders
  weigh 2 on their own limit and 1 on the private pool.  Hummingbot's Kraken connector
  defines no AmendOrder, EditOrder, batch or ClosedOrders limit: this re-creation gives
  them the same shape as their nearest documented sibling (noted in the report).
* ``none`` -- no limiter at all.

Re-creations read the running loop's clock (ccxt reads ``time()``, hummingbot
``time.time()``): that is how they run in virtual time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

import asyncio_throttle.throttler as _throttle_module
import attrs
from aiolimiter import AsyncLimiter
from asyncio_throttle.throttler import Throttler

from limiters import TierLimits

__all__ = [
    "CCXT_KRAKEN_COSTS",
    "CCXT_KRAKEN_RATE_LIMIT_MS",
    "AioLimiterPacer",
    "CcxtStylePacer",
    "HummingbotStylePacer",
    "NoLimitPacer",
    "ThrottlePacer",
    "hummingbot_kraken_limits",
    "loop_clock",
]

# -- asyncio-throttle (the real library) ------------------------------------------------


def _loop_monotonic() -> float:
    return asyncio.get_running_loop().time()


@contextlib.contextmanager
def loop_clock() -> Iterator[None]:
    """Point ``asyncio_throttle``'s ``time.monotonic`` at the running loop's clock.

    Scoped to the ``with`` block and restored after it.  Nothing else in the library is
    touched: its sliding log, its strict ``>`` comparison and its ``asyncio.sleep`` poll
    all run as shipped.
    """
    saved = getattr(_throttle_module, "time")  # noqa: B009 -- not exported: read by name
    setattr(_throttle_module, "time", SimpleNamespace(monotonic=_loop_monotonic))  # noqa: B010
    try:
        yield
    finally:
        setattr(_throttle_module, "time", saved)  # noqa: B010


class ThrottlePacer:
    """asyncio-throttle at the tier's sustained rates: per pair (trading), per key (API)."""

    label = "asyncio-throttle"

    def __init__(self, limits: TierLimits) -> None:
        self._limits = limits
        self._api = Throttler(rate_limit=1, period=1.0 / limits.api_decay)
        self._pairs: dict[str, Throttler] = {}

    async def acquire(self, endpoint: str, pair: str | None) -> None:
        if pair is None:
            throttler = self._api
        else:
            throttler = self._pairs.get(pair) or self._pairs.setdefault(
                pair, Throttler(rate_limit=1, period=1.0 / self._limits.trading_decay)
            )
        await throttler.acquire()  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"ThrottlePacer(trading {self._limits.trading_decay:g}/s per pair)"


# -- aiolimiter (the real library) ------------------------------------------------------


class AioLimiterPacer:
    """aiolimiter leaky buckets with the tier's max and decay, one unit per request."""

    label = "aiolimiter"

    def __init__(self, limits: TierLimits) -> None:
        self._limits = limits
        self._api = AsyncLimiter(limits.api_max, limits.api_max / limits.api_decay)
        self._pairs: dict[str, AsyncLimiter] = {}

    async def acquire(self, endpoint: str, pair: str | None) -> None:
        limiter = self._api if pair is None else self._pairs.get(pair)
        if limiter is None:
            lim = self._limits
            limiter = self._pairs[pair or ""] = AsyncLimiter(
                lim.trading_max, lim.trading_max / lim.trading_decay
            )
        await limiter.acquire(1)

    def __repr__(self) -> str:
        return f"AioLimiterPacer(max {self._limits.trading_max:g} per pair)"


# -- ccxt-style (faithful re-creation) --------------------------------------------------

#: ccxt's ``rateLimit`` for Kraken, milliseconds per unit of cost.
CCXT_KRAKEN_RATE_LIMIT_MS = 1000.0

#: ccxt's Kraken private-endpoint costs (units of ``rateLimit``).
CCXT_KRAKEN_COSTS: dict[str, float] = {
    **dict.fromkeys(
        ("AddOrder", "AddOrderBatch", "AmendOrder", "EditOrder", "CancelOrder",
         "CancelOrderBatch"),
        0.0,
    ),
    **dict.fromkeys(
        ("Balance", "BalanceEx", "CancelAll", "CancelAllOrdersAfter", "ClosedOrders",
         "GetWebSocketsToken", "OpenOrders", "OpenPositions", "QueryLedgers", "QueryOrders",
         "QueryTrades", "TradeBalance", "TradeVolume"),
        3.0,
    ),
    **dict.fromkeys(("Ledgers", "TradesHistory"), 6.0),
}


class CcxtStylePacer:
    """ccxt's leaky-bucket throttle as configured for Kraken (see the module docstring).

    ``tokens`` (units) start at 0 and are capped at ``capacity`` (1); they refill at
    ``1 / rate_limit_ms`` per millisecond of loop time, counted only while the queue
    waits; the head of the FIFO queue goes when ``tokens >= 0`` and takes its cost.
    """

    label = "ccxt-style"

    def __init__(
        self, rate_limit_ms: float = CCXT_KRAKEN_RATE_LIMIT_MS, *, delay: float = 0.001,
        capacity: float = 1.0, costs: dict[str, float] | None = None,
    ) -> None:
        self.refill_per_ms = 1.0 / rate_limit_ms
        self.delay = delay
        self.capacity = capacity
        self.costs = CCXT_KRAKEN_COSTS if costs is None else costs
        self.tokens = 0.0
        self._queue: collections.deque[tuple[asyncio.Future[None], float]] = collections.deque()
        self._looper: asyncio.Task[None] | None = None

    async def acquire(self, endpoint: str, pair: str | None) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._queue.append((fut, self.costs.get(endpoint, 1.0)))
        if self._looper is None:
            self._looper = loop.create_task(self._loop())
        await fut

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_ms = loop.time() * 1000.0
        try:
            while self._queue:
                fut, cost = self._queue[0]
                if self.tokens >= 0:
                    self.tokens -= cost
                    if not fut.done():
                        fut.set_result(None)
                    self._queue.popleft()
                    await asyncio.sleep(0)  # ccxt's context switch
                else:
                    await asyncio.sleep(self.delay)
                    now_ms = loop.time() * 1000.0
                    self.tokens = min(
                        self.tokens + (now_ms - last_ms) * self.refill_per_ms, self.capacity
                    )
                    last_ms = now_ms
        finally:
            self._looper = None

    def __repr__(self) -> str:
        return f"CcxtStylePacer(rateLimit={1.0 / self.refill_per_ms:g} ms)"


# -- hummingbot-style (faithful re-creation) --------------------------------------------


@attrs.frozen(slots=True)
class HbLimit:
    """One hummingbot ``RateLimit``: ``limit`` weight units per ``interval`` seconds.

    ``weight`` is what one call charges this limit; ``linked`` names other limits (pools)
    a call also charges, with their weights.
    """

    limit_id: str
    limit: int
    interval: float
    weight: int = 1
    linked: tuple[tuple[str, int], ...] = ()


#: Hummingbot's window for Kraken's private pool and matching-engine limits (seconds).
HB_WINDOW = 60.0
_POOL = "private"


def hummingbot_kraken_limits(limits: TierLimits) -> dict[str, HbLimit]:
    """Hummingbot's Kraken limits for a tier, by limit id (endpoint name or pool).

    Sizes are ``max + 60 x decay`` rounded to whole units, as hummingbot writes them:
    private 15+20, 20+30, 20+60; matching engine 60+60, 125+140, 180+225.
    """
    private = round(limits.api_max + HB_WINDOW * limits.api_decay)
    matching = round(limits.trading_max + HB_WINDOW * limits.trading_decay)
    pool = ((_POOL, 1),)
    out = {_POOL: HbLimit(_POOL, private, HB_WINDOW)}
    for name, weight in (("GetWebSocketsToken", 1), ("Balance", 2), ("OpenOrders", 2),
                         ("QueryOrders", 2),
                         # not in hummingbot's Kraken table: shaped like their siblings
                         ("ClosedOrders", 2), ("CancelAllOrdersAfter", 1)):
        out[name] = HbLimit(name, private, HB_WINDOW, weight, pool)
    for name in ("AddOrder", "CancelOrder",
                 # not in hummingbot's Kraken table: shaped like AddOrder / CancelOrder
                 "AmendOrder", "EditOrder", "AddOrderBatch", "CancelOrderBatch", "CancelAll"):
        out[name] = HbLimit(name, matching, HB_WINDOW)
    return out


class HummingbotStylePacer:
    """Hummingbot's ``AsyncThrottler`` semantics over :func:`hummingbot_kraken_limits`.

    A call may go when, for its own limit and each linked one, the weights logged within
    ``interval x (1 + safety_margin)`` seconds plus its weight stay within ``limit``; it
    then logs its weights.  Otherwise it sleeps ``retry_interval`` and checks again.
    """

    label = "hummingbot-style"

    def __init__(
        self, limits: TierLimits, *, retry_interval: float = 0.1, safety_margin: float = 0.05,
    ) -> None:
        self.limits = hummingbot_kraken_limits(limits)
        self.retry_interval = retry_interval
        self.safety_margin = safety_margin
        self._logs: dict[str, collections.deque[tuple[float, int]]] = {
            k: collections.deque() for k in self.limits
        }
        self._lock = asyncio.Lock()

    def _used(self, limit_id: str, now: float) -> int:
        log = self._logs[limit_id]
        keep = self.limits[limit_id].interval * (1.0 + self.safety_margin)
        while log and now - log[0][0] > keep:
            log.popleft()
        return sum(w for _t, w in log)

    async def acquire(self, endpoint: str, pair: str | None) -> None:
        own = self.limits.get(endpoint)
        if own is None:
            return  # hummingbot would raise on an unknown limit id; nothing to pace
        charges = [(own.limit_id, own.weight), *own.linked]
        loop = asyncio.get_running_loop()
        while True:
            async with self._lock:
                now = loop.time()
                if all(self._used(i, now) + w <= self.limits[i].limit for i, w in charges):
                    for i, w in charges:
                        self._logs[i].append((now, w))
                    return
            await asyncio.sleep(self.retry_interval)

    def __repr__(self) -> str:
        return f"HummingbotStylePacer(AddOrder {self.limits['AddOrder'].limit}/60 s)"


# -- no limiter -------------------------------------------------------------------------


class NoLimitPacer:
    """No limiter: every request goes at once."""

    label = "none"

    async def acquire(self, endpoint: str, pair: str | None) -> None:
        return None

    def __repr__(self) -> str:
        return "NoLimitPacer()"

