"""``orderpace live --transport ws`` end to end over loopback: every built-in strategy on
every tier, against servers with 2-second decay steps and 20 ms of arrival jitter.

Per tier, the four strategies run side by side (each against its own server) for a few
seconds through the whole live stack: orders over WebSocket v2, order state from the
executions feed (the OpenOrders poller is off), the dead-man switch armed and disarmed.
The referee's counts must show 0 rate-limit errors, no order placed twice, none left, and
the strategy's fills must equal the exchange's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from engine.exchange.server import ExchangeServer

from .ws_support import DECAY_STEP, JITTER, check_clean, exchange_fills, run_ws

Start = Callable[..., Awaitable[ExchangeServer]]

STRATEGIES = ("burst", "grid", "market-maker", "twap")


@pytest.mark.parametrize("tier", ["starter", "intermediate", "pro"])
async def test_each_strategy_over_ws(start_server: Start, tier: str) -> None:
    servers = [await start_server(tier=tier, decay_step=DECAY_STEP, jitter=JITTER, seed=i)
               for i, _ in enumerate(STRATEGIES)]
    results = await asyncio.gather(*(run_ws(server, name)
                                     for server, name in zip(servers, STRATEGIES, strict=True)))
    for name, server, result in zip(STRATEGIES, servers, results, strict=True):
        check_clean(result, server)
        live = result.details
        assert live["transport"] == "ws" and live["polls"] == 0, name
        assert live["ws"]["connects"] == 1 and live["ws"].get("disconnects", 0) == 0, name
        assert live["feed"]["resyncs"] > 0, name  # the exchange's counter reached the engine
        assert live["dead_man"]["refreshes"] >= 1 and live["dead_man"]["disarmed"], name
        adds = ("AddOrder", "AddOrderBatch")
        assert sum(server.exchange.stats.requests[a] for a in adds) > 0, name
        assert not any(server.stats.requests.get(a) for a in adds), name  # not over REST
    twap = results[STRATEGIES.index("twap")]
    assert sum(exchange_fills(servers[STRATEGIES.index("twap")]).values()) > 0  # fills happened
    assert twap.details["feed"]["fills"] > 0


async def test_burst_on_pro_uses_90_percent_of_the_trading_budget(start_server: Start) -> None:
    server = await start_server(tier="pro", decay_step=DECAY_STEP, jitter=JITTER, seed=7)
    result = await run_ws(server, "burst", duration=12.0,
                          settings=("max_open_orders=200", "orders_per_second=60"))
    check_clean(result, server)
    assert result.summary.budget_utilization["overall"] >= 0.90, result.summary.budget_utilization
