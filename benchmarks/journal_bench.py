"""The journal's cost: CPU per intent on the live path, journal on vs off, side by side.

* :func:`live_path` -- the real live path: an :class:`~engine.core.engine.Engine` over
  :class:`~engine.venues.kraken_rest.recovery.RecoveringVenue` over
  :class:`~engine.venues.kraken_rest.rest.KrakenRestVenue` (signing, httpx) against
  ``orderpace simulate-exchange`` on loopback in *another* process (Pro tier, so only this
  client's CPU is counted).  Each measurement starts a fresh server, warms up with 10 adds
  per pair (unmeasured: lazy imports, connection pools), then submits ``per_pair`` resting
  post-only adds on each of three pairs (they fit the trading counter at once), awaiting
  every outcome; CPU is ``time.process_time`` of this process from the
  first submit to the last outcome.  On and off alternate, so drift hits both alike.
* :func:`engine_only` -- the worst case for the ratio: the same with a venue that answers at
  once in process (no network, no signing: the engine's own CPU is the whole denominator).

Figures are medians of ``repeats`` runs, in µs of CPU per intent; ``added`` is
``on / off - 1`` of the medians, ``paired`` the median of ``on / off - 1`` over the
alternated pairs of runs (each pair ran back to back: machine drift hits both alike).
Run: ``python -m benchmarks.journal_bench [--repeats N] [--per-pair N] [--nonce-window N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import structlog

from benchmarks.clock import CreepingClock
from benchmarks.micro import InstantVenue, build_intents
from engine.clock import Clock, RealClock
from engine.core.engine import Engine
from engine.exchange.server import DEMO_KEY, DEMO_SECRET
from engine.intents import AddOrder, Side
from engine.journal.session import Journal
from engine.markets import DEFAULT_MARKETS
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.recovery import RecoveringVenue
from engine.venues.kraken_rest.rest import KrakenRestVenue
from limiters import LimiterSettings, Tier

__all__ = ["engine_only", "live_path"]

PAIRS = ("XBT/USD", "ETH/USD", "SOL/USD")
_WARM = 10  # adds per pair before the measurement: one-time costs (lazy imports, pools)


@contextlib.contextmanager
def _server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate-exchange", "--port", "0", "--tier", "pro",
         "--decay-step", "0", "--nonce-window", "1000000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        yield line.split("listening on ")[1].split(" ")[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _adds(per_pair: int) -> list[AddOrder]:
    out = []
    for i in range(per_pair):
        for name in PAIRS:
            m = DEFAULT_MARKETS.get(name)
            price = (Decimal(str(m.start_price)) * Decimal("0.8")).quantize(m.tick_size) - \
                m.tick_size * i
            volume = max(m.ordermin, (m.costmin / price) * 2).quantize(Decimal("0.00000001"))
            out.append(AddOrder(name, Side.BUY, volume, price, post_only=True))
    return out


@contextlib.asynccontextmanager
async def _journal(on: bool, clock: Clock) -> AsyncIterator[Journal | None]:
    if not on:
        yield None
        return
    with tempfile.TemporaryDirectory() as d:
        j = Journal(Path(d) / "j.sqlite", clock=clock, account="bench", key_id="k")
        try:
            yield j
        finally:
            j.close()


async def _live_once(url: str, per_pair: int, on: bool, window: int = 0) -> tuple[float, int]:
    clock = RealClock()
    rest = KrakenRestVenue(Credentials(DEMO_KEY, DEMO_SECRET), base_url=url,
                           timeout=httpx.Timeout(10.0), nonce_window=window)
    venue = RecoveringVenue(rest)
    adds = _adds(per_pair + _WARM)
    warm, intents = adds[:len(PAIRS) * _WARM], adds[len(PAIRS) * _WARM:]
    async with _journal(on, clock) as j:
        engine = Engine(venue, tier=Tier.PRO, clock=clock, markets=DEFAULT_MARKETS,
                        limits=LimiterSettings.matching(decay_step=0.0, jitter=0.05),
                        observer=None if j is None else j.recorder)
        async with engine:
            if j is not None:
                j.seed(engine)
                j.watch(rest)  # key and nonce committed before each request's bytes
            await asyncio.gather(*[engine.submit(i) for i in warm])  # imports, TLS, pools
            gc.collect()
            cpu0 = time.process_time()
            handles = [engine.submit(i) for i in intents]
            outs = await asyncio.gather(*handles)
            cpu = time.process_time() - cpu0
        await venue.aclose()
    assert all(o.ok for o in outs), [o.error for o in outs if not o.ok][:3]
    return cpu, len(intents)


def live_path(per_pair: int = 150, repeats: int = 11, window: int = 0) -> dict[str, Any]:
    """µs of CPU per intent through the real live stack, journal on vs off (module doc);
    ``window``: the key's nonce window (0: strict nonces, one request on the wire)."""
    runs: dict[str, list[float]] = {"off": [], "on": []}
    for mode in _alternating(repeats):
        with _server() as url:
            cpu, n = asyncio.run(_live_once(url, per_pair, mode == "on", window))
        runs[mode].append(1e6 * cpu / n)
    return _result(runs, intents=per_pair * len(PAIRS), repeats=repeats, window=window)


def engine_only(n: int = 3000, repeats: int = 11) -> dict[str, Any]:
    """µs of CPU per intent, engine and an instant in-process venue, journal on vs off."""
    intents = build_intents(n)
    runs: dict[str, list[float]] = {"off": [], "on": []}

    def once(on: bool) -> float:
        clock = CreepingClock()
        elapsed = 0.0

        async def main() -> None:
            nonlocal elapsed
            async with _journal(on, clock) as j, Engine(
                    InstantVenue(), tier=Tier.PRO, clock=clock, limits=LimiterSettings.exact(),
                    markets=DEFAULT_MARKETS, observer=None if j is None else j.recorder,
            ) as engine:
                gc.collect()
                cpu0 = time.process_time()
                for intent in intents:
                    engine.submit(intent)
                await engine.drain()
                elapsed = time.process_time() - cpu0

        clock.run(main())
        return elapsed

    for mode in _alternating(repeats):
        runs[mode].append(1e6 * once(mode == "on") / n)
    return _result(runs, intents=n, repeats=repeats)


def _alternating(repeats: int) -> Iterator[str]:
    """``repeats`` pairs of modes, the one that goes first alternating: off on, on off, ..."""
    for i in range(repeats):
        yield from ("off", "on") if i % 2 == 0 else ("on", "off")


def _result(runs: dict[str, list[float]], **info: Any) -> dict[str, Any]:
    med = {k: float(statistics.median(v)) for k, v in runs.items()}
    pairs = zip(runs["on"], runs["off"], strict=True)
    paired = statistics.median(on / off - 1.0 for on, off in pairs)
    return {**info, "us_per_intent": med, "added": med["on"] / med["off"] - 1.0,
            "paired": float(paired), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.journal_bench")
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--per-pair", type=int, default=150)
    p.add_argument("--nonce-window", type=int, default=0,
                   help="the key's nonce window on the live path (default 0: strict nonces)")
    args = p.parse_args(argv)
    # as a live run logs: info and above (per-request debug events filtered out)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    out = {"live_path": live_path(args.per_pair, args.repeats, args.nonce_window),
           "engine_only": engine_only(repeats=args.repeats)}
    for name, r in out.items():
        us = r["us_per_intent"]
        print(f"{name:<12} off {us['off']:8.1f} µs/intent   on {us['on']:8.1f} µs/intent   "
              f"added {100 * r['added']:+.1f}% (paired {100 * r['paired']:+.1f}%)")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
