"""Done-when, across processes: ``orderpace live`` processes on one account share one Redis.

The simulated exchange (the referee) runs in the test's event loop on loopback with 2 s
decay steps and 50 ms of arrival jitter, strict nonces (no window); each ``orderpace
live`` is its own OS process running ``burst`` on XBT/USD and ETH/USD, told the server's
settings (``--decay-step 2 --jitter-ms 50``), with ``--store redis://... --account desk``.
The server's per-IP public rate is raised: three processes on one address poll prices
three times as often, and the public limit is not what is measured here.

* three processes, a key each: 0 rate-limit errors, 0 invalid nonces, >= 90% of the
  account's trading budget on each pair (the referee's charge over the most its rules
  allowed, measured before the runs stop and cancel what they hold);
* two processes on ONE key: 0 invalid nonces (Redis nonces and the key's wire lease);
* SIGKILL one of three mid-run: its open-order lease is gone within the lease time and the
  other two carry on, with 0 rate-limit errors.  (Each burst is capped at 20 orders per
  pair here so that the orders the killed process leaves on the book -- nothing cancels
  them: the REST venue has no dead-man switch -- cannot push the account past its cap.)
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import redis

from engine import kraken_errors as ke
from engine.exchange.server import ExchangeServer
from limiters import tier_limits

Start = Callable[..., Awaitable[ExchangeServer]]

KEYS = {f"proc-key-{i}": base64.b64encode(f"processes-secret-{i}".encode() * 2).decode()
        for i in range(3)}
LEASE = 3.0


def _credentials(tmp: Path, key: str) -> Path:
    path = tmp / f"{key}.env"
    path.write_text(f"KRAKEN_API_KEY={key}\nKRAKEN_API_SECRET={KEYS[key]}\n")
    path.chmod(0o600)
    return path


async def _live(server: ExchangeServer, redis_url: str, creds: Path, duration: float,
                *extra: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    log = creds.with_suffix(f".{len(list(creds.parent.glob('*.log')))}.log")
    journal = log.with_suffix(".sqlite")  # a journal of its own (two may share a key)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine", "live", "--strategy", "burst",
        "--base-url", server.url, "--decay-step", "2", "--jitter-ms", "50",
        "--duration", str(duration), "--store", redis_url, "--account", "desk",
        "--store-lease", str(LEASE), "--credentials-file", str(creds), "--json",
        "--journal", str(journal), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=log.open("w"), env=env)


async def _summary(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        err = [line for line in out.decode().splitlines() if "error" in line.lower()]
        raise AssertionError(f"orderpace live exited {proc.returncode}: {err[-3:]}")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


def _server_errors(server: ExchangeServer) -> dict[str, int]:
    return dict(server.exchange.stats.errors)


def _no_rate_limit_or_nonce_errors(server: ExchangeServer) -> None:
    errors = _server_errors(server)
    assert not [e for e in errors if ke.is_rate_limit_error(e)], errors
    assert ke.INVALID_NONCE not in errors, errors
    assert not [x for x in server.served if ke.INVALID_NONCE in x.errors]


async def _utilization_before_end(server: ExchangeServer, run_for: float) -> dict[str, float]:
    """Once both pairs have seen an order request: ``run_for`` seconds later, per pair,
    the referee's charged units / (max + decay x seconds since the pair's first request)."""
    stats, limits = server.exchange.stats, tier_limits(server.config.tier)
    while len(stats.first_request) < 2:
        await asyncio.sleep(0.05)
    await asyncio.sleep(run_for)
    now = max(stats.last_request.values())
    return {p: round(stats.penalty.get(p, 0.0)
                     / (limits.trading_max + limits.trading_decay * (now - first)), 3)
            for p, first in stats.first_request.items()}


async def _start(start_server: Start, seed: int) -> ExchangeServer:
    return await start_server(keys=KEYS, decay_step=2.0, jitter=0.05, seed=seed,
                              exchange_options={"public_rate": 10.0, "public_burst": 30})


async def test_three_processes_one_account_share_the_budget(
    start_server: Start, redis_url: str, tmp_path: Path,
) -> None:
    server = await _start(start_server, 21)
    duration = 14.0
    procs = [await _live(server, redis_url, _credentials(tmp_path, k), duration)
             for k in KEYS]
    # measured from the pair's first order request until all three still run (they start
    # a second or two apart: imports on a loaded machine)
    use = asyncio.create_task(_utilization_before_end(server, duration - 4.0))
    summaries = [await _summary(p) for p in procs]
    utilization = await use
    print("\nthree processes, one account: referee utilization", utilization,
          "requests", dict(server.exchange.stats.requests))
    _no_rate_limit_or_nonce_errors(server)
    for s in summaries:
        assert s["rate_limit_errors"] == 0
        assert s["live"]["store"].startswith("127.0.0.1:")
        assert s["outcomes"].get("failed", 0) == 0
    assert set(utilization) == {"XBT/USD", "ETH/USD"}
    assert all(u >= 0.9 for u in utilization.values()), utilization


async def test_two_processes_on_one_key_take_no_invalid_nonce(
    start_server: Start, redis_url: str, tmp_path: Path,
) -> None:
    server = await _start(start_server, 22)
    creds = _credentials(tmp_path, "proc-key-0")
    procs = [await _live(server, redis_url, creds, 8.0) for _ in range(2)]
    summaries = [await _summary(p) for p in procs]
    _no_rate_limit_or_nonce_errors(server)
    private = [x for x in server.served if x.key is not None]
    assert len(private) > 40  # both were busy on the one key
    for s in summaries:
        assert s["rate_limit_errors"] == 0


def _leases(url: str, pairs: Sequence[str]) -> dict[str, int]:
    client = redis.Redis.from_url(url)
    try:
        return {p: int(client.zcard(f"orderpace:{{desk}}:open:{p}:leases")) for p in pairs}
    finally:
        client.close()


async def test_a_killed_process_frees_its_slots_within_the_lease(
    start_server: Start, redis_url: str, tmp_path: Path,
) -> None:
    server = await _start(start_server, 23)
    procs = [await _live(server, redis_url, _credentials(tmp_path, k), 10.0,
                         "--set", "max_open_orders=20") for k in KEYS]
    pairs = ("XBT/USD", "ETH/USD")
    for _ in range(200):  # all three hold slots
        if _leases(redis_url, pairs) == {"XBT/USD": 3, "ETH/USD": 3}:
            break
        await asyncio.sleep(0.05)
    assert _leases(redis_url, pairs) == {"XBT/USD": 3, "ETH/USD": 3}
    await asyncio.sleep(1.0)
    procs[2].send_signal(signal.SIGKILL)
    killed_at = asyncio.get_running_loop().time()
    await procs[2].wait()
    freed_after = None
    while asyncio.get_running_loop().time() - killed_at < LEASE + 2.0:
        if _leases(redis_url, pairs) == {"XBT/USD": 2, "ETH/USD": 2}:
            freed_after = asyncio.get_running_loop().time() - killed_at
            break
        await asyncio.sleep(0.05)
    print(f"\nSIGKILL: the dead process's slots were free after {freed_after} s "
          f"(lease {LEASE:g} s)")
    assert freed_after is not None and freed_after <= LEASE + 1.0
    summaries = [await _summary(p) for p in procs[:2]]
    _no_rate_limit_or_nonce_errors(server)
    for s in summaries:
        assert s["rate_limit_errors"] == 0
        assert s["sent"] > 20  # they carried on
