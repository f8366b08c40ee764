"""The dead-man switch on the server's own clock, over both transports (issue 13, item 4).

``cancel_all_orders_after`` fires with no request arriving (the market driver keeps the
exchange's time moving) and its cancellations reach the executions channel.  And the
acceptance check: a client process that places orders, arms the switch and is then killed
with SIGKILL leaves no resting order once the timeout has passed -- seen from the server's
side (REST OpenOrders and the exchange itself), over REST and over WebSocket.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
import textwrap

import pytest

from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer

from .conftest import Start
from .ws_support import WsClient, flat, open_orders, rest, token

CLIENT_KEY = "killed-client-key"
CLIENT_SECRET = base64.b64encode(b"the secret of a client that will be killed").decode()
BUY = {"order_type": "limit", "side": "buy", "order_qty": 0.01, "limit_price": 50_000.0,
       "symbol": "BTC/USD"}


@pytest.mark.parametrize("transport", ["ws", "rest"])
async def test_the_dead_man_fires_by_itself_and_is_published(start_server: Start,
                                                             transport: str) -> None:
    server = await start_server(exchange_options={"prices": flat()})
    watcher = await WsClient.open(server, await token(server))
    await watcher.call("subscribe", channel="executions", snap_orders=False)
    trader = await WsClient.open(server, await token(server))
    ids = [(await trader.call("add_order", **{**BUY, "limit_price": 50_000.0 - i}))
           ["result"]["order_id"] for i in range(3)]
    if transport == "ws":
        armed = await trader.call("cancel_all_orders_after", timeout=1)
        assert armed["success"] is True
    else:
        reply = await rest(server, "CancelAllOrdersAfter", timeout=1)
        assert reply["error"] == [] and reply["result"]["triggerTime"] != "0"
    armed_at = server.clock.now()
    requests_before = len(server.served)
    cancels = [await watcher.next(lambda m: m.get("type") == "update"
                                  and m["data"][0]["exec_type"] == "canceled", timeout=4.0)
               for _ in ids]
    fired_at = server.clock.now()
    assert len(server.served) == requests_before  # nothing arrived: it fired by itself
    assert 0.9 <= fired_at - armed_at <= 2.5
    assert {c["data"][0]["order_id"] for c in cancels} == set(ids)
    assert {c["data"][0]["reason"] for c in cancels} == {"Dead man switch"}
    assert server.exchange.open_orders() == {}
    assert server.exchange.engine.dead_man_at is None  # disarmed once fired
    for c in (watcher, trader):
        await c.close()


CLIENT = textwrap.dedent('''
    """Places three orders, arms the dead-man switch for 2 s, says 'ready', then waits for
    ever (until killed)."""
    import asyncio, base64, hashlib, hmac, json, sys, time, urllib.parse
    import httpx
    from websockets.asyncio.client import connect

    base, transport, key, secret = sys.argv[1:5]
    nonce = int(time.time() * 1000)

    async def private(client, endpoint, **params):
        global nonce
        nonce += 1
        body = urllib.parse.urlencode({"nonce": nonce, **params})
        path = "/0/private/" + endpoint
        digest = hashlib.sha256((str(nonce) + body).encode()).digest()
        mac = hmac.new(base64.b64decode(secret), path.encode() + digest, hashlib.sha512)
        headers = {"API-Key": key, "API-Sign": base64.b64encode(mac.digest()).decode(),
                   "Content-Type": "application/x-www-form-urlencoded"}
        reply = (await client.post(base + path, content=body, headers=headers)).json()
        assert reply["error"] == [], reply
        return reply["result"]

    async def main():
        async with httpx.AsyncClient() as client:
            if transport == "rest":
                for i in range(3):
                    await private(client, "AddOrder", pair="XBTUSD", type="buy",
                                  ordertype="limit", volume="0.01", price=str(50000 - i))
                await private(client, "CancelAllOrdersAfter", timeout=2)
            else:
                token = (await private(client, "GetWebSocketsToken"))["token"]
                ws = await connect(base.replace("http", "ws", 1) + "/v2")
                await ws.recv()  # status
                for i in range(3):
                    await ws.send(json.dumps({"method": "add_order", "req_id": i, "params": {
                        "order_type": "limit", "side": "buy", "order_qty": 0.01,
                        "limit_price": 50000 - i, "symbol": "BTC/USD", "token": token}}))
                    assert json.loads(await ws.recv())["success"] is True
                await ws.send(json.dumps({"method": "cancel_all_orders_after", "req_id": 9,
                                          "params": {"timeout": 2, "token": token}}))
                assert json.loads(await ws.recv())["success"] is True
        print("ready", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
''')


async def _wait_empty(server: ExchangeServer, limit: float) -> float:
    """Watch the exchange until no order rests; the clock time it saw that."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while loop.time() < end:
        if not server.exchange.open_orders():
            return server.clock.now()
        await asyncio.sleep(0.05)
    raise AssertionError(f"orders still resting after {limit} s")


@pytest.mark.parametrize("transport", ["ws", "rest"])
async def test_a_sigkilled_client_leaves_no_resting_order_after_the_timeout(
    start_server: Start, transport: str, tmp_path: os.PathLike[str],
) -> None:
    # the client process has its own key on the account (its own nonces); the test checks
    # with the demo key
    server = await start_server(keys={DEMO_KEY: DEMO_SECRET, CLIENT_KEY: CLIENT_SECRET},
                                exchange_options={"prices": flat()})
    script = os.path.join(tmp_path, "client.py")
    with open(script, "w") as f:
        f.write(CLIENT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, script, server.url, transport, CLIENT_KEY, CLIENT_SECRET,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"ready", (line, await proc.stderr.read() if proc.stderr
                                          else b"")
        armed_at = server.exchange.engine.dead_man_at
        assert armed_at is not None
        assert len(await open_orders(server)) == 3  # the client's orders rest
        proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
        await asyncio.sleep(0.3)
        if server.clock.now() < armed_at - 0.2:  # killed, not cancelled: the switch does it
            assert len(await open_orders(server)) == 3
        emptied_at = await _wait_empty(server, 6.0)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert emptied_at >= armed_at  # not before the timeout ...
    assert emptied_at <= armed_at + 1.5  # ... and promptly after it
    assert await open_orders(server) == {}  # REST OpenOrders agrees
    assert server.exchange.stats.requests["CancelAll"] == 0  # nobody asked: the timer fired
