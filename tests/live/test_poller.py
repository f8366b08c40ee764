"""OrderPoller: OpenOrders through the engine, orders gone from the book closed in the engine.

Deterministic runs: the engine over the in-process simulated exchange on a virtual clock,
with a fixed price path, so one order fills at a known time and another is cancelled
"elsewhere" (straight on the exchange, behind the engine's back).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.core.engine import Engine
from engine.core.orders import OrderRecord, OrderState
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder, QueryOpenOrders
from engine.outcomes import Outcome, Status
from engine.venues.kraken_rest.poller import ClosedOrder, OrderPoller
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings

PRICES = {"XBT/USD": [(0.0, 60_000.0), (10.0, 59_000.0)], "ETH/USD": [(0.0, 3_000.0)],
          "SOL/USD": [(0.0, 150.0)]}


def order(price: str, side: str = "buy") -> AddOrder:
    return AddOrder(pair="XBT/USD", side=side, volume=Decimal("0.001"),
                    price=Decimal(price))  # type: ignore[arg-type]


def setup() -> tuple[SimulatedKraken, Engine]:
    exchange = SimulatedKraken("intermediate", prices=PRICES)
    venue = SimulatedVenue(exchange, _clock(), latency=0.01)
    engine = Engine(venue, tier="intermediate", clock=_clock(), limits=LimiterSettings.exact())
    return exchange, engine


_CLOCK: list[VirtualClock] = []


def _clock() -> VirtualClock:
    return _CLOCK[-1]


@pytest.fixture(autouse=True)
def virtual_clock() -> VirtualClock:
    _CLOCK.append(VirtualClock())
    return _CLOCK[-1]


def test_fill_and_cancel_elsewhere_are_found(virtual_clock: VirtualClock) -> None:
    seen: list[ClosedOrder] = []

    async def main() -> None:
        exchange, engine = setup()
        async with engine:
            filled, cancelled, resting = order("59500.0"), order("58000.0"), order("57000.0")
            for o in (filled, cancelled, resting):
                assert (await engine.submit(o)).ok
            txid = engine.order(cancelled.cl_ord_id).txid  # type: ignore[union-attr]
            reply = exchange.handle("CancelOrder", {"txid": txid}, key="sim",
                                    now=virtual_clock.now())
            assert reply["error"] == []
            await virtual_clock.sleep_until(11.0)  # the price passes 59 500: a fill
            exchange.advance(virtual_clock.now())

            def on_closed(c: ClosedOrder) -> None:
                seen.append(c)
                engine.order_closed(c.order_id, c.reason)

            poller = OrderPoller(engine, on_closed=on_closed)
            found = await poller.poll_once()
            assert found == seen
            assert engine.order(filled.cl_ord_id) is None
            assert engine.order(cancelled.cl_ord_id) is None
            assert [r.cl_ord_id for r in engine.open_orders()] == [resting.cl_ord_id]
            # one OpenOrders (2 units) and one QueryOrders (1 unit), both through the engine
            assert engine.requests["OpenOrders"] == 1 and engine.requests["QueryOrders"] == 1
            assert engine.api_level() == pytest.approx(3.0, abs=0.1)
            assert await poller.poll_once() == []

    virtual_clock.run(main())
    by_status = {c.status: c for c in seen}
    assert set(by_status) == {"closed", "canceled"}
    assert by_status["closed"].filled and by_status["closed"].reason == "filled"
    assert not by_status["canceled"].filled and by_status["canceled"].reason == "canceled"
    assert by_status["closed"].info["vol_exec"] == "0.00100000"


def test_default_handler_closes_in_the_engine_and_task_stops(virtual_clock: VirtualClock) -> None:
    async def main() -> tuple[int, int]:
        exchange, engine = setup()
        async with engine:
            o = order("58000.0")
            await engine.submit(o)
            txid = engine.order(o.cl_ord_id).txid  # type: ignore[union-attr]
            exchange.handle("CancelOrder", {"txid": txid}, key="sim", now=virtual_clock.now())
            poller = OrderPoller(engine, interval=2.0, details=False).start()
            await virtual_clock.sleep_until(virtual_clock.now() + 7.0)
            assert poller.running
            await poller.stop()
            assert not poller.running
            assert engine.order(o.cl_ord_id) is None
            return poller.polls, poller.closed

    polls, closed = virtual_clock.run(main())
    # the first query left at the very moment the add was acknowledged: judged at the next
    # one; after that nothing is open and the rounds skip the query
    assert polls == 2 and closed == 1


def test_no_query_when_nothing_is_open(virtual_clock: VirtualClock) -> None:
    async def main() -> int:
        _exchange, engine = setup()
        async with engine:
            assert await OrderPoller(engine).poll_once() == []
            return engine.requests["OpenOrders"]

    assert virtual_clock.run(main()) == 0


# -- the snapshot race, with a scripted engine ---------------------------------------------


class FakeEngine:
    """Just what the poller uses: open orders, submit (resolved at once), order, close."""

    def __init__(self, records: list[OrderRecord], open_reply: Mapping[str, Any],
                 sent_at: float) -> None:
        self.records = {r.cl_ord_id: r for r in records}
        self.open_reply = open_reply
        self.sent_at = sent_at
        self.closed: list[str] = []

    def open_orders(self) -> list[OrderRecord]:
        return [r for r in self.records.values() if r.state is OrderState.OPEN]

    def order(self, order_id: str) -> OrderRecord | None:
        return self.records.get(order_id)

    def order_closed(self, order_id: str, reason: str = "filled") -> None:
        self.closed.append(order_id)
        self.records.pop(order_id, None)

    def submit(self, intent: Any, *, strategy: str = "") -> Any:
        import asyncio

        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        assert isinstance(intent, QueryOpenOrders)
        fut.set_result(Outcome(Status.ACCEPTED, intent, 0.0, self.sent_at + 0.1,
                               sent_at=self.sent_at, result={"open": self.open_reply}))
        return fut


def record(cid: str, txid: str, acked: float, *, busy: bool = False) -> OrderRecord:
    r = OrderRecord(cid, "XBT/USD", OrderState.OPEN)
    r.txid, r.aged_from, r.busy = txid, acked, busy
    return r


async def test_orders_acknowledged_after_the_query_left_are_not_judged() -> None:
    early_gone = record("a", "TA", acked=1.0)
    late = record("b", "TB", acked=5.5)  # acknowledged after the query was sent (t=5)
    busy = record("c", "TC", acked=1.0, busy=True)  # a request about it is in flight
    present = record("d", "TD", acked=1.0)
    by_cid = record("e", "OLD", acked=1.0)  # its txid changed (an edit): matched by cl_ord_id
    engine = FakeEngine([early_gone, late, busy, present, by_cid],
                        {"TD": {"cl_ord_id": "d"}, "NEW": {"cl_ord_id": "e"}}, sent_at=5.0)
    poller = OrderPoller(engine, details=False)  # type: ignore[arg-type]
    found = await poller.poll_once()
    assert [c.cl_ord_id for c in found] == ["a"]
    assert engine.closed == ["a"]


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        OrderPoller(object(), interval=0)  # type: ignore[arg-type]
