"""The HTTP/1.1 codec, form decoding and fault selection, without sockets."""

from __future__ import annotations

import asyncio

import pytest

from engine.exchange.server.faults import Fault, FaultKind, FaultPlan, parse_fault
from engine.exchange.server.forms import BadParams, decode_body, decode_query
from engine.exchange.server.http import MAX_BODY, BadRequest, encode_response, read_request


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=16 * 1024)
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_two_requests_on_one_connection() -> None:
    reader = reader_of(
        b"POST /0/private/Balance?x=1 HTTP/1.1\r\nContent-Length: 7\r\nAPI-Key: k\r\n"
        b"X-Rep: a\r\nX-Rep: b\r\n\r\nnonce=1"
        b"\r\nGET /0/public/Time HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    first = await read_request(reader)
    assert first is not None
    assert (first.method, first.path, first.query, first.body) == (
        "POST", "/0/private/Balance", "x=1", b"nonce=1")
    assert first.headers["api-key"] == "k" and first.headers["x-rep"] == "a, b"
    assert first.keep_alive
    second = await read_request(reader)
    assert second is not None and second.path == "/0/public/Time" and not second.keep_alive
    assert await read_request(reader) is None


async def test_chunked_body() -> None:
    reader = reader_of(b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nnonce\r\n3;ext=1\r\n=12\r\n0\r\nTrailer: x\r\n\r\n")
    req = await read_request(reader)
    assert req is not None and req.body == b"nonce=12"


async def test_http_1_0_closes_unless_asked() -> None:
    req = await read_request(reader_of(b"GET / HTTP/1.0\r\n\r\n"))
    assert req is not None and not req.keep_alive
    req = await read_request(reader_of(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    assert req is not None and req.keep_alive


@pytest.mark.parametrize(("data", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"BREW /pot HTTP/1.1\r\n\r\n", 501),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET http://x/ HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nbad header\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", 400),
    (b"GET / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: x", 400),
])
async def test_bad_requests(data: bytes, status: int) -> None:
    with pytest.raises(BadRequest) as info:
        await read_request(reader_of(data))
    assert info.value.status == status


def test_response_bytes() -> None:
    data = encode_response(200, b'{"a":1}', keep_alive=False, headers=[("X-A", "1")])
    head, body = data.split(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 7" in head and b"Connection: close" in head and b"X-A: 1" in head
    assert body == b'{"a":1}'


def test_forms() -> None:
    assert decode_query("pair=XBTUSD&pair=ETHUSD&x=") == {"pair": "ETHUSD", "x": ""}
    assert decode_body(b"orders[0][type]=buy&orders[0][volume]=1&orders[1][type]=sell",
                       "application/x-www-form-urlencoded") == {
        "orders": [{"type": "buy", "volume": "1"}, {"type": "sell"}]}
    assert decode_body(b"orders[]=A&orders[]=B", "") == {"orders": ["A", "B"]}
    assert decode_body(b'{"nonce": 5, "orders": [{"a": 1}]}', "application/json") == {
        "nonce": 5, "orders": [{"a": 1}]}
    assert decode_body(b"  ", "application/json") == {}
    for bad, ctype in ((b"[1]", "application/json"), (b"{", "application/json"),
                       (b"\xff", "application/x-www-form-urlencoded"),
                       (b"a[0]=1&a[0][b]=2", "")):
        with pytest.raises(BadParams):
            decode_body(bad, ctype)


def test_fault_selection() -> None:
    plan = FaultPlan([Fault("drop-reply", "AddOrder", nth=2),
                      Fault("http-5xx", None, nth=1, count=0, process=False)])
    hits = [plan.pick(e) for e in ("AddOrder", "AddOrder", "Balance", "AddOrder")]
    assert [h.kind if h else None for h in hits] == [
        FaultKind.HTTP_5XX, FaultKind.DROP_REPLY, FaultKind.HTTP_5XX, FaultKind.HTTP_5XX]
    assert plan.fired == {FaultKind.HTTP_5XX: 3, FaultKind.DROP_REPLY: 1}
    plan.clear()
    assert plan.pick("AddOrder") is None


def test_fault_defaults_and_parsing() -> None:
    assert Fault("drop-reply").processes and not Fault("unavailable").processes
    assert not Fault("hang", process=False).processes
    f = parse_fault("malformed-json:CancelOrder:3:2")
    assert (f.kind, f.endpoint, f.nth, f.count) == (FaultKind.MALFORMED_JSON, "CancelOrder", 3, 2)
    assert parse_fault("hang:*").endpoint is None
    for bad in ("", "explode", "hang:AddOrder:x", "hang:a:1:2:3", "hang:AddOrder:0"):
        with pytest.raises(ValueError, match=r"KIND|kind|integer|>= 1"):
            parse_fault(bad)
    with pytest.raises(ValueError, match="5xx"):
        Fault("http-5xx", status=404)
