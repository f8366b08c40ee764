"""Submit at the boundary (issue 10, items 3-5): every Decimal path refuses absurd values
with a typed error naming the field; amends and edits are checked like adds (tick size,
order minimum, cost minimum) instead of being sent to be refused and charged; a full queue
never refuses a cancel, nor an amend that does not grow the queue."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import VirtualClock
from engine.core import Engine, EngineSettings
from engine.errors import InvalidIntent, QueueFull
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder
from engine.outcomes import Status

from .doubles import ScriptedVenue, add, run
from .streams import examples

HUGE = ["1e400", "9e999999", "1e28", "123456789012345678901234567890.1"]


@pytest.mark.parametrize("price", HUGE)
def test_an_absurd_price_is_an_invalid_intent_naming_the_price(price: str) -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        with pytest.raises(InvalidIntent) as err:
            e.submit(AddOrder("XBT/USD", "buy", "0.01", price))
        assert err.value.field == "price"
        assert e.queued == 0 and v.log == []

    run(body)


@pytest.mark.parametrize(("volume", "price"), [("9e999999", "60000.0"), ("1e-999999", "1e5")])
def test_a_cost_that_decimal_cannot_compute_is_an_invalid_intent(volume: str, price: str) -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        with pytest.raises(InvalidIntent) as err:
            e.submit(AddOrder("XBT/USD", "buy", volume, price))
        assert err.value.field == "volume"

    run(body)


def test_absurd_values_in_a_batch_amend_and_edit_are_refused_too() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        with pytest.raises(InvalidIntent, match="price"):
            e.submit(AddOrderBatch([add(), AddOrder("XBT/USD", "sell", "0.01", "1e400")]))
        placed = await e.submit(add())
        cid = placed.intent.cl_ord_id  # type: ignore[union-attr]
        for change in (AmendOrder(cid, price="1e400"), EditOrder(cid, price="1e400"),
                       AmendOrder(cid, volume="9e999999")):
            with pytest.raises(InvalidIntent):
                e.submit(change)
        assert v.endpoints() == ["AddOrder"] and e.queued == 0

    run(body)


@settings(max_examples=examples(0.5), deadline=None)
@given(price=st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("1e-30"),
                         max_value=Decimal("1e60")),
       volume=st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("1e-30"),
                          max_value=Decimal("1e60")))
def test_any_finite_add_is_either_queued_or_refused_with_invalid_intent(
    price: Decimal, volume: Decimal
) -> None:
    """Whatever finite price and volume: no exception but InvalidIntent escapes submit."""
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        refused: InvalidIntent | None = None
        try:
            h = e.submit(AddOrder("XBT/USD", "buy", volume, price))
        except InvalidIntent as err:
            refused = err
        if refused is not None:
            assert refused.field in ("price", "volume") and e.queued == 0
        else:
            assert (await h).status is Status.ACCEPTED

    run(body)


@pytest.mark.parametrize("kind", [AmendOrder, EditOrder])
@pytest.mark.parametrize(("field", "value", "why"), [
    ("price", "59000.05", "tick"),  # XBT/USD tick 0.1
    ("volume", "0.00001", "minimum 0.0001"),  # order minimum
    ("price", "10.0", "order cost"),  # 0.01 XBT at 10 USD: under the 0.5 USD cost minimum
])
def test_amends_and_edits_are_checked_at_submit_like_adds(
    kind: type[AmendOrder | EditOrder], field: str, value: str, why: str,
) -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        placed = await e.submit(add())
        cid = placed.intent.cl_ord_id  # type: ignore[union-attr]
        with pytest.raises(InvalidIntent, match=why) as err:
            e.submit(kind(cid, **{field: value}))
        assert err.value.field == field
        assert v.endpoints() == ["AddOrder"] and e.queued == 0  # nothing sent, nothing charged
        assert e.stats["XBT/USD"].charged == 1.0
        ok = await e.submit(kind(cid, price="59000.1"))
        assert ok.status is Status.ACCEPTED

    run(body)


def test_an_amend_of_a_queued_add_is_checked_before_it_is_folded() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        e.resync_trading("XBT/USD", 125)  # the add must wait in the queue
        a = add()
        h = e.submit(a)
        with pytest.raises(InvalidIntent, match="tick"):
            e.submit(AmendOrder(a.cl_ord_id, price="59000.01"))
        out = await h
        assert out.status is Status.ACCEPTED and out.intent == a  # unchanged

    run(body)


def test_an_order_placed_elsewhere_is_checked_on_its_pair() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        with pytest.raises(InvalidIntent, match="tick"):
            e.submit(AmendOrder("OUF4EM-FRGI2-MQMWZD", price="3000.001", pair="ETH/USD"))
        out = await e.submit(AmendOrder("OUF4EM-FRGI2-MQMWZD", price="3000.01", pair="ETH/USD"))
        assert out.status is Status.ACCEPTED

    run(body)


def test_a_full_queue_never_refuses_a_cancel() -> None:
    """Issue 10, item 5: a strategy can always pull its quotes."""

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        resting = [await e.submit(add(59000.0 + i)) for i in range(3)]
        e.resync_trading("XBT/USD", 125)  # adds wait: the queue fills up
        queued = [add(58000.0 + i) for i in range(5)]
        handles = [e.submit(a) for a in queued]
        assert e.queued == 5
        with pytest.raises(QueueFull):
            e.submit(add(57000.0))
        # a cancel of a queued add coalesces both: the queue shrinks
        h_cancel = e.submit(CancelOrder(queued[0].cl_ord_id))
        assert (await h_cancel).status is Status.COALESCED
        assert (await handles[0]).status is Status.COALESCED
        assert e.queued == 4
        e.submit(add(57000.0))  # room again
        # a cancel of an open order is queued even past max_queue
        first = resting[0].intent.cl_ord_id  # type: ignore[union-attr]
        h_open = e.submit(CancelOrder(first))
        assert e.queued == 6
        # an amend replacing a queued amend does not grow the queue: accepted when full
        second = resting[1].intent.cl_ord_id  # type: ignore[union-attr]
        with pytest.raises(QueueFull):
            e.submit(AmendOrder(second, price="59010.0"))
        e.resync_trading("XBT/USD", 0)
        assert (await h_open).status is Status.ACCEPTED
        await e.drain()

    run(body, settings=EngineSettings(max_queue=5))


def test_a_full_queue_takes_an_amend_that_replaces_a_queued_one() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        placed = await e.submit(add())
        cid = placed.intent.cl_ord_id  # type: ignore[union-attr]
        e.resync_trading("XBT/USD", 125)
        older = e.submit(AmendOrder(cid, price="59010.0"))
        e.submit(add(58000.0))
        assert e.queued == 2  # full
        newer = e.submit(AmendOrder(cid, volume="0.02"))  # replaces the older amend
        assert (await older).status is Status.COALESCED
        assert e.queued == 2
        out = await newer
        assert out.status is Status.ACCEPTED
        assert out.intent == AmendOrder(cid, volume="0.02", price="59010.0")

    run(body, settings=EngineSettings(max_queue=2))


def test_refusals_leave_everything_queued_untouched() -> None:
    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        e.resync_trading("XBT/USD", 125)
        hs = [e.submit(add(59000.0 + i)) for i in range(3)]
        for bad in (AddOrder("XBT/USD", "buy", "0.01", "1e400"),
                    AddOrder("XBT/USD", "buy", "0.01", "59000.05")):
            with pytest.raises(InvalidIntent):
                e.submit(bad)
        assert e.queued == 3
        e.resync_trading("XBT/USD", 0)
        outs = await asyncio.gather(*hs)
        assert [o.status for o in outs] == [Status.ACCEPTED] * 3

    run(body)
