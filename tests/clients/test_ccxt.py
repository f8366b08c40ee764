"""ccxt 4.x against ``orderpace simulate-exchange``: out of the box (only the URLs and the
key), every unified method a trading program uses, then hammering until refused -- ccxt
raises its own ``DDoSProtection`` / ``RateLimitExceeded``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from .conftest import Sim, first_error

SYMBOL = "BTC/USD"


def kraken(sim: Sim, **extra: Any) -> ccxt.kraken:
    return ccxt.kraken({"apiKey": sim.key, "secret": sim.secret,
                        "urls": {"api": {"public": sim.url, "private": sim.url}}, **extra})


def test_works_out_of_the_box_with_no_special_settings(sim: Sim) -> None:
    # ccxt's own pacing is on (its default): about 6 s of its sleeps
    exchange = kraken(sim)
    markets = exchange.load_markets()  # AssetPairs and Assets
    assert markets[SYMBOL]["id"] == "XXBTZUSD" and markets[SYMBOL]["precision"]["price"] == 0.1
    balance = exchange.fetch_balance()  # BalanceEx
    assert balance["USD"]["total"] > 0 and balance["USD"]["used"] == 0
    order: dict[str, Any] | None = None
    for _ in range(3):
        ticker = exchange.fetch_ticker(SYMBOL)  # ccxt sleeps before the request, not after
        assert ticker["bid"] < ticker["ask"]
        try:  # a post-only buy at the quoted bid rests
            order = exchange.create_order(SYMBOL, "limit", "buy", 0.01, ticker["bid"],
                                          {"postOnly": True})
            break
        except ccxt.ExchangeError as e:  # only if the market moved since the quote
            moved = exchange.fetch_ticker(SYMBOL)["bid"] != ticker["bid"]
            if "Post only" not in str(e) or not moved:
                raise
    assert order is not None and order["id"] and order["side"] == "buy"
    exchange.cancel_order(order["id"], SYMBOL)


@pytest.fixture(scope="module")
def fast(sim: Sim) -> Iterator[ccxt.kraken]:
    """ccxt without its client-side pacing, so the test does not sleep; the server still
    enforces every limit."""
    exchange = kraken(sim, enableRateLimit=False)
    exchange.load_markets()
    return exchange


def test_public_unified_methods(fast: ccxt.kraken) -> None:
    assert fast.fetch_time() > 0
    assert fast.fetch_status()["status"] == "ok"
    assert "BTC" in fast.fetch_currencies()
    book = fast.fetch_order_book(SYMBOL, 5)
    assert len(book["bids"]) == len(book["asks"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
    trades = fast.fetch_trades(SYMBOL)
    assert trades and all(t["symbol"] == SYMBOL and t["side"] in ("buy", "sell") for t in trades)


def test_orders_queries_and_balances(fast: ccxt.kraken) -> None:
    raw = fast.privatePostBalance()  # the plain form
    assert Decimal(raw["result"]["ZUSD"]) > 0
    assert fast.fetch_balance()["BTC"]["free"] > 0  # the extended form
    bid = fast.fetch_ticker(SYMBOL)["bid"]
    post = fast.create_order(SYMBOL, "limit", "buy", 0.01, bid,
                             {"postOnly": True, "clientOrderId": "ccxt-post"})
    checked = fast.create_order(SYMBOL, "limit", "buy", 0.01, bid - 10, {"validate": True})
    assert checked["id"] is None  # validate: checked, nothing placed
    other = fast.create_order(SYMBOL, "limit", "buy", 0.01, bid - 500)
    amended = fast.edit_order(post["id"], SYMBOL, "limit", "buy", 0.02, bid - 1)  # AmendOrder
    assert amended["id"]
    edited = fast.privatePostEditOrder({"txid": other["id"], "pair": "XXBTZUSD",
                                        "price": str(bid - 400)})["result"]
    assert edited["status"] == "ok" and edited["originaltxid"] == other["id"]
    opened = {o["id"]: o for o in fast.fetch_open_orders(SYMBOL)}
    assert set(opened) == {post["id"], edited["txid"]}
    assert opened[post["id"]]["amount"] == 0.02 and opened[post["id"]]["price"] == bid - 1
    assert opened[post["id"]]["clientOrderId"] == "ccxt-post" and opened[post["id"]]["postOnly"]
    fast.cancel_order("ignored", SYMBOL, {"clientOrderId": "ccxt-post"})
    fast.cancel_order(edited["txid"], SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        fast.cancel_order(post["id"], SYMBOL)
    placed = fast.create_orders([
        {"symbol": SYMBOL, "type": "limit", "side": "buy", "amount": 0.01, "price": bid - 900 - i}
        for i in range(3)])
    ids = [o["id"] for o in placed]
    assert len(ids) == 3 and all(ids)
    fast.cancel_orders(ids[:2])
    armed = fast.cancel_all_orders_after(60_000)
    assert armed["result"]["triggerTime"] != "0"
    fast.cancel_all_orders()
    fast.cancel_all_orders_after(0)
    assert fast.fetch_open_orders() == []
    closed = {o["id"]: o for o in fast.fetch_closed_orders(SYMBOL)}
    assert {post["id"], other["id"], *ids} <= set(closed)
    assert all(closed[i]["status"] == "canceled" for i in ids)
    fetched = fast.fetch_order(other["id"])  # QueryOrders
    assert fetched["status"] == "canceled" and fetched["symbol"] == SYMBOL
    taker = fast.create_order(SYMBOL, "market", "buy", 0.01)
    mine = fast.fetch_my_trades(SYMBOL)  # TradesHistory
    assert [t["order"] for t in mine] == [taker["id"]] and mine[0]["takerOrMaker"] == "taker"


def test_hammering_until_refused_raises_ccxts_rate_limit_errors(fast: ccxt.kraken) -> None:
    bid = fast.fetch_ticker(SYMBOL)["bid"]

    def add_and_cancel() -> None:  # 1 + 8 units at once; the Intermediate max is 125
        order = fast.create_order(SYMBOL, "limit", "buy", 0.01, bid - 3000)
        fast.cancel_order(order["id"], SYMBOL)

    def refused(error: Exception | None, text: str) -> bool:
        return isinstance(error, ccxt.DDoSProtection | ccxt.RateLimitExceeded) and text in str(
            error)

    assert refused(first_error(add_and_cancel, 40), "EOrder:Rate limit exceeded")
    assert refused(first_error(lambda: fast.fetch_my_trades(SYMBOL), 40),
                   "EAPI:Rate limit exceeded")

    def balance_until_locked() -> None:
        try:
            fast.fetch_balance()
        except ccxt.DDoSProtection as e:
            if "Temporary lockout" in str(e):
                raise

    assert refused(first_error(balance_until_locked, 20), "EGeneral:Temporary lockout")
    assert refused(first_error(fast.fetch_time, 40), "EGeneral:Too many requests")
