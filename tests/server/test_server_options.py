"""The loopback server's newer surface: SystemStatus, the concurrency throttle from the
command line, a busy port and unknown fault endpoints refused clearly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from engine import kraken_errors as ke
from engine.cli import command as cli
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, CannotListen, serve
from engine.exchange.server.faults import parse_fault
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.rest import KrakenRestVenue

from .conftest import Start
from .support import RawConnection, signed
from .test_command import start, stop
from .ws_support import WsClient


def _rfc3339(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


async def test_system_status_by_get_and_post(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    for method in ("GET", "POST"):
        status, _, reply = await conn.request(method, "/0/public/SystemStatus")
        assert status == 200 and reply["error"] == []
        assert set(reply["result"]) == {"status", "timestamp"}
        assert reply["result"]["status"] == "online"
        assert abs(_rfc3339(reply["result"]["timestamp"]) - time.time()) < 2
    await conn.close()
    assert server.stats.requests["SystemStatus"] == 2


async def test_the_live_venue_reads_system_status(start_server: Start) -> None:
    server = await start_server()
    venue = KrakenRestVenue(Credentials(DEMO_KEY, DEMO_SECRET), base_url=server.url,
                            public_throttle=PublicThrottle(1000.0, burst=1000))
    try:
        reply = await venue.request("SystemStatus", {})
    finally:
        await venue.aclose()
    assert reply["error"] == [] and reply["result"]["status"] == "online"


async def test_throttle_options_reach_the_exchange(start_server: Start) -> None:
    server = await start_server(exchange_options={"processing_time": 30.0,
                                                  "max_concurrent": 1})
    conn = await RawConnection.open(server.port)
    replies = []
    for nonce in (1, 2):
        path, body, headers = signed("Balance", {}, nonce)
        replies.append((await conn.request("POST", path, body, headers))[2])
    await conn.close()
    assert replies[0]["error"] == []
    assert replies[1]["error"][0].startswith(ke.THROTTLED + ":")


async def test_a_busy_port_raises_cannot_listen(start_server: Start) -> None:
    first = await start_server()
    with pytest.raises(CannotListen, match=rf"^cannot listen on 127\.0\.0\.1:{first.port}: "
                                           "address already in use$") as e:
        async with serve(port=first.port):
            pass
    assert isinstance(e.value, OSError) and e.value.port == first.port


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_a_busy_port_is_a_one_line_usage_error(busy_port: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "simulate-exchange", "--port", str(busy_port)],
        capture_output=True, text=True, timeout=20,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"orderpace simulate-exchange: error: cannot listen on 127.0.0.1:{busy_port}: "
        "address already in use; pick another --port (or --port 0 for any free one)\n")


def test_throttle_flags_turn_the_throttle_on() -> None:
    proc, url = start("--processing-time", "30", "--max-concurrent", "1")
    try:
        replies = []
        for nonce in (1, 2):
            path, body, headers = signed("Balance", {}, nonce)
            req = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=5) as resp:
                replies.append(json.loads(resp.read()))
    finally:
        code, _out, err = stop(proc)
    assert code == 0, err
    assert replies[0]["error"] == [] and replies[1]["error"][0].startswith(ke.THROTTLED)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--processing-time", "-1"], "argument --processing-time: expected a number >= 0"),
        (["--processing-time", "nan"], "argument --processing-time: expected a number >= 0"),
        (["--max-concurrent", "0"], "argument --max-concurrent: expected an integer >= 1"),
        (["--fault", "drop-reply:Nope"], "unknown endpoint 'Nope' in 'drop-reply:Nope'; "
                                         "known: AddOrder, "),
        (["--ws-token-ttl", "0"], "argument --ws-token-ttl: expected a number > 0"),
        (["--heartbeat", "nan"], "argument --heartbeat: expected a number > 0"),
        (["--fault", "hang:add_order:1:1:sometime"], "WHEN must be 'after' or 'before'"),
    ],
)
def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str], argv: list[str],
                                 message: str) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["simulate-exchange", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "orderpace simulate-exchange: error: " in err and message in err


def test_fault_endpoints_are_checked_and_spelt_as_the_exchange_does() -> None:
    assert parse_fault("drop-reply:addorder:2").endpoint == "AddOrder"
    assert parse_fault("hang:SystemStatus").endpoint == "SystemStatus"
    assert parse_fault("hang:*").endpoint is None
    with pytest.raises(ValueError, match=r"unknown endpoint 'AddOrders'.*\(or \* for any\)"):
        parse_fault("drop-reply:AddOrders")


async def test_accepted_connections_turn_nagle_off(start_server: Start) -> None:
    """A reply goes out as headers then body: with Nagle on, the body waited for the
    client's delayed ACK (40 ms per request on loopback).  Every accepted socket is TCP
    with TCP_NODELAY, REST and WebSocket alike."""
    server = await start_server()
    conn = await RawConnection.open(server.port)
    status, _, _ = await conn.request("GET", "/0/public/Time")
    assert status == 200
    ws = await WsClient.open(server)
    accepted = [p.transport.get_extra_info("socket")
                for p in server._uvicorn.server_state.connections]  # type: ignore[union-attr]
    assert len(accepted) == 2
    for sock in accepted:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    await ws.close()
    await conn.close()
