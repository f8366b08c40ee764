"""KrakenRestVenue over httpx mock transports: headers, bodies, wire order, failures, logs."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog

from engine.venues.base import TransportError, Venue
from engine.venues.kraken_rest.body import InvalidParameter, nonce_of_body
from engine.venues.kraken_rest.credentials import Credentials, MissingCredentials
from engine.venues.kraken_rest.nonce import WallClockNonces
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.rest import USER_AGENT, KrakenRestVenue
from engine.venues.kraken_rest.signing import verify

from .support import LEAK_KEY, LEAK_SECRET, TracingTransport, leaked, nonce_of, ok

FAST_PUBLIC = PublicThrottle(1000.0, burst=1000)


def make_venue(
    handler: Callable[[httpx.Request], Any] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: Credentials | None = None,
    **kwargs: Any,
) -> KrakenRestVenue:
    if transport is None:
        transport = httpx.MockTransport(handler or (lambda _: ok()))
    kwargs.setdefault("public_throttle", FAST_PUBLIC)
    return KrakenRestVenue(
        credentials if credentials is not None else Credentials(LEAK_KEY, LEAK_SECRET),
        transport=transport,
        **kwargs,
    )


class Recorder:
    """A MockTransport handler that records requests and answers ``reply``."""

    def __init__(self, reply: Callable[[httpx.Request], httpx.Response] = lambda _: ok()) -> None:
        self.requests: list[httpx.Request] = []
        self.reply = reply

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)


def signed_correctly(request: httpx.Request) -> bool:
    nonce = nonce_of_body(request.content, request.headers["Content-Type"])
    return verify(LEAK_SECRET, request.url.path, nonce, request.content,
                  request.headers["API-Sign"])


# -- the Venue protocol and construction ----------------------------------------------------


async def test_is_a_venue() -> None:
    async with make_venue() as venue:
        assert isinstance(venue, Venue)


@pytest.mark.parametrize(
    "url", ["ftp://api.kraken.com", "https://api.kraken.com/0", "https://x?y=1", "nohost"]
)
def test_base_url_validated(url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        KrakenRestVenue(base_url=url)


async def test_repr_hides_the_secret_and_the_key(creds: Credentials) -> None:
    async with make_venue(credentials=creds) as venue:
        text = repr(venue)
    assert not leaked(text)
    assert LEAK_KEY not in text
    assert "KeyP..." in text


async def test_invalid_endpoint_name_refused() -> None:
    recorder = Recorder()
    async with make_venue(recorder) as venue:
        for name in ("", "../Balance", "Add Order", "AddOrder?x=1"):
            with pytest.raises(ValueError, match="endpoint"):
                await venue.request(name, {})
    assert recorder.requests == []


# -- private calls ----------------------------------------------------------------------------


async def test_private_call_headers_and_signature() -> None:
    recorder = Recorder(lambda _: ok({"ZUSD": "1.0"}))
    async with make_venue(recorder, base_url="http://127.0.0.1:8080") as venue:
        reply = await venue.request("Balance", {})
    assert reply == {"error": [], "result": {"ZUSD": "1.0"}}
    (request,) = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == "http://127.0.0.1:8080/0/private/Balance"
    assert request.headers["API-Key"] == LEAK_KEY
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("orderpace/")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed_correctly(request)


async def test_form_body_for_add_order() -> None:
    recorder = Recorder()
    params = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "37500",
              "volume": "1.25", "cl_ord_id": "abc-1"}
    async with make_venue(recorder) as venue:
        await venue.request("AddOrder", params)
    (request,) = recorder.requests
    fields = list(httpx.QueryParams(request.content.decode()).multi_items())
    assert fields[0][0] == "nonce"
    assert fields[1:] == list(params.items())
    assert signed_correctly(request)


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("AddOrderBatch", {"pair": "XBTUSD", "orders": [{"ordertype": "limit", "price": "1",
                                                          "type": "buy", "volume": "1"}] * 2}),
        ("AmendOrder", {"cl_ord_id": "abc-1", "limit_price": "37000"}),
        ("CancelOrderBatch", {"orders": ["O1", "O2"]}),
    ],
)
async def test_json_body_for_batch_and_amend(endpoint: str, params: dict[str, Any]) -> None:
    recorder = Recorder()
    async with make_venue(recorder) as venue:
        await venue.request(endpoint, params)
    (request,) = recorder.requests
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert isinstance(body["nonce"], int)
    assert {k: v for k, v in body.items() if k != "nonce"} == params
    assert signed_correctly(request)


async def test_error_envelope_returned_as_is() -> None:
    envelope = {"error": ["EOrder:Rate limit exceeded"]}
    async with make_venue(lambda _: httpx.Response(200, json=envelope)) as venue:
        assert await venue.request("AddOrder", {"pair": "XBTUSD"}) == envelope


async def test_private_call_without_credentials_sends_nothing() -> None:
    recorder = Recorder()
    venue = KrakenRestVenue(transport=httpx.MockTransport(recorder))
    async with venue:
        with pytest.raises(MissingCredentials, match="Balance"):
            await venue.request("Balance", {})
    assert recorder.requests == []


async def test_unsendable_parameter_sends_nothing() -> None:
    recorder = Recorder()
    async with make_venue(recorder) as venue:
        with pytest.raises(InvalidParameter, match="'price'"):
            await venue.request("AddOrder", {"price": 1.5})
    assert recorder.requests == []


# -- dry run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["AddOrder", "EditOrder"])
async def test_dry_run_adds_validate_to_form_orders(endpoint: str) -> None:
    recorder = Recorder()
    async with make_venue(recorder, dry_run=True) as venue:
        await venue.request(endpoint, {"pair": "XBTUSD", "validate": "false"})
    fields = httpx.QueryParams(recorder.requests[0].content.decode())
    assert fields.get_list("validate") == ["true"]
    assert signed_correctly(recorder.requests[0])


@pytest.mark.parametrize("endpoint", ["AddOrderBatch", "AmendOrder"])
async def test_dry_run_adds_validate_to_json_orders(endpoint: str) -> None:
    recorder = Recorder()
    async with make_venue(recorder, dry_run=True) as venue:
        await venue.request(endpoint, {"pair": "XBTUSD"})
    assert json.loads(recorder.requests[0].content)["validate"] is True


@pytest.mark.parametrize("endpoint", ["CancelOrder", "Balance", "AddOrder"])
async def test_no_validate_when_not_dry_run_or_not_an_order(endpoint: str) -> None:
    recorder = Recorder()
    async with make_venue(recorder, dry_run=endpoint != "AddOrder") as venue:
        await venue.request(endpoint, {"txid": "O1"})
    assert b"validate" not in recorder.requests[0].content


# -- nonces and wire order --------------------------------------------------------------------


async def test_one_request_per_key_on_the_wire_without_a_nonce_window() -> None:
    rng = random.Random(7)
    transport = TracingTransport(
        lambda r: ok({"nonce": nonce_of(r)}), latency=lambda _: rng.uniform(0.0, 0.02)
    )
    async with make_venue(transport=transport) as venue:
        endpoints = ["AddOrder", "CancelOrder", "AmendOrder", "Balance", "CancelOrderBatch"]
        replies = await asyncio.gather(*(
            venue.request(endpoints[i % 5], {"orders": ["O1"]} if i % 5 == 4 else {})
            for i in range(30)
        ))
    wire = [nonce_of(r) for r in transport.wire]
    assert len(wire) == 30
    assert all(a < b for a, b in itertools.pairwise(wire)), "nonces left out of order"
    assert sorted(r["result"]["nonce"] for r in replies) == wire
    assert transport.max_in_flight == 1, "a key without a nonce window: one on the wire"
    assert all(signed_correctly(r) for r in transport.wire)


async def test_replies_overlap_within_a_declared_nonce_window() -> None:
    rng = random.Random(7)
    transport = TracingTransport(
        lambda r: ok({"nonce": nonce_of(r)}), latency=lambda _: rng.uniform(0.0, 0.02)
    )
    async with make_venue(transport=transport, nonce_window=60_000) as venue:
        replies = await asyncio.gather(*(venue.request("AddOrder", {}) for _ in range(30)))
    wire = [nonce_of(r) for r in transport.wire]
    assert len(set(wire)) == 30
    assert max(wire) - min(wire) <= 60_000
    assert sorted(r["result"]["nonce"] for r in replies) == sorted(wire)
    assert 1 < transport.max_in_flight <= 8, "overlap, up to max_per_key"


class SlowNonces:
    """A nonce source that yields to the loop (like a shared, networked source would)."""

    def __init__(self) -> None:
        self.inner = WallClockNonces()
        self.rng = random.Random(3)

    async def next_nonce(self, key: str) -> int:
        nonce = self.inner.take(key)
        await asyncio.sleep(self.rng.uniform(0.0, 0.002))
        return nonce


async def test_wire_order_holds_with_a_slow_nonce_source_and_no_trace_events() -> None:
    recorder = Recorder()

    async def handler(request: httpx.Request) -> httpx.Response:
        recorder.requests.append(request)
        await asyncio.sleep(0)
        return ok()

    async with make_venue(handler, nonces=SlowNonces()) as venue:
        await asyncio.gather(*(venue.request("AddOrder", {"pair": "XBTUSD"}) for _ in range(50)))
    wire = [nonce_of(r) for r in recorder.requests]
    assert len(set(wire)) == 50
    assert wire == sorted(wire)


# -- public calls -----------------------------------------------------------------------------


async def test_public_call_is_an_unsigned_get_with_query() -> None:
    recorder = Recorder(lambda _: ok({"unixtime": 1}))
    venue = KrakenRestVenue(transport=httpx.MockTransport(recorder), public_throttle=FAST_PUBLIC)
    async with venue:
        reply = await venue.request("Ticker", {"pair": "XBTUSD"})
        await venue.request("Time", {})
    assert reply["result"] == {"unixtime": 1}
    ticker, time_ = recorder.requests
    assert ticker.method == "GET"
    assert ticker.url.path == "/0/public/Ticker"
    assert ticker.url.params["pair"] == "XBTUSD"
    assert ticker.content == b""
    assert "API-Key" not in ticker.headers and "API-Sign" not in ticker.headers
    assert time_.url.path == "/0/public/Time"


async def test_public_calls_are_paced_by_the_throttle() -> None:
    class CountingThrottle(PublicThrottle):
        entered = 0

        async def acquire(self) -> None:
            CountingThrottle.entered += 1
            await super().acquire()

    throttle = CountingThrottle(25.0, retry_interval=0.002)  # one per 40 ms
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    def handler(_: httpx.Request) -> httpx.Response:
        stamps.append(loop.time())
        return ok()

    async with make_venue(handler, public_throttle=throttle) as venue:
        await asyncio.gather(*(venue.request("Time", {}) for _ in range(3)))
        await venue.request("Balance", {})  # private: not on the per-IP throttle
    assert CountingThrottle.entered == 3
    assert stamps[2] - stamps[0] >= 0.06  # two 40 ms gaps, minus scheduling slack


# -- transport failures -----------------------------------------------------------------------


def raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), False),
        (httpx.ConnectTimeout("connect timed out"), False),
        (httpx.PoolTimeout("no connection in the pool"), False),
        (httpx.ReadTimeout("read timed out"), True),
        (httpx.WriteTimeout("write timed out"), True),
        (httpx.ReadError("connection reset"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
@pytest.mark.parametrize("endpoint", ["AddOrder", "Time"])
async def test_httpx_errors_become_transport_errors(
    exc: Exception, sent: bool, endpoint: str
) -> None:
    async with make_venue(raising(exc)) as venue:
        with pytest.raises(TransportError) as info:
            await venue.request(endpoint, {})
    assert info.value.sent is sent
    assert info.value.endpoint == endpoint
    assert str(info.value).startswith(f"{endpoint}: {type(exc).__name__}")


@pytest.mark.parametrize(
    ("status", "content", "why"),
    [
        (500, b'{"error":[],"result":{}}', "HTTP 500"),
        (502, b"<html>bad gateway</html>", "HTTP 502"),
        (503, b"", "HTTP 503"),
        (200, b"<html>maintenance</html>", "not JSON"),
        (200, b"", "not JSON"),
        (200, b"[]", "envelope"),
        (200, b'{"result":{}}', "envelope"),
        (200, b'{"error":"EAPI:Invalid key"}', "envelope"),
        (200, b'{"error":[]}', "envelope"),
        (403, b"<html>forbidden</html>", "HTTP 403"),
    ],
)
async def test_bad_replies_become_transport_errors(status: int, content: bytes, why: str) -> None:
    async with make_venue(lambda _: httpx.Response(status, content=content)) as venue:
        with pytest.raises(TransportError, match=why) as info:
            await venue.request("CancelOrder", {"txid": "O1"})
    assert info.value.sent is True


async def test_traced_errors_use_what_reached_the_wire() -> None:
    class FailingAfterHeaders(TracingTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            trace = request.extensions["trace"]
            await trace("http11.send_request_headers.started", {})
            raise httpx.ConnectError("odd, but the headers were being written")

    class FailingToConnect(TracingTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            trace = request.extensions["trace"]
            await trace("connection.connect_tcp.started", {})
            raise httpx.ReadError("odd, but nothing was written")

    async with make_venue(transport=FailingAfterHeaders(lambda _: ok())) as venue:
        with pytest.raises(TransportError) as info:
            await venue.request("AddOrder", {})
    assert info.value.sent is True
    async with make_venue(transport=FailingToConnect(lambda _: ok())) as venue:
        with pytest.raises(TransportError) as info:
            await venue.request("AddOrder", {})
    assert info.value.sent is False


async def test_secret_never_in_a_transport_error(no_secret: Callable[[str], None]) -> None:
    exc = httpx.ReadError(f"weird transport echoing {LEAK_SECRET} and {LEAK_KEY}")
    async with make_venue(raising(exc)) as venue:
        with pytest.raises(TransportError) as info:
            await venue.request("AddOrder", {})
    err = info.value
    chain = [err, err.__cause__, err.__context__]
    for item in chain:
        no_secret(str(item))
        no_secret(repr(item))
    assert LEAK_KEY not in str(err)


# -- closing and cancelling -------------------------------------------------------------------


async def test_aclose_ends_requests_in_flight_with_transport_error() -> None:
    arrived = asyncio.Event()

    async def handler(_: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")

    venue = make_venue(handler)
    pending = asyncio.ensure_future(venue.request("Balance", {}))
    await arrived.wait()
    await venue.aclose()
    with pytest.raises(TransportError, match="closed") as info:
        await pending
    assert info.value.sent is True  # the request was out: its fate is unknown
    with pytest.raises(TransportError, match="closed") as info:
        await venue.request("Balance", {})
    assert info.value.sent is False
    assert venue.closed
    await venue.aclose()  # idempotent


async def test_queued_private_calls_end_unsent_when_closed() -> None:
    arrived = asyncio.Event()

    async def handler(_: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    venue = make_venue(handler)  # MockTransport: the first call holds the send lock
    first = asyncio.ensure_future(venue.request("AddOrder", {}))
    second = asyncio.ensure_future(venue.request("AddOrder", {}))
    await arrived.wait()
    await venue.aclose()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, TransportError) for r in results)
    assert [r.sent for r in results if isinstance(r, TransportError)] == [True, False]


async def test_caller_cancellation_propagates() -> None:
    arrived = asyncio.Event()

    async def handler(_: httpx.Request) -> httpx.Response:
        arrived.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with make_venue(handler) as venue:
        task = asyncio.ensure_future(venue.request("AddOrder", {}))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not venue._inflight
        assert venue.pool is not None and all(k.wire.on_wire == 0 for k in venue.pool.keys)


# -- logs -------------------------------------------------------------------------------------


async def test_logs_carry_endpoint_status_elapsed_and_no_secret(
    caplog: pytest.LogCaptureFixture, no_secret: Callable[[str], None]
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise httpx.ReadTimeout("read timed out")
        return ok()

    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        async with make_venue(handler) as venue:
            await venue.request("AddOrder", {"pair": "XBTUSD", "cl_ord_id": "secret-free-id"})
            await venue.request("Time", {})
            with pytest.raises(TransportError):
                await venue.request("CancelOrder", {"txid": "O1"})
    done = [e for e in logs if e["event"] == "kraken.request"]
    assert [(e["endpoint"], e["status"], e["log_level"]) for e in done] == [
        ("AddOrder", 200, "debug"), ("Time", 200, "debug"),
    ]
    assert all(e["elapsed_ms"] >= 0 for e in done)
    failed = [e for e in logs if e["event"] == "kraken.transport_error"]
    assert [(e["endpoint"], e["sent"]) for e in failed] == [("CancelOrder", True)]
    text = repr(logs) + caplog.text
    no_secret(text)
    assert LEAK_KEY not in text
    assert "API-Sign" not in text and "cl_ord_id" not in repr(logs)
