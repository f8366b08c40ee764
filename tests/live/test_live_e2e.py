"""The built-in strategies run live over loopback HTTP against the simulated exchange.

``burst`` and ``market-maker`` run for 30 s each -- side by side, each against its own
server, to keep the suite short -- through the whole live stack (``run_live``: REST venue,
recovery, order polling, ticker prices) against servers that release decay in 2-second
steps and delay each request's arrival by up to 50 ms.  The engine is told the servers'
settings (``decay_step``, ``jitter``), as ``orderpace live --decay-step 2 --jitter-ms 50``
would.  The referee's own counts must show zero rate-limit errors and zero
``EAPI:Invalid nonce``; every intent must end in a terminal outcome; on exit every order is
cancelled and none is placed twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.run.live import LiveConfig, LiveResult, run_live
from engine.venues.kraken_rest.credentials import Credentials

from .e2e import orders_by_cl_ord_id

Start = Callable[..., Awaitable[ExchangeServer]]

DURATION = 30.0
DECAY_STEP = 2.0
JITTER = 0.05


async def _run(server: ExchangeServer, strategy: str) -> LiveResult:
    config = LiveConfig(strategy=strategy, duration=DURATION, base_url=server.url,
                        decay_step=DECAY_STEP, jitter=JITTER, poll_interval=3.0, seed=5)
    return await run_live(config, Credentials(DEMO_KEY, DEMO_SECRET))


def _check(result: LiveResult, server: ExchangeServer) -> dict[str, object]:
    s = result.summary
    referee = server.exchange.stats
    assert s.failure is None
    # every intent reached a terminal outcome
    assert s.unresolved == 0
    assert sum(s.outcomes.values()) == s.intents > 0
    assert set(s.outcomes) <= {"accepted", "rejected", "expired", "coalesced", "failed"}
    assert s.outcomes.get("failed", 0) == 0
    # no rate-limit error and no invalid nonce: in what the engine saw and at the referee
    assert s.rate_limit_errors == 0
    assert not [e for e in referee.errors if ke.is_rate_limit_error(e)], referee.errors
    assert ke.INVALID_NONCE not in referee.errors and ke.INVALID_NONCE not in s.errors
    assert not server.stats.auth_errors
    assert not [x for x in server.served if ke.INVALID_NONCE in x.errors]
    # cancelled on exit, nothing placed twice
    assert server.exchange.open_orders() == {}
    assert all(len(txids) == 1 for txids in orders_by_cl_ord_id(server).values())
    return {
        "intents": s.intents, "sent": s.sent, "outcomes": dict(s.outcomes),
        "requests": dict(referee.requests), "referee_errors": dict(referee.errors),
        "rate_limit_errors": s.rate_limit_errors,
        "budget_utilization": {k: round(v, 3) for k, v in s.budget_utilization.items()},
        "peak": {k: v["peak"] for k, v in s.counters.items()},
        "seconds": round(s.simulated_seconds, 1), "wall": round(s.wall_seconds, 1),
        "exit": {k: result.details[k] for k in ("exit_cancels", "open_orders_left", "polls",
                                                 "closed_by_poller")},
    }


async def test_burst_and_market_maker_live_for_30_seconds(
    start_server: Start, capsys: pytest.CaptureFixture[str],
) -> None:
    burst_server = await start_server(decay_step=DECAY_STEP, jitter=JITTER, seed=11)
    mm_server = await start_server(decay_step=DECAY_STEP, jitter=JITTER, seed=12)
    burst, mm = await asyncio.gather(_run(burst_server, "burst"), _run(mm_server, "market-maker"))
    figures = {"burst": _check(burst, burst_server), "market-maker": _check(mm, mm_server)}
    with capsys.disabled():
        print("\nlive e2e figures:", json.dumps(figures, sort_keys=True))
    b = burst.summary
    assert b.simulated_seconds >= DURATION
    assert burst_server.exchange.stats.requests["AddOrder"] >= 80  # it really was busy
    assert b.budget_utilization["overall"] > 0.5
    assert mm_server.exchange.stats.requests["AmendOrder"] + mm_server.exchange.stats.requests[
        "AddOrder"] > 10
