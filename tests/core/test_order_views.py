"""The engine's order records as strategies and runners see them: immutable views with side,
price, volume, the owning strategy, and the time of the add or last amend."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import attrs
import pytest

from engine.clock import VirtualClock
from engine.core import Engine, OrderState, OrderView
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder, Side

from .doubles import ScriptedVenue, add, run


def test_views_follow_the_order_from_queue_to_close() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        a = add(59000.0)
        h = e.submit(a, strategy="mm")
        view = e.order(a.cl_ord_id)
        assert view is not None and view.pending and view.live
        assert (view.state, view.strategy, view.side) == (OrderState.PENDING, "mm", Side.BUY)
        assert (view.price, view.volume, view.placed_at, view.txid) == (
            Decimal("59000.0"), Decimal("0.01"), None, None)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            view.price = Decimal(1)  # type: ignore[misc]
        await h
        placed = e.order(a.cl_ord_id)
        assert placed is not None and placed.state is OrderState.OPEN
        assert placed.txid is not None and placed.placed_at == pytest.approx(c.now())
        assert e.order(placed.txid) == placed  # by txid too
        assert e.order(a.cl_ord_id) is placed  # unchanged: the same snapshot
        await asyncio.sleep(1.0)
        await e.submit(AmendOrder(a.cl_ord_id, price="59010.0", volume="0.02"))
        amended = e.order(a.cl_ord_id)
        assert amended is not None and amended is not placed
        assert (amended.price, amended.volume) == (Decimal("59010.0"), Decimal("0.02"))
        assert amended.placed_at == pytest.approx(c.now())  # the age restarts
        old_txid = amended.txid
        await e.submit(EditOrder(a.cl_ord_id, price="59020.0"))
        edited = e.order(a.cl_ord_id)
        assert edited is not None and edited.txid not in (None, old_txid)
        h_cancel = e.submit(CancelOrder(a.cl_ord_id))
        closing = e.order(a.cl_ord_id)
        assert closing is not None and closing.closing and closing.live
        await h_cancel
        assert e.order(a.cl_ord_id) is None

    run(body)


def test_open_and_live_orders_by_pair_and_strategy() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        await e.submit(add(59000.0), strategy="a")
        await e.submit(AddOrder("ETH/USD", "sell", "0.1", "3100.00"), strategy="b")
        e.resync_trading("XBT/USD", 125)
        queued = add(58000.0)
        e.submit(queued, strategy="a")
        assert [o.pair for o in e.open_orders()] == ["XBT/USD", "ETH/USD"]
        assert [o.strategy for o in e.open_orders(strategy="b")] == ["b"]
        assert e.open_orders("ETH/USD", strategy="a") == []
        live = e.live_orders(strategy="a")
        assert [o.state for o in live] == [OrderState.OPEN, OrderState.QUEUED]
        assert e.live_count("XBT/USD", "a") == 2 and e.live_count() == 3
        assert all(isinstance(o, OrderView) for o in live)

    run(body)


def test_a_folded_amend_shows_in_the_queued_orders_view() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        e.resync_trading("XBT/USD", 125)
        a = add(59000.0)
        h = e.submit(a)
        e.submit(AmendOrder(a.cl_ord_id, price="59100.0"))
        view = e.order(a.cl_ord_id)
        assert view is not None and view.price == Decimal("59100.0")
        e.resync_trading("XBT/USD", 0)
        assert (await h).intent.price == Decimal("59100.0")  # type: ignore[union-attr]

    run(body)


def test_batch_placed_orders_carry_their_txids() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        orders = [add(59000.0 + i) for i in range(3)]
        out = await e.submit(AddOrderBatch(orders), strategy="grid")
        views = [e.order(o.cl_ord_id) for o in orders]
        txids = [r["txid"] for r in out.result["orders"]]  # type: ignore[index]
        assert [vw.txid for vw in views if vw is not None] == txids
        assert all(vw is not None and vw.strategy == "grid" for vw in views)

    run(body)


def test_a_close_we_caused_hides_the_order_until_its_reply() -> None:
    """``order_closed(expected=True)``: the exchange reported the close a request of ours
    caused; the reply does the bookkeeping, the order only stops showing as live."""

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        a = add()
        await e.submit(a)
        h = e.submit(CancelOrder(a.cl_ord_id))
        e.order_closed(a.cl_ord_id, "canceled", expected=True)
        view = e.order(a.cl_ord_id)
        assert view is not None and not view.live and view.state is OrderState.OPEN
        assert e.live_orders() == [] and len(e.open_orders()) == 1
        assert e.metrics().open_orders == {"XBT/USD": 1}  # the cap is freed by the reply
        await h
        assert e.order(a.cl_ord_id) is None and e.metrics().open_orders == {"XBT/USD": 0}

    run(body)
