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
import contextvars
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


#: With only the loop's wake-up pipe watched, it is polled at every this-many jumps of time.
_DRAIN_EVERY = 64


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that never blocks: an idle wait becomes a jump of the virtual time."""

    def __init__(self) -> None:
        super().__init__()
        self.clock: VirtualClock | None = None
        self._jumps = 0

    def _skip(self) -> bool:
        """Whether this jump of time may skip polling the wake-up pipe (not every one)."""
        self._jumps += 1
        return self._jumps % _DRAIN_EVERY != 0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if len(self.get_map()) <= 1 and (timeout == 0 or (timeout is not None and self._skip())):
            # only the loop's own wake-up pipe is watched: nothing can be lost by not
            # looking now (a callback from another thread is queued before the pipe is
            # written to; the pipe is drained at every _DRAIN_EVERY-th jump of time)
            if timeout and self.clock is not None:
                self.clock._advance(timeout)
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
    """A virtual loop's timer: ordered by ``(when, seq)`` in the loop's own heap."""

    __slots__ = ("_seq",)

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...],
                 loop: asyncio.AbstractEventLoop, context: Any, seq: int,
                 debug: bool = True) -> None:
        if debug:
            super().__init__(when, callback, args, loop, context)
        else:  # what TimerHandle.__init__ sets, without its debug checks (a hot path)
            self._context = contextvars.copy_context() if context is None else context
            self._loop = loop
            self._callback = callback
            self._args = args
            self._cancelled = False
            self._repr = None
            self._source_traceback = None
            self._when = when
            self._scheduled = False
        self._seq = seq


#: A heap entry: (when, seq, timer) -- tuples compare in C, and ``seq`` (unique, in the order
#: armed) breaks ties, so the timer itself is never compared.
_Entry = tuple[float, int, _Timer]
#: Cancelled timers are swept out of the heap once they are this many and half of it.
_SWEEP_AT = 100
#: The longest wait asyncio asks of a selector (its ``MAXIMUM_SELECT_TIMEOUT``), seconds.
_MAX_SELECT_TIMEOUT = 24 * 3600


class _VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time, with one heap of timers of its own.

    Timers due at the same moment run in the order they were armed (first armed, first
    run): asyncio orders its heap by time alone, so which of two timers at one instant ran
    first depended on the heap's layout -- on every timer armed before, however unrelated.
    A loop turn (:meth:`_run_once`) does what asyncio's does, without its generic costs:
    no poll of the file descriptors while callbacks are ready and only the loop's own
    wake-up pipe is watched, no per-turn timeout arithmetic when nothing waits.
    """

    def __init__(self, clock: VirtualClock) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        self._virtual_clock = clock
        self._timer_seq = itertools.count()
        self._heap: list[_Entry] = []
        selector.clock = clock

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        if when is None:
            raise TypeError("when cannot be None")
        if self._closed:  # type: ignore[attr-defined]
            self._check_closed()  # type: ignore[attr-defined]
        seq = next(self._timer_seq)
        if self._debug:  # type: ignore[attr-defined]
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_at")  # type: ignore[attr-defined]
            timer = _Timer(when, callback, args, self, context, seq)
            if timer._source_traceback:
                del timer._source_traceback[-1]
        else:
            timer = _Timer(when, callback, args, self, context, seq, False)
        heapq.heappush(self._heap, (when, seq, timer))
        timer._scheduled = True
        return timer

    def time(self) -> float:
        return self._virtual_clock._now

    # asyncio runs a timer once ``when < time() + _clock_resolution`` (1 ns on a real
    # loop).  Virtual time lands exactly on each timer, so the resolution here is one float
    # step of the current time: a timer runs once its time is reached, never before, and
    # large times (where ``now + 1e-9 == now``) cannot stall the loop on a due timer.
    # (``now + one step`` is the next float after ``now``: "due" is ``when <= now``.)
    @property
    def _clock_resolution(self) -> float:
        now = self._virtual_clock._now
        return math.nextafter(now, math.inf) - now

    @_clock_resolution.setter
    def _clock_resolution(self, _value: float) -> None:
        """Ignore the real clock's resolution that the base class sets."""

    def _sweep(self) -> None:
        """Drop cancelled timers: all of them when they are many, else those at the head."""
        heap = self._heap
        cancelled: int = self._timer_cancelled_count  # type: ignore[has-type]
        if cancelled > _SWEEP_AT and 2 * cancelled > len(heap):
            for entry in heap:
                if entry[2]._cancelled:
                    entry[2]._scheduled = False
            self._heap = heap = [e for e in heap if not e[2]._cancelled]
            heapq.heapify(heap)
            self._timer_cancelled_count = 0
            return
        while heap and heap[0][2]._cancelled:
            heapq.heappop(heap)[2]._scheduled = False
            self._timer_cancelled_count -= 1

    def _run_once(self) -> None:
        """One turn: jump the time to the next timer if nothing is ready (after a poll of
        the file descriptors), move the timers now due to the ready queue, run what was
        ready at the start of the turn (callbacks queued meanwhile run next turn)."""
        clock = self._virtual_clock
        clock._now += clock.creep
        if self._timer_cancelled_count:
            self._sweep()
        heap, ready = self._heap, self._ready  # type: ignore[attr-defined]
        selector: _JumpingSelector = self._selector  # type: ignore[attr-defined]
        if ready or self._stopping:  # type: ignore[attr-defined]
            if len(selector.get_map()) > 1:  # more than the wake-up pipe: look, don't wait
                self._process_events(selector.select(0))  # type: ignore[attr-defined]
        else:
            timeout = (None if not heap else
                       min(max(0.0, heap[0][0] - clock._now), _MAX_SELECT_TIMEOUT))
            self._process_events(selector.select(timeout))  # type: ignore[attr-defined]
        now = clock._now
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)[2]
            timer._scheduled = False
            ready.append(timer)
        debug: bool = self._debug  # type: ignore[attr-defined]
        for _ in range(len(ready)):
            handle = ready.popleft()
            if handle._cancelled:
                continue
            if debug:
                self._current_handle = handle
                try:
                    handle._run()
                finally:
                    self._current_handle = None
            else:
                handle._run()

    def close(self) -> None:
        super().close()
        self._heap.clear()


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
        loop = self._loop
        if loop is None or loop.is_closed():
            return self.loop.call_at(when, callback)
        return loop.call_at(when, callback)

    async def sleep_until(self, when: float) -> None:
        delay = when - self._now
        if delay > 0:
            await asyncio.sleep(delay)

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.6f})"
