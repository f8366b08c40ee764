"""What the engine tells an observer (a journal): intents, requests, replies, outcomes,
order records.

The engine calls an :class:`Observer` -- if one is given -- at each step that matters for
recovery after a crash:

* ``intent_accepted``: ``submit`` accepted an intent (``hid`` is its handle's id);
* ``requests_ready``: one pump pass decided to send these requests.  They are written to
  the wire only after this returns -- or, if it returns an awaitable, after that completes:
  the place for a durable group commit ("recorded before sent").  Commits must complete in
  the order they were asked for (the fences around batch cancels rely on send order);
* ``reply``: a request got a reply (or ``None`` and the transport error's text);
* ``outcome``: an intent ended;
* ``orders_changed``: the current views of the order records changed since the last call
  (new, placed, acknowledged, amended, closed...) -- unless the observer takes them itself
  when it needs them (:meth:`Engine.pull_orders <engine.core.engine.Engine.pull_orders>`:
  the journal, once per commit).

:class:`NullObserver` does nothing.  Without an observer the engine builds none of these
values, so backtests pay nothing for the seam.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from engine.core.orders import OrderView
from engine.intents import Intent
from engine.outcomes import Outcome

__all__ = ["NullObserver", "Observer", "Outgoing"]


@attrs.frozen(slots=True)
class Outgoing:
    """One request about to be written: intent ``hid``'s ``attempt``-th try (1 = first),
    ``endpoint`` and its ``params``, decided at ``time`` (seconds, engine clock); ``pair``
    the pair it is about ("": no one pair -- a query, or an order request that may touch
    several, e.g. CancelAll)."""

    hid: int
    attempt: int
    endpoint: str
    params: Mapping[str, Any]
    time: float
    pair: str = ""


class Observer(Protocol):
    """See the module docstring.  Calls are made on the event loop; they must not block."""

    def intent_accepted(self, hid: int, intent: Intent, strategy: str, time: float) -> None: ...

    def requests_ready(self, batch: Sequence[Outgoing]) -> Awaitable[None] | None: ...

    def reply(self, hid: int, endpoint: str, reply: Mapping[str, Any] | None, error: str | None,
              time: float) -> None: ...

    def outcome(self, hid: int, outcome: Outcome) -> None: ...

    def orders_changed(self, views: Sequence[OrderView]) -> None: ...


class NullObserver:
    """An :class:`Observer` that records nothing."""

    def intent_accepted(self, hid: int, intent: Intent, strategy: str, time: float) -> None:
        return None

    def requests_ready(self, batch: Sequence[Outgoing]) -> Awaitable[None] | None:
        return None

    def reply(self, hid: int, endpoint: str, reply: Mapping[str, Any] | None, error: str | None,
              time: float) -> None:
        return None

    def outcome(self, hid: int, outcome: Outcome) -> None:
        return None

    def orders_changed(self, views: Sequence[OrderView]) -> None:
        return None
