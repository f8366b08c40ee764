"""Coalescing, as pure functions: what a new amend, edit or cancel does to what is queued."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.coalescing import (
    Fold,
    coalesce,
    drop_from_add,
    fold_into_add,
    merge_changes,
)
from engine.core.items import Item
from engine.core.orders import OrderRecord, OrderState
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder

from .streams import examples

prices = st.one_of(st.none(), st.sampled_from(["59000.0", "59010.0", "60000.0"]))
volumes = st.one_of(st.none(), st.sampled_from(["0.01", "0.02", "0.5"]))


def item(intent: Any) -> Item:
    return Item(SimpleNamespace(id=1, intent=intent, strategy="s"), 0.0)  # type: ignore[arg-type]


def add(i: int = 0, market: bool = False) -> AddOrder:
    if market:
        return AddOrder("XBT/USD", "buy", "0.01", order_type="market", cl_ord_id=f"o{i}")
    return AddOrder("XBT/USD", "buy", "0.01", "59000.0", cl_ord_id=f"o{i}")


@settings(max_examples=examples(1.0))
@given(price=prices, volume=volumes, edit=st.booleans(), market=st.booleans(),
       n=st.integers(1, 4), which=st.integers(0, 3))
def test_folding_a_change_into_a_queued_add(price: str | None, volume: str | None, edit: bool,
                                            market: bool, n: int, which: int) -> None:
    if price is None and volume is None:
        return
    orders = [add(i, market and i == which % n) for i in range(n)]
    intent = orders[0] if n == 1 else AddOrderBatch(orders)
    target = orders[which % n]
    change = (EditOrder if edit else AmendOrder)(target.cl_ord_id, price=price, volume=volume)
    folded = fold_into_add(intent, target.cl_ord_id, change)
    after = folded.orders if isinstance(folded, AddOrderBatch) else (folded,)
    assert [o.cl_ord_id for o in after] == [o.cl_ord_id for o in orders]
    for before, now in zip(orders, after, strict=True):
        if before.cl_ord_id != target.cl_ord_id:
            assert now == before
            continue
        assert now.volume == (Decimal(volume) if volume else before.volume)
        if before.price is None:  # a market order keeps having no price
            assert now.price is None
        else:
            assert now.price == (Decimal(price) if price else before.price)


@settings(max_examples=examples(1.0))
@given(n=st.integers(1, 5), which=st.integers(0, 4))
def test_dropping_an_order_from_a_queued_add(n: int, which: int) -> None:
    orders = [add(i) for i in range(n)]
    intent = orders[0] if n == 1 else AddOrderBatch(orders)
    gone = orders[which % n].cl_ord_id
    rest = drop_from_add(intent, gone)
    left = [o for o in orders if o.cl_ord_id != gone]
    if not left:
        assert rest is None
    elif len(left) == 1:
        assert rest == left[0]
    else:
        assert isinstance(rest, AddOrderBatch) and list(rest.orders) == left


@settings(max_examples=examples(1.0))
@given(p1=prices, v1=volumes, p2=prices, v2=volumes)
def test_a_newer_change_keeps_what_it_leaves_out_from_the_older(
    p1: str | None, v1: str | None, p2: str | None, v2: str | None
) -> None:
    if (p1 is None and v1 is None) or (p2 is None and v2 is None):
        return
    older, newer = AmendOrder("o", price=p1, volume=v1), AmendOrder("o", price=p2, volume=v2)
    merged = merge_changes(newer, older)
    assert merged.price == (newer.price if newer.price is not None else older.price)
    assert merged.volume == (newer.volume if newer.volume is not None else older.volume)


def test_resolutions() -> None:
    rec = OrderRecord("o0", "XBT/USD", OrderState.QUEUED)
    add_item = item(add())
    r = coalesce(CancelOrder("o0"), rec, [], add_item)
    assert (r.fold, r.add_intent, r.grows) == (Fold.DROPS_ADD, None, -1)
    r = coalesce(AmendOrder("o0", price="59010.0"), rec, [], add_item)
    assert r.fold is Fold.INTO_ADD and r.grows == 0
    assert r.add_intent.price == Decimal("59010.0")  # type: ignore[union-attr]
    rec.state = OrderState.OPEN
    amend = item(AmendOrder("o0", volume="0.5"))
    r = coalesce(AmendOrder("o0", price="59010.0"), rec, [amend], None)
    assert r.fold is Fold.QUEUE and r.grows == 0 and r.retire[0][0] is amend
    assert r.intent == AmendOrder("o0", price="59010.0", volume="0.5")
    r = coalesce(CancelOrder("o0"), rec, [amend], None)
    assert r.fold is Fold.QUEUE and r.grows == 0 and r.intent == CancelOrder("o0")
    assert coalesce(CancelOrder("o0"), rec, [], None).grows == 1
    rec.cancel_queued = True
    r = coalesce(AmendOrder("o0", price="1.0"), rec, [], None)
    assert r.fold is Fold.CANCEL_QUEUED and r.grows == 0
