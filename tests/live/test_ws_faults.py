"""The WebSocket venue under faults, end to end over loopback: the server drops the
connection in the middle of a batch of adds, a reply never comes, the token is refused.
Every intent must end accepted, with exactly one order on the exchange per ``cl_ord_id``
(lost replies settled from the executions feed or by a lookup, never by a blind resend)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from engine.clock import RealClock
from engine.core.engine import Engine, EngineSettings
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer, FaultPlan
from engine.intents import AddOrder, CancelOrder
from engine.outcomes import Status
from engine.run.live import LiveConfig, LiveError, limiter_settings
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.pacing import api_pacer_for
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.recovery import RecoveringVenue
from engine.venues.kraken_rest.rest import KrakenRestVenue
from engine.venues.kraken_ws import KrakenWsVenue, Symbols, WsSettings
from limiters import MemoryStore

from .e2e import FAST_RECOVERY, orders_by_cl_ord_id
from .ws_support import run_ws

Start = Callable[..., Awaitable[ExchangeServer]]

#: Quick timings: a lost reply is given up after 1 s.
FAST_WS = WsSettings(reply_timeout=1.0, backoff_initial=0.05, reconnect_wait=5.0)


@attrs.define
class WsStack:
    engine: Engine
    ws: KrakenWsVenue
    recovering: RecoveringVenue


@contextlib.asynccontextmanager
async def ws_stack(server: ExchangeServer, *, start: bool = True,
                   settings: WsSettings = FAST_WS,
                   **engine_settings: Any) -> AsyncIterator[WsStack]:
    """Engine -> RecoveringVenue -> KrakenWsVenue (-> KrakenRestVenue) -> ``server``
    (connected unless ``start`` is False)."""
    cfg = server.config
    rest = KrakenRestVenue(Credentials(DEMO_KEY, DEMO_SECRET), base_url=server.url,
                           timeout=httpx.Timeout(2.0),
                           public_throttle=PublicThrottle(1000.0, burst=1000))
    ws = KrakenWsVenue(rest, server.ws_url, settings=settings,
                       symbols=Symbols([("XBT/USD", ("XBTUSD", "XXBTZUSD"))]))
    recovering = RecoveringVenue(ws, FAST_RECOVERY)
    limits = limiter_settings(LiveConfig(decay_step=cfg.decay_step, jitter=cfg.jitter))
    engine = Engine(recovering, tier=cfg.tier, clock=RealClock(), limits=limits,
                    settings=EngineSettings(**engine_settings), store=MemoryStore(), key_id="t")
    recovering.pace = ws.pace = api_pacer_for(engine)
    try:
        async with engine:
            if start:
                await ws.start()
            yield WsStack(engine, ws, recovering)
    finally:
        await recovering.aclose()


def buy(i: int) -> AddOrder:
    return AddOrder(pair="XBT/USD", side="buy", volume=Decimal("0.001"),
                    price=Decimal("50000.0") + i)


async def _adds_settle_once_each(stack: WsStack, server: ExchangeServer, n: int) -> None:
    adds = [buy(i) for i in range(n)]
    outcomes = await asyncio.gather(*(stack.engine.submit(a) for a in adds))
    assert [o.status for o in outcomes] == [Status.ACCEPTED] * n, outcomes
    book = orders_by_cl_ord_id(server)
    for add, out in zip(adds, outcomes, strict=True):
        assert book[add.cl_ord_id] == [out.txid]  # exactly one order, the one we hold
    cancels = await asyncio.gather(*(stack.engine.submit(CancelOrder(a.cl_ord_id))
                                     for a in adds))
    assert [o.status for o in cancels] == [Status.ACCEPTED] * n, cancels
    assert server.exchange.open_orders() == {}
    assert stack.engine.metrics().rate_limit_errors == 0


async def test_connection_dropped_mid_batch(start_server: Start) -> None:
    faults = FaultPlan()
    # the 4th WebSocket message (subscribe is the 1st): processed, then the connection
    # drops; the adds after it are lost with it (two lookup rounds each: kept few, paced)
    faults.inject("drop-reply", "/v2", nth=4)
    server = await start_server(faults=faults, jitter=0.01)
    async with ws_stack(server) as stack:
        await _adds_settle_once_each(stack, server, 5)
        stats = stack.ws.stats
    assert faults.fired["drop-reply"] == 1
    assert stats["disconnects"] == 1 and stats["reconnects"] == 1 and stats["tokens"] == 2
    assert stats["lost.dropped"] >= 1
    # the add processed before the drop was settled from the feed, not resent
    assert stats["settled_from_feed"] >= 1


@pytest.mark.parametrize("process", [True, False], ids=["processed", "never-processed"])
async def test_reply_never_comes(start_server: Start, process: bool) -> None:
    faults = FaultPlan()
    faults.inject("hang", "add_order", nth=2, process=process)
    server = await start_server(faults=faults)
    async with ws_stack(server) as stack:
        await _adds_settle_once_each(stack, server, 3)
        stats, recovery = stack.ws.stats, stack.recovering.stats
    assert faults.fired["hang"] == 1
    assert stats["lost.timeout"] == 1
    if process:  # its events came before the reply that never did: settled from the feed
        assert stats["settled_from_feed"] == 1 and recovery["add.unknown"] == 0
    else:  # nothing on the feed: looked up, then resent after its deadline had passed
        assert stats["settled_from_feed"] == 0
        assert recovery["add.unknown"] == 1 and recovery["add.resent"] == 1


async def test_token_refused_on_the_connection_is_renewed_and_sent_once(
        start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("refuse-token", "add_order", nth=2)  # ESession:Invalid session, not executed
    server = await start_server(faults=faults)
    async with ws_stack(server) as stack:
        await _adds_settle_once_each(stack, server, 3)
        stats = stack.ws.stats
    assert faults.fired["refuse-token"] == 1
    assert stats["token_refused"] == 1 and stats["reconnects"] == 1 and stats["tokens"] == 2


async def test_token_refused_at_start_is_a_clear_live_error(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("refuse-token", "GetWebSocketsToken")
    server = await start_server(faults=faults)
    with pytest.raises(LiveError, match=r"refused a WebSocket token \(EGeneral:Permission "
                                        r"denied\).*--transport rest"):
        await run_ws(server, "market-maker", duration=2.0)
    assert server.exchange.open_orders() == {}


async def test_unanswered_ping_drops_the_connection_and_reconnects(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("hang", "ping")  # the first ping is never answered
    server = await start_server(faults=faults)
    fast_ping = attrs.evolve(FAST_WS, ping_interval=0.2, reply_timeout=0.3)
    async with ws_stack(server, settings=fast_ping) as stack:
        for _ in range(100):
            if stack.ws.stats["reconnects"]:
                break
            await asyncio.sleep(0.05)
        stats = dict(stack.ws.stats)
        await _adds_settle_once_each(stack, server, 2)  # the new connection works
    assert stats["ping_timeouts"] == 1 and stats["reconnects"] == 1 and stats["tokens"] == 2
