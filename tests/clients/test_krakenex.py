"""krakenex 2.x against ``orderpace simulate-exchange``: every endpoint a trading program
uses, then hammering until refused -- the refusals arrive in krakenex's error list."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import krakenex
import pytest

from .conftest import Sim


@pytest.fixture(scope="module")
def api(sim: Sim) -> Iterator[krakenex.API]:
    client = krakenex.API(sim.key, sim.secret)
    client.uri = sim.url
    yield client
    client.close()


def private(api: krakenex.API, method: str, data: dict[str, Any] | None = None) -> Any:
    """One private call; krakenex's nonce is the wall clock in ms, so never two in one ms."""
    time.sleep(0.002)
    return api.query_private(method, data or {})


def result(reply: dict[str, Any]) -> Any:
    assert reply["error"] == [], reply
    return reply["result"]


def test_public_endpoints(api: krakenex.API) -> None:
    assert abs(result(api.query_public("Time"))["unixtime"] - time.time()) < 5
    assert result(api.query_public("SystemStatus"))["status"] == "online"
    pairs = result(api.query_public("AssetPairs"))
    assert pairs["XXBTZUSD"]["wsname"] == "XBT/USD" and pairs["XXBTZUSD"]["tick_size"] == "0.1"
    assert result(api.query_public("Assets", {"asset": "XBT"}))["XXBT"]["altname"] == "XBT"
    ticker = result(api.query_public("Ticker", {"pair": "XBTUSD"}))["XXBTZUSD"]
    assert Decimal(ticker["b"][0]) < Decimal(ticker["a"][0])
    depth = result(api.query_public("Depth", {"pair": "XBTUSD", "count": 3}))["XXBTZUSD"]
    assert len(depth["bids"]) == len(depth["asks"]) == 3
    assert "last" in result(api.query_public("Trades", {"pair": "XBTUSD"}))
    assert api.query_public("NoSuchThing") == {"error": ["EGeneral:Unknown method"]}


def _bid(api: krakenex.API) -> Decimal:
    return Decimal(result(api.query_public("Ticker", {"pair": "XBTUSD"}))["XXBTZUSD"]["b"][0])


def test_orders_queries_and_balances(api: krakenex.API) -> None:
    assert Decimal(result(private(api, "Balance"))["ZUSD"]) > 0
    assert set(result(private(api, "BalanceEx"))["ZUSD"]) == {"balance", "hold_trade"}
    bid = _bid(api)
    order = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01"}
    # post-only at the quoted bid rests; validate places nothing
    post = result(private(api, "AddOrder", {**order, "price": str(bid), "oflags": "post",
                                           "cl_ord_id": "kx-post"}))["txid"][0]
    checked = result(private(api, "AddOrder", {**order, "price": str(bid - 100),
                                               "validate": "true"}))
    assert "txid" not in checked and checked["descr"]["order"].startswith("buy 0.01000000")
    low = result(private(api, "AddOrder", {**order, "price": str(bid - 1000),
                                           "userref": "42"}))["txid"][0]
    assert result(private(api, "AmendOrder", {"cl_ord_id": "kx-post",
                                              "limit_price": str(bid - 1)}))["amend_id"]
    edited = result(private(api, "EditOrder", {"txid": low, "pair": "XBTUSD",
                                               "price": str(bid - 900), "userref": "43"}))
    assert edited["status"] == "ok" and edited["originaltxid"] == low
    opened = result(private(api, "OpenOrders"))["open"]
    assert set(opened) == {post, edited["txid"]}
    assert opened[edited["txid"]]["userref"] == 43 and opened[post]["descr"]["price"] == str(
        bid - 1)
    assert result(private(api, "CancelOrder", {"txid": edited["txid"]}))["count"] == 1
    assert result(private(api, "CancelOrder", {"cl_ord_id": "kx-post"}))["count"] == 1
    batch = {"pair": "XBTUSD"}
    for i in range(3):  # PHP-style nested form fields, as krakenex users write them
        for k, v in {"type": "buy", "ordertype": "limit", "volume": "0.01",
                     "price": str(bid - 2000 - i)}.items():
            batch[f"orders[{i}][{k}]"] = v
    placed = [o["txid"] for o in result(private(api, "AddOrderBatch", batch))["orders"]]
    assert len(placed) == 3
    assert result(private(api, "CancelOrderBatch", {"orders[0]": placed[0],
                                                    "orders[1]": placed[1]}))["count"] == 2
    after = result(private(api, "CancelAllOrdersAfter", {"timeout": 60}))
    assert after["triggerTime"] != "0"
    assert result(private(api, "CancelAllOrdersAfter", {"timeout": 0}))["triggerTime"] == "0"
    assert result(private(api, "CancelAll"))["count"] == 1
    closed = result(private(api, "ClosedOrders"))
    assert closed["count"] >= 5 and post in closed["closed"]
    info = result(private(api, "QueryOrders", {"txid": f"{post},{low}"}))
    assert info[post]["status"] == "canceled" and info[low]["reason"] == "Order replaced"
    taker = result(private(api, "AddOrder", {**order, "ordertype": "market"}))["txid"][0]
    trades = result(private(api, "TradesHistory"))["trades"]
    assert [t["ordertxid"] for t in trades.values()] == [taker]


def test_hammering_until_refused_shows_in_the_error_list(api: krakenex.API) -> None:
    errors: list[str] = []
    for _ in range(40):  # TradesHistory costs 2: the Intermediate counter (20) fills fast
        errors = private(api, "TradesHistory")["error"]
        if errors:
            break
    assert errors == ["EAPI:Rate limit exceeded"]
    for _ in range(20):  # calls that keep coming earn a lockout
        errors = private(api, "Balance")["error"]
        if errors != ["EAPI:Rate limit exceeded"]:
            break
    assert errors == ["EGeneral:Temporary lockout"]
    public: list[str] = []
    for _ in range(40):  # about one public call a second per IP, then refused
        public = api.query_public("Time")["error"]
        if public:
            break
    assert public == ["EGeneral:Too many requests"]
