"""A key the exchange refuses ends a live run fast, with Kraken's error and never the secret.

At start, one OpenOrders checks the key before the strategy runs: a wrong key or secret is
a :class:`LiveError` naming ``EAPI:Invalid key`` / ``EAPI:Invalid signature``, and no
AddOrder reaches the server.  Mid-run (the server stops accepting the secret), the run ends
at the first refusal, with the summary's ``failure`` naming the error.  A key that already
took larger nonces than ours (``EAPI:Invalid nonce`` at the check) fails at start too.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

import pytest

from engine import kraken_errors as ke
from engine.core.verdicts import NONCE_ATTEMPTS
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.run.live import LiveConfig, LiveError, run_live
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.nonce import WallClockNonces
from engine.venues.kraken_rest.rest import KrakenRestVenue

Start = Callable[..., Awaitable[ExchangeServer]]
WRONG_SECRET = base64.b64encode(b"not the demo secret, a canary: never print me").decode()


def config(server: ExchangeServer, **kw: object) -> LiveConfig:
    return LiveConfig(strategy="burst", base_url=server.url, pairs=("XBT/USD",),
                      decay_step=server.config.decay_step, jitter=server.config.jitter,
                      poll_interval=1.0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("creds", "error"), [
    (Credentials(DEMO_KEY, WRONG_SECRET), ke.INVALID_SIGNATURE),
    (Credentials("orderpace-unknown-key", WRONG_SECRET), ke.INVALID_KEY),
])
async def test_a_refused_key_fails_before_any_order(
    start_server: Start, creds: Credentials, error: str,
) -> None:
    server = await start_server()
    with pytest.raises(LiveError) as info:
        await run_live(config(server, duration=3.0), creds)
    message = str(info.value)
    assert f"refused API key {creds.key_prefix} ({error})" in message
    assert WRONG_SECRET not in message and WRONG_SECRET.rstrip("=") not in message
    assert "AddOrder" not in server.stats.requests  # nothing was attempted
    assert sum(server.stats.auth_errors.values()) == 1  # one private call, then stop
    assert server.stats.auth_errors[error] == 1


async def test_a_key_refused_mid_run_ends_it_with_the_error(start_server: Start) -> None:
    server = await start_server()
    task = asyncio.ensure_future(
        run_live(config(server, duration=30.0), Credentials(DEMO_KEY, DEMO_SECRET)))
    for _ in range(200):
        if server.stats.requests.get("AddOrder", 0) >= 3:
            break
        await asyncio.sleep(0.05)
    assert server.stats.requests.get("AddOrder", 0) >= 3
    server.add_key(DEMO_KEY, WRONG_SECRET)  # the server no longer takes our signatures
    result = await asyncio.wait_for(task, timeout=15.0)
    s = result.summary
    assert s.failure is not None and ke.INVALID_SIGNATURE in s.failure
    assert WRONG_SECRET not in s.failure and DEMO_SECRET not in s.failure
    assert result.details["key_error"] == ke.INVALID_SIGNATURE
    assert not result.interrupted and s.unresolved == 0
    assert s.simulated_seconds < 10.0  # ended at the refusal, not after 30 s
    refused = sum(server.stats.auth_errors.values())
    assert 1 <= refused <= 10, server.stats.auth_errors  # not a stream of refusals
    assert "CancelOrderBatch" not in s.requests  # nothing more is sent with a refused key


async def test_a_key_refused_during_the_exit_cancels_does_not_stall_the_shutdown(
    start_server: Start,
) -> None:
    server = await start_server()
    stop = asyncio.Event()
    task = asyncio.ensure_future(
        run_live(config(server, drain_timeout=30.0), Credentials(DEMO_KEY, DEMO_SECRET),
                 stop=stop))
    for _ in range(200):
        if len(server.exchange.open_orders()) >= 3:
            break
        await asyncio.sleep(0.05)
    assert len(server.exchange.open_orders()) >= 3
    server.add_key(DEMO_KEY, WRONG_SECRET)  # the exit's cancels will be refused
    stop.set()
    result = await asyncio.wait_for(task, timeout=15.0)  # not the 30 s drain timeout
    s = result.summary
    assert s.failure is not None and ke.INVALID_SIGNATURE in s.failure
    assert result.details["open_orders_left"] > 0 and s.unresolved == 0
    assert s.wall_seconds < 10.0


async def test_a_key_whose_nonces_are_ahead_fails_at_start_explaining_units(
    start_server: Start,
) -> None:
    """Another client used the key with microsecond nonces: our millisecond ones are below
    the key's last nonce for good.  The start-up check fails at once with a message about
    nonce units and the key's nonce window, before any order (issue 10, item 7)."""
    server = await start_server()
    other = KrakenRestVenue(Credentials(DEMO_KEY, DEMO_SECRET), base_url=server.url,
                            nonces=WallClockNonces(per_second=1_000_000))
    try:
        reply = await other.request("Balance", {})
    finally:
        await other.aclose()
    assert reply["error"] == []  # the key now holds a microsecond nonce
    with pytest.raises(LiveError) as info:
        await run_live(config(server, duration=30.0), Credentials(DEMO_KEY, DEMO_SECRET))
    message = str(info.value)
    assert ke.INVALID_NONCE in message and "larger nonce" in message
    assert "milliseconds" in message and "microseconds" in message
    assert "nonce window" in message and "\n" not in message
    assert DEMO_SECRET not in message
    assert "AddOrder" not in server.stats.requests  # nothing was attempted
    # the one check, retried with fresh nonces a bounded number of times, then stop
    assert server.stats.requests.get("OpenOrders", 0) == NONCE_ATTEMPTS
