"""The engine's one timer: armed through the clock for the earliest moment anything held may
fit (seconds, engine clock); re-armed only for an earlier moment, cancelled when nothing
waits on time.  No polling: between events, this is the only wake-up."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from engine.clock import Clock

__all__ = ["Timer"]


class Timer:
    """Calls ``fire`` at the moment last armed (the earliest asked for since it fired)."""

    __slots__ = ("_clock", "_fire", "_handle", "at")

    def __init__(self, clock: Clock, fire: Callable[[], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._handle: asyncio.TimerHandle | None = None
        self.at = math.inf  # when it fires (inf: not armed)

    def arm(self, when: float) -> None:
        """Fire at ``when`` unless already armed earlier; ``inf`` cancels."""
        if when == math.inf:
            self.cancel()
            return
        if self._handle is not None and self.at <= when:
            return
        self.cancel()
        self.at = when
        self._handle = self._clock.call_at(when, self._fired)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.at = math.inf

    def _fired(self) -> None:
        self._handle = None
        self.at = math.inf
        self._fire()
