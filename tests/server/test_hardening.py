"""Issue 10, item 6 over real sockets: bodies nested 100k deep, oversized bodies, stalled
sockets and an absurd jitter -- each answered or bounded, never a crash or a hang."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from engine import kraken_errors as ke
from engine.cli import command as cli
from engine.exchange.server import MAX_BODY, MAX_JITTER, ServerConfig

from .conftest import Start
from .support import RawConnection, signed

DEEP_JSON = b'{"nonce":1,"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_FORM = b"nonce=1&a" + b"[0]" * 100_000 + b"=1"


@pytest.mark.parametrize(("body", "ctype"), [
    (DEEP_JSON, "application/json"), (DEEP_FORM, "application/x-www-form-urlencoded")])
@pytest.mark.parametrize("path", ["/0/private/AddOrder", "/0/public/Time", "/0/private/Nope"])
async def test_deeply_nested_bodies_get_invalid_arguments_without_a_key(
    start_server: Start, body: bytes, ctype: str, path: str,
) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    status, _, reply = await conn.request("POST", path, body, {"Content-Type": ctype})
    assert status == 200 and reply == {"error": [ke.INVALID_ARGUMENTS]}
    status, _, reply = await conn.request("GET", "/0/public/Time")  # still serving
    assert status == 200 and reply["error"] == []
    await conn.close()
    assert server.exchange.stats.requests["AddOrder"] == 0


async def test_deep_query_strings_too(start_server: Start) -> None:
    server = await start_server()
    conn = await RawConnection.open(server.port)
    status, _, reply = await conn.request("GET", "/0/public/Ticker?a" + "[0]" * 2000 + "=1")
    assert status == 200 and reply == {"error": [ke.INVALID_ARGUMENTS]}
    await conn.close()


async def test_an_oversized_body_is_refused_in_krakens_envelope(start_server: Start) -> None:
    server = await start_server()
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.post("/0/private/AddOrder", content=b"x" * (MAX_BODY + 1))
    assert r.status_code == 413 and r.json() == {"error": [ke.INVALID_ARGUMENTS]}


async def test_stalled_and_idle_sockets_are_closed(start_server: Start) -> None:
    server = await start_server(idle_timeout=0.3)
    silent = await RawConnection.open(server.port)  # connects, sends nothing
    half = await RawConnection.open(server.port)
    await half.send(b"POST /0/private/Balance HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nnon")
    idle = await RawConnection.open(server.port)
    status, _, _ = await idle.request("GET", "/0/public/Time")  # then stays idle
    assert status == 200
    for conn in (silent, half, idle):
        assert await asyncio.wait_for(conn.reader.read(), 3.0) == b""  # closed by the server
    assert server.stats.idle_closed == 3


async def test_a_request_being_handled_is_not_cut_by_the_idle_timeout(start_server: Start
                                                                      ) -> None:
    server = await start_server(idle_timeout=0.2, jitter=0.0)
    server.faults.inject("unavailable", "Balance", process=True)
    conn = await RawConnection.open(server.port)
    path, body, headers = signed("Balance", {}, 1)
    waiting = asyncio.ensure_future(conn.request("POST", path, body, headers))
    _, _, reply = await asyncio.wait_for(waiting, 3.0)
    assert reply == {"error": [ke.UNAVAILABLE]}
    await conn.close()


@pytest.mark.parametrize("field", ["jitter", "decay_step", "idle_timeout"])
@pytest.mark.parametrize("value", [1e308, float("inf"), float("nan"), -1.0])
def test_absurd_server_settings_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        ServerConfig(**{field: value})


def test_jitter_is_bounded() -> None:
    ServerConfig(jitter=MAX_JITTER)
    with pytest.raises(ValueError, match="jitter"):
        ServerConfig(jitter=MAX_JITTER * 1.01)


@pytest.mark.parametrize(("flag", "value"), [
    ("--jitter-ms", "1e308"), ("--jitter-ms", "10001"), ("--decay-step", "1e308"),
    ("--processing-time", "1e308"), ("--lockout-seconds", "1e308"), ("--idle-timeout", "0"),
    ("--public-rate", "inf"), ("--nonce-window", "-1"), ("--spread-ticks", "-1"),
])
def test_absurd_flags_are_a_one_line_usage_error(
    flag: str, value: str, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["simulate-exchange", flag, value])
    assert e.value.code == 2
    out = capsys.readouterr()
    last = out.err.strip().splitlines()[-1]  # argparse: the usage, then one error line
    assert out.out == ""
    assert last.startswith(f"orderpace simulate-exchange: error: argument {flag}: expected")


async def test_the_app_in_process_limits_public_calls_per_address(start_server: Start) -> None:
    server = await start_server(exchange_options={"public_burst": 2})
    transport = httpx.ASGITransport(app=server.app, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        replies = [(await client.get("/0/public/Time")).json()["error"] for _ in range(3)]
        missing = await client.get("/elsewhere")
    assert replies == [[], [], [ke.TOO_MANY_REQUESTS]]
    assert missing.status_code == 404 and missing.json() == {"error": [ke.UNKNOWN_METHOD]}
    assert server.exchange.public_limit.level("10.1.2.3", server.clock.now()) > 1


def test_help_lists_every_misbehaviour_flag_with_its_default() -> None:
    out = subprocess.run([sys.executable, "-m", "engine", "simulate-exchange", "--help"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    text = " ".join(out.split())
    for flag, default in (("--lockout-after", "default 10"), ("--lockout-seconds", "default 900"),
                          ("--public-rate", "default 1"), ("--public-burst", "default 15"),
                          ("--nonce-window", "default 0"), ("--jitter-ms", "default 0"),
                          ("--idle-timeout", "default 60"), ("--spread-ticks", "default 1")):
        assert flag in text and default in text.split(flag, 2)[-1][:400], flag
