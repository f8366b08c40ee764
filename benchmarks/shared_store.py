"""The shared store's cost, measured: a decision against a plain Redis round trip.

One ``redis-server`` (:class:`engine.shared.server.LocalRedis`, on loopback) serves the
whole section, so every figure comes from the same server in the same run:

* **latency** -- one client, one request at a time, ``n`` rounds of: ``PING``, ``INCR``,
  the counter script called directly (``EVALSHA``), and a :class:`RedisBudget` decision
  (``charge_trading`` through the ordered link, what the engine awaits).  Medians and
  99th percentiles in microseconds; ``ratio``: a decision's median over ``PING``'s (the
  goal is <= 1.5);
* **throughput** -- 1, 2 and 4 OS processes on one account, each deciding on the same
  pair's counter as fast as it can with 32 decisions outstanding (the link pipelines
  them): decisions per second, all processes together.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from typing import Any

from engine.core.settings import EngineSettings
from engine.shared.budget import RedisBudget
from engine.shared.link import Link, connect_client
from engine.shared.scripts import COUNTER
from engine.shared.server import LocalRedis, NoRedisServer
from limiters import KrakenProfile, LimiterSettings

__all__ = ["render_shared_store", "run_shared_store"]

_PROFILE = KrakenProfile.for_tier("intermediate", LimiterSettings.exact())


def _budget(link: Link, account: str) -> RedisBudget:
    return RedisBudget(_PROFILE, EngineSettings(), link, account)


def _stats(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"median_us": round(statistics.median(s) * 1e6, 1),
            "p99_us": round(s[int(len(s) * 0.99) - 1] * 1e6, 1)}


async def _latency(url: str, n: int) -> dict[str, Any]:
    link = Link(connect_client(url), "bench")
    client = link.client
    budget = _budget(link, "bench-latency")
    sha = await client.script_load(COUNTER)
    spec = _PROFILE.trading
    args = ("try", repr(spec.maximum), repr(spec.decay), "0.0", "0.0", "1.0", "")
    out: dict[str, Any] = {}

    async def ping() -> None:
        await client.ping()

    async def incr() -> None:
        await client.incr("orderpace:{bench-latency}:incr")

    async def script() -> None:
        await client.evalsha(sha, 1, "orderpace:{bench-latency}:raw", *args)

    async def decision() -> None:
        await budget.charge_trading("XBT/USD", 1.0, time.monotonic(), 0.0)

    ops = (("ping", ping), ("incr", incr), ("script", script), ("decision", decision))
    samples: dict[str, list[float]] = {name: [] for name, _ in ops}
    try:
        for _ in range(min(200, n)):  # warm up: connection, script cache
            for _name, op in ops:
                await op()
        for _ in range(n):  # interleaved: a slower moment of the machine hits all four
            for name, op in ops:
                t = time.perf_counter()
                await op()
                samples[name].append(time.perf_counter() - t)
        out.update({name: _stats(samples[name]) for name, _ in ops})
    finally:
        await link.aclose()
    out["ratio_decision_to_ping"] = round(
        out["decision"]["median_us"] / out["ping"]["median_us"], 2)
    out["ratio_decision_to_incr"] = round(
        out["decision"]["median_us"] / out["incr"]["median_us"], 2)
    return out


async def _hammer(url: str, seconds: float, outstanding: int) -> int:
    link = Link(connect_client(url), "bench")
    budget = _budget(link, "bench-throughput")
    done = 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < end:
            await budget.charge_trading("XBT/USD", 1.0, time.monotonic(), 0.0)
            done += 1

    try:
        await asyncio.gather(*(worker() for _ in range(outstanding)))
    finally:
        await link.aclose()
    return done


def _process(args: tuple[str, float, int, Any]) -> int:
    url, seconds, outstanding, start = args
    start.wait()
    return asyncio.run(_hammer(url, seconds, outstanding))


def _throughput(url: str, processes: int, seconds: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(processes) as pool:
            result = pool.map_async(_process, [(url, seconds, 32, start)] * processes)
            time.sleep(1.0)  # let every process import and connect
            start.set()
            counts = result.get(timeout=seconds + 60)
    total = sum(counts)
    return {"processes": processes, "decisions_per_s": round(total / seconds),
            "per_process": [round(c / seconds) for c in counts]}


def run_shared_store(quick: bool) -> dict[str, Any]:
    """The section (see the module docstring); ``{"skipped": why}`` without a server."""
    try:
        server = LocalRedis()
    except NoRedisServer as e:
        return {"skipped": str(e)}
    n, seconds = (2000, 1.0) if quick else (10000, 3.0)
    with server:
        latency = asyncio.run(_latency(server.url, n))
        throughput = [_throughput(server.url, p, seconds) for p in (1, 2, 4)]
    return {"server": server.binary, "samples": n, "seconds": seconds,
            "latency": latency, "throughput": throughput}


def render_shared_store(section: dict[str, Any] | None) -> list[str]:
    """The section as markdown lines (nothing when the run had none)."""
    if not section:
        return []
    lines = ["", "## Shared store (Redis): cost per decision", ""]
    if "skipped" in section:
        return [*lines, f"Skipped: {section['skipped']}", ""]
    lat = section["latency"]
    lines += [
        f"One loopback redis-server, one client, {section['samples']} sequential requests "
        "each (microseconds):", "",
        "| request | median | p99 |", "|---|---|---|",
        *[f"| {name} | {lat[key]['median_us']:g} | {lat[key]['p99_us']:g} |"
          for key, name in (("ping", "PING"), ("incr", "INCR"),
                            ("script", "counter script (EVALSHA)"),
                            ("decision", "RedisBudget decision"))],
        "",
        f"A decision costs {lat['ratio_decision_to_ping']:g}x a PING round trip "
        f"({lat['ratio_decision_to_incr']:g}x an INCR); goal <= 1.5x.", "",
        "| processes on one account | decisions/s (all) | per process |", "|---|---|---|",
        *[f"| {t['processes']} | {t['decisions_per_s']} | "
          f"{', '.join(str(x) for x in t['per_process'])} |" for t in section["throughput"]],
        "",
    ]
    return lines
