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
from engine.shared.scripts import COUNTER, OPEN_ADD, OPEN_RENEW
from engine.shared.store_url import check_account
from limiters import CounterSpec, CounterState, KrakenProfile, Transaction, penalty

__all__ = ["RedisBudget", "counter_args", "key_prefix"]


def key_prefix(account: str) -> str:
    """``orderpace:{account}:`` -- every key of the account (one Redis Cluster slot)."""
    return f"orderpace:{{{check_account(account)}}}:"


def counter_args(op: str, spec: CounterSpec, amount: float, now: float | None,
                 margin: float | None = None) -> tuple[str, ...]:
    """The counter script's ``ARGV`` (``now`` None: Redis ``TIME``); floats as ``repr``,
    their exact decimal form."""
    return (op, repr(spec.maximum), repr(spec.decay), repr(spec.step),
            repr(spec.margin if margin is None else margin), repr(float(amount)),
            "" if now is None else repr(float(now)))


def _charge(reply: Any) -> Charge:
    return Charge(int(reply[0]) == 1, float(reply[1]), float(reply[2]))


class RedisBudget:
    """A :class:`~engine.core.budget.Budget` over Redis (see the module docstring).

    ``key_names`` maps the engine's key ids to the names used in Redis (e.g. a digest of
    the API key, so that two processes on one key share its counter); unmapped ids are
    used as they are.
    """

    __slots__ = ("_api", "_backlog", "_cancel_max", "_held_margin", "_key_names", "_levels",
                 "_link", "_lost", "_max_open", "_pairs", "_prefix", "_sha", "_sha_add",
                 "_sha_renew", "_trading", "account", "inflight", "lease", "proc", "reserve",
                 "stats")

    #: Seconds between two asks for an open-order slot while the account's are all taken.
    SLOT_POLL = 0.2

    def __init__(self, profile: KrakenProfile, settings: EngineSettings, link: Link,
                 account: str, key_names: Mapping[str, str] | None = None, *,
                 lease: float = 5.0) -> None:
        self.account = account
        self._prefix = key_prefix(account)
        self._link = link
        self._sha = link.script(COUNTER)
        self._sha_add = link.script(OPEN_ADD)
        self._sha_renew = link.script(OPEN_RENEW)
        self._max_open = profile.max_open_orders
        self.lease = lease  # seconds a process's open-order slots outlive its last renewal
        self.proc = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"  # this process, in the slots
        self._pairs: set[str] = set()  # pairs this process took slots on
        self._trading: CounterSpec = profile.trading
        self._api: CounterSpec = profile.api
        self.reserve = cancel_reserve(profile, settings)
        self._cancel_max = float(penalty(Transaction.CANCEL, 0.0))
        self._held_margin: dict[float, CounterSpec] = {0.0: self._trading}
        self._key_names = dict(key_names or {})
        self._levels: dict[str, CounterState] = {}
        self._backlog: list[tuple[str, tuple[str, ...]]] = []
        self._lost = False  # a call failed: Redis may come back without its state
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
        self._pairs.add(pair)
        key = self.trade_key(pair)
        args = (*counter_args("try", spec, c, None), self.proc, str(mine), str(n),
                str(self._max_open), str(round(self.lease * 1000)), repr(self.SLOT_POLL))
        fut = self._link.call(self._sha_add, (key, *self._open_keys(pair)), args)
        return self._answer(fut, key, c, now, pair)

    def _open_keys(self, pair: str) -> tuple[str, str]:
        base = f"{self._prefix}open:{pair}"
        return base, f"{base}:leases"

    async def renew(self, counts: Mapping[str, int]) -> None:
        """Renew this process's lease on every pair it took slots on, setting what it holds
        there (``counts``: pair -> orders open, unknown or on the wire)."""
        futs = [self._link.call(self._sha_renew, self._open_keys(p),
                                (self.proc, str(counts.get(p, 0)),
                                 str(round(self.lease * 1000))))
                for p in sorted(self._pairs)]
        for f in futs:
            await f

    async def release(self) -> None:
        """Give every slot back now (a clean exit)."""
        futs = [self._link.call(self._sha_renew, self._open_keys(p), (self.proc, "-1", "0"))
                for p in sorted(self._pairs)]
        for f in futs:
            await f

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
        return self._op(self.trade_key(pair),
                        counter_args("resync", self._trading, level, None), now)

    def trading_level(self, pair: str, now: float) -> float:
        s = self._levels.get(self.trade_key(pair))
        return 0.0 if s is None else self._trading.level(s, now)

    def api_level(self, key: str, now: float) -> float:
        s = self._levels.get(self.api_key(key))
        return 0.0 if s is None else self._api.level(s, now)

    # -- the calls -------------------------------------------------------------------------

    def _flush_backlog(self, now: float) -> None:
        """After a failure, ahead of new calls: each counter raised to at least the level
        last seen here (decayed since), in case Redis came back without its state; then
        the operations that failed, in order."""
        if self._lost:
            self._lost = False
            for key, state in self._levels.items():
                spec = self._api if key.startswith(f"{self._prefix}api:") else self._trading
                args = counter_args("raise", spec, spec.level(state, now), None)
                self._link.call(self._sha, (key,), args).add_done_callback(self._failed)
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
        fut = self._link.call(self._sha, (key,), counter_args("try", spec, cost, None))
        return self._answer(fut, key, cost, now, stat)

    async def _answer(self, fut: Awaitable[Any], key: str, cost: float, now: float,
                      stat: str) -> Charge:
        try:
            c = _charge(await fut)
        except StoreUnavailable:
            self._lost = True
            raise
        self._levels[key] = CounterState(c.level, now, now)
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
            self._levels[key] = CounterState(c.level, now, now)

        return done()

    def _stat(self, key: str) -> PairStats:
        st = self.stats.get(key)
        if st is None:
            st = self.stats[key] = PairStats()
        return st

    def __repr__(self) -> str:
        return (f"RedisBudget(account={self.account!r}, store={self._link.where}, "
                f"reserve={self.reserve:g}, {self.inflight!r})")
