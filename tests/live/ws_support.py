"""Helpers for the WebSocket-transport live tests: a run over ``--transport ws`` against a
loopback simulated exchange, and the referee's own counts to check it with."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.run.live import LiveConfig, LiveResult, run_live
from engine.run.transport_options import TransportOptions
from engine.venues.kraken_rest.credentials import Credentials

from .e2e import FAST_RECOVERY, orders_by_cl_ord_id

DECAY_STEP = 2.0
JITTER = 0.02

#: Strategy settings that make a run of a few seconds meaningful.
SHORT_SETTINGS: dict[str, tuple[str, ...]] = {
    "twap": ("window=3", "finish_lead=1", "slices=6"),
    "grid": ("levels=3",),
}


async def run_ws(server: ExchangeServer, strategy: str, *, duration: float = 4.0,
                 transport: str = "ws", dead_man: int = 60, settings: tuple[str, ...] = (),
                 **config: Any) -> LiveResult:
    """``orderpace live --transport ws`` in-process against ``server``."""
    cfg = server.config
    live = LiveConfig(
        strategy=strategy, tier=cfg.tier, duration=duration, base_url=server.url,
        decay_step=cfg.decay_step, jitter=cfg.jitter, seed=3, recovery=FAST_RECOVERY,
        settings=settings or SHORT_SETTINGS.get(strategy, ()),
        transport=TransportOptions(transport, None, dead_man), **config)
    return await run_live(live, Credentials(DEMO_KEY, DEMO_SECRET))


def exchange_fills(server: ExchangeServer) -> dict[str, int]:
    """The account's fills per pair, as the exchange recorded them."""
    return dict(Counter(t.order.market.name for t in server.exchange.engine.trades.values()))


def check_clean(result: LiveResult, server: ExchangeServer) -> None:
    """0 rate-limit errors (engine and referee), every intent terminal, none failed, nothing
    placed twice, nothing left open, and the strategy saw exactly the exchange's fills."""
    s = result.summary
    referee = server.exchange.stats
    assert s.failure is None, s.failure
    assert s.unresolved == 0
    assert sum(s.outcomes.values()) == s.intents > 0
    assert s.outcomes.get("failed", 0) == 0, s.outcomes
    assert s.rate_limit_errors == 0, s.errors
    assert not [e for e in referee.errors if ke.is_rate_limit_error(e)], referee.errors
    assert server.exchange.open_orders() == {}
    assert all(len(txids) == 1 for txids in orders_by_cl_ord_id(server).values())
    seen = {p: f["count"] for p, f in result.fills.items()}
    assert seen == exchange_fills(server)
