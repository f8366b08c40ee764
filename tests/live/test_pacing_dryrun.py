"""ApiPacer (lookups charged on the engine's API counter) and DryRunVenue."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.core.engine import Engine
from engine.intents import AddOrder, AmendOrder, CancelAll, CancelOrder, QueryOpenOrders
from engine.outcomes import Status
from engine.venues.base import Reply
from engine.venues.kraken_rest.dryrun import LOCAL_ENDPOINTS, DryRunVenue
from engine.venues.kraken_rest.pacing import api_pacer_for
from limiters import LimiterSettings, MemoryStore


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        self.calls.append(endpoint)
        if endpoint == "AddOrder":
            return {"error": [], "result": {"descr": {"order": "validated"}}}
        return {"error": [], "result": {"open": {}}}

    async def aclose(self) -> None:
        return None


def test_pacer_shares_the_engines_api_counter() -> None:
    clock = VirtualClock()

    async def main() -> tuple[float, float, float]:
        store = MemoryStore()
        engine = Engine(Recorder(), tier="intermediate", clock=clock,
                        limits=LimiterSettings.exact(), store=store, key_id="k")
        pacer = api_pacer_for(engine)
        async with engine:
            for _ in range(10):  # 20 units: the Intermediate max
                await pacer("OpenOrders", 2)
            full_at = clock.now()
            level = engine.api_level()
            await pacer("ClosedOrders", 2)  # waits 4 s for 2 units to decay (0.5/s)
            waited = clock.now() - full_at
            out = await engine.submit(QueryOpenOrders())  # the engine sees the charges too
            return level, waited, (out.sent_at or 0.0) - full_at

    level, waited, engine_wait = clock.run(main())
    assert level == pytest.approx(20.0)
    assert waited == pytest.approx(4.0, abs=1e-6)
    assert engine_wait == pytest.approx(8.0, abs=1e-6)


def test_dry_run_never_sends_what_changes_orders() -> None:
    clock = VirtualClock()
    inner = Recorder()

    async def main() -> dict[str, Any]:
        venue = DryRunVenue(inner)
        engine = Engine(venue, tier="intermediate", clock=clock)
        async with engine:
            add = AddOrder(pair="XBT/USD", side="buy", volume=Decimal("0.001"),
                           price=Decimal("50000"))  # type: ignore[arg-type]
            added = await engine.submit(add)
            amended = await engine.submit(AmendOrder(add.cl_ord_id, price=Decimal("50001")))
            cancelled = await engine.submit(CancelOrder(add.cl_ord_id))
            everything = await engine.submit(CancelAll())
            return {"outcomes": [added, amended, cancelled, everything], "local": venue.local}

    got = clock.run(main())
    assert inner.calls == ["AddOrder"]  # only the add (with validate=true, by the REST venue)
    assert all(o.status is Status.ACCEPTED for o in got["outcomes"])
    assert all(o.result["dry_run"] is True for o in got["outcomes"][1:])
    assert got["local"] == {"AmendOrder": 1, "CancelOrder": 1, "CancelAll": 1}
    assert {"CancelOrder", "CancelAll", "CancelOrderBatch", "CancelAllOrdersAfter",
            "AmendOrder", "EditOrder"} == LOCAL_ENDPOINTS
