"""The engine's background work: round trips and a budget's pending answers and operations,
kept alive until they finish and waited for (then cancelled) at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

__all__ = ["Tasks"]


class Tasks:
    """A set of running futures (see the module docstring)."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running: set[asyncio.Future[Any]] = set()

    def track(self, aw: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run ``aw`` (a coroutine or future), kept until it completes."""
        fut = asyncio.ensure_future(aw)
        self._running.add(fut)
        fut.add_done_callback(self._running.discard)
        return fut

    def forget(self, fut: asyncio.Future[Any]) -> None:
        """Stop keeping ``fut`` (its outcome was handled by other means)."""
        self._running.discard(fut)
        fut.remove_done_callback(self._running.discard)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run coroutine ``coro`` as a task, kept until it completes (the fast path of
        :meth:`track`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def keep(self, aw: Awaitable[Any] | None) -> None:
        """:meth:`track` ``aw`` unless it is None (a synchronous budget's answer)."""
        if aw is not None:
            self.track(aw)

    async def close(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for what runs; cancel the rest and wait for it."""
        if not self._running:
            return
        _done, pending = await asyncio.wait(set(self._running), timeout=timeout)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)

    def __len__(self) -> int:
        return len(self._running)
