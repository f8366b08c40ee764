"""The last step before a private request's bytes leave: a note of what goes out.

The engine's observer records each request before its round trip starts (a grouped
commit), but two facts are only known later, inside the venue: the API key of the pool
that carries it (the engine's choice, or another key of the pool when that one left) and
the nonce, which a key's wire slot draws only when the request may go
(:mod:`engine.core.keys`).  So a venue that sends private requests calls its ``on_wire``
note -- if one is set -- after it holds the key's slot and nonce, and waits for what it
returns, if anything (the journal commits a REST request's note at once and returns
nothing; a WebSocket one waits for the commit shared by the requests noted in one loop
turn, each call with its own awaitable, so a caller that gives up cancels no other's)
*before* it writes a byte:

* REST: ``on_wire(endpoint, key_label, nonce, None)``;
* WebSocket v2: ``on_wire(endpoint, None, None, req_id)`` -- v2 requests carry a session
  token and a ``req_id``, no key and no nonce.

The request it belongs to is the round trip's (``SENDING``: ``(hid, attempt)``, set by
:mod:`engine.core.roundtrips` in the round trip's task; None outside one, e.g. a venue's
own lookup before the engine runs).  A note that raises means the request cannot be
recorded: :func:`noted` turns that into a
:class:`~engine.venues.base.TransportError` with ``sent=False`` -- nothing was written, the
nonce drawn is simply never used (later ones are higher).
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Protocol, runtime_checkable

from engine.venues.base import TransportError

__all__ = ["SENDING", "UNRECORDED", "Noting", "WireNote", "noted"]

#: ``(hid, attempt)`` of the engine round trip running in this task (None: not one).
SENDING: ContextVar[tuple[int, int] | None] = ContextVar("orderpace_sending", default=None)

#: The start of the error text of a request refused because its note failed.
UNRECORDED = "journal write failed"


class WireNote(Protocol):
    """Called right before a request is written; raises (or returns an awaitable that
    raises) if it cannot be recorded.  An awaitable (the caller's own, not shared: it may
    be cancelled): the request waits for it."""

    def __call__(self, endpoint: str, key: str | None, nonce: int | None,
                 req_id: int | None) -> Awaitable[None] | None: ...


@runtime_checkable
class Noting(Protocol):
    """A venue that calls its ``on_wire`` note (None: no note) before each write."""

    on_wire: WireNote | None


async def noted(note: WireNote | None, endpoint: str, key: str | None, nonce: int | None,
                req_id: int | None = None) -> None:
    """Call ``note`` (if any) and wait for what it returns; a failure becomes a not-sent
    :class:`TransportError`."""
    if note is None:
        return
    try:
        done = note(endpoint, key, nonce, req_id)
        if done is not None:
            await done
    except Exception as e:
        raise TransportError(f"{UNRECORDED}: {e}", endpoint=endpoint, sent=False) from None
