"""run_live in process: exit policies, a failing strategy, unreachable exchange, settings."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.intents import Side
from engine.run.live import LOOPBACK_JITTER, LiveConfig, LiveError, limiter_settings, run_live
from engine.venues.kraken_rest.credentials import Credentials
from limiters import LimiterSettings
from strategies.base import Fill, OrderEvent, OrderUpdate, Strategy, Tick
from strategies.registry import discover

Start = Callable[..., Awaitable[ExchangeServer]]
CREDS = Credentials(DEMO_KEY, DEMO_SECRET)


def config(server: ExchangeServer, **kw: Any) -> LiveConfig:
    kw.setdefault("duration", 2.0)
    return LiveConfig(base_url=server.url, decay_step=server.config.decay_step,
                      jitter=server.config.jitter, poll_interval=1.0, **kw)


async def test_on_exit_leave_keeps_resting_orders(start_server: Start) -> None:
    server = await start_server()
    result = await run_live(config(server, strategy="burst", on_exit="leave",
                                   settings=("cancel_age=100..200",)), CREDS)
    s = result.summary
    assert s.unresolved == 0 and s.rate_limit_errors == 0
    assert "CancelOrder" not in s.requests and "CancelOrderBatch" not in s.requests
    assert result.details["exit_cancels"] == 0
    assert len(server.exchange.open_orders()) == result.details["open_orders_left"] > 0
    assert "burst" not in s.strategy_report  # halted without its stop hook
    assert "rate-limit errors" in s.render()


class Exploding(Strategy[Any]):
    name = "exploding"
    description = "adds one order, then raises on the next tick"

    def start(self) -> None:
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        price = self.ctx.round_price(pair, mid * Decimal("0.9"), Side.BUY)
        volume = self.ctx.volume_for(pair, Decimal(50), price)
        self.ctx.submit(self.ctx.limit_order(pair, Side.BUY, volume, price))

    def on_tick(self, tick: Tick) -> None:
        raise RuntimeError("boom")


class OnlyExploding:
    """What run_live asks of a registry: ``load(name)``."""

    def load(self, name: str) -> type[Strategy[Any]]:
        assert name == "exploding"
        return Exploding


async def test_a_failing_strategy_ends_the_run_and_its_orders_are_cancelled(
    start_server: Start,
) -> None:
    server = await start_server(exchange_options={"price_interval": 0.2})
    result = await run_live(config(server, strategy="exploding", duration=20.0), CREDS,
                            registry=OnlyExploding())  # type: ignore[arg-type]
    s = result.summary
    assert s.failure is not None and "boom" in s.failure
    assert s.simulated_seconds < 10.0
    assert server.exchange.open_orders() == {}
    assert s.unresolved == 0


class Crossing(Strategy[Any]):
    """Buys above the market (fills on arrival) and rests a sell far away."""

    name = "crossing"
    description = "one marketable buy, one resting sell"
    fills: ClassVar[list[Fill]] = []
    closed: ClassVar[list[OrderUpdate]] = []

    def start(self) -> None:
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        volume = self.ctx.volume_for(pair, Decimal(50), mid)
        buy = self.ctx.round_price(pair, mid * Decimal("1.01"), Side.BUY)
        self.ctx.submit(self.ctx.limit_order(pair, Side.BUY, volume, buy))
        sell = self.ctx.round_price(pair, mid * Decimal("1.5"), Side.SELL)
        self.ctx.submit(self.ctx.limit_order(pair, Side.SELL, volume, sell))

    def on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        self.ctx.report("position", str(self.ctx.position(fill.pair)))

    def on_order_update(self, update: OrderUpdate) -> None:
        if update.event is OrderEvent.CLOSED:
            self.closed.append(update)


class OnlyCrossing:
    def load(self, name: str) -> type[Strategy[Any]]:
        return Crossing


async def test_fills_found_by_the_poller_reach_the_strategy(start_server: Start) -> None:
    server = await start_server()
    result = await run_live(config(server, strategy="crossing", duration=3.5,
                                   pairs=("XBT/USD",)), CREDS,
                            registry=OnlyCrossing())  # type: ignore[arg-type]
    assert [f.side for f in Crossing.fills] == [Side.BUY]
    fill = Crossing.fills[0]
    assert fill.volume > 0 and fill.price > 0
    assert result.summary.strategy_report["position"] == str(fill.volume)
    assert result.details["closed_by_poller"] == 1
    assert Crossing.closed == []  # a fill, not a close
    assert server.exchange.open_orders() == {}  # the resting sell was cancelled on exit
    assert result.summary.unresolved == 0


async def test_unreachable_exchange_is_a_live_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = LiveConfig(strategy="burst", base_url=f"http://127.0.0.1:{port}", duration=1.0)
    with pytest.raises(LiveError, match="cannot reach the exchange"):
        await run_live(cfg, CREDS)


async def test_unknown_strategy_is_refused_before_anything_runs() -> None:
    from strategies.registry import UnknownStrategy

    with pytest.raises(UnknownStrategy):
        await run_live(LiveConfig(strategy="no-such-thing", base_url="http://127.0.0.1:9"),
                       CREDS, registry=discover())


def test_limiter_settings() -> None:
    assert limiter_settings(LiveConfig()) == LimiterSettings.live()
    known = limiter_settings(LiveConfig(decay_step=2.0, jitter=0.05))
    assert known == LimiterSettings(decay_step=2.0, unseen_step=0.0,
                                    jitter=0.05 + LOOPBACK_JITTER, margin=0.0)
    half = limiter_settings(LiveConfig(jitter=0.0))
    assert half.decay_step == 0.0 and half.unseen_step == LimiterSettings.live().unseen_step
    assert half.jitter == LOOPBACK_JITTER and half.margin == LimiterSettings.live().margin


@pytest.mark.parametrize("kwargs", [
    {"on_exit": "shrug"}, {"duration": 0}, {"pairs": ()}, {"pairs": ("XBT/USD", "XBT/USD")},
    {"pairs": ("DOGEEUR",)}, {"poll_interval": 0}, {"jitter": -1.0}, {"base_url": "ftp://x"},
])
def test_config_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(LiveError):
        LiveConfig(**kwargs)


class BrokenAtBirth(Strategy[Any]):
    name = "broken"
    description = "its constructor raises"

    def __init__(self, ctx: Any) -> None:
        raise ValueError("no")


class OnlyBroken:
    def load(self, name: str) -> type[Strategy[Any]]:
        return BrokenAtBirth


async def test_a_strategy_whose_constructor_raises_ends_the_run_with_its_failure(
    start_server: Start,
) -> None:
    """It used to escape ``run_live`` as a ``StrategyFailed`` traceback; now, as in a
    backtest, the run ends and the summary's ``failure`` names it (exit code 1)."""
    server = await start_server()
    result = await run_live(config(server, strategy="broken", duration=5.0), CREDS,
                            registry=OnlyBroken())  # type: ignore[arg-type]
    s = result.summary
    assert s.failure is not None and "failed in __init__: ValueError: no" in s.failure
    assert "AddOrder" not in server.stats.requests and s.intents == 0
