"""The ``executions`` channel over the loopback server: snapshot, updates for every order
event of the account from any key, connection or REST, fills by the market, the
``ratecount`` against the rules, heartbeats, and one connection's order under jitter."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.exchange.server import ExchangeServer

from .conftest import Start
from .ws_support import WsClient, flat, open_orders, rest, token

BUY = {"order_type": "limit", "side": "buy", "order_qty": 0.01, "limit_price": 50_000.0,
       "symbol": "BTC/USD"}


def kinds(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["exec_type"], i["order_id"]) for i in items]


async def rest_add(server: ExchangeServer, **extra: Any) -> str:
    reply = await rest(server, "AddOrder", pair="XBTUSD", type="buy", ordertype="limit",
                       volume="0.01", price="49000", **extra)
    assert reply["error"] == [], reply
    txid: str = reply["result"]["txid"][0]
    return txid


async def test_snapshot_then_updates_from_rest_and_every_connection(start_server: Start) -> None:
    server = await start_server(exchange_options={"prices": flat()})
    early = await rest_add(server, userref=5)
    watcher = await WsClient.open(server, await token(server))
    trader = await WsClient.open(server, await token(server))
    await watcher.call("subscribe", channel="executions")
    snapshot = await watcher.next(lambda m: m.get("type") == "snapshot")
    assert snapshot["sequence"] == 1
    assert [(i["order_id"], i["exec_type"], i["order_userref"], i["symbol"])
            for i in snapshot["data"]] == [(early, "new", 5, "BTC/USD")]
    placed = (await trader.call("add_order", **BUY, cl_ord_id="t-1"))["result"]["order_id"]
    await trader.call("amend_order", order_id=placed, limit_price=50_010.0)
    other = await rest_add(server)
    await rest(server, "CancelOrder", txid=early)
    await trader.call("cancel_order", order_id=[placed])
    expected = [("pending_new", placed), ("new", placed), ("amended", placed),
                ("pending_new", other), ("new", other), ("canceled", early),
                ("canceled", placed)]
    while len(watcher.updates()) < 1 + len(expected):
        await watcher.next(lambda m: m.get("type") == "update")
    items = watcher.updates()[1:]  # after the snapshot's one order
    assert kinds(items) == expected
    seqs = [m["sequence"] for m in watcher.messages if m.get("channel") == "executions"]
    assert seqs == list(range(1, len(seqs) + 1))
    by_kind = {(i["exec_type"], i["order_id"]): i for i in items}
    assert by_kind[("pending_new", placed)]["cl_ord_id"] == "t-1"
    assert by_kind[("amended", placed)]["limit_price"] == 50_010.0
    assert by_kind[("canceled", early)]["reason"] == "User requested"
    assert all(i["symbol"] == "BTC/USD" and i["side"] == "buy" for i in items)
    assert "ratecount" not in items[0]
    # the trader's own connection was not subscribed: it saw replies only
    assert not [m for m in trader.messages if m.get("channel") == "executions"]
    for c in (watcher, trader):
        await c.close()


async def test_fills_by_the_market_arrive_with_no_request(start_server: Start) -> None:
    path = [(0.0, 60_000.0), (1.0, 59_000.0)]  # the price falls through 59500 at t=1 s
    server = await start_server(exchange_options={"prices": flat(XBT_USD=path)})
    client = await WsClient.open(server, await token(server))
    await client.call("subscribe", channel="executions", snap_trades=True)
    resting = (await client.call("add_order", **{**BUY, "limit_price": 59_500.0}))
    oid = resting["result"]["order_id"]
    taker = (await client.call("add_order", **{**BUY, "limit_price": 70_000.0}))
    tid = taker["result"]["order_id"]
    trade = await client.next(lambda m: m.get("type") == "update"
                              and m["data"][0]["exec_type"] == "trade"
                              and m["data"][0]["order_id"] == oid, timeout=5.0)
    item = trade["data"][0]
    assert (item["last_qty"], item["last_price"], item["liquidity_ind"]) == (0.01, 59_500.0, "m")
    assert item["order_status"] == "filled" and item["cum_qty"] == 0.01
    history = (await rest(server, "TradesHistory"))["result"]["trades"]
    assert item["exec_id"] in history and history[item["exec_id"]]["ordertxid"] == oid
    kinds_of_taker = [i["exec_type"] for i in client.updates() if i["order_id"] == tid]
    assert kinds_of_taker == ["pending_new", "new", "trade", "filled"]
    assert await open_orders(server) == {}
    await client.close()


async def test_order_status_false_sends_open_and_close_transitions_only(
    start_server: Start,
) -> None:
    server = await start_server(exchange_options={"prices": flat()})
    client = await WsClient.open(server, await token(server))
    await client.call("subscribe", channel="executions", order_status=False, snap_orders=False)
    oid = (await client.call("add_order", **BUY))["result"]["order_id"]
    await client.call("amend_order", order_id=oid, order_qty=0.02)
    await client.call("cancel_all")
    await client.drain(0.2)
    assert [i["exec_type"] for i in client.updates()] == ["new", "canceled"]
    await client.close()


async def test_ratecount_is_the_counter_the_rules_give(start_server: Start) -> None:
    # no decay release during the test (a one-hour step): the level is the sum of penalties
    server = await start_server(decay_step=3600.0, exchange_options={"prices": flat()})
    client = await WsClient.open(server, await token(server))
    ack = await client.call("subscribe", channel="executions", ratecounter=True)
    assert ack["result"]["maxratecount"] == 125  # intermediate
    a = (await client.call("add_order", **BUY))["result"]["order_id"]  # +1 -> 1
    b = await rest_add(server)  # REST, same account and pair: +1 -> 2
    await client.call("amend_order", order_id=a, limit_price=50_001.0)  # 1 + 3 (< 5 s) -> 6
    await client.call("add_order", **{**BUY, "symbol": "ETH/USD", "limit_price": 2_000.0})
    await rest(server, "CancelOrder", txid=b)  # cancel at < 5 s: +8 -> 14
    await client.call("cancel_order", order_id=[a])  # +8 (amended: young again) -> 22
    while len(client.updates()) < 9:
        await client.next(lambda m: m.get("type") == "update")
    seen = [(i["exec_type"], i["symbol"], i["ratecount"]) for i in client.updates()]
    assert seen == [
        ("pending_new", "BTC/USD", 1.0), ("new", "BTC/USD", 1.0),
        ("pending_new", "BTC/USD", 2.0), ("new", "BTC/USD", 2.0),
        ("amended", "BTC/USD", 6.0),
        ("pending_new", "ETH/USD", 1.0), ("new", "ETH/USD", 1.0),
        ("canceled", "BTC/USD", 14.0), ("canceled", "BTC/USD", 22.0),
    ]
    now = server.clock.now()
    assert server.exchange.trading_level("XBT/USD", now) == 22.0
    assert server.exchange.trading_level("ETH/USD", now) == 1.0
    await client.close()


async def test_heartbeats_about_once_a_second_when_subscribed(start_server: Start) -> None:
    server = await start_server(heartbeat=0.1)
    quiet = await WsClient.open(server, await token(server))
    busy = await WsClient.open(server, await token(server))
    await busy.call("subscribe", channel="executions", snap_orders=False)
    await asyncio.gather(quiet.drain(0.55), busy.drain(0.55))
    beats = [m for m in busy.messages if m.get("channel") == "heartbeat"]
    assert 3 <= len(beats) <= 7
    assert not [m for m in quiet.messages if m.get("channel") == "heartbeat"]
    for c in (quiet, busy):
        await c.close()


async def test_one_connection_keeps_its_order_under_jitter(start_server: Start) -> None:
    server = await start_server(jitter=0.05, seed=3, exchange_options={"prices": flat()})
    a = await WsClient.open(server, await token(server))
    b = await WsClient.open(server, await token(server))
    for i in range(15):  # interleaved, without waiting for replies
        await a.send("add_order", **BUY, cl_ord_id=f"a{i}")
        await b.send("add_order", **BUY, cl_ord_id=f"b{i}")
    for c in (a, b):
        for rid in range(1, 16):
            assert (await c.reply(rid, timeout=10.0))["success"] is True
    served = [s for s in server.served if s.endpoint == "add_order"]
    order = {c: [s for s in served if s.connection == c] for c in {s.connection for s in served}}
    for records in order.values():
        times = [s.time for s in records]
        assert times == sorted(times)  # one connection: arrivals never overtake
        assert all(s.time is not None and s.time >= s.received for s in records)
    # across the two connections, arrival order is not read order: some overtook
    arrived = [s.connection for s in sorted(served, key=lambda s: s.time or 0.0)]
    read = [s.connection for s in sorted(served, key=lambda s: s.received)]
    assert arrived != read
    # and each connection's orders were placed in the order it sent them
    txids = list(server.exchange.engine.open)
    for prefix in ("a", "b"):
        cids = [server.exchange.engine.open[t].cl_ord_id for t in txids]
        mine = [c for c in cids if c is not None and c.startswith(prefix)]
        assert mine == [f"{prefix}{i}" for i in range(15)]
    for c in (a, b):
        await c.close()
