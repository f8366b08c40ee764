"""python-kraken-sdk 3.x against ``orderpace simulate-exchange``: every endpoint a trading
program uses, then hammering until refused -- the SDK raises its own rate-limit errors."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from kraken.exceptions import (
    KrakenApiLimitExceededError,
    KrakenRateLimitExceededError,
    KrakenTemporaryLockoutError,
    KrakenUnknownOrderError,
)
from kraken.spot import Market, Trade, User

from .conftest import Sim, first_error


@pytest.fixture(scope="module")
def clients(sim: Sim) -> tuple[Market, User, Trade]:
    return (Market(url=sim.url), User(key=sim.key, secret=sim.secret, url=sim.url),
            Trade(key=sim.key, secret=sim.secret, url=sim.url))


def test_public_endpoints(clients: tuple[Market, User, Trade]) -> None:
    market, _, _ = clients
    assert abs(market.request("GET", "/0/public/Time", auth=False)["unixtime"]
               - time.time()) < 5
    assert market.get_system_status()["status"] == "online"
    assert market.get_asset_pairs(pair="XBTUSD")["XXBTZUSD"]["altname"] == "XBTUSD"
    assert market.get_assets(assets=["XBT", "USD"])["ZUSD"]["decimals"] == 4
    ticker = market.get_ticker(pair="XBTUSD")["XXBTZUSD"]
    assert Decimal(ticker["b"][0]) < Decimal(ticker["a"][0])
    book = market.get_order_book(pair="XBTUSD", count=5)["XXBTZUSD"]
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    assert "XXBTZUSD" in market.get_recent_trades(pair="XBTUSD")


def test_orders_queries_and_balances(clients: tuple[Market, User, Trade]) -> None:
    market, user, trade = clients
    assert Decimal(user.get_account_balance()["ZUSD"]) > 0
    assert user.get_balance(currency="USD")["available_balance"] > 0  # from BalanceEx
    assert float(user.get_trade_balance()["eb"]) > 0
    bid = Decimal(market.get_ticker(pair="XBTUSD")["XXBTZUSD"]["b"][0])
    post = trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="0.01",
                              price=str(bid), oflags=["post"], cl_ord_id="sdk-post")["txid"][0]
    checked = trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="0.01",
                                 price=str(bid - 50), validate=True)
    assert "txid" not in checked
    other = trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="0.01",
                               price=str(bid - 500), userref=7)["txid"][0]
    assert trade.amend_order(txid=post, limit_price=str(bid - 1))["amend_id"]
    edited = trade.edit_order(txid=other, pair="XBTUSD", price=str(bid - 400), userref=8)
    assert edited["status"] == "ok" and edited["originaltxid"] == other
    opened = user.get_open_orders()["open"]
    assert set(opened) == {post, edited["txid"]} and opened[edited["txid"]]["userref"] == 8
    assert trade.cancel_order(cl_ord_id="sdk-post")["count"] == 1
    assert trade.cancel_order(txid=edited["txid"])["count"] == 1
    with pytest.raises(KrakenUnknownOrderError):
        trade.cancel_order(txid=post)
    placed = trade.create_order_batch(pair="XBTUSD", orders=[
        {"ordertype": "limit", "type": "buy", "volume": "0.01", "price": str(bid - 1000 - i)}
        for i in range(3)])["orders"]
    ids = [o["txid"] for o in placed]
    assert trade.cancel_order_batch(orders=ids[:2])["count"] == 2
    assert trade.cancel_all_orders_after_x(timeout=60)["triggerTime"] != "0"
    assert trade.cancel_all_orders()["count"] == 1
    assert trade.cancel_all_orders_after_x(timeout=0)["triggerTime"] == "0"
    closed = user.get_closed_orders()["closed"]
    assert {post, other, *ids} <= set(closed)
    info = user.get_orders_info(txid=[post, other])
    assert info[post]["status"] == "canceled" and info[other]["reason"] == "Order replaced"
    taker = trade.create_order(ordertype="market", side="sell", pair="XBTUSD",
                               volume="0.01")["txid"][0]
    trades = user.get_trades_history()["trades"]
    assert [t["ordertxid"] for t in trades.values()] == [taker]


def test_hammering_until_refused_raises_the_sdks_rate_limit_errors(
    clients: tuple[Market, User, Trade],
) -> None:
    market, user, trade = clients
    bid = Decimal(market.get_ticker(pair="XBTUSD")["XXBTZUSD"]["b"][0])

    def add_and_cancel() -> None:  # 1 + 8 units at once; the Intermediate max is 125
        txid = trade.create_order(ordertype="limit", side="buy", pair="XBTUSD",
                                  volume="0.01", price=str(bid - 3000))["txid"][0]
        trade.cancel_order(txid=txid)

    assert isinstance(first_error(add_and_cancel, 40), KrakenRateLimitExceededError)
    assert isinstance(first_error(user.get_trades_history, 40), KrakenApiLimitExceededError)
    # calls that keep coming past the limit earn a lockout
    assert isinstance(first_error(user.get_account_balance, 20, (KrakenApiLimitExceededError,)),
                      KrakenTemporaryLockoutError)
