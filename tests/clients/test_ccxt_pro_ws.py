"""ccxt.pro's Kraken WebSocket v2 client against the loopback server's ``/v2``, pointed at it
by URLs only: orders placed, amended and cancelled over WebSocket, the executions feed read
as ccxt's orders and trades, and Kraken's refusals raised as ccxt's own exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import ccxt.pro
import pytest

from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer

Start = Callable[..., Awaitable[ExchangeServer]]  # the root conftest's start_server
SYMBOL = "BTC/USD"


@pytest.fixture
async def pro(start_server: Start) -> AsyncIterator[tuple[ExchangeServer, Any]]:
    server = await start_server(tier="starter", decay_step=3600.0)
    ws = server.ws_url
    exchange = ccxt.pro.kraken({
        "apiKey": DEMO_KEY, "secret": DEMO_SECRET, "enableRateLimit": False,
        "urls": {"api": {"public": server.url, "private": server.url,
                         "ws": {"public": ws, "private": ws, "publicV2": ws, "privateV2": ws}}},
    })
    try:
        await exchange.load_markets()
        yield server, exchange
    finally:
        await exchange.close()


async def test_orders_over_websocket_and_the_executions_feed(
    pro: tuple[ExchangeServer, Any],
) -> None:
    server, exchange = pro
    order = await exchange.create_order_ws(SYMBOL, "limit", "buy", 0.01, 50_000)
    assert order["id"] in server.exchange.open_orders()
    watching = asyncio.create_task(exchange.watch_orders(SYMBOL))
    await asyncio.sleep(0.2)  # subscribed (snapshot of the open order)
    amended = await exchange.edit_order_ws(order["id"], SYMBOL, "limit", "buy", 0.02, 50_001)
    assert amended["id"] == order["id"]  # amend_order: in place
    seen = await asyncio.wait_for(watching, 5)
    assert order["id"] in {o["id"] for o in seen}
    trades = asyncio.create_task(exchange.watch_my_trades(SYMBOL))
    await asyncio.sleep(0.2)
    taker = await exchange.create_order_ws(SYMBOL, "limit", "buy", 0.01, 70_000)
    fills = await asyncio.wait_for(trades, 5)
    assert any(t["order"] == taker["id"] and t["takerOrMaker"] == "taker" for t in fills)
    await exchange.cancel_order_ws(order["id"])
    assert server.exchange.open_orders() == {}


async def test_krakens_refusals_become_ccxt_exceptions(pro: tuple[ExchangeServer, Any]) -> None:
    server, exchange = pro
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order_ws("ONOPE-NOPE-NOPE")
    for i in range(60):  # Starter: 60 units, no decay during the test
        await exchange.create_order_ws(SYMBOL, "limit", "buy", 0.01, 50_000 - i)
    with pytest.raises(ccxt.RateLimitExceeded, match="EOrder:Rate limit exceeded"):
        await exchange.create_order_ws(SYMBOL, "limit", "buy", 0.01, 40_000)
    assert server.exchange.stats.errors["EOrder:Rate limit exceeded"] == 1
