"""Issue 11's "done when": against a server whose connections jitter by up to 150 ms, with
no nonce window on the key, every built-in strategy on every tier gets 0
``EAPI:Invalid nonce`` and 0 rate-limit errors -- counted by the referee, over loopback HTTP
through the whole live stack (``run_live``), and once as a user runs it (``orderpace live``
against ``orderpace simulate-exchange --jitter-ms 150``, two subprocesses).

Runs are short (a few seconds); the four strategies of a tier run side by side, each against
its own server, one test per tier (so ``-n`` spreads the tiers).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.run.live import LiveConfig, LiveResult, run_live
from engine.venues.kraken_rest.credentials import Credentials

Start = Callable[..., Awaitable[ExchangeServer]]

JITTER = 0.15
DURATION = 4.0
STRATEGIES = ("burst", "grid", "market-maker", "twap")
#: Settings that fit a short run (twap's default sweeps 15 s before its end).
SETTINGS = {"twap": ("finish_lead=1.5", "slices=6")}


async def _run(server: ExchangeServer, strategy: str, tier: str) -> LiveResult:
    config = LiveConfig(strategy=strategy, tier=tier, duration=DURATION, base_url=server.url,
                        decay_step=server.config.decay_step, jitter=JITTER, poll_interval=1.5,
                        seed=3, settings=SETTINGS.get(strategy, ()))
    return await run_live(config, Credentials(DEMO_KEY, DEMO_SECRET))


def _check(name: str, result: LiveResult, server: ExchangeServer) -> None:
    s = result.summary
    referee = server.exchange.stats
    assert s.failure is None, (name, s.failure)
    assert s.unresolved == 0, name
    assert ke.INVALID_NONCE not in referee.errors, (name, referee.errors)
    assert ke.INVALID_NONCE not in s.errors, (name, s.errors)
    assert not [x for x in server.served if ke.INVALID_NONCE in x.errors], name
    assert s.rate_limit_errors == 0, (name, s.errors)
    assert not [e for e in referee.errors if ke.is_rate_limit_error(e)], (name, referee.errors)
    assert sum(referee.requests.values()) > 3, name  # it did trade


@pytest.mark.parametrize("tier", ["starter", "intermediate", "pro"])
async def test_every_strategy_without_a_nonce_window_at_150_ms_of_jitter(
    start_server: Start, tier: str,
) -> None:
    servers = [await start_server(tier=tier, jitter=JITTER, seed=20 + i)
               for i in range(len(STRATEGIES))]
    assert all(s.exchange.nonce_window == 0 for s in servers)
    results = await asyncio.gather(*(_run(server, strategy, tier)
                                     for server, strategy in zip(servers, STRATEGIES,
                                                                 strict=True)))
    for strategy, result, server in zip(STRATEGIES, results, servers, strict=True):
        _check(f"{strategy}/{tier}", result, server)


def test_orderpace_live_against_simulate_exchange_with_150_ms_jitter(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate-exchange", "--port", "0", "--tier", "pro",
         "--jitter-ms", "150", "--seed", "8", "--key", DEMO_KEY, "--secret", DEMO_SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split("listening on ")[1].split(" ")[0]
        creds = tmp_path / "keys"
        creds.write_text(f"KRAKEN_API_KEY={DEMO_KEY}\nKRAKEN_API_SECRET={DEMO_SECRET}\n")
        creds.chmod(0o600)
        done = subprocess.run(
            [sys.executable, "-m", "engine", "live", "--strategy", "burst", "--tier", "pro",
             "--base-url", url, "--duration", "4", "--jitter-ms", "150", "--json",
             "--credentials-file", str(creds)],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["rate_limit_errors"] == 0
    assert ke.INVALID_NONCE not in summary["errors"]
    assert summary["unresolved"] == 0 and summary["sent"] > 10
    assert summary["live"]["keys"][0]["nonce_refusals"] == 0
