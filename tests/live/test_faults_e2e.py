"""End to end over loopback HTTP: the exchange server injects faults; the engine, through
RecoveringVenue and KrakenRestVenue, must end with no duplicate orders, no lost intents
and a clear outcome for each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from engine.exchange.server import ExchangeServer, FaultKind, FaultPlan
from engine.intents import AddOrder, CancelOrder, QueryOpenOrders
from engine.outcomes import Status

from .e2e import live_stack, orders_by_cl_ord_id

Start = Callable[..., Awaitable[ExchangeServer]]


def buy(i: int, **kw: object) -> AddOrder:
    return AddOrder(pair="XBT/USD", side="buy", volume=Decimal("0.001"),
                    price=Decimal("50000.0") + i, **kw)  # type: ignore[arg-type]


FAULTS = [
    (FaultKind.DROP_REPLY, None),
    (FaultKind.HANG, None),
    (FaultKind.HTTP_5XX, None),
    (FaultKind.MALFORMED_JSON, None),
    (FaultKind.UNAVAILABLE, False),  # not processed: found nowhere, resent after its deadline
    (FaultKind.UNAVAILABLE, True),  # processed, then the reply says Unavailable
]


@pytest.mark.parametrize(("kind", "process"), FAULTS,
                         ids=[f"{k.value}-{p}" for k, p in FAULTS])
async def test_faulted_adds_and_cancels_settle_without_duplicates(
    start_server: Start, kind: FaultKind, process: bool | None,
) -> None:
    faults = FaultPlan()
    faults.inject(kind, "AddOrder", nth=2, process=process, hold=3.0)
    faults.inject(kind, "CancelOrder", nth=1, process=process, hold=3.0)
    server = await start_server(faults=faults, jitter=0.02)
    async with live_stack(server) as stack:
        engine = stack.engine
        adds = [buy(i) for i in range(3)]
        outcomes = await asyncio.gather(*(engine.submit(a) for a in adds))
        assert [o.status for o in outcomes] == [Status.ACCEPTED] * 3, outcomes
        book = orders_by_cl_ord_id(server)
        for add, out in zip(adds, outcomes, strict=True):
            assert book[add.cl_ord_id] == [out.txid]  # exactly one order, the one we hold
        assert len(engine.open_orders()) == 3

        cancels = await asyncio.gather(*(engine.submit(CancelOrder(a.cl_ord_id)) for a in adds))
        assert [o.status for o in cancels] == [Status.ACCEPTED] * 3, cancels
        assert server.exchange.open_orders() == {}
        assert engine.open_orders() == []
    assert faults.fired[kind] == 2
    assert stack.engine.metrics().rate_limit_errors == 0
    rec = stack.recovering.stats
    assert rec["add.unknown"] == 1 and rec["cancel.retried"] == 1
    if process is False:
        assert rec["add.resent"] == 1
    else:
        assert rec["add.found"] == 1 and rec["add.resent"] == 0


async def test_lost_add_with_the_callers_deadline_expires_cleanly(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("unavailable", "AddOrder", process=False)
    server = await start_server(faults=faults)
    async with live_stack(server) as stack:
        deadline = stack.engine.clock.now() + 2.5
        out = await stack.engine.submit(buy(0, deadline=deadline))
    assert out.status is Status.EXPIRED and out.error == "EService:Deadline elapsed"
    assert orders_by_cl_ord_id(server) == {}


async def test_undecidable_add_fails_as_unknown_and_is_never_resent(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("drop-reply", "AddOrder")
    faults.inject("http-5xx", "OpenOrders", count=0, process=False)  # every lookup fails
    server = await start_server(faults=faults)
    async with live_stack(server) as stack:
        add = buy(0)
        out = await stack.engine.submit(add)
        assert out.status is Status.FAILED and out.sent
        assert "fate unknown" in (out.error or "")
        record = stack.engine.order(add.cl_ord_id)
        assert record is not None and record.state.value == "unknown"
    assert len(orders_by_cl_ord_id(server)[add.cl_ord_id]) == 1
    assert server.exchange.stats.requests["AddOrder"] == 1


async def test_queries_pass_faults_through_as_failures(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("malformed-json", "OpenOrders")
    server = await start_server(faults=faults)
    async with live_stack(server) as stack:
        out = await stack.engine.submit(QueryOpenOrders())
        assert out.status is Status.FAILED and "not JSON" in (out.error or "")
        again = await stack.engine.submit(QueryOpenOrders())
        assert again.status is Status.ACCEPTED
