"""Live-path workloads: ``orderpace live`` over REST and over WebSocket v2, side by side.

Each workload (a built-in strategy on a tier) runs through the whole live stack
(:func:`engine.run.live.run_live`) against its own loopback ``simulate-exchange`` -- 2 s
decay steps, 20 ms of arrival jitter, told to the engine -- once with ``--transport rest``
and once with ``--transport ws``, the two at the same time.  The servers' key declares a
nonce window (as a Kraken key can), so that REST's concurrent private requests are not
refused for arriving out of order.  Per run:

* ``budget_utilization``: trading units charged / ``max + decay * seconds`` (the summary's);
* ``requests``: requests sent, all endpoints (Ticker, tokens and key check included);
* ``polling_units``: API units spent finding orders that left the book -- the OpenOrders
  poller (2 per poll) and its QueryOrders (1 each); over WS only the reconcile after a
  reconnect polls;
* ``poll_units_saved`` (WS): what the poller would have spent (2 per ``poll_interval``);
* ``rate_limit_errors`` the engine met, and the referee's (the exchange's own count);
* ``fills``: the strategy's fills / the exchange's.

Times are wall seconds (real clocks: live runs cannot be replayed faster).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import attrs

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer, serve
from engine.run.live import LiveConfig, LiveResult, run_live
from engine.run.transport_options import TransportOptions
from engine.venues.kraken_rest.credentials import Credentials

__all__ = ["LIVE_WORKLOADS", "LiveWorkload", "run_live_path"]

DECAY_STEP = 2.0
JITTER = 0.02
POLL_INTERVAL = 5.0
_NONCE_WINDOW = 5_000
TRANSPORTS = ("rest", "ws")


@attrs.frozen(slots=True)
class LiveWorkload:
    """A strategy on a tier, with its settings (``key=value``)."""

    name: str
    strategy: str
    tier: str
    settings: tuple[str, ...] = ()


LIVE_WORKLOADS = (
    LiveWorkload("burst-pro", "burst", "pro", ("max_open_orders=200", "orders_per_second=60")),
    LiveWorkload("market-maker", "market-maker", "intermediate"),
    LiveWorkload("grid-starter", "grid", "starter", ("levels=3",)),
)


def _figures(result: LiveResult, server: ExchangeServer) -> dict[str, Any]:
    s, live = result.summary, result.details
    requests = dict(s.requests)
    polling = 2 * (live.get("polls", 0) + live.get("reconcile_polls", 0)) + requests.get(
        "QueryOrders", 0)
    trades = Counter(t.order.market.name for t in server.exchange.engine.trades.values())
    return {
        "budget_utilization": s.budget_utilization["overall"],
        "requests": sum(requests.values()),
        "requests_by_endpoint": requests,
        "polling_units": polling,
        "poll_units_saved": live.get("poll_units_saved", 0),
        "rate_limit_errors": s.rate_limit_errors,
        "referee_rate_limit_errors": sum(
            n for e, n in server.exchange.stats.errors.items() if ke.is_rate_limit_error(e)),
        "fills": sum(f["count"] for f in result.fills.values()),
        "exchange_fills": sum(trades.values()),
        "outcomes": dict(s.outcomes),
        "failure": s.failure,
        "seconds": s.simulated_seconds,
    }


async def _one(w: LiveWorkload, transport: str, duration: float, seed: int) -> dict[str, Any]:
    async with serve(tier=w.tier, decay_step=DECAY_STEP, jitter=JITTER, seed=seed,
                     keys={DEMO_KEY: DEMO_SECRET},
                     exchange_options={"nonce_window": _NONCE_WINDOW}) as server:
        cfg = LiveConfig(strategy=w.strategy, tier=w.tier, duration=duration,
                         base_url=server.url, decay_step=DECAY_STEP, jitter=JITTER,
                         poll_interval=POLL_INTERVAL, seed=seed,
                         settings=w.settings,  # type: ignore[arg-type]  # attrs converter
                         transport=TransportOptions(transport))
        result = await run_live(cfg, Credentials(DEMO_KEY, DEMO_SECRET))
        return _figures(result, server)


async def _all(workloads: tuple[LiveWorkload, ...], duration: float, seed: int
               ) -> list[dict[str, Any]]:
    rows = []
    for w in workloads:  # one workload at a time: its two transports side by side
        rest, ws = await asyncio.gather(*(_one(w, t, duration, seed) for t in TRANSPORTS))
        rows.append({"workload": w.name, "strategy": w.strategy, "tier": w.tier,
                     "duration": duration, "rest": rest, "ws": ws})
    return rows


def run_live_path(quick: bool, seed: int = 1) -> list[dict[str, Any]]:
    """The live-path workloads over both transports: 30 s each; quick: burst on Pro only,
    5 s (too short for a poll: its polling units are 0 on both sides)."""
    if quick:
        return asyncio.run(_all(LIVE_WORKLOADS[:1], 5.0, seed))
    return asyncio.run(_all(LIVE_WORKLOADS, 30.0, seed))


def markdown_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The side-by-side table for the report."""
    out = ["| workload | tier | s | budget use REST | budget use ws | requests REST | "
           "requests ws | polling API units REST | polling API units ws (saved) | "
           "rate-limit errors REST/ws | fills strategy/exchange REST | ws |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a, b = r["rest"], r["ws"]
        out.append(
            f"| {r['workload']} | {r['tier']} | {r['duration']:g} | "
            f"{a['budget_utilization']:.1%} | {b['budget_utilization']:.1%} | "
            f"{a['requests']} | {b['requests']} | {a['polling_units']} | "
            f"{b['polling_units']} ({b['poll_units_saved']}) | "
            f"{a['referee_rate_limit_errors']}/{b['referee_rate_limit_errors']} | "
            f"{a['fills']}/{a['exchange_fills']} | {b['fills']}/{b['exchange_fills']} |")
    return out
