"""The lost fill (issue 11): an order fills while its amend is on the wire.

The amend meets ``EOrder:Unknown order``.  The run must not close the order as "unknown to
the exchange": it asks QueryOrders, the strategy's ``on_fill`` sees the fill, and the live
summary's ``fills`` match what the exchange executed.  The fill is made to happen exactly
then: a transport in front of the real one fills the order on the exchange (its price
moves through the buy) just before it forwards the AmendOrder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.intents import AmendOrder, Side
from engine.run.live import LiveConfig, run_live
from engine.venues.kraken_rest.credentials import Credentials
from strategies.base import Fill, Strategy, Tick

Start = Callable[..., Awaitable[ExchangeServer]]


class Chaser(Strategy[Any]):
    """Rests one buy below the market, then amends its price once."""

    name = "chaser"
    description = "one buy, amended on the next tick"
    fills: ClassVar[list[Fill]] = []
    amended: ClassVar[list[str]] = []

    def start(self) -> None:
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        price = self.ctx.round_price(pair, mid * Decimal("0.98"), Side.BUY)
        self.volume = self.ctx.volume_for(pair, Decimal(50), price)
        self.order = self.ctx.limit_order(pair, Side.BUY, self.volume, price)
        self.ctx.submit(self.order)

    def on_tick(self, tick: Tick) -> None:
        view = self.ctx.order(self.order.cl_ord_id)
        if self.amended or view is None or view.txid is None:
            return
        price = self.ctx.round_price(tick.pair, tick.price * Decimal("0.97"), Side.BUY)
        self.amended.append(view.cl_ord_id)
        self.ctx.submit(AmendOrder(view.cl_ord_id, price=price))

    def on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)


class OnlyChaser:
    def load(self, name: str) -> type[Strategy[Any]]:
        return Chaser


class FillBeforeAmend(httpx.AsyncBaseTransport):
    """Forwards to the server; just before the first AmendOrder, the exchange's price
    drops through every resting buy (they fill), as if the market moved meanwhile."""

    def __init__(self, server: ExchangeServer) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.server = server
        self.filled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/AmendOrder") and not self.filled:
            x = self.server.exchange
            book = x.engine
            market = book.markets.get("XBT/USD")
            ticks = book.prices[market.name]
            book.set_price(market, max(1, ticks // 2), x.now)
            self.filled = len(book.closed)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_order_filled_while_its_amend_is_on_the_wire_reaches_the_strategy(
    start_server: Start,
) -> None:
    Chaser.fills.clear()
    Chaser.amended.clear()
    server = await start_server(exchange_options={"price_interval": 0.2})
    transport = FillBeforeAmend(server)
    config = LiveConfig(strategy="chaser", pairs=("XBT/USD",), duration=2.5,
                        base_url=server.url, decay_step=server.config.decay_step,
                        jitter=server.config.jitter, poll_interval=30.0)
    result = await run_live(config, Credentials(DEMO_KEY, DEMO_SECRET),
                            registry=OnlyChaser(), transport=transport)  # type: ignore[arg-type]
    assert transport.filled == 1, "the order filled just before its amend arrived"
    assert Chaser.amended
    s = result.summary
    assert s.errors.get(ke.UNKNOWN_ORDER) == 1  # the amend found the order gone
    # the strategy saw the exchange's fill, and the summary counts it
    assert [f.side for f in Chaser.fills] == [Side.BUY]
    closed = list(server.exchange.engine.closed.values())
    executed = [o for o in closed if o.vol_exec > 0]
    assert len(executed) == 1
    assert Chaser.fills[0].volume == executed[0].vol_exec
    assert result.as_dict()["fills"] == {"XBT/USD": {"count": 1,
                                                     "volume": str(executed[0].vol_exec)}}
    assert result.details["gone_lookups"].get("closed") == 1
    assert result.details["closed_by_poller"] == 0  # the lookup found it, not the poller
    assert s.unresolved == 0 and s.rate_limit_errors == 0
