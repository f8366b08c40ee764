"""An in-process crash-and-restart harness: a journaled engine trades on the simulated
exchange, is "killed" at a chosen request and point, and a second engine restarts on the
same journal.

The kill points (``point``):

* ``"before_send"``: the journal recorded the request; it never reaches the exchange;
* ``"before_reply"``: the exchange executed it; the reply is lost;
* ``"before_journal"``: the reply reached the engine; the crash comes before the commit
  at the end of that loop turn (what the reply changed is lost from the journal).

A kill makes the journal inert (its buffered rows are dropped, the file closed) and every
later request of the dead engine hang forever -- nothing more reaches the exchange.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import attrs

from engine.clock import VirtualClock
from engine.core import Engine
from engine.core.settings import EngineSettings
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder, AmendOrder, CancelOrder
from engine.journal.recovery import RecoveryReport
from engine.journal.session import Journal
from engine.journal.writer import JournalError
from engine.markets import DEFAULT_MARKETS, Markets
from engine.venues.base import Reply
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings

PAIRS = ("XBT/USD", "ETH/USD")
MARKETS: Markets = DEFAULT_MARKETS.subset(PAIRS)
POINTS = ("before_send", "before_reply", "before_journal")
RATE_LIMIT = ("EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded",
              "EOrder:Orders limit exceeded")


class Killer:
    """A venue that kills the run at request number ``at`` (1 = first), at ``point``, and
    notes every cl_ord_id the exchange placed (``placed``)."""

    def __init__(self, inner: SimulatedVenue, at: int, point: str, journal: Journal) -> None:
        self.inner = inner
        self.at = at
        self.point = point
        self.journal = journal
        self.count = 0
        self.dead = asyncio.Event()
        self.placed: Counter[str] = Counter()

    async def _hang(self) -> Reply:
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")

    def kill(self) -> None:
        if self.dead.is_set():
            return
        self.dead.set()
        w = self.journal.writer
        for rows in w._buffers.values():
            rows.clear()
        w.db.close()  # nothing more becomes durable
        w.failed = JournalError("killed")
        self.journal.lock.release()  # a dead process holds no lock

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if self.dead.is_set():
            return await self._hang()
        self.count += 1
        here = self.count == self.at
        if here and self.point == "before_send":
            self.kill()
            return await self._hang()
        reply = await self.inner.request(endpoint, params)
        if endpoint == "AddOrder" and not reply.get("error"):
            self.placed[str(params.get("cl_ord_id"))] += 1
        if self.dead.is_set():
            return await self._hang()
        if here and self.point == "before_reply":
            self.kill()
            return await self._hang()
        if here and self.point == "before_journal":
            asyncio.get_running_loop().call_soon(self.kill)  # before the turn's commit
        return reply

    async def aclose(self) -> None:
        await self.inner.aclose()


def _price(mid: Decimal, off: float, tick: Decimal) -> Decimal:
    return (mid * Decimal(str(1 + off)) / tick).quantize(Decimal(1), ROUND_HALF_UP) * tick


async def workload(engine: Engine, exchange: SimulatedKraken, rng: random.Random,
                   seconds: float, strategy: str) -> None:
    """Quotes on each pair, amended often (a burst of amends), sometimes replaced."""
    clock = engine.clock
    end = clock.now() + seconds
    handles = []
    while clock.now() < end:
        for pair in PAIRS:
            m = MARKETS.get(pair)
            mid = exchange.price(pair)
            mine = engine.live_orders(pair, strategy)
            if len(mine) < 4:
                side = rng.choice(("buy", "sell"))
                off = -0.01 if side == "buy" else 0.01
                handles.append(engine.submit(AddOrder(
                    pair, side, "0.01" if pair == "XBT/USD" else "0.2",
                    _price(mid, off + rng.uniform(-0.002, 0.002), m.tick_size),
                    post_only=True), strategy=strategy))
            for view in mine:
                if view.state.value != "open" or view.closing:
                    continue
                if rng.random() < 0.1:
                    handles.append(engine.submit(CancelOrder(view.cl_ord_id), strategy=strategy))
                elif view.side is not None:
                    off = -0.01 if view.side.value == "buy" else 0.01
                    handles.append(engine.submit(AmendOrder(
                        view.cl_ord_id,
                        price=_price(mid, off + rng.uniform(-0.003, 0.003), m.tick_size)),
                        strategy=strategy))
        await asyncio.sleep(0.2)


@attrs.define
class Restart:
    """What the second run saw."""

    report: RecoveryReport
    ours_open: dict[str, str]  # txid -> cl_ord_id, our orders open on the exchange
    engine_open: set[str]  # txids the engine holds open
    adopted_for_strategy: set[str]
    hand_open: bool
    rate_limit_errors: int
    placed: Counter[str]
    run1_intents: int
    run1_outcomes: int
    run1_duplicate_outcomes: int


def crash_and_restart(path: Path, *, at: int, point: str, on_start: str, seed: int = 1,
                      first_seconds: float = 30.0, second_seconds: float = 8.0) -> Restart:
    """Run 1 until killed at request ``at`` (or ``first_seconds``), then run 2 (see module)."""
    clock = VirtualClock()
    exchange = SimulatedKraken(tier="intermediate", decay_step=2.0, seed=seed)
    exchange.add_key("hand")
    limits = LimiterSettings.matching(decay_step=2.0, jitter=0.02)
    out: dict[str, Any] = {}

    async def main() -> None:
        from engine.exchange import drive_market

        driver = drive_market(exchange, clock)
        hand = SimulatedVenue(exchange, clock, key="hand", latency=0.05)
        mid = exchange.price("XBT/USD")
        tick = MARKETS.get("XBT/USD").tick_size
        reply = await hand.request("AddOrder", {
            "pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
            "price": str(_price(mid, -0.05, tick)), "userref": "4242"})
        assert not reply["error"], reply
        (hand_txid,) = reply["result"]["txid"]
        # -- run 1, killed
        j1 = Journal(path, clock=clock, account="sim", key_id="k")
        killer = Killer(SimulatedVenue(exchange, clock, latency=0.05, jitter=0.02, seed=seed),
                        at, point, j1)
        e1 = Engine(killer, clock=clock, limits=limits, markets=MARKETS, observer=j1.recorder,
                    settings=EngineSettings(shutdown_timeout=0.5))
        await e1.__aenter__()
        j1.seed(e1)
        work = asyncio.ensure_future(workload(e1, exchange, random.Random(seed), first_seconds,
                                              "mm"))
        dead = asyncio.ensure_future(killer.dead.wait())
        await asyncio.wait([work, dead], return_when=asyncio.FIRST_COMPLETED)
        killer.kill()  # the run ends by a kill either way
        work.cancel()
        dead.cancel()
        await e1.aclose()  # the dead engine's pending handles resolve; nothing is journaled
        await asyncio.sleep(1.0)  # the restart comes a moment later
        errors_before = sum(exchange.stats.errors[e] for e in RATE_LIMIT)
        # -- run 2, on the same journal
        j2 = Journal(path, clock=clock, account="sim", key_id="k")
        spy = Killer(SimulatedVenue(exchange, clock, latency=0.05, jitter=0.02, seed=seed + 1),
                     0, "never", j2)
        spy.placed = killer.placed
        async with Engine(spy, clock=clock, limits=limits, markets=MARKETS,
                          observer=j2.recorder) as e2:
            report = await j2.recover(e2, on_start=on_start, strategy="mm")
            out["report"] = report
            out["ours"] = {t: str(info.get("cl_ord_id")) for t, info in
                           exchange.open_orders().items() if t != hand_txid}
            out["engine_open"] = {v.txid for v in e2.open_orders() if v.txid}
            out["adopted"] = {v.txid for v in e2.open_orders(strategy="mm") if v.txid}
            await workload(e2, exchange, random.Random(seed + 7), second_seconds, "mm")
            await e2.drain()
        j2.close()
        out["hand_open"] = hand_txid in exchange.open_orders()
        out["placed"] = killer.placed
        out["errors"] = sum(exchange.stats.errors[e] for e in RATE_LIMIT) - errors_before
        driver.stop()

    clock.run(main())
    import sqlite3

    with sqlite3.connect(path) as db:
        (n_intents,) = db.execute("SELECT COUNT(*) FROM intents WHERE run = 1").fetchone()
        (n_out,) = db.execute("SELECT COUNT(DISTINCT hid) FROM outcomes WHERE run = 1").fetchone()
        (dups,) = db.execute("SELECT COUNT(*) FROM (SELECT hid FROM outcomes WHERE run = 1 "
                             "GROUP BY hid HAVING COUNT(*) > 1)").fetchone()

    return Restart(out["report"], out["ours"], out["engine_open"], out["adopted"],
                   out["hand_open"], out["errors"], out["placed"], n_intents, n_out, dups)
