"""Small asyncio helpers shared by the venues, the run and the shared store."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

__all__ = ["cancel_and_wait", "wait_turn"]


async def cancel_and_wait(task: asyncio.Future[Any] | None) -> None:
    """Cancel ``task`` (None: nothing) and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_turn(waiters: list[asyncio.Future[None]]) -> None:
    """Wait until someone resolves the future this call adds to ``waiters`` (a freed slot,
    say); it leaves the list however the wait ends."""
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(fut)
    try:
        await fut
    finally:
        if fut in waiters:
            waiters.remove(fut)
