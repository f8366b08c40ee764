"""The WebSocket connection's plumbing: arrival order, the outbound FIFO (order, heartbeats,
flush, a slow reader dropped), and WebSocket connections outliving the HTTP idle timeout."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.exchange.server import WsSession, arrival_after
from engine.exchange.server import ws_session as session_module

from .conftest import Start
from .ws_support import WsClient


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 10)), max_size=50))
def test_arrivals_keep_a_connections_order_and_are_as_early_as_allowed(
    reads: list[tuple[float, float]],
) -> None:
    """``arrival_i = max(read_i + delay_i, arrival_{i-1})`` for messages read in order."""
    reads = sorted(reads)  # a connection reads its messages in order
    last = -1.0
    for read_at, delay in reads:
        arrival = arrival_after(last, read_at, delay)
        assert arrival >= last  # never overtakes the previous message
        assert arrival >= read_at + delay  # never before its own delay
        assert arrival in (last, read_at + delay)  # and no later than it must
        last = arrival


class FakeSocket:
    """Records what is written; ``stall`` makes every write wait for ever."""

    def __init__(self, stall: bool = False) -> None:
        self.sent: list[str] = []
        self.stall = stall

    async def send_text(self, text: str) -> None:
        if self.stall:
            await asyncio.Event().wait()
        self.sent.append(text)


def session(sock: FakeSocket, *, subscribed: bool = False, heartbeat: float = 0.05,
            dropped: list[bool] | None = None) -> WsSession:
    drops = dropped if dropped is not None else []
    s = WsSession(sock, heartbeat=heartbeat,  # type: ignore[arg-type]
                  subscribed=lambda: subscribed, drop=lambda: drops.append(True))
    s.start()
    return s


async def test_messages_go_out_in_order_and_flush_waits_for_them() -> None:
    sock = FakeSocket()
    s = session(sock)
    for i in range(50):
        s.send({"n": i})
    await s.flush()
    assert sock.sent == [f'{{"n":{i}}}' for i in range(50)]
    await s.aclose()
    s.send({"late": True})  # after close: discarded
    assert len(sock.sent) == 50


async def test_heartbeats_only_while_subscribed() -> None:
    quiet, busy = FakeSocket(), FakeSocket()
    a, b = session(quiet), session(busy, subscribed=True)
    await asyncio.sleep(0.28)
    for s in (a, b):
        await s.aclose()
    assert quiet.sent == []
    assert 3 <= busy.sent.count('{"channel":"heartbeat"}') <= 6


async def test_a_reader_that_stops_reading_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "MAX_QUEUED", 5)
    dropped: list[bool] = []
    s = session(FakeSocket(stall=True), dropped=dropped)
    for i in range(10):
        s.send({"n": i})
    await asyncio.sleep(0)
    assert dropped == [True] and s.closed


async def test_websocket_connections_outlive_the_http_idle_timeout(start_server: Start) -> None:
    server = await start_server(idle_timeout=0.2)
    client = await WsClient.open(server)
    await asyncio.sleep(0.6)  # three idle timeouts of quiet
    reply: dict[str, Any] = await client.call("ping")
    assert reply["method"] == "pong"
    assert server.stats.idle_closed == 0
    await client.close()
