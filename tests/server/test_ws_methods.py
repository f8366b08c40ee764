"""WebSocket v2 at ``/v2`` of the loopback server (uvicorn, port 0, the ``websockets``
client): every method's success and error shapes, tokens, and the shared counters."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, ExchangeServer

from .conftest import Start
from .ws_support import WsClient, flat, open_orders, rest, token

RFC3339_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
INVALID_SESSION = "ESession:Invalid session"
BUY = {"order_type": "limit", "side": "buy", "order_qty": 0.01, "limit_price": 50_000.0,
       "symbol": "BTC/USD"}


async def started(start: Start, **options: Any) -> tuple[ExchangeServer, WsClient]:
    exchange_options = {"prices": flat(), **options.pop("exchange_options", {})}
    server = await start(exchange_options=exchange_options, **options)
    client = await WsClient.open(server, await token(server))
    return server, client


def ok(reply: dict[str, Any]) -> Any:
    assert reply["success"] is True, reply
    assert RFC3339_MICRO.match(reply["time_in"]) and RFC3339_MICRO.match(reply["time_out"])
    assert reply["time_in"] <= reply["time_out"]
    return reply["result"]


def refused(reply: dict[str, Any]) -> str:
    assert reply["success"] is False and "result" not in reply, reply
    assert RFC3339_MICRO.match(reply["time_in"])
    error: str = reply["error"]
    return error


async def test_status_on_connect_and_ping_without_a_token(start_server: Start) -> None:
    server = await start_server()
    client = await WsClient.open(server)  # asserts the status message came first
    status = client.messages[0]
    assert status["channel"] == "status" and status["type"] == "update"
    assert status["data"][0]["api_version"] == "v2"
    assert isinstance(status["data"][0]["connection_id"], int)
    pong = await client.call("ping")
    assert pong["method"] == "pong" and pong["req_id"] == 1 and "success" not in pong
    assert RFC3339_MICRO.match(pong["time_in"]) and RFC3339_MICRO.match(pong["time_out"])
    await client.close()


async def test_add_order(start_server: Start) -> None:
    server, client = await started(start_server)
    placed = ok(await client.call("add_order", **BUY, cl_ord_id="ws-1"))
    assert placed == {"order_id": placed["order_id"], "cl_ord_id": "ws-1"}
    by_ref = ok(await client.call("add_order", **BUY, order_userref=42))
    assert by_ref["order_userref"] == 42
    assert ok(await client.call("add_order", **BUY, validate=True)) == {}  # nothing placed
    orders = await open_orders(server)
    assert set(orders) == {placed["order_id"], by_ref["order_id"]}
    assert orders[placed["order_id"]]["cl_ord_id"] == "ws-1"
    assert orders[by_ref["order_id"]]["userref"] == 42
    assert orders[placed["order_id"]]["descr"]["order"] == "buy 0.01000000 XBTUSD @ limit 50000.0"
    await client.close()


async def test_add_order_refusals_are_krakens(start_server: Start) -> None:
    server, client = await started(start_server)
    await client.call("add_order", **BUY, cl_ord_id="dup")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"price": 1.0}, "Unsupported field: 'price' for the given msg type: add order"),
        ({"order_qty": "lots"}, "EGeneral:Invalid arguments:order_qty"),
        ({"symbol": "DOGE/EUR"}, ke.UNKNOWN_ASSET_PAIR),
        ({"limit_price": 70_000.0, "post_only": True}, ke.POST_ONLY_ORDER),
        ({"limit_price": 50_000.05}, ke.TICK_SIZE),
        ({"order_qty": 0.00001}, ke.ORDER_MINIMUM),
        ({"cl_ord_id": "dup"}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"time_in_force": "fok"}, "EGeneral:Invalid arguments:time_in_force"),
        ({"margin": True}, "EGeneral:Invalid arguments:margin"),
        ({"deadline": "2001-01-01T00:00:00Z"}, ke.DEADLINE_ELAPSED),
    ]
    for change, error in cases:
        reply = await client.call("add_order", **{**BUY, **change})
        assert refused(reply) == error, change
        assert reply["method"] == "add_order" and isinstance(reply["req_id"], int)
    assert len(await open_orders(server)) == 1
    await client.close()


async def test_batch_add_all_or_nothing(start_server: Start) -> None:
    server, client = await started(start_server)
    orders = [{k: v for k, v in BUY.items() if k != "symbol"} | {"cl_ord_id": f"b{i}",
              "limit_price": 50_000.0 - i} for i in range(3)]
    placed = ok(await client.call("batch_add", symbol="BTC/USD", orders=orders))
    assert [p["cl_ord_id"] for p in placed] == ["b0", "b1", "b2"]
    assert set(await open_orders(server)) == {p["order_id"] for p in placed}
    bad = [*orders[:1], {**orders[1], "order_qty": -1}]
    assert refused(await client.call("batch_add", symbol="BTC/USD", orders=bad)) == (
        "EGeneral:Invalid arguments:order_qty")
    assert refused(await client.call("batch_add", symbol="BTC/USD", orders=orders[:1])) == (
        "EGeneral:Invalid arguments:orders")
    assert len(await open_orders(server)) == 3
    await client.close()


async def test_amend_and_edit(start_server: Start) -> None:
    server, client = await started(start_server)
    first = ok(await client.call("add_order", **BUY, cl_ord_id="am"))["order_id"]
    amended = ok(await client.call("amend_order", order_id=first, limit_price=50_100.0))
    assert amended["order_id"] == first and amended["amend_id"].startswith("T")
    by_cid = ok(await client.call("amend_order", cl_ord_id="am", order_qty=0.02))
    assert by_cid["order_id"] == first and by_cid["cl_ord_id"] == "am"
    order = (await open_orders(server))[first]
    assert (order["vol"], order["descr"]["price"]) == ("0.02000000", "50100.0")
    assert refused(await client.call("amend_order", order_id="ONOPE-NOPE-NOPE",
                                     limit_price=1.0)) == ke.UNKNOWN_ORDER
    assert refused(await client.call("amend_order", order_id=first, cl_ord_id="am",
                                     limit_price=1.0)) == "EGeneral:Invalid arguments:order_id"
    edited = ok(await client.call("edit_order", order_id=first, symbol="BTC/USD",
                                  limit_price=49_000.0))
    assert edited["original_order_id"] == first and edited["order_id"] != first
    assert set(await open_orders(server)) == {edited["order_id"]}
    assert refused(await client.call("edit_order", order_id=edited["order_id"],
                                     limit_price=1.0)) == "EGeneral:Invalid arguments:symbol"
    await client.close()


async def test_cancel_order_answers_once_per_order(start_server: Start) -> None:
    server, client = await started(start_server)
    ids = [ok(await client.call("add_order", **BUY, cl_ord_id=f"c{i}"))["order_id"]
           for i in range(3)]
    refs = [ok(await client.call("add_order", **BUY, order_userref=9))["order_id"]
            for _ in range(2)]
    rid = await client.send("cancel_order", order_id=[ids[0], "ONOPE-NOPE-NOPE"])
    first, second = await client.reply(rid), await client.reply(rid)
    assert ok(first) == {"order_id": ids[0], "cl_ord_id": "c0"}
    assert refused(second) == ke.UNKNOWN_ORDER
    assert ok(await client.call("cancel_order", cl_ord_id=["c1"])) == {
        "order_id": ids[1], "cl_ord_id": "c1"}
    rid = await client.send("cancel_order", order_userref=[9])
    both = {ok(await client.reply(rid))["order_id"], ok(await client.reply(rid))["order_id"]}
    assert both == set(refs)
    assert refused(await client.call("cancel_order", order_id=[ids[2]], cl_ord_id=["c2"])) == (
        "EGeneral:Invalid arguments:order_id")
    assert set(await open_orders(server)) == {ids[2]}
    await client.close()


async def test_batch_cancel_cancel_all_and_dead_man_shapes(start_server: Start) -> None:
    server, client = await started(start_server)
    ids = [ok(await client.call("add_order", **BUY, cl_ord_id=f"d{i}"))["order_id"]
           for i in range(4)]
    assert ok(await client.call("batch_cancel", orders=[ids[0]], cl_ord_id=["d1"])) == {
        "count": 2}
    assert refused(await client.call("batch_cancel", orders=[ids[2]])) == (
        "EGeneral:Invalid arguments:orders")  # v2: at least 2
    assert ok(await client.call("cancel_all")) == {"count": 2}
    armed = ok(await client.call("cancel_all_orders_after", timeout=60))
    assert set(armed) == {"currentTime", "triggerTime"} and armed["triggerTime"] != "0"
    assert ok(await client.call("cancel_all_orders_after", timeout=0))["triggerTime"] == "0"
    assert refused(await client.call("cancel_all_orders_after", timeout="60")) == (
        "EGeneral:Invalid arguments:timeout")
    assert server.exchange.engine.dead_man_at is None
    await client.close()


async def test_subscribe_and_unsubscribe_errors(start_server: Start) -> None:
    _server, client = await started(start_server)
    bad = await client.call("subscribe", channel="book", symbol=["BTC/USD"])
    assert refused(bad) == "EGeneral:Invalid arguments:channel"
    assert bad["channel"] == "book" and bad["status"] == "error"
    assert refused(await client.call("unsubscribe", channel="executions")) == (
        "Subscription Not Found")
    ok(await client.call("subscribe", channel="executions", snap_orders=False))
    assert refused(await client.call("subscribe", channel="executions")) == (
        "Already subscribed")
    assert ok(await client.call("unsubscribe", channel="executions")) == {
        "channel": "executions"}
    await client.call("add_order", **BUY)
    await client.drain(0.2)
    assert [m for m in client.messages
            if m.get("channel") == "executions" and "method" not in m] == []
    await client.close()


async def test_unknown_methods_and_unreadable_messages(start_server: Start) -> None:
    server, client = await started(start_server)
    assert refused(await client.call("frobnicate")) == ke.UNKNOWN_METHOD
    await client.ws.send("{not json")
    reply = await client.next(lambda m: m.get("success") is False and "method" not in m)
    assert reply["error"] == ke.INVALID_ARGUMENTS
    await client.ws.send('{"method": "ping", "req_id": "seven"}')
    reply = await client.next(lambda m: m.get("method") == "ping")
    assert reply["error"] == "EGeneral:Invalid arguments:req_id"
    assert server.stats.bad_requests == 2
    assert (await client.call("ping"))["method"] == "pong"  # the connection lives on
    await client.close()


async def test_tokens_are_checked_and_live_while_used(start_server: Start) -> None:
    server, client = await started(start_server, exchange_options={"ws_token_ttl": 0.5})
    stranger = await WsClient.open(server, "made-up-token")
    assert refused(await stranger.call("add_order", **BUY)) == INVALID_SESSION
    sub = await stranger.call("subscribe", channel="executions")
    assert refused(sub) == INVALID_SESSION and sub["status"] == "error"
    assert refused(await stranger.call("add_order", **BUY, with_token=False)) == (
        INVALID_SESSION)
    ok(await client.call("add_order", **BUY))  # first use within the ttl ...
    unused = await token(server)
    await asyncio.sleep(0.7)
    ok(await client.call("add_order", **BUY))  # ... keeps it alive on this connection
    late = await WsClient.open(server, unused)
    assert refused(await late.call("add_order", **BUY)) == INVALID_SESSION  # never used: gone
    assert len(await open_orders(server)) == 2
    for c in (client, stranger, late):
        await c.close()


async def test_ws_orders_share_the_trading_counter_but_not_the_api_counter(
    start_server: Start,
) -> None:
    server, client = await started(start_server, tier="starter", decay_step=3600.0)
    api_before = server.exchange.api_level(DEMO_KEY, server.clock.now())
    assert api_before == 1.0  # GetWebSocketsToken only
    for i in range(60):  # Starter: max 60 units, +1 per add
        ok(await client.call("add_order", **{**BUY, "limit_price": 50_000.0 - i}))
    assert refused(await client.call("add_order", **BUY)) == ke.ORDER_RATE_LIMIT
    reply = await rest(server, "AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                       volume="0.01", price="40000")
    assert reply["error"] == [ke.ORDER_RATE_LIMIT]  # REST meets the same counter
    assert server.exchange.trading_level("XBT/USD", server.clock.now()) == 60.0
    # no nonce, no API units for the 61 WebSocket order actions
    assert server.exchange.api_level(DEMO_KEY, server.clock.now()) <= api_before
    await client.close()


async def test_the_open_orders_cap_holds_over_ws(start_server: Start) -> None:
    server, client = await started(start_server, decay_step=3600.0)  # intermediate: cap 80
    rid = 0
    for batch in range(16):  # 16 batches of 5 = 80 resting orders, 3 units each
        orders = [{"order_type": "limit", "side": "buy", "order_qty": 0.01,
                   "limit_price": 40_000.0 - batch * 10 - j} for j in range(5)]
        rid = await client.send("batch_add", symbol="BTC/USD", orders=orders)
    replies = [await client.reply(r) for r in range(rid - 15, rid + 1)]
    assert all(r["success"] for r in replies)
    assert refused(await client.call("add_order", **BUY)) == ke.ORDERS_LIMIT
    assert len(await open_orders(server)) == 80
    await client.close()
