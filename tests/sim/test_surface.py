"""Endpoints and shapes as Kraken documents them (issue 12, item 2): the quote with its
spread, Assets, Depth, Trades, BalanceEx, TradeBalance, TradesHistory, QueryTrades, and
EditOrder's ``status`` and ``userref``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.exchange import SimulatedKraken

from .simkit import add, call, err, flat, make, ok, txid


def pub(x: SimulatedKraken, endpoint: str, now: float = 0.0, **params: Any) -> Any:
    return ok(x.handle(endpoint, params, key=None, now=now))


def test_ticker_quotes_a_bid_below_the_ask_and_post_only_agrees() -> None:
    x = make()
    t = pub(x, "Ticker", pair="XBTUSD")["XXBTZUSD"]
    bid, ask = Decimal(t["b"][0]), Decimal(t["a"][0])
    assert bid < ask and (bid, ask) == (Decimal("60000.0"), Decimal("60000.1"))
    assert t["c"][0] == "60000.0" and set(t) >= {"a", "b", "c", "v", "p", "t", "l", "h", "o"}
    rests = txid(add(x, 0.0, price=t["b"][0], oflags="post"))  # at the quoted bid: rests
    assert rests in x.open_orders()
    assert err(add(x, 0.0, price=t["a"][0], oflags="post")) == ke.POST_ONLY_ORDER
    assert err(add(x, 0.0, side="sell", price=t["b"][0], oflags="post")) == ke.POST_ONLY_ORDER
    assert txid(add(x, 0.0, side="sell", price=t["a"][0], oflags="post")) in x.open_orders()


@given(st.integers(min_value=0, max_value=50), st.floats(min_value=1.0, max_value=1e6))
def test_the_quote_is_consistent_for_any_spread(spread: int, price: float) -> None:
    x = SimulatedKraken("pro", prices=flat(XBT_USD=price), spread=spread)
    bid, ask = x.quote("XBT/USD")
    assert ask - bid == Decimal("0.1") * spread
    book = pub(x, "Depth", pair="XBTUSD", count=3)["XXBTZUSD"]
    assert book["bids"][0][0] == f"{bid:.1f}" and book["asks"][0][0] == f"{ask:.1f}"


def test_depth_is_ordered_and_counted() -> None:
    x = make()
    book = pub(x, "Depth", pair="XBT/USD", count=5)["XXBTZUSD"]
    bids = [Decimal(p) for p, _v, _t in book["bids"]]
    asks = [Decimal(p) for p, _v, _t in book["asks"]]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert all(isinstance(t, int) and v == "1.00000000" for _p, v, t in book["bids"])
    assert len(pub(x, "Depth", pair="XBTUSD")["XXBTZUSD"]["asks"]) == 100
    assert err(x.handle("Depth", {}, key=None, now=0.0)) == f"{ke.INVALID_ARGUMENTS}:pair"
    assert err(x.handle("Depth", {"pair": "XBTUSD", "count": "x"}, key=None, now=0.0)) == (
        f"{ke.INVALID_ARGUMENTS}:count")


def test_trades_lists_market_moves_and_own_fills_after_since() -> None:
    x = SimulatedKraken("pro", seed=3)
    x.advance(5.0)  # price ticks at 0, 1, ..., 5 s
    r = pub(x, "Trades", 5.0, pair="XBTUSD")
    rows = r["XXBTZUSD"]
    assert len(rows) == 6 and r["last"] == str(rows[-1][6])
    price, vol, when, side, kind, misc, tid = rows[0]
    assert Decimal(price) > 0 and vol == "1.00000000" and side in "bs" and kind == "l"
    assert misc == "" and isinstance(tid, int) and when == pytest.approx(x.epoch)
    assert pub(x, "Trades", 5.0, pair="XBTUSD", since=r["last"])["XXBTZUSD"] == []
    ok(call(x, "AddOrder", 5.0, pair="XBTUSD", type="buy", ordertype="market", volume="0.5"))
    after = pub(x, "Trades", 5.0, pair="XBTUSD", since=r["last"])["XXBTZUSD"]
    assert [(row[1], row[3], row[4]) for row in after] == [("0.50000000", "b", "m")]


def test_assets_describe_every_traded_asset() -> None:
    x = make()
    assets = pub(x, "Assets")
    assert list(assets) == ["XXBT", "ZUSD", "XETH", "SOL"]
    assert assets["XXBT"] == {"aclass": "currency", "altname": "XBT", "decimals": 10,
                              "display_decimals": 5, "status": "enabled"}
    assert list(pub(x, "Assets", asset="XBT,usd")) == ["XXBT", "ZUSD"]
    assert err(x.handle("Assets", {"asset": "DOGE"}, key=None, now=0.0)) == "EQuery:Unknown asset"


def test_balance_ex_shows_what_open_orders_hold() -> None:
    x = make(balances={"ZUSD": "1000", "XXBT": "1"})
    add(x, 0.0, price="50000.0", volume="0.01")  # holds 500 USD
    add(x, 0.0, side="sell", price="70000.0", volume="0.25")
    b = ok(call(x, "BalanceEx", 0.0))
    assert b == {"ZUSD": {"balance": "1000.0000", "hold_trade": "500.0000"},
                 "XXBT": {"balance": "1.0000000000", "hold_trade": "0.2500000000"}}
    assert x.api_level("sim", 0.0) == 1  # one unit, like Balance


def test_trade_balance_values_everything_in_the_asked_asset() -> None:
    x = make(balances={"ZUSD": "1000", "XXBT": "1", "XETH": "2"})
    tb = ok(call(x, "TradeBalance", 0.0))
    assert tb["eb"] == tb["tb"] == tb["e"] == tb["mf"] == f"{1000 + 60000 + 2 * 3000:.4f}"
    assert tb["m"] == tb["n"] == tb["c"] == tb["v"] == "0.0000"
    in_xbt = ok(call(x, "TradeBalance", 0.0, asset="XXBT"))
    # XETH has no pair to XXBT here: it counts 0 (documented)
    assert Decimal(in_xbt["eb"]) == pytest.approx(1 + Decimal(1000) / 60000, rel=Decimal("1e-9"))
    assert err(call(x, "TradeBalance", 0.0, asset="DOGE")) == "EQuery:Unknown asset"


def test_trades_history_and_query_trades_show_fills() -> None:
    x = make("pro")
    t = txid(add(x, 0.0, price="65000.0", volume="0.5"))  # takes at the ask
    hist = ok(call(x, "TradesHistory", 1.0))
    assert hist["count"] == 1
    (trade_id, trade), = hist["trades"].items()
    assert trade["ordertxid"] == t and trade["pair"] == "XXBTZUSD" and trade["type"] == "buy"
    assert (trade["price"], trade["vol"], trade["cost"]) == ("60000.1", "0.50000000",
                                                             "30000.05000")
    assert trade["maker"] is False and trade["fee"] == "0.00000"
    assert x.api_level("sim", 1.0) == 2  # TradesHistory costs 2
    assert ok(call(x, "QueryTrades", 1.0, txid=trade_id)) == {trade_id: trade}
    assert ok(call(x, "QueryOrders", 1.0, txid=t, trades="true"))[t]["trades"] == [trade_id]
    assert "trades" not in ok(call(x, "QueryOrders", 1.0, txid=t))[t]


def test_edit_order_reply_and_userref_follow_the_docs() -> None:
    x = make("pro")
    a = txid(add(x, 0.0, userref="7"))
    r = ok(call(x, "EditOrder", 100.0, txid="7", pair="XBTUSD", price="49000.0", userref="9"))
    assert r["status"] == "ok" and r["originaltxid"] == a and r["orders_cancelled"] == 1
    assert set(r) == {"status", "txid", "originaltxid", "volume", "price", "price2",
                      "orders_cancelled", "descr"}
    assert x.open_orders()[r["txid"]]["userref"] == 9  # the request's userref, not the old one
    add(x, 101.0, userref="9")
    assert err(call(x, "EditOrder", 102.0, txid="9", pair="XBTUSD", price="48000.0")) == (
        ke.UNKNOWN_ORDER)  # a userref naming two orders: denied
    v = ok(call(x, "EditOrder", 103.0, txid=r["txid"], pair="XBTUSD", price="48000.0",
                validate="true"))
    assert v["status"] == "ok"
