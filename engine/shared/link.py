"""One ordered, pipelined connection to Redis for the shared store.

The engine may ask several decisions in one pass and needs them applied in the order it
issued them (``engine.core.budget``).  :class:`Link` queues each script call with its
future; everything queued so far leaves as one pipeline (one round trip for the lot,
commands in issue order), one batch at a time, and the futures are answered in that order.
A writer task sends batches; a caller awaiting its answer through :meth:`Link.result`
sends the queue itself when no batch is on its way (one loop turn less).  A lone call
costs one round trip.

Scripts are loaded once and called by SHA (``EVALSHA``); a server that lost them
(``NOSCRIPT``: restarted, or ``SCRIPT FLUSH``) gets them again and the calls that failed
are sent once more.  When Redis cannot be reached, every call of the batch fails with
:class:`StoreUnavailable` (one line, no secrets: the URL's password is never shown).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError, ResponseError

from engine.aio import cancel_and_wait

__all__ = ["Link", "StoreUnavailable", "connect_client"]

#: Seconds to wait for a connection and for a reply: a stuck Redis fails a decision
#: (the engine then holds the item and asks again a second later) instead of hanging it.
CONNECT_TIMEOUT = 1.0
REPLY_TIMEOUT = 2.0


class StoreUnavailable(ConnectionError):
    """The shared store could not answer (unreachable, timed out, or an error reply)."""


def connect_client(url: str) -> aioredis.Redis:
    """A ``redis.asyncio`` client for ``url`` that fails fast (no retries of its own)."""
    return aioredis.Redis.from_url(
        url, socket_timeout=REPLY_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT,
        retry=Retry(NoBackoff(), 0), decode_responses=False, max_connections=4)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__


def _sha(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


class Link:
    """Ordered script calls over one client (see the module docstring)."""

    __slots__ = ("_client", "_kicked", "_pending", "_scripts", "_sending", "_wake", "_writer",
                 "where")

    def __init__(self, client: aioredis.Redis, where: str = "redis") -> None:
        self._client = client
        self.where = where  # for messages: host:port/db, never a password
        self._scripts: dict[str, str] = {}  # sha -> source
        self._pending: deque[tuple[str, tuple[str, ...], tuple[Any, ...],
                                   asyncio.Future[Any]]] = deque()
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._sending = False  # a batch is on its way (by the writer or a caller)
        self._kicked = False  # a wake-up of the writer is scheduled

    @property
    def client(self) -> aioredis.Redis:
        return self._client

    def script(self, source: str) -> str:
        """Register ``source``; its SHA names it in :meth:`call`."""
        sha = _sha(source)
        self._scripts[sha] = source
        return sha

    def call(self, sha: str, keys: tuple[str, ...], args: tuple[Any, ...], *,
             kick: bool = True) -> asyncio.Future[Any]:
        """Queue ``EVALSHA sha keys args``; the future gets the reply (or the error).
        ``kick=False``: the caller awaits it through :meth:`result` (which sends), so the
        writer is not woken for it."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending.append((sha, keys, args, fut))
        if self._writer is None or self._writer.done():
            self._wake = asyncio.Event()
            self._writer = loop.create_task(self._write())
        if kick and not self._kicked:  # next loop turn: a caller awaiting at once sends first
            self._kicked = True
            loop.call_soon(self._kick)
        return fut

    def _kick(self) -> None:
        self._kicked = False
        if self._wake is not None:
            self._wake.set()

    async def result(self, fut: asyncio.Future[Any]) -> Any:
        """``await fut`` -- sending what is queued from this task when no batch is on its
        way (one loop turn less than waiting for the writer); issue order is kept, since
        one batch at a time leaves, oldest calls first."""
        if not fut.done() and not self._sending and self._pending:
            await self._send_pending()
        return await fut

    async def _send_pending(self) -> None:
        self._sending = True
        batch = list(self._pending)
        self._pending.clear()
        try:
            await self._send(batch)
        except asyncio.CancelledError:  # the sending task was cancelled (shutdown): the
            # batch's other callers must not wait forever -- their fate is unknown
            for *_x, fut in batch:
                if not fut.done():
                    fut.set_exception(StoreUnavailable(
                        f"shared store {self.where}: cancelled while sending"))
            raise
        finally:
            self._sending = False
            if self._pending and self._wake is not None:
                self._wake.set()

    async def _write(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while True:
            if not self._pending or self._sending:
                wake.clear()
                await wake.wait()
                continue
            await self._send_pending()

    async def _send(self, batch: list[tuple[str, tuple[str, ...], tuple[Any, ...],
                                            asyncio.Future[Any]]]) -> None:
        try:
            replies = await self._execute([(s, k, a) for s, k, a, _f in batch])
            retry = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
            if retry:
                for sha in {batch[i][0] for i in retry}:
                    await self._client.script_load(self._scripts[sha])
                again = await self._execute([batch[i][:3] for i in retry])
                for i, r in zip(retry, again, strict=True):
                    replies[i] = r
        except (TimeoutError, RedisError, OSError) as e:
            err = StoreUnavailable(f"shared store {self.where} unavailable: {_first_line(e)}")
            for *_x, fut in batch:
                if not fut.done():
                    fut.set_exception(err)
            return
        for (*_x, fut), reply in zip(batch, replies, strict=True):
            if fut.done():
                continue
            if isinstance(reply, ResponseError):
                fut.set_exception(StoreUnavailable(f"shared store {self.where}: {reply}"))
            else:
                fut.set_result(reply)

    async def _execute(self, calls: list[tuple[str, tuple[str, ...], tuple[Any, ...]]]
                       ) -> list[Any]:
        if len(calls) == 1:
            sha, keys, args = calls[0]
            try:
                return [await self._client.evalsha(sha, len(keys), *keys, *args)]
            except ResponseError as e:  # NoScriptError too: handled by the caller
                return [e]
        pipe = self._client.pipeline(transaction=False)
        for sha, keys, args in calls:
            pipe.evalsha(sha, len(keys), *keys, *args)
        return list(await pipe.execute(raise_on_error=False))

    async def aclose(self) -> None:
        """Stop the writer (calls still queued fail) and close the client."""
        w, self._writer = self._writer, None
        await cancel_and_wait(w)
        while self._pending:
            fut = self._pending.popleft()[3]
            if not fut.done():
                fut.set_exception(StoreUnavailable(f"shared store {self.where} closed"))
        await self._client.aclose()
