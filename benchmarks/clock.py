"""A virtual clock that creeps forward like a real one: 1 ns per event-loop iteration.

:class:`~engine.clock.VirtualClock` moves time only when the loop is idle.  Code that arms
a timer "now" and re-checks at that timer keeps the loop busy at one frozen instant
forever -- which a real clock never allows, since ``time.monotonic()`` moves on by
microseconds per iteration.  aiolimiter does exactly that when float rounding leaves a
waiter ``1e-14`` units short: its wake-up lands on the same float time, nothing has
leaked, and it re-arms (a livelock at one virtual instant; on a real loop it resolves
within microseconds).

:class:`CreepingClock` adds :data:`CREEP` seconds of time to every loop iteration, so
such code makes progress as it would in real time.  Over a million iterations that is one
millisecond in all -- far below any latency or rate in the bench -- and it applies to
every contender alike.
"""

from __future__ import annotations

from engine.clock import VirtualClock

__all__ = ["CREEP", "CreepingClock"]

#: Seconds of time each event-loop iteration takes on a :class:`CreepingClock`.
CREEP = 1e-9


def CreepingClock() -> VirtualClock:  # noqa: N802 -- reads as the clock class it builds
    """A :class:`~engine.clock.VirtualClock` whose time also moves 1 ns per loop iteration."""
    return VirtualClock(creep=CREEP)
