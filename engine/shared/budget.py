"""``RedisBudget``: the engine's :class:`~engine.core.budget.Budget` shared through Redis.

Every decision is one call of the counter script (:data:`engine.shared.scripts.COUNTER`),
time from Redis ``TIME``, so all processes on the account share one clock and one level.
Keys (``account`` from ``--account``)::

    orderpace:{account}:trade:<pair>     the pair's trading counter (account-wide)
    orderpace:{account}:api:<key id>     an API key's counter (every process on that key)

What stays in this process: the cancel reserve each process holds for *its* orders (it
knows their number and ages; the held units are folded into the script's margin), the
in-flight cap, the running totals (``stats``) and a cache of the last level seen
(``trading_level``/``api_level`` answer from it, decayed locally).

Charges answer later (awaitables), in the order issued (:class:`~engine.shared.link.Link`).
A charge that cannot reach Redis raises :class:`~engine.shared.link.StoreUnavailable`: the
engine treats it as refused and asks again a second later, so nothing is sent while the
budget is unknown and nothing accepted is dropped.  ``force``/``saturate``/``resync`` that
could not reach Redis are kept and sent first, in order, once it answers again.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from engine.core.budget import Charge, cancel_reserve
from engine.core.inflight import InflightCap
from engine.core.metrics import PairStats
from engine.core.settings import EngineSettings
from engine.shared.link import Link, StoreUnavailable
from engine.shared.scripts import COUNTER, OPEN_ADD, OPEN_RENEW, RESTORE
from engine.shared.store_url import check_account
from limiters import CounterSpec, CounterState, KrakenProfile, Transaction, penalty

__all__ = ["RedisBudget", "counter_args", "key_prefix"]


def key_prefix(account: str) -> str:
    """``orderpace:{account}:`` -- every key of the account (one Redis Cluster slot)."""
    return f"orderpace:{{{check_account(account)}}}:"


_SPEC_ARGS: dict[tuple[str, CounterSpec, float | None], tuple[str, ...]] = {}


def counter_args(op: str, spec: CounterSpec, amount: float, now: float | None,
                 margin: float | None = None) -> tuple[str, ...]:
    """The counter script's ``ARGV`` (``now`` None: Redis ``TIME``); floats as ``repr``,
    their exact decimal form (the spec's part is cached: it is the same for every call)."""
    head = _SPEC_ARGS.get((op, spec, margin))
    if head is None:
        if len(_SPEC_ARGS) > 4096:
            _SPEC_ARGS.clear()
        head = _SPEC_ARGS[(op, spec, margin)] = (
            op, repr(spec.maximum), repr(spec.decay), repr(spec.step),
            repr(spec.margin if margin is None else margin))
    return (*head, repr(float(amount)), "" if now is None else repr(float(now)))


async def _all(futs: list[asyncio.Future[Any]]) -> None:
    """Wait for every future; then raise the first failure, if any (none left unread)."""
    for r in await asyncio.gather(*futs, return_exceptions=True):
        if isinstance(r, BaseException):
            raise r


def _seen_level(spec: CounterSpec, seen: tuple[float, float], now: float) -> float:
    """A level seen at a time, decayed by ``spec`` to ``now`` (from a step's start)."""
    level, when = seen
    return spec.level(CounterState(level, when, when), now)


def _charge(reply: Any) -> Charge:
    return Charge(int(reply[0]) == 1, float(reply[1]), float(reply[2]))


class RedisBudget:
    """A :class:`~engine.core.budget.Budget` over Redis (see the module docstring).

    ``key_names`` maps the engine's key ids to the names used in Redis (e.g. a digest of
    the API key, so that two processes on one key share its counter); unmapped ids are
    used as they are.
    """

    __slots__ = ("_adding", "_api", "_backlog", "_cancel_max", "_granted_at", "_held_margin",
                 "_key_names", "_levels", "_link", "_lost", "_max_open", "_pairs", "_prefix",
                 "_restoring", "_sha", "_sha_add", "_sha_renew", "_sha_restore", "_trading",
                 "account", "count", "epoch_key", "inflight", "lease", "proc", "reserve",
                 "stats")

    #: Seconds between two asks for an open-order slot while the account's are all taken.
    SLOT_POLL = 0.2
    #: Seconds after an add's slots were decided during which a renewal keeps the count.
    GRANT_SETTLE = 1.0
    #: Seconds without charges, account-wide, once Redis is found to have lost its state
    #: (:data:`~engine.shared.scripts.RESTORE`): every process puts back the levels and
    #: slots it knows -- each retries a failed decision within a second -- before anyone
    #: charges again.
    RESTORE_GRACE = 2.0

    def __init__(self, profile: KrakenProfile, settings: EngineSettings, link: Link,
                 account: str, key_names: Mapping[str, str] | None = None, *,
                 lease: float = 5.0) -> None:
        self.account = account
        self._prefix = key_prefix(account)
        self._link = link
        self._sha = link.script(COUNTER)
        self._sha_add = link.script(OPEN_ADD)
        self._sha_renew = link.script(OPEN_RENEW)
        self._sha_restore = link.script(RESTORE)
        self.epoch_key = f"{self._prefix}epoch"  # set on connect; gone: Redis lost its state
        self._restoring = f"{self._prefix}restoring"
        self._max_open = profile.max_open_orders
        self.lease = lease  # seconds a process's open-order slots outlive its last renewal
        self.proc = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"  # this process, in the slots
        self._pairs: set[str] = set()  # pairs this process took slots on
        self._adding: dict[str, int] = {}  # pair -> adds whose slots are being decided
        self._granted_at: dict[str, float] = {}  # pair -> loop time of the last decision
        self._trading: CounterSpec = profile.trading
        self._api: CounterSpec = profile.api
        self.reserve = cancel_reserve(profile, settings)
        self._cancel_max = float(penalty(Transaction.CANCEL, 0.0))
        self._held_margin: dict[float, CounterSpec] = {0.0: self._trading}
        self._key_names = dict(key_names or {})
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (level, when seen)
        self._backlog: list[tuple[str, tuple[str, ...]]] = []
        self._lost = False  # a call failed: Redis may come back without its state
        self.count: Callable[[str], int] | None = None  # pair -> slots held (renewals)
        self.inflight = InflightCap(settings.max_inflight)
        self.stats: dict[str, PairStats] = {}

    # -- the Budget protocol -------------------------------------------------------------

    @property
    def trading_max(self) -> float:
        return self._trading.maximum

    @property
    def api_max(self) -> float:
        return self._api.maximum

    @property
    def link(self) -> Link:
        return self._link

    def held(self, at_risk: int) -> float:
        return min(self.reserve, at_risk * self._cancel_max)

    def trade_key(self, pair: str) -> str:
        return f"{self._prefix}trade:{pair}"

    def api_key(self, key: str) -> str:
        return f"{self._prefix}api:{self._key_names.get(key, key)}"

    def charge_trading(self, pair: str, cost: float, now: float, held: float) -> Awaitable[Charge]:
        spec = self._held_margin.get(held)
        if spec is None:
            t = self._trading
            spec = self._held_margin[held] = t.with_margin(t.margin + held)
        c = spec.check_cost(cost)  # CostExceedsCapacity at once, as in memory
        return self._try(self.trade_key(pair), spec, c, now, pair)

    def charge_add(self, pair: str, cost: float, now: float, held: float, mine: int,
                   n: int) -> Awaitable[Charge]:
        """An add of ``n`` orders: ``n`` open-order slots of the account's ``max_open`` on
        ``pair`` and the trading charge, in one step (``mine``: the orders this process
        holds on the pair now, as its book counts them: open, unknown, on the wire)."""
        spec = self._held_margin.get(held)
        if spec is None:
            t = self._trading
            spec = self._held_margin[held] = t.with_margin(t.margin + held)
        c = spec.check_cost(cost)
        if self._backlog or self._lost:
            self._flush_backlog(now)
        key = self.trade_key(pair)
        self._pairs.add(pair)
        args = (*counter_args("try", spec, c, None), self.proc, str(mine), str(n),
                str(self._max_open), str(round(self.lease * 1000)), repr(self.SLOT_POLL))
        fut = self._link.call(self._sha_add, (key, *self._open_keys(pair), self._restoring),
                              args, kick=False)
        self._adding[pair] = self._adding.get(pair, 0) + 1
        fut.add_done_callback(lambda _f: self._added(pair))
        return self._answer(fut, key, c, now, pair)

    def _added(self, pair: str) -> None:
        """An add's slots were decided; the engine counts the add as on the wire a few
        loop turns later: until then (:data:`GRANT_SETTLE` s) renewals leave the count."""
        self._adding[pair] -= 1
        self._granted_at[pair] = asyncio.get_running_loop().time()

    def _open_keys(self, pair: str) -> tuple[str, str]:
        base = f"{self._prefix}open:{pair}"
        return base, f"{base}:leases"

    async def renew(self, counts: Mapping[str, int]) -> None:
        """Renew this process's lease on every pair it took slots on, setting what it holds
        there (``counts``: pair -> orders open, unknown or on the wire) -- except on a pair
        with an add being decided: its slots are granted in Redis before this process
        counts the add as on the wire, so there the lease alone is renewed."""
        now = asyncio.get_running_loop().time()
        futs = [self._link.call(self._sha_renew, self._open_keys(p),
                                (self.proc, "-2" if self._deciding(p, now) else
                                 str(counts.get(p, 0)), str(round(self.lease * 1000))))
                for p in sorted(self._pairs)]
        await _all(futs)

    def _deciding(self, pair: str, now: float) -> bool:
        return bool(self._adding.get(pair)) or now - self._granted_at.get(pair, -1e9) < (
            self.GRANT_SETTLE)

    async def release(self) -> None:
        """Give every slot back now (a clean exit)."""
        futs = [self._link.call(self._sha_renew, self._open_keys(p), (self.proc, "-1", "0"))
                for p in sorted(self._pairs)]
        await _all(futs)

    async def account_open(self, pair: str) -> int:
        """Orders the account holds on ``pair`` (every live process), from Redis."""
        counts = self._open_keys(pair)[0]
        raw = await self._link.client.hvals(counts)
        return sum(int(v) for v in raw)

    def charge_api(self, key: str, cost: float, now: float) -> Awaitable[Charge]:
        c = self._api.check_cost(cost)
        return self._try(self.api_key(key), self._api, c, now, "api")

    def force_trading(self, pair: str, cost: float, now: float) -> Awaitable[None]:
        self._stat(pair).record(now, cost, self.trading_level(pair, now) + cost)
        return self._op(self.trade_key(pair), counter_args("force", self._trading, cost, None),
                        now)

    def saturate_trading(self, pair: str, now: float) -> Awaitable[None]:
        return self._op(self.trade_key(pair), counter_args("saturate", self._trading, 0.0, None),
                        now)

    def saturate_api(self, key: str, now: float) -> Awaitable[None]:
        return self._op(self.api_key(key), counter_args("saturate", self._api, 0.0, None), now)

    def resync_trading(self, pair: str, level: float, now: float) -> Awaitable[None]:
        """The level the exchange published, or a process's own estimate: the shared
        counter is *raised* to it, never lowered (the others' charges may be newer)."""
        return self._op(self.trade_key(pair),
                        counter_args("raise", self._trading, level, None), now)

    def trading_level(self, pair: str, now: float) -> float:
        s = self._levels.get(self.trade_key(pair))
        return 0.0 if s is None else _seen_level(self._trading, s, now)

    def api_level(self, key: str, now: float) -> float:
        s = self._levels.get(self.api_key(key))
        return 0.0 if s is None else _seen_level(self._api, s, now)

    # -- the calls -------------------------------------------------------------------------

    def _flush_backlog(self, now: float) -> None:
        """After a failure, ahead of new calls: each counter raised to at least the level
        last seen here (decayed since), in case Redis came back without its state; then
        the operations that failed, in order."""
        if self._lost:
            self._lost = False
            self._link.call(self._sha_restore, (self.epoch_key, self._restoring),
                            (str(round(self.RESTORE_GRACE * 1000)),)
                            ).add_done_callback(self._failed)
            for key, seen in self._levels.items():
                spec = self._api if key.startswith(f"{self._prefix}api:") else self._trading
                args = counter_args("raise", spec, _seen_level(spec, seen, now), None)
                self._link.call(self._sha, (key,), args).add_done_callback(self._failed)
            if self.count is not None:  # what this process holds, before anyone adds
                for p in sorted(self._pairs):
                    self._link.call(self._sha_renew, self._open_keys(p),
                                    (self.proc, str(self.count(p)),
                                     str(round(self.lease * 1000)))
                                    ).add_done_callback(self._failed)
        backlog, self._backlog = self._backlog, []
        for key, args in backlog:
            self._link.call(self._sha, (key,), args).add_done_callback(
                self._requeue_on_failure(key, args))

    def _failed(self, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is not None:
            self._lost = True

    def _requeue_on_failure(self, key: str, args: tuple[str, ...]
                            ) -> Callable[[asyncio.Future[Any]], None]:
        def done(fut: asyncio.Future[Any]) -> None:
            if not fut.cancelled() and fut.exception() is not None:
                self._backlog.append((key, args))
        return done

    def _try(self, key: str, spec: CounterSpec, cost: float, now: float,
             stat: str) -> Awaitable[Charge]:
        if self._backlog or self._lost:
            self._flush_backlog(now)
        fut = self._link.call(self._sha, (key, self._restoring),
                              counter_args("try", spec, cost, None), kick=False)
        return self._answer(fut, key, cost, now, stat)

    async def _answer(self, fut: asyncio.Future[Any], key: str, cost: float, now: float,
                      stat: str) -> Charge:
        try:
            c = _charge(await self._link.result(fut))
        except StoreUnavailable:
            self._lost = True
            raise
        self._levels[key] = (c.level, now)
        if c.charged:
            self._stat(stat).record(now, cost, c.level)
        return c

    def _op(self, key: str, args: tuple[str, ...], now: float) -> Awaitable[None]:
        if self._backlog or self._lost:
            self._flush_backlog(now)
        fut = self._link.call(self._sha, (key,), args)

        async def done() -> None:
            try:
                c = _charge(await fut)
            except StoreUnavailable:
                self._backlog.append((key, args))
                self._lost = True
                return
            self._levels[key] = (c.level, now)

        return done()

    def _stat(self, key: str) -> PairStats:
        st = self.stats.get(key)
        if st is None:
            st = self.stats[key] = PairStats()
        return st

    def __repr__(self) -> str:
        return (f"RedisBudget(account={self.account!r}, store={self._link.where}, "
                f"reserve={self.reserve:g}, {self.inflight!r})")
