"""One WebSocket v2 connection's outbound side: every message it is sent, in order.

Replies, executions updates and heartbeats all go through one FIFO (:meth:`WsSession.send`,
synchronous: the exchange's events are pushed from inside its own step), written to the
socket by one task, so a client reads them in exactly the order they were queued.  While the
connection has a subscription, a ``{"channel": "heartbeat"}`` is written every
``heartbeat`` seconds (Kraken: about once per second).

A client that stops reading is not allowed to grow the queue for ever: past
:data:`MAX_QUEUED` unsent messages the connection is dropped, as a real exchange drops a
slow consumer.  Writing to a connection that is gone ends the writer quietly; what was
still queued is discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.websockets import WebSocket

from engine.exchange.wsv2 import HEARTBEAT

__all__ = ["MAX_QUEUED", "WsSession"]

#: Unsent messages one connection may have queued before it is dropped.
MAX_QUEUED = 100_000

_HEARTBEAT_TEXT = json.dumps(dict(HEARTBEAT), separators=(",", ":"))


def dumps(message: Mapping[str, Any]) -> str:
    """A message as compact JSON text."""
    return json.dumps(message, separators=(",", ":"))


class WsSession:
    """The outbound FIFO of one connection (see the module docstring).

    ``subscribed()`` says whether heartbeats are due; ``drop()`` aborts the connection
    (used when the queue overflows).
    """

    def __init__(self, websocket: WebSocket, *, heartbeat: float,
                 subscribed: Callable[[], bool], drop: Callable[[], None]) -> None:
        self._ws = websocket
        self._heartbeat = heartbeat
        self._subscribed = subscribed
        self._drop = drop
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.closed = False
        self.sent = 0

    def start(self) -> None:
        """Start the writer (inside the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._write())

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue ``message`` (serialized now: later changes to it do not matter)."""
        self.send_text(dumps(message))

    def send_text(self, text: str) -> None:
        """Queue raw ``text`` (for faults that send what is not JSON)."""
        if self.closed:
            return
        if self._queue.qsize() >= MAX_QUEUED:
            self.closed = True
            self._drop()
            return
        self._queue.put_nowait(text)

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait (at most ``timeout`` s) until everything queued so far was written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)

    async def aclose(self) -> None:
        """Write what is queued, then stop (at once if the connection is gone)."""
        self._queue.put_nowait(None)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.closed = True

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat: float | None = None
        while True:
            timeout: float | None = None
            if self._subscribed():
                if next_beat is None:
                    next_beat = loop.time() + self._heartbeat
                timeout = max(0.0, next_beat - loop.time())
            else:
                next_beat = None
            queued = True
            try:
                text = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                text, queued = _HEARTBEAT_TEXT, False
                next_beat = loop.time() + self._heartbeat
            written = text is not None and await self._put(text)
            if queued:
                self._queue.task_done()
            if not written:
                self.closed = True
                while not self._queue.empty():  # nothing more goes out: release flushers
                    self._queue.get_nowait()
                    self._queue.task_done()
                return

    async def _put(self, text: str) -> bool:
        if self.closed:
            return False
        try:
            await self._ws.send_text(text)
        except Exception:  # the peer is gone (disconnect, reset, closed state): stop writing
            return False
        self.sent += 1
        return True
