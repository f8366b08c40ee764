"""Intent construction: every bad field refused with a typed error naming it."""

from __future__ import annotations

import math
import uuid
from decimal import Decimal

import pytest

from engine.errors import InvalidIntent
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelAllOrdersAfter,
    CancelOrder,
    CancelOrderBatch,
    EditOrder,
    OrderType,
    QueryOrders,
    Side,
    TimeInForce,
)


def test_add_order_defaults_and_conversion() -> None:
    o = AddOrder("XBT/USD", "BUY", 0.5, "60000.1")
    assert o.side is Side.BUY
    assert o.volume == Decimal("0.5")
    assert o.price == Decimal("60000.1")
    assert o.order_type is OrderType.LIMIT
    assert o.time_in_force is TimeInForce.GTC
    uuid.UUID(o.cl_ord_id)  # generated as a UUID
    assert AddOrder("XBT/USD", "buy", 1, 1).cl_ord_id != o.cl_ord_id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"volume": math.nan}, "volume"),
        ({"volume": -1}, "volume"),
        ({"volume": 0}, "volume"),
        ({"volume": "abc"}, "volume"),
        ({"volume": math.inf}, "volume"),
        ({"volume": True}, "volume"),
        ({"price": math.nan}, "price"),
        ({"price": "-5"}, "price"),
        ({"price": Decimal("NaN")}, "price"),
        ({"side": "hold"}, "side"),
        ({"order_type": "iceberg"}, "order_type"),
        ({"time_in_force": "FOK"}, "time_in_force"),
        ({"cl_ord_id": "x" * 19}, "cl_ord_id"),
        ({"cl_ord_id": ""}, "cl_ord_id"),
        ({"cl_ord_id": "caf\u00e9"}, "cl_ord_id"),
        ({"pair": "XBTUSD"}, "pair"),
        ({"pair": ""}, "pair"),
        ({"userref": 2**31}, "userref"),
        ({"deadline": math.nan}, "deadline"),
        ({"post_only": "yes"}, "post_only"),
    ],
)
def test_add_order_refuses_bad_fields(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"pair": "XBT/USD", "side": "buy", "volume": 1, "price": 100}
    base.update(kwargs)
    with pytest.raises((InvalidIntent, TypeError)) as info:
        AddOrder(**base)  # type: ignore[arg-type]
    if isinstance(info.value, InvalidIntent):
        assert info.value.field == field
        assert field in str(info.value)


def test_limit_needs_price_and_market_refuses_one() -> None:
    with pytest.raises(InvalidIntent, match="price"):
        AddOrder("XBT/USD", "buy", 1)
    with pytest.raises(InvalidIntent, match="price"):
        AddOrder("XBT/USD", "buy", 1, 100, order_type="market")
    with pytest.raises(InvalidIntent, match="post_only"):
        AddOrder("XBT/USD", "buy", 1, order_type="market", post_only=True)
    assert AddOrder("XBT/USD", "sell", 1, order_type="market").price is None


def test_cl_ord_id_accepts_uuid_or_short_ascii() -> None:
    assert AddOrder("XBT/USD", "buy", 1, 1, cl_ord_id="abc-123").cl_ord_id == "abc-123"
    u = str(uuid.uuid4())
    assert AddOrder("XBT/USD", "buy", 1, 1, cl_ord_id=u).cl_ord_id == u


def test_batch_rules() -> None:
    orders = [AddOrder("XBT/USD", "buy", 1, 100 + i) for i in range(15)]
    assert len(AddOrderBatch(orders).orders) == 15
    with pytest.raises(InvalidIntent, match="orders"):
        AddOrderBatch(orders[:1])
    with pytest.raises(InvalidIntent, match="orders"):
        AddOrderBatch([*orders, AddOrder("XBT/USD", "buy", 1, 1)])
    with pytest.raises(InvalidIntent, match="single pair"):
        AddOrderBatch([orders[0], AddOrder("ETH/USD", "buy", 1, 1)])
    with pytest.raises(InvalidIntent, match="distinct"):
        AddOrderBatch([orders[0], orders[0]])
    with pytest.raises(InvalidIntent):
        CancelOrderBatch([])
    with pytest.raises(InvalidIntent):
        CancelOrderBatch([f"id{i}" for i in range(51)])
    with pytest.raises(InvalidIntent, match="one string"):
        CancelOrderBatch("abc")  # type: ignore[arg-type]
    with pytest.raises(InvalidIntent):
        QueryOrders([])


def test_amend_edit_cancel_validation() -> None:
    with pytest.raises(InvalidIntent, match="volume or price"):
        AmendOrder("id")
    with pytest.raises(InvalidIntent, match="volume or price"):
        EditOrder("id")
    with pytest.raises(InvalidIntent, match="price"):
        AmendOrder("id", price=math.nan)
    with pytest.raises(InvalidIntent, match="order_id"):
        CancelOrder("")
    with pytest.raises(InvalidIntent, match="pair"):
        CancelOrder("id", pair="XBTUSD")
    with pytest.raises(InvalidIntent, match="timeout"):
        CancelAllOrdersAfter(-1)
    assert CancelOrder("id").urgent is True


def test_intents_are_frozen() -> None:
    o = AddOrder("XBT/USD", "buy", 1, 1)
    with pytest.raises(AttributeError):
        o.volume = Decimal(2)  # type: ignore[misc]
