"""Helpers for end-to-end tests against the simulated exchange over HTTP on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx

from engine.clock import RealClock
from engine.core.engine import Engine, EngineSettings
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.run.live import LiveConfig, limiter_settings
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.pacing import api_pacer_for
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.recovery import RecoveringVenue, RecoverySettings
from engine.venues.kraken_rest.rest import KrakenRestVenue
from limiters import MemoryStore

#: Quick recovery for tests: 2 s add deadlines (Kraken's minimum), 0.2 s of clock skew.
FAST_RECOVERY = RecoverySettings(add_deadline=2.0, skew=0.2, lookup_retry_delay=0.2)


@attrs.define
class Stack:
    engine: Engine
    recovering: RecoveringVenue
    rest: KrakenRestVenue


@contextlib.asynccontextmanager
async def live_stack(server: ExchangeServer, *, timeout: float = 0.5,
                     recovery: RecoverySettings = FAST_RECOVERY,
                     **engine_settings: Any) -> AsyncIterator[Stack]:
    """Engine -> RecoveringVenue (paced lookups) -> KrakenRestVenue -> ``server``."""
    cfg = server.config
    rest = KrakenRestVenue(Credentials(DEMO_KEY, DEMO_SECRET), base_url=server.url,
                           timeout=httpx.Timeout(timeout),
                           public_throttle=PublicThrottle(1000.0, burst=1000))
    recovering = RecoveringVenue(rest, recovery)
    store = MemoryStore()
    limits = limiter_settings(LiveConfig(decay_step=cfg.decay_step, jitter=cfg.jitter))
    assert rest.pool is not None  # one request on the wire per key: the engine waits, not it
    engine_settings.setdefault("max_inflight", rest.pool.concurrency)
    engine = Engine(recovering, tier=cfg.tier, clock=RealClock(), limits=limits,
                    settings=EngineSettings(**engine_settings), store=store, key_id="t")
    recovering.pace = api_pacer_for(engine)
    try:
        async with engine:
            yield Stack(engine, recovering, rest)
    finally:
        await recovering.aclose()


def orders_by_cl_ord_id(server: ExchangeServer) -> dict[str, list[str]]:
    """Every order the exchange holds or held, by cl_ord_id: the list of txids."""
    out: dict[str, list[str]] = {}
    book = server.exchange.engine
    for o in [*book.open.values(), *book.closed.values()]:
        if o.cl_ord_id is not None:
            out.setdefault(o.cl_ord_id, []).append(o.txid)
    return out
