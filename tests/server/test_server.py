"""The simulated exchange over real HTTP on 127.0.0.1: routes, auth, bodies, keep-alive,
arrival jitter and nonce order, faults, shutdown."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from engine import kraken_errors as ke
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer, FaultKind, FaultPlan
from engine.venues.base import TransportError
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.rest import KrakenRestVenue

from .conftest import Start
from .support import RawConnection, signed

FAST_PUBLIC = PublicThrottle(1000.0, burst=1000)
ADD = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.001",
       "price": "50000.0"}


def venue_for(server: ExchangeServer, **kw: Any) -> KrakenRestVenue:
    kw.setdefault("public_throttle", FAST_PUBLIC)
    return KrakenRestVenue(Credentials(DEMO_KEY, DEMO_SECRET), base_url=server.url, **kw)


# -- routes and bodies ---------------------------------------------------------------------


async def test_public_time_by_get_and_post(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    status, headers, reply = await conn.request("GET", "/0/public/Time")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert reply["error"] == [] and abs(reply["result"]["unixtime"] - time.time()) < 2
    status, _, reply = await conn.request("POST", "/0/public/AssetPairs", b"pair=XBTUSD",
                                          {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and list(reply["result"]) == ["XXBTZUSD"]
    status, _, reply = await conn.request("GET", "/0/public/Ticker?pair=XBTUSD,ETHUSD")
    assert set(reply["result"]) == {"XXBTZUSD", "XETHZUSD"}
    await conn.close()
    assert server.stats.connections == 1  # keep-alive: one connection for all three


async def test_unknown_paths_and_methods(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    status, _, reply = await conn.request("GET", "/0/public/NoSuchThing")
    assert status == 200 and reply == {"error": [ke.UNKNOWN_METHOD]}
    status, _, reply = await conn.request("GET", "/elsewhere")
    assert status == 404 and reply == {"error": [ke.UNKNOWN_METHOD]}
    status, _, reply = await conn.request("GET", "/0/private/Balance")
    assert status == 200 and reply == {"error": [ke.INVALID_ARGUMENTS]}
    await conn.close()


async def test_malformed_request_gets_400_and_the_connection_closes(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    await conn.send(b"NONSENSE\r\n\r\n")
    status, headers, _ = await conn.response()
    assert status == 400 and headers["connection"] == "close"
    await asyncio.wait_for(conn.reader.read(), 5)  # the body, then the server closes
    assert conn.reader.at_eof()
    assert server.stats.bad_requests == 1


async def test_connection_close_is_honoured(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    status, headers, _ = await conn.request("GET", "/0/public/Time",
                                            headers={"Connection": "close"})
    assert status == 200 and headers["connection"] == "close"
    assert await conn.reader.read() == b""


async def test_form_json_and_bracketed_bodies(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    path, body, headers = signed("AddOrder", {**ADD, "cl_ord_id": "form-1"}, 1)
    _, _, reply = await conn.request("POST", path, body, headers)
    assert reply["error"] == [] and reply["result"]["txid"]
    orders = [{**{k: v for k, v in ADD.items() if k != "pair"}, "cl_ord_id": f"json-{i}"}
              for i in range(2)]
    path, body, headers = signed("AddOrderBatch", {"pair": "XBTUSD", "orders": orders}, 2)
    assert headers["Content-Type"] == "application/json"
    _, _, reply = await conn.request("POST", path, body, headers)
    assert reply["error"] == [] and len(reply["result"]["orders"]) == 2
    # the PHP-style form encoding of a batch
    fields = "&".join(f"orders[{i}][{k}]={v}" for i, o in enumerate(orders)
                      for k, v in {**o, "cl_ord_id": f"br-{i}"}.items())
    raw = f"nonce=3&pair=XBTUSD&{fields}".encode()
    from engine.venues.kraken_rest.signing import sign

    headers = {"API-Key": DEMO_KEY, "API-Sign": sign(DEMO_SECRET, "/0/private/AddOrderBatch",
                                                     3, raw),
               "Content-Type": "application/x-www-form-urlencoded"}
    _, _, reply = await conn.request("POST", "/0/private/AddOrderBatch", raw, headers)
    assert reply["error"] == [] and len(reply["result"]["orders"]) == 2
    cids = {o["cl_ord_id"] for o in server.exchange.open_orders().values()}
    assert cids == {"form-1", "json-0", "json-1", "br-0", "br-1"}
    await conn.close()


# -- authentication ------------------------------------------------------------------------


async def test_unknown_or_missing_key(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    path, body, headers = signed("Balance", {}, 1, key="someone-else")
    status, _, reply = await conn.request("POST", path, body, headers)
    assert status == 200 and reply == {"error": [ke.INVALID_KEY]}
    del headers["API-Key"]
    _, _, reply = await conn.request("POST", path, body, headers)
    assert reply == {"error": [ke.INVALID_KEY]}
    assert server.stats.auth_errors[ke.INVALID_KEY] == 2
    assert server.exchange.stats.requests["Balance"] == 0  # never reached the exchange
    await conn.close()


async def test_bad_signature(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    other_secret = Credentials("k" * 8, "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1rZXlzLW93bg==").secret
    path, body, headers = signed("Balance", {}, 1, secret=other_secret)
    status, _, reply = await conn.request("POST", path, body, headers)
    assert status == 200 and reply == {"error": [ke.INVALID_SIGNATURE]}
    path, body, headers = signed("Balance", {}, 2)
    _, _, reply = await conn.request("POST", path, body + b"&extra=1", {
        **headers, "Content-Length": str(len(body) + 8)})  # body changed after signing
    assert reply == {"error": [ke.INVALID_SIGNATURE]}
    _, _, reply = await conn.request("POST", "/0/private/OpenOrders", body, headers)
    assert reply == {"error": [ke.INVALID_SIGNATURE]}  # signed for another path
    headers.pop("API-Sign")
    _, _, reply = await conn.request("POST", path, body, headers)
    assert reply == {"error": [ke.INVALID_SIGNATURE]}
    _, _, reply = await conn.request("POST", path, body, signed("Balance", {}, 2)[2])
    assert reply["error"] == []  # the genuine request still works
    await conn.close()


async def test_missing_or_reused_nonce(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    _, _, reply = await conn.request("POST", "/0/private/Balance", b"", {"API-Key": DEMO_KEY,
                                                                        "API-Sign": "x"})
    assert reply == {"error": [ke.INVALID_NONCE]}
    path, body, headers = signed("Balance", {}, 5)
    _, _, reply = await conn.request("POST", path, body, headers)
    assert reply["error"] == []
    _, _, reply = await conn.request("POST", path, body, headers)  # replayed
    assert reply == {"error": [ke.INVALID_NONCE]}
    await conn.close()


# -- arrival jitter and nonce order --------------------------------------------------------


def _in_order_per_connection(served: list[Any]) -> bool:
    by_conn: dict[int, list[Any]] = {}
    for s in served:
        by_conn.setdefault(s.connection, []).append(s)
    for reqs in by_conn.values():
        reqs.sort(key=lambda s: s.received)
        times = [s.time for s in reqs]
        if times != sorted(times):
            return False
    return True


async def test_concurrent_requests_over_a_pool_can_meet_invalid_nonce(
    start_server: Start,
) -> None:
    # 60 concurrent private requests from one client, nonces written in order, spread over
    # its connection pool; each connection's arrivals are jittered independently by up to
    # 100 ms, so some requests overtake others and the strict nonce check refuses them --
    # as Kraken does to a client whose pool reorders on the internet (issue 11).
    server = await start_server(jitter=0.1, seed=7)
    # the client believes its key has a (huge) nonce window, so it writes all 60 at once;
    # the server's key has none (orderpace's own rule, one on the wire, never meets this)
    async with venue_for(server, nonce_window=10**9, max_per_key=60) as venue:
        replies = await asyncio.gather(*(
            venue.request("AddOrder", {**ADD, "validate": True}) for _ in range(60)
        ))
    refused = [r for r in replies if r["error"] == [ke.INVALID_NONCE]]
    assert refused and all(r["error"] in ([], [ke.INVALID_NONCE]) for r in replies)
    private = [s for s in server.served if s.endpoint == "AddOrder"]
    assert len(private) == 60
    assert len({s.connection for s in private}) > 1  # the requests really were concurrent
    assert _in_order_per_connection(private)  # one connection never reorders
    for s in private:
        # within the jitter of its read time (plus room for a busy event loop)
        assert s.time is not None and s.received <= s.time <= s.received + 0.1 + 0.4
    handled = sorted(private, key=lambda s: s.time or 0.0)
    assert [s.received for s in handled] != sorted(s.received for s in handled)  # overtaking


async def test_a_nonce_window_absorbs_the_reordering(start_server: Start) -> None:
    server = await start_server(jitter=0.1, seed=7,
                                exchange_options={"nonce_window": 10_000})  # 10 s of ms nonces
    async with venue_for(server, nonce_window=10_000, max_per_key=60) as venue:
        replies = await asyncio.gather(*(
            venue.request("AddOrder", {**ADD, "validate": True}) for _ in range(60)
        ))
    assert all(r["error"] == [] for r in replies)


async def test_one_connection_never_reorders(start_server: Start) -> None:
    server = await start_server(jitter=0.05, seed=3)
    conn = await RawConnection.open(server.port)
    for nonce in range(1, 21):
        path, body, headers = signed("Balance", {}, nonce)
        _, _, reply = await conn.request("POST", path, body, headers)
        assert reply["error"] == []
    await conn.close()
    served = [s for s in server.served if s.endpoint == "Balance"]
    assert len({s.connection for s in served}) == 1 and _in_order_per_connection(served)


async def test_nonces_written_out_of_order_are_still_refused(start_server: Start) -> None:
    # The server keeps a key's order as read off the wire, and the exchange core checks
    # nonces: a client that writes a lower nonce after a higher one is refused.
    server = await start_server(jitter=0.05)
    first, second = await RawConnection.open(server.port), await RawConnection.open(server.port)
    path_hi, body_hi, headers_hi = signed("Balance", {}, 2_000)
    path_lo, body_lo, headers_lo = signed("Balance", {}, 1_000)
    hi = asyncio.ensure_future(first.request("POST", path_hi, body_hi, headers_hi))
    await asyncio.sleep(0.01)  # the higher nonce is read first
    lo = asyncio.ensure_future(second.request("POST", path_lo, body_lo, headers_lo))
    (_, _, reply_hi), (_, _, reply_lo) = await asyncio.gather(hi, lo)
    assert reply_hi["error"] == []
    assert reply_lo == {"error": [ke.INVALID_NONCE]}
    await first.close()
    await second.close()


# -- faults --------------------------------------------------------------------------------


def add(cid: str) -> dict[str, Any]:
    return {**ADD, "cl_ord_id": cid}


@pytest.mark.parametrize(("kind", "match"), [
    (FaultKind.DROP_REPLY, "RemoteProtocolError|ReadError"),
    (FaultKind.HANG, "ReadTimeout"),
    (FaultKind.HTTP_5XX, "HTTP 502"),
    (FaultKind.MALFORMED_JSON, "not JSON"),
])
async def test_faults_after_processing(start_server: Start, kind: FaultKind, match: str) -> None:
    faults = FaultPlan()
    faults.inject(kind, "AddOrder", hold=5.0)
    server = await start_server(faults=faults)
    async with venue_for(server, timeout=httpx.Timeout(0.5)) as venue:
        with pytest.raises(TransportError, match=match) as info:
            await venue.request("AddOrder", add("f-1"))
        assert info.value.sent is True
        # the exchange did place it: that is what makes the fault dangerous
        assert [o["cl_ord_id"] for o in server.exchange.open_orders().values()] == ["f-1"]
        reply = await venue.request("AddOrder", add("f-2"))  # only the first was hit
        assert reply["error"] == []
    assert faults.fired[kind] == 1


async def test_unavailable_before_processing(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("unavailable", "AddOrder", nth=2, count=2)
    server = await start_server(faults=faults)
    async with venue_for(server) as venue:
        replies = [await venue.request("AddOrder", add(f"u-{i}")) for i in range(4)]
        assert (await venue.request("Balance", {}))["error"] == []
    assert [r["error"] for r in replies] == [[], [ke.UNAVAILABLE], [ke.UNAVAILABLE], []]
    cids = sorted(o["cl_ord_id"] for o in server.exchange.open_orders().values())
    assert cids == ["u-0", "u-3"]  # the faulted ones never reached the exchange
    assert [s.fault for s in server.served if s.endpoint == "AddOrder"] == [
        None, FaultKind.UNAVAILABLE, FaultKind.UNAVAILABLE, None]


async def test_a_5xx_before_processing_places_nothing(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("http-5xx", None, process=False, status=503)
    server = await start_server(faults=faults)
    async with venue_for(server) as venue:
        with pytest.raises(TransportError, match="HTTP 503"):
            await venue.request("AddOrder", add("x-1"))
    assert server.exchange.open_orders() == {}


async def test_shutdown_ends_hung_connections(start_server: Start) -> None:
    faults = FaultPlan()
    faults.inject("hang", "Balance", hold=60.0)
    from engine.exchange.server import serve

    async with serve(keys={DEMO_KEY: DEMO_SECRET}, faults=faults) as server:
        venue = venue_for(server, timeout=httpx.Timeout(30.0))
        pending = asyncio.ensure_future(venue.request("Balance", {}))
        await asyncio.sleep(0.2)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0  # did not wait for the 60 s hold
    with pytest.raises(TransportError):
        await pending
    await venue.aclose()


async def test_logs_never_show_the_secret(start_server: Start, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    import structlog

    saved = structlog.get_config()
    structlog.configure(processors=[structlog.processors.JSONRenderer()],
                        logger_factory=structlog.PrintLoggerFactory(),
                        wrapper_class=structlog.make_filtering_bound_logger(0))
    try:
        server = await start_server(keys={DEMO_KEY: DEMO_SECRET}, jitter=0.01)
        async with venue_for(server) as venue:
            await venue.request("Balance", {})
            await venue.request("AddOrder", add("log-1"))
        await server.aclose()
    finally:
        structlog.configure(**saved)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "server.request" in text
    assert DEMO_SECRET not in text and DEMO_SECRET.rstrip("=") not in text
    assert json.dumps(repr(server)).find(DEMO_SECRET) == -1
