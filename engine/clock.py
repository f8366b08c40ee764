"""Clocks: the only way the engine reads time or arms timers.

* :class:`RealClock` wraps the running event loop: ``now()`` is ``loop.time()`` (monotonic
  seconds) and timers are ``loop.call_at``.
* :class:`VirtualClock` runs coroutines on an event loop whose time moves only when nothing
  is ready to run: where a real loop would block in ``select(timeout)``, the virtual loop
  polls its file descriptors without blocking and, finding nothing, jumps its time forward
  by ``timeout`` -- straight to the next timer.  ``asyncio.sleep``, ``wait_for`` and
  ``call_at`` all work unchanged, an hour of trading replays in the time its callbacks
  take, and a run is deterministic for a given seed.  Timers due at the same moment run
  in the order they were armed (first armed, first run).

``wall()`` gives UNIX time in seconds (for nonces, deadlines, timestamps in replies): the
real clock reads ``time.time()``; the virtual clock adds its virtual time to an epoch.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import selectors
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["DEFAULT_EPOCH", "Clock", "RealClock", "VirtualClock", "VirtualTimeDeadlock"]

T = TypeVar("T")

#: UNIX time at which virtual clocks start by default (2024-01-01T00:00:00Z).
DEFAULT_EPOCH = 1_704_067_200.0


class VirtualTimeDeadlock(RuntimeError):
    """The virtual loop has nothing ready, no timer and no I/O: it would wait forever."""


@runtime_checkable
class Clock(Protocol):
    """Time and timers, injected into everything that needs them."""

    def now(self) -> float:
        """Monotonic seconds: the time limiters are given."""
        ...

    def wall(self) -> float:
        """UNIX time in seconds."""
        ...

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        """Run ``callback`` at ``now() == when``; the handle can be cancelled."""
        ...

    async def sleep_until(self, when: float) -> None:
        """Suspend until ``now() >= when``."""
        ...


class RealClock:
    """The running event loop's clock."""

    __slots__ = ("_loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop if self._loop is not None else asyncio.get_running_loop()

    def now(self) -> float:
        return self.loop.time()

    def wall(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return self.loop.call_at(when, callback)

    async def sleep_until(self, when: float) -> None:
        delay = when - self.now()
        if delay > 0:
            await asyncio.sleep(delay)

    def __repr__(self) -> str:
        return "RealClock()"


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that never blocks: an idle wait becomes a jump of the virtual time."""

    def __init__(self) -> None:
        super().__init__()
        self.clock: VirtualClock | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout == 0 and len(self.get_map()) <= 1:
            # callbacks are ready and only the loop's own wake-up pipe is watched: nothing
            # can be lost by not looking now (it is drained at the next jump of time)
            return []
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if events or timeout == 0 or self.clock is None:
            return events
        if timeout is None:
            raise VirtualTimeDeadlock(
                "virtual clock: nothing is ready to run and no timer is armed; "
                "every task is waiting on something that can never happen"
            )
        self.clock._advance(timeout)
        return events


class _Timer(asyncio.TimerHandle):
    """A timer that, at the same time as another, runs after the ones armed before it."""

    __slots__ = ("_seq",)

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...],
                 loop: asyncio.AbstractEventLoop, context: Any, seq: int) -> None:
        super().__init__(when, callback, args, loop, context)
        self._seq = seq

    def __lt__(self, other: asyncio.TimerHandle) -> bool:
        w: float = self._when  # type: ignore[attr-defined]
        o: float = other._when  # type: ignore[attr-defined]
        if type(other) is _Timer:
            return w < o or (w == o and self._seq < other._seq)
        return w < o


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: VirtualClock) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        self._virtual_clock = clock
        self._timer_seq = itertools.count()
        selector.clock = clock

    # Timers due at the same moment run in the order they were armed.  asyncio orders its
    # heap by time alone, so which of two timers at one instant ran first depended on the
    # heap's layout -- on every timer armed before, however unrelated.
    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()  # type: ignore[attr-defined]
        if self._debug:  # type: ignore[attr-defined]
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_at")  # type: ignore[attr-defined]
        timer = _Timer(when, callback, args, self, context, next(self._timer_seq))
        if timer._source_traceback:  # type: ignore[attr-defined]
            del timer._source_traceback[-1]  # type: ignore[attr-defined]
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def time(self) -> float:
        return self._virtual_clock._now

    # asyncio runs a timer once ``when < time() + _clock_resolution`` (1 ns on a real
    # loop).  Virtual time lands exactly on each timer, so the resolution here is one float
    # step of the current time: a timer runs once its time is reached, never before, and
    # large times (where ``now + 1e-9 == now``) cannot stall the loop on a due timer.
    @property
    def _clock_resolution(self) -> float:
        now = self._virtual_clock._now
        return math.nextafter(now, math.inf) - now

    @_clock_resolution.setter
    def _clock_resolution(self, _value: float) -> None:
        """Ignore the real clock's resolution that the base class sets."""

    def _run_once(self) -> None:
        self._virtual_clock._now += self._virtual_clock.creep
        super()._run_once()  # type: ignore[misc]


class VirtualClock:
    """A clock for backtests: time jumps to the next timer whenever the loop is idle.

    ``start`` is the initial ``now()`` (seconds); ``epoch`` the UNIX time at ``now() == 0``.
    ``creep`` (seconds, default 0) is added to the time at every loop iteration, the way a
    real clock moves on while callbacks run: code that re-arms a timer at "now" after a
    float rounding shortfall (aiolimiter does) would otherwise spin at one frozen instant.
    Use :meth:`run` to run the top-level coroutine on this clock's loop.
    """

    __slots__ = ("_loop", "_now", "creep", "epoch")

    def __init__(
        self, start: float = 0.0, epoch: float = DEFAULT_EPOCH, *, creep: float = 0.0
    ) -> None:
        if not 0.0 <= creep < 1e-3:
            raise ValueError(f"creep must be in [0, 1e-3) seconds, got {creep!r}")
        self._now = float(start)
        self.epoch = float(epoch)
        self.creep = float(creep)
        self._loop: _VirtualLoop | None = None

    def _advance(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The virtual event loop (created on first use)."""
        if self._loop is None or self._loop.is_closed():
            self._loop = _VirtualLoop(self)
        return self._loop

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run ``main`` to completion on the virtual loop and return its result."""
        runner = asyncio.Runner(loop_factory=lambda: self.loop)
        with runner:
            return runner.run(main)

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self.epoch + self._now

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return self.loop.call_at(when, callback)

    async def sleep_until(self, when: float) -> None:
        delay = when - self._now
        if delay > 0:
            await asyncio.sleep(delay)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.6f})"
