"""Round trips: each request the engine sends, from the venue call to how it ended.

A venue that can start a request itself (:class:`~engine.venues.base.SendingVenue`, the
simulated one) is given the reply callback and returns a future (kept, for shutdown, and
carrying any failure) -- no task, no coroutine per request.  Any other venue's
``request`` coroutine runs as a task, with :data:`~engine.core.apikeys.SEND_KEY` set to
the API key the engine chose for the item (a key pool), and
:data:`~engine.core.wirenote.SENDING` to its ``(hid, attempt)``.  Either way the end is
reported once to
``complete(item, endpoint, reply, error)`` (a reply handled, its future's callbacks are
removed: a success costs the loop nothing more): the reply, or the error (``TransportError`` as
raised, anything else as it was), or neither when the round trip was cut short at
shutdown (the task or future cancelled).  Both kinds are kept in the engine's
:class:`~engine.core.tasks.Tasks`, so shutdown waits for them alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine.core.apikeys import SEND_KEY
from engine.core.items import Item
from engine.core.tasks import Tasks
from engine.core.wirenote import SENDING
from engine.venues.base import Reply, SendingVenue, Venue

__all__ = ["Complete", "RoundTrips"]

#: ``complete(item, endpoint, reply, error)``: how a round trip ended (see the module).
Complete = Callable[[Item, str, "Reply | None", "BaseException | None"], None]


class RoundTrips:
    """Starts round trips over ``venue`` (see the module docstring)."""

    __slots__ = ("_complete", "_send", "_tasks", "_venue")

    def __init__(self, venue: Venue, tasks: Tasks, complete: Complete) -> None:
        self._venue = venue
        self._tasks = tasks
        self._complete = complete
        self._send = venue.send if isinstance(venue, SendingVenue) else None

    def start(self, item: Item, endpoint: str, params: dict[str, Any]) -> None:
        """Send ``endpoint`` with ``params`` for ``item`` now."""
        if self._send is None:
            self._tasks.spawn(self._roundtrip(item, endpoint, params))
            return
        fut: asyncio.Future[Reply] | None = None

        def failed(f: asyncio.Future[Reply]) -> None:
            self._failed(item, endpoint, f)

        def replied(reply: Reply) -> None:
            self._complete(item, endpoint, reply, None)
            if fut is not None:  # handled: its success needs no callback (no loop work)
                fut.remove_done_callback(failed)
                self._tasks.forget(fut)

        fut = self._send(endpoint, params, replied)
        self._tasks.track(fut)
        fut.add_done_callback(failed)

    def _failed(self, item: Item, endpoint: str, fut: asyncio.Future[Reply]) -> None:
        """A reply was handled as it came back; a failure or a cancel ends it here."""
        if fut.cancelled():
            self._complete(item, endpoint, None, None)
        elif fut.exception() is not None:
            self._complete(item, endpoint, None, fut.exception())

    async def _roundtrip(self, item: Item, endpoint: str, params: dict[str, Any]) -> None:
        if item.key is not None:  # this task's context only: the venue sends on that key
            SEND_KEY.set(item.key)
        SENDING.set((item.hid, item.attempts))  # what a venue's wire note records
        try:
            reply = await self._venue.request(endpoint, params)
        except asyncio.CancelledError:
            self._complete(item, endpoint, None, None)
            raise
        except Exception as e:  # a venue bug must not leave the handle pending
            self._complete(item, endpoint, None, e)
        else:
            self._complete(item, endpoint, reply, None)
