"""Order validation with Kraken's exact errors, fills, queries and the public endpoints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from engine import kraken_errors as ke
from engine.exchange import CancelReason, OrderCancelled, OrderFilled, PriceTick, SimulatedKraken

from .simkit import add, call, err, flat, make, ok, txid

BAD_NUMBERS = ["nan", "NaN", "inf", "-inf", "-1", "0", "0.0", "abc", "", "1e", "1_0", None,
               # out of any market's range: once an exception from price % tick_size
               "1e27", "1E+2800000", "1e16", "1e-31"]


def invalid(field: str) -> str:
    return f"{ke.INVALID_ARGUMENTS}:{field}"


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_bad_volume_is_invalid_and_uncharged(bad: str | None) -> None:
    x = make()
    assert err(add(x, 0.0, volume=bad)) == invalid("volume")  # type: ignore[arg-type]
    assert x.stats.penalty == {} and x.open_orders() == {}


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_bad_price_is_invalid_and_uncharged(bad: str | None) -> None:
    x = make()
    assert err(add(x, 0.0, price=bad)) == invalid("price")
    assert x.stats.penalty == {}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, True])
def test_non_string_bad_numbers_are_invalid(bad: object) -> None:
    x = make()
    assert err(add(x, 0.0, volume=bad)) == invalid("volume")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"pair": "DOGE/EUR"}, ke.UNKNOWN_ASSET_PAIR),
        ({"pair": ""}, invalid("pair")),
        ({"side": "hold"}, invalid("type")),
        ({"ordertype": "stop-loss"}, invalid("ordertype")),
        ({"volume": "0.000000001"}, invalid("volume")),  # more than lot_decimals (8)
        ({"userref": str(2**31)}, invalid("userref")),
        ({"userref": "x"}, invalid("userref")),
        ({"userref": "1_0"}, invalid("userref")),
        ({"cl_ord_id": "x" * 19}, invalid("cl_ord_id")),
        ({"cl_ord_id": "caf\u00e9"}, invalid("cl_ord_id")),
        ({"cl_ord_id": "abc", "userref": "1"}, invalid("cl_ord_id")),
        ({"timeinforce": "FOK"}, invalid("timeinforce")),
        ({"timeinforce": "GTD"}, invalid("expiretm")),
        ({"oflags": "post,bogus"}, invalid("oflags")),
        ({"validate": "maybe"}, invalid("validate")),
        ({"price": "50000.05"}, ke.TICK_SIZE),
        ({"volume": "0.00009"}, ke.ORDER_MINIMUM),
        ({"pair": "SOL/USD", "volume": "0.02", "price": "1.00"}, ke.COST_MINIMUM),
        ({"pair": "ETH/USD", "price": "2000.001"}, ke.TICK_SIZE),
        ({"volume": "100000"}, ke.INSUFFICIENT_FUNDS),
    ],
)
def test_add_order_errors(change: dict[str, str], error: str) -> None:
    x = make()
    kw: dict[str, Any] = dict(change)
    if "side" in kw:
        kw["side"] = kw.pop("side")
    assert err(add(x, 0.0, **kw)) == error
    assert x.open_orders() == {}
    assert x.stats.errors[error] == 1


def test_market_order_with_post_flag_is_invalid() -> None:
    x = make()
    assert err(add(x, 0.0, ordertype="market", price=None, oflags="post")) == invalid("oflags")


@pytest.mark.parametrize(
    ("side", "price", "rests"),
    # flat XBT/USD at 60000.0 quotes bid 60000.0 / ask 60000.1 (a one-tick spread): a
    # post-only buy at the quoted bid rests; at the ask it would take, and is refused
    [("buy", "60000.1", False), ("buy", "60000.0", True), ("buy", "59999.9", True),
     ("sell", "60000.0", False), ("sell", "60000.1", True)],
)
def test_post_only_that_would_cross_is_refused(side: str, price: str, rests: bool) -> None:
    x = make()
    reply = add(x, 0.0, side=side, price=price, oflags="post")
    if rests:
        assert x.open_orders()[txid(reply)]["oflags"] == "post"
    else:
        assert err(reply) == ke.POST_ONLY_ORDER
        assert x.stats.penalty["XBT/USD"] == 1  # fixed part charged


def test_cl_ord_id_forms_and_uniqueness_among_open_orders() -> None:
    x = make("pro")
    for cid in ("6d1b345e-2821-40e2-ad83-4ecb18a06876", "da8e4ad59b78481c93e589746b0cf91f",
                "x" * 18):
        ok(add(x, 0.0, cl_ord_id=cid))
    assert err(add(x, 0.0, cl_ord_id="x" * 18)) == invalid("cl_ord_id")
    ok(call(x, "CancelOrder", 1.0, cl_ord_id="x" * 18))
    ok(add(x, 2.0, cl_ord_id="x" * 18))  # free again once the first closed
    got = ok(call(x, "OpenOrders", 3.0, cl_ord_id="x" * 18))["open"]
    assert [o["cl_ord_id"] for o in got.values()] == ["x" * 18]


def test_userref_is_int32_and_cancels_every_order_that_carries_it() -> None:
    x = make("pro")
    add(x, 0.0, userref=str(-(2**31)))
    add(x, 0.0, userref="42")
    add(x, 0.0, userref="42", price="50000.1")
    assert ok(call(x, "CancelOrder", 10.0, txid="42")) == {"count": 2}
    assert x.stats.penalty["XBT/USD"] == 3 + 2 * 5  # two cancels aged 10 s
    assert [o["userref"] for o in x.open_orders().values()] == [-(2**31)]


def _rfc(unix: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def test_deadline_window_and_elapsed() -> None:
    x = make()
    epoch = x.epoch
    ok(add(x, 0.0, deadline=_rfc(epoch + 5)))
    ok(add(x, 0.0, deadline=_rfc(epoch + 60)))
    assert err(add(x, 10.0, deadline=_rfc(epoch + 9.5))) == ke.DEADLINE_ELAPSED
    assert err(add(x, 10.0, deadline=_rfc(epoch + 70.5))) == invalid("deadline")
    assert err(add(x, 10.0, deadline="tomorrow")) == invalid("deadline")
    assert err(add(x, 10.0, deadline="2024-01-01T00:00:15")) == invalid("deadline")  # no zone
    assert x.stats.penalty["XBT/USD"] == 2  # refused deadlines are not charged
    t = txid(add(x, 10.0))
    assert err(call(x, "AmendOrder", 20.0, txid=t, order_qty="0.02",
                    deadline=_rfc(epoch + 19))) == ke.DEADLINE_ELAPSED


def test_validate_checks_everything_and_places_nothing() -> None:
    x = make()
    r = ok(add(x, 0.0, validate="true"))
    assert r == {"descr": {"order": "buy 0.01000000 XBTUSD @ limit 50000.0"}}
    assert err(add(x, 0.0, validate="true", price="50000.05")) == ke.TICK_SIZE
    assert x.open_orders() == {} and x.stats.penalty == {}
    orders = [{"type": "sell", "ordertype": "limit", "volume": "0.01", "price": "70000.0"}] * 2
    r = ok(call(x, "AddOrderBatch", 0.0, pair="XBTUSD", orders=orders, validate=True))
    assert r == {"orders": [{"descr": {"order": "sell 0.01000000 XBTUSD @ limit 70000.0"}}] * 2}
    assert x.open_orders() == {}


def test_insufficient_funds_counts_what_open_orders_hold() -> None:
    x = make(balances={"ZUSD": "1000", "XXBT": "0.02"})
    ok(add(x, 0.0, price="50000.0", volume="0.01"))  # holds 500 USD
    ok(add(x, 0.0, price="40000.0", volume="0.01"))  # holds 400 USD
    assert err(add(x, 0.0, price="20000.0", volume="0.01")) == ke.INSUFFICIENT_FUNDS
    ok(add(x, 0.0, side="sell", price="70000.0", volume="0.02"))
    assert err(add(x, 0.0, side="sell", price="70000.0", volume="0.0001")) == (
        ke.INSUFFICIENT_FUNDS
    )
    assert ok(call(x, "Balance", 0.0)) == {"ZUSD": "1000.0000", "XXBT": "0.0200000000"}


def test_unknown_orders() -> None:
    x = make()
    assert err(call(x, "CancelOrder", 0.0, txid="OAAAAA-BBBBB-CCCCCC")) == ke.UNKNOWN_ORDER
    assert err(call(x, "QueryOrders", 0.0, txid="OAAAAA-BBBBB-CCCCCC")) == ke.UNKNOWN_ORDER
    assert err(call(x, "CancelOrderBatch", 0.0, orders=["nope"])) == ke.UNKNOWN_ORDER
    assert err(call(x, "AmendOrder", 0.0, cl_ord_id="nope", order_qty="1")) == ke.UNKNOWN_ORDER
    assert err(call(x, "CancelOrder", 0.0)) == invalid("txid")
    assert err(call(x, "AmendOrder", 0.0, txid="a", cl_ord_id="b", order_qty="1")) == (
        invalid("txid")
    )
    assert err(call(x, "EditOrder", 0.0, txid="a", pair="XBTUSD", cl_ord_id="b")) == (
        invalid("cl_ord_id")
    )


def test_resting_orders_fill_when_the_price_crosses_them() -> None:
    path = [(0.0, 60000.0), (10.0, 59400.0), (20.0, 59600.0), (30.0, 61000.0)]
    x = make(prices={**flat(), "XBT/USD": path})
    events: list[object] = []
    x.subscribe(events.append)
    buy = txid(add(x, 1.0, price="59500.0", volume="0.01", cl_ord_id="b1"))
    sell = txid(add(x, 1.0, side="sell", price="60500.0", volume="0.01"))
    far = txid(add(x, 1.0, price="50000.0", volume="0.01"))
    x.advance(9.99)
    assert x.open_order_count("XBT/USD") == 3
    x.advance(10.0)
    assert set(x.open_orders()) == {sell, far}
    x.advance(35.0)
    assert set(x.open_orders()) == {far}
    fills = [e for e in events if isinstance(e, OrderFilled)]
    trades = list(ok(call(x, "TradesHistory", 40.0))["trades"])  # most recent first
    assert [f.exec_id for f in reversed(fills)] == trades  # each fill names its own trade
    assert fills[0].trade_id is not None and fills[1].trade_id is not None
    assert fills[0].trade_id < fills[1].trade_id
    assert [attrs.evolve(f, exec_id=None, trade_id=None) for f in fills] == [
        OrderFilled(buy, "XBT/USD", "buy", Decimal("59500.0"), Decimal("0.01"), 10.0, "b1",
                    None, True),
        OrderFilled(sell, "XBT/USD", "sell", Decimal("60500.0"), Decimal("0.01"), 30.0, None,
                    None, True),
    ]
    ticks = [(e.time, e.price) for e in events
             if isinstance(e, PriceTick) and e.pair == "XBT/USD"]
    assert ticks == [(0.0, Decimal("60000.0")), (10.0, Decimal("59400.0")),
                     (20.0, Decimal("59600.0")), (30.0, Decimal("61000.0"))]
    q = ok(call(x, "QueryOrders", 40.0, txid=f"{buy},{sell}"))
    assert q[buy]["status"] == "closed" and q[buy]["vol_exec"] == "0.01000000"
    assert q[buy]["price"] == "59500.0" and q[buy]["cost"] == "595.00000"
    bal = ok(call(x, "Balance", 40.0))
    assert Decimal(bal["ZUSD"]) == Decimal("1000000000") - 595 + 605


def test_market_and_marketable_orders_fill_at_once_at_the_quote() -> None:
    x = make()
    events: list[object] = []
    x.subscribe(events.append)
    m = txid(add(x, 1.0, ordertype="market", price=None, side="sell", volume="0.5"))
    lim = txid(add(x, 1.0, price="65000.0", volume="0.5"))  # buy limit above the market
    assert x.open_orders() == {}
    assert [(e.txid, e.price, e.maker) for e in events if isinstance(e, OrderFilled)] == [
        (m, Decimal("60000.0"), False), (lim, Decimal("60000.1"), False)]  # bid, ask


def test_ioc_and_gtd() -> None:
    x = make()
    events: list[object] = []
    x.subscribe(events.append)
    ioc = txid(add(x, 0.0, timeinforce="IOC"))
    gtd = txid(add(x, 0.0, timeinforce="GTD", expiretm="+10"))
    assert list(x.open_orders()) == [gtd]
    x.advance(9.9)
    assert list(x.open_orders()) == [gtd]
    x.advance(10.0)
    assert x.open_orders() == {}
    reasons = [(e.txid, e.reason) for e in events if isinstance(e, OrderCancelled)]
    assert reasons == [(ioc, CancelReason.IOC), (gtd, CancelReason.EXPIRED)]
    assert x.stats.penalty["XBT/USD"] == 2  # expiry is the exchange's doing: no penalty


def test_amend_across_the_market_fills_and_post_only_amend_is_refused() -> None:
    x = make("pro")
    t = txid(add(x, 0.0, price="50000.0"))
    assert err(call(x, "AmendOrder", 1.0, txid=t, limit_price="61000.0", post_only="true")) == (
        ke.POST_ONLY_ORDER
    )
    assert x.open_orders()[t]["descr"]["price"] == "50000.0"
    ok(call(x, "AmendOrder", 2.0, txid=t, limit_price="61000.0"))
    assert x.open_orders() == {}
    assert ok(call(x, "QueryOrders", 3.0, txid=t))[t]["price"] == "60000.1"  # the ask


def test_queries_and_their_shapes() -> None:
    x = make("pro")
    a = txid(add(x, 0.0, userref="5"))
    b = txid(add(x, 0.0, price="49000.0"))
    ok(call(x, "CancelOrder", 1.0, txid=b))
    opened = ok(call(x, "OpenOrders", 2.0))["open"]
    assert list(opened) == [a]
    info = opened[a]
    assert info["status"] == "open" and info["opentm"] == x.epoch
    assert info["descr"]["pair"] == "XBTUSD" and info["descr"]["type"] == "buy"
    assert info["descr"]["order"] == "buy 0.01000000 XBTUSD @ limit 50000.0"
    assert ok(call(x, "OpenOrders", 2.0, userref="6"))["open"] == {}
    closed = ok(call(x, "ClosedOrders", 2.0))
    assert closed["count"] == 1 and closed["closed"][b]["status"] == "canceled"
    assert closed["closed"][b]["reason"] == "User requested"
    assert set(ok(call(x, "QueryOrders", 2.0, txid=f"{a},{b}"))) == {a, b}
    assert set(ok(call(x, "QueryOrders", 2.0, userref="5"))) == {a}


def test_public_endpoints() -> None:
    x = make()
    assert ok(call(x, "Time", 30.5, key=None)) == {
        "unixtime": 1704067230, "rfc1123": "Mon, 01 Jan 24 00:00:30 +0000"}
    pairs = ok(call(x, "AssetPairs", 0.0, key=None, pair="XBTUSD,ETH/USD"))
    assert set(pairs) == {"XXBTZUSD", "XETHZUSD"}
    assert err(call(x, "AssetPairs", 0.0, key=None, pair="DOGEUSD")) == ke.UNKNOWN_ASSET_PAIR
    tick = ok(call(x, "Ticker", 0.0, key=None, pair="SOL/USD"))
    assert tick["SOLUSD"]["c"][0] == "150.00"
    assert x.api_level("sim", 0.0) == 0  # public calls are not on the key's counter


def test_unknown_method_and_keys() -> None:
    x = SimulatedKraken(prices=flat(), keys=())
    assert err(call(x, "Ledgers", 0.0)) == ke.UNKNOWN_METHOD
    assert err(call(x, "Balance", 0.0)) == ke.INVALID_KEY
    assert err(call(x, "Balance", 0.0, key=None)) == ke.INVALID_KEY
    x.add_key("k1", "c2VjcmV0")
    ok(call(x, "Balance", 0.0, key="k1"))
    assert x.secret_for("k1") == "c2VjcmV0" and x.secret_for("nope") is None
    assert "c2VjcmV0" not in repr(x) and "c2VjcmV0" not in repr(x._keys)


def test_query_orders_by_cl_ord_id_open_or_closed() -> None:
    x = make()
    a = txid(add(x, 0.0, cl_ord_id="alpha"))
    ok(call(x, "CancelOrder", 1.0, txid=a))
    assert set(ok(call(x, "QueryOrders", 2.0, cl_ord_id="alpha"))) == {a}
    assert err(call(x, "QueryOrders", 2.0, cl_ord_id="beta")) == ke.UNKNOWN_ORDER


def test_registering_a_key_again_keeps_its_counter() -> None:
    x = make()
    ok(call(x, "Balance", 0.0))
    x.add_key("sim", "bmV3")
    assert x.api_level("sim", 0.0) == 1 and x.secret_for("sim") == "bmV3"
    with pytest.raises(ValueError, match="non-empty"):
        x.add_key("")
