"""The run loop's routing and end, and the sampler's means."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.clock import VirtualClock
from engine.markets import DEFAULT_MARKETS
from engine.run.loop import RunLoop
from engine.run.sampling import Sample, Sampler


class FakeCtx:
    def __init__(self, owned: set[str], pairs: tuple[str, ...]) -> None:
        self.owned = owned
        self.markets = DEFAULT_MARKETS.subset(pairs)

    def owns(self, order_id: str) -> bool:
        return order_id in self.owned


class FakeHost:
    def __init__(self, owned: set[str], pairs: tuple[str, ...]) -> None:
        self.ctx = FakeCtx(owned, pairs)
        self.seen: list[tuple[str, ...]] = []

    def tick(self, pair: str, price: Decimal, time: float) -> None:
        self.seen.append(("tick", pair))

    def fill(self, txid: str, cl_ord_id: str | None, *_a: Any, **_k: Any) -> None:
        self.seen.append(("fill", cl_ord_id or txid))

    def closed(self, txid: str, cl_ord_id: str | None, pair: str, reason: str, time: float,
               *, engine_knows: bool = False) -> None:
        self.seen.append(("closed", cl_ord_id or txid))


class FakeClient:
    def __init__(self) -> None:
        self.closed: list[tuple[str, str]] = []

    def order_closed(self, order_id: str, reason: str = "closed") -> None:
        self.closed.append((order_id, reason))

    async def drain(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


ids = st.sampled_from([f"o{i}" for i in range(6)])
events = st.lists(st.tuples(st.sampled_from(["fill", "closed", "known"]), ids), max_size=20)


@given(st.lists(st.sets(ids), min_size=1, max_size=3), events)
def test_fills_and_closes_go_to_their_owners_else_to_every_client(
    owned: list[set[str]], stream: list[tuple[str, str]],
) -> None:
    client_a, client_b = FakeClient(), FakeClient()
    run = RunLoop(VirtualClock(), [client_a, client_b, client_a])
    assert run.clients == [client_a, client_b]  # each client once
    hosts = [FakeHost(o, ("XBT/USD",)) for o in owned]
    run.hosts.extend(hosts)  # type: ignore[arg-type]
    for kind, oid in stream:
        if kind == "fill":
            run.fill("T" + oid, oid, "XBT/USD", "buy", Decimal(1), Decimal(2), 0.0)
        else:
            run.closed("T" + oid, oid, "XBT/USD", "expired", 0.0,
                       engine_knows=kind == "known")
    for host, mine in zip(hosts, owned, strict=True):
        expected = [("fill" if k == "fill" else "closed", o) for k, o in stream if o in mine]
        assert host.seen == expected
    unowned = [(o, "filled" if k == "fill" else "expired") for k, o in stream
               if k != "known" and not any(o in m for m in owned)]
    assert client_a.closed == unowned and client_b.closed == unowned
    fills = sum(1 for k, _ in stream if k == "fill")
    assert run.fills() == ({} if not fills else
                           {"XBT/USD": {"count": fills, "volume": str(Decimal(2) * fills)}})


def test_prices_go_to_the_hosts_trading_the_pair() -> None:
    run = RunLoop(VirtualClock(), [])
    xbt, both = FakeHost(set(), ("XBT/USD",)), FakeHost(set(), ("XBT/USD", "ETH/USD"))
    run.hosts.extend([xbt, both])  # type: ignore[list-item]
    run.tick("ETH/USD", Decimal(3000), 1.0)
    run.tick("XBT/USD", Decimal(60000), 1.0)
    assert xbt.seen == [("tick", "XBT/USD")]
    assert both.seen == [("tick", "ETH/USD"), ("tick", "XBT/USD")]


def test_wait_ends_at_the_time_or_an_event_whichever_first() -> None:
    clock = VirtualClock()

    async def main() -> list[float]:
        ends = []
        run = RunLoop(clock, [])
        await run.wait(5.0)
        ends.append(clock.now())
        stop = asyncio.Event()
        clock.call_at(7.0, stop.set)
        await RunLoop(clock, []).wait(100.0, (stop,))
        ends.append(clock.now())
        return ends

    assert clock.run(main()) == [5.0, 7.0]


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=2, max_size=50))
def test_the_sampler_mean_is_the_mean_of_its_series(levels: list[float]) -> None:
    clock = VirtualClock()
    feed = iter(levels)

    def take(now: float) -> Sample:
        v = next(feed)
        return Sample(now, {"XBT/USD": v}, 2 * v, {})

    async def main() -> Sampler:
        sampler = Sampler(clock, 1.0, take, keep=True)
        sampler.start()
        await clock.sleep_until(len(levels) - 1.5)
        sampler.stop()
        return sampler

    s = clock.run(main())
    assert s.series is not None and len(s.series) == s.n == len(levels)
    assert [x.time for x in s.series][:-1] == [float(i) for i in range(len(levels) - 1)]
    mean = sum(levels) / len(levels)
    assert abs(s.mean("XBT/USD") - mean) <= 1e-9 * max(1.0, mean)
    assert abs(s.mean("api") - 2 * mean) <= 1e-9 * max(1.0, mean)
