"""The dead-man switch, end to end: ``orderpace live`` (a real process) quotes against a
loopback simulated exchange and is killed with SIGKILL -- no exit cancels, no disarm.
Once its ``--dead-man`` countdown has run out, the exchange itself must hold no resting
order.  Shown on the server's side, over both transports, side by side."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable

import pytest

from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer

Start = Callable[..., Awaitable[ExchangeServer]]

DEAD_MAN = 2  # seconds: refreshed every 0.5 s while the process lives


async def _open_orders_after_kill(server: ExchangeServer, transport: str) -> tuple[int, float]:
    """Run, kill once orders rest; (orders resting at the kill, seconds until none)."""
    env = {**os.environ, "KRAKEN_API_KEY": DEMO_KEY, "KRAKEN_API_SECRET": DEMO_SECRET}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine", "live", "--strategy", "grid", "--tier", "pro",
        "--base-url", server.url, "--transport", transport, "--dead-man", str(DEAD_MAN),
        "--decay-step", "2", "--duration", "120", "--set", "levels=2",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 30.0
        while len(server.exchange.open_orders()) < 4:  # the grid's 2 x 2 quotes rest
            assert time.monotonic() < deadline, "the live process placed no orders"
            assert proc.returncode is None, f"the live process ended ({proc.returncode})"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.6)  # at least one refresh after the orders rested
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
    killed_at = time.monotonic()
    resting = len(server.exchange.open_orders())
    while server.exchange.open_orders():
        assert time.monotonic() - killed_at < DEAD_MAN + 5.0, "the dead-man switch never fired"
        await asyncio.sleep(0.05)
    return resting, time.monotonic() - killed_at


@pytest.mark.parametrize("transports", [("rest", "ws")])
async def test_sigkill_leaves_no_resting_order_after_the_dead_man_timeout(
        start_server: Start, transports: tuple[str, ...]) -> None:
    servers = [await start_server(tier="pro", decay_step=2.0, seed=i)
               for i, _ in enumerate(transports)]
    ends = await asyncio.gather(*(_open_orders_after_kill(server, t)
                                  for server, t in zip(servers, transports, strict=True)))
    for transport, (resting, cleared_after) in zip(transports, ends, strict=True):
        assert resting >= 4, transport  # the kill left quotes on the book ...
        # ... that the exchange pulled by itself: not at once (the countdown had up to 2 s
        # to run, refreshed 0.5 s apart), and by its end
        assert 0.5 < cleared_after < DEAD_MAN + 5.0, (transport, cleared_after)
    for server in servers:
        assert server.exchange.open_orders() == {}
