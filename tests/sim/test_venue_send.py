"""SimulatedVenue.send: one round trip as clock callbacks (no task), its reply callback,
its failures, and an engine over it resolving exactly as over ``request``."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.core.engine import Engine
from engine.intents import AddOrder, Side
from engine.outcomes import Status
from engine.venues.base import Reply, SendingVenue, TransportError
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings

from .simkit import make

ORDER = {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "volume": "0.01",
         "price": "50000.0"}


def test_is_a_sending_venue() -> None:
    assert isinstance(SimulatedVenue(make(), VirtualClock()), SendingVenue)


def test_send_calls_back_as_the_reply_arrives_then_resolves_the_future() -> None:
    clock = VirtualClock()
    venue = SimulatedVenue(make(), clock, latency=0.1)
    seen: list[tuple[float, bool]] = []

    async def main() -> Reply:
        fut: asyncio.Future[Reply] | None = None

        def on_reply(reply: Reply) -> None:
            assert fut is not None
            seen.append((clock.now(), fut.done()))

        fut = venue.send("AddOrder", ORDER, on_reply)
        assert not fut.done() and not asyncio.all_tasks() - {asyncio.current_task()}
        return await fut

    reply = clock.run(main())
    assert reply["error"] == []
    assert seen == [(pytest.approx(0.2), False)]  # called once, back, before the future


def test_zero_delay_send_is_handled_on_the_next_loop_turn_not_inside_the_call() -> None:
    clock = VirtualClock()
    x = make()
    venue = SimulatedVenue(x, clock)

    async def main() -> tuple[int, Reply]:
        fut = venue.send("AddOrder", ORDER)
        handled_inside = sum(x.stats.requests.values())
        return handled_inside, await fut

    inside, reply = clock.run(main())
    assert inside == 0 and reply["error"] == []
    assert clock.now() == 0.0


@pytest.mark.parametrize(("close_at", "sent"), [(0.5, False), (1.5, True)])
def test_closing_fails_a_sent_request_and_says_whether_it_was_handled(
        close_at: float, sent: bool) -> None:
    clock = VirtualClock()
    x = make()
    venue = SimulatedVenue(x, clock, latency=1.0)
    replies: list[Reply] = []

    async def main() -> BaseException | None:
        fut = venue.send("AddOrder", ORDER, replies.append)
        await asyncio.sleep(close_at)
        await venue.aclose()
        await asyncio.sleep(5.0)  # the cancelled timers never fire
        return fut.exception()

    err = clock.run(main())
    assert isinstance(err, TransportError) and err.sent is sent
    assert err.endpoint == "AddOrder"
    assert replies == []
    assert sum(x.stats.requests.values()) == (1 if sent else 0)


def test_requests_beyond_the_pool_wait_first_come_first_served() -> None:
    clock = VirtualClock()
    venue = SimulatedVenue(make(), clock, latency=0.1, max_connections=1)
    done: list[tuple[int, float]] = []

    async def main() -> None:
        futs = [venue.send("Time", {}, lambda _r, i=i: done.append((i, clock.now())))
                for i in range(3)]
        await asyncio.gather(*futs)

    clock.run(main())
    assert [i for i, _ in done] == [0, 1, 2]
    assert [t for _, t in done] == pytest.approx([0.2, 0.4, 0.6])  # one at a time
    assert venue.connections == 1


class _AwaitOnly:
    """The simulated venue seen only through ``request`` (the task path)."""

    def __init__(self, inner: SimulatedVenue) -> None:
        self.inner = inner

    async def request(self, endpoint: str, params: Any) -> Reply:
        return await self.inner.request(endpoint, params)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _run_engine(sending: bool) -> list[tuple[str, str | None, float]]:
    clock = VirtualClock()
    inner = SimulatedVenue(make("pro"), clock, latency=0.05, jitter=0.02, seed=7)
    venue: Any = inner if sending else _AwaitOnly(inner)
    assert isinstance(venue, SendingVenue) is sending

    async def main() -> list[tuple[str, str | None, float]]:
        async with Engine(venue, tier="pro", clock=clock,
                          limits=LimiterSettings.exact()) as engine:
            handles = [engine.submit(AddOrder(pair="XBT/USD", side=Side.BUY,
                                              volume=Decimal("0.0001") * (1 + i % 5),
                                              price=Decimal(40000 + i)))
                       for i in range(60)]
            outs = [await h for h in handles]
        return [(o.status.value, o.error, round(clock.now(), 9)) for o in outs]

    return clock.run(main())


def test_engine_over_send_resolves_as_over_request() -> None:
    a, b = _run_engine(True), _run_engine(False)
    assert [s for s, _, _ in a] == [s for s, _, _ in b]
    assert all(s == Status.ACCEPTED.value for s, _, _ in a)
