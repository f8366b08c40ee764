"""Faults on ``/v2`` (for the WebSocket venue's tests): the server drops the connection
mid-batch (after the exchange processed the n-th message, or before), a reply never comes,
the token is refused -- and the same plan and ``--fault`` syntax as REST."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from engine import kraken_errors as ke
from engine.exchange.server import WS_ANY, Fault, FaultKind, FaultPlan, parse_fault

from .conftest import Start
from .ws_support import WsClient, flat, open_orders, rest, token

BUY = {"order_type": "limit", "side": "buy", "order_qty": 0.01, "symbol": "BTC/USD"}


async def batch_of_four(client: WsClient) -> list[int]:
    """Four adds sent back to back, without waiting (cl_ord_id o1..o4)."""
    return [await client.send("add_order", **BUY, limit_price=50_000.0 - i, cl_ord_id=f"o{i}")
            for i in range(1, 5)]


async def replies_until_closed(client: WsClient) -> list[dict[str, object]]:
    with pytest.raises(ConnectionClosed):
        await client.next(lambda _m: False, timeout=5.0)  # reads until the server drops it
    return [m for m in client.messages if m.get("method") == "add_order"]


@pytest.mark.parametrize(("process", "placed"), [(True, {"o1", "o2", "o3"}),
                                                 (False, {"o1", "o2"})])
async def test_the_server_drops_the_connection_mid_batch(start_server: Start, process: bool,
                                                         placed: set[str]) -> None:
    faults = FaultPlan([Fault(FaultKind.DROP_REPLY, WS_ANY, nth=3, process=process)])
    server = await start_server(faults=faults, exchange_options={"prices": flat()})
    client = await WsClient.open(server, await token(server))
    await batch_of_four(client)
    replies = await replies_until_closed(client)
    assert [r["result"]["cl_ord_id"] for r in replies] == ["o1", "o2"]  # type: ignore[index]
    # the 3rd reached the exchange (or not); the 4th, behind the drop, never did
    handled = [s.time is not None for s in server.served if s.endpoint == "add_order"]
    assert handled == [True, True, process]
    cids = {o["cl_ord_id"] for o in (await open_orders(server)).values()}
    assert cids == placed  # the 3rd was processed (or not); nothing after the drop arrived
    assert faults.fired[FaultKind.DROP_REPLY] == 1
    # the account is intact: a new connection with the same token carries on
    again = await WsClient.open(server, client.token)
    assert (await again.call("add_order", **BUY, limit_price=40_000.0))["success"] is True
    await again.close()


async def test_a_reply_that_never_comes(start_server: Start) -> None:
    faults = FaultPlan([Fault(FaultKind.HANG, "add_order", nth=2)])
    server = await start_server(faults=faults, exchange_options={"prices": flat()})
    client = await WsClient.open(server, await token(server))
    first, second, third, _fourth = await batch_of_four(client)
    assert (await client.reply(first))["success"] is True
    assert (await client.reply(third))["success"] is True
    with pytest.raises(TimeoutError):
        await client.reply(second, timeout=0.5)
    assert (await client.call("ping"))["method"] == "pong"  # the connection lives
    cids = {o["cl_ord_id"] for o in (await open_orders(server)).values()}
    assert cids == {"o1", "o2", "o3", "o4"}  # the unanswered one was placed
    await client.close()


async def test_the_token_is_refused(start_server: Start) -> None:
    faults = FaultPlan([Fault(FaultKind.REFUSE_TOKEN, "subscribe"),
                        Fault(FaultKind.REFUSE_TOKEN, "GetWebSocketsToken", nth=2)])
    server = await start_server(faults=faults, exchange_options={"prices": flat()})
    client = await WsClient.open(server, await token(server))  # the 1st token is issued
    refused = await client.call("subscribe", channel="executions")
    assert refused["success"] is False and refused["error"] == "ESession:Invalid session"
    assert refused["channel"] == "executions" and refused["status"] == "error"
    assert not server.app.ws.dispatcher.feed.subscribed(1)
    assert (await client.call("subscribe", channel="executions"))["success"] is True
    second = await rest(server, "GetWebSocketsToken")
    assert second == {"error": [ke.PERMISSION_DENIED]}
    assert server.exchange.ws_tokens.issued == 1
    await client.close()


async def test_unavailable_and_malformed_replies(start_server: Start) -> None:
    faults = FaultPlan([Fault(FaultKind.UNAVAILABLE, "cancel_all"),
                        Fault(FaultKind.MALFORMED_JSON, "add_order")])
    server = await start_server(faults=faults, exchange_options={"prices": flat()})
    client = await WsClient.open(server, await token(server))
    await client.ws.send('{"method":"add_order","req_id":1,"params":{"order_type":"limit",'
                         '"side":"buy","order_qty":0.01,"limit_price":50000,'
                         f'"symbol":"BTC/USD","token":"{client.token}"}}}}')
    text = await asyncio.wait_for(client.ws.recv(), 5)
    assert isinstance(text, str) and text.startswith('{"method":"add_order"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert len(await open_orders(server)) == 1  # processed, then the reply was mangled
    gone = await client.call("cancel_all")
    assert gone["error"] == ke.UNAVAILABLE and gone["success"] is False
    assert len(await open_orders(server)) == 1  # not processed
    await client.close()


def test_fault_specs_name_ws_methods_and_when() -> None:
    assert parse_fault("drop-reply:/v2:3") == Fault(FaultKind.DROP_REPLY, "/v2", 3)
    assert parse_fault("drop-reply:/V2:3:1:before") == Fault(FaultKind.DROP_REPLY, "/v2", 3,
                                                              1, False)
    assert parse_fault("hang:add_order:2:1:after") == Fault(FaultKind.HANG, "add_order", 2,
                                                             1, True)
    assert parse_fault("refuse-token:GetWebSocketsToken") == Fault(
        FaultKind.REFUSE_TOKEN, "GetWebSocketsToken")
    assert parse_fault("refuse-token:Subscribe").endpoint == "subscribe"
    for bad, why in (("hang:add_order:2:1:later", "WHEN must be"),
                     ("hang:nope", "unknown endpoint 'nope'"),
                     ("drop-reply:/v2:1:1:after:x", "expected KIND")):
        with pytest.raises(ValueError, match=why):
            parse_fault(bad)
    ws_only = Fault(FaultKind.HANG, WS_ANY)
    assert ws_only.matches("ping", ws=True) and not ws_only.matches("AddOrder")
    everything = Fault(FaultKind.HANG)
    assert everything.matches("ping", ws=True) and everything.matches("AddOrder")
    assert Fault(FaultKind.REFUSE_TOKEN).processes is False
