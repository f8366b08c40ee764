"""Keeps the simulated exchange's time moving while nothing else calls it.

:class:`MarketDriver` arms one timer at the exchange's next event (price tick, dead-man
trigger, expiry), at most ``max_interval`` seconds ahead, so fills and cancels reach
subscribers on time, in virtual time too.  Any object with ``now()`` and ``call_at(when,
callback)`` serves as its timebase (the engine's clocks do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from engine.exchange.errors import check_number
from engine.exchange.exchange import SimulatedKraken

__all__ = ["MarketDriver", "Timebase", "drive_market"]


class Timebase(Protocol):
    """Time in seconds and timers on it (structurally, the engine's clocks)."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object]) -> asyncio.TimerHandle: ...


class MarketDriver:
    """Calls ``exchange.advance`` at each of its events, at most ``max_interval`` s apart."""

    __slots__ = ("_clock", "_exchange", "_max_interval", "_timer")

    def __init__(
        self, exchange: SimulatedKraken, clock: Timebase, *, max_interval: float = 1.0
    ) -> None:
        self._max_interval = check_number("MarketDriver", "max_interval", max_interval,
                                          unit="seconds", positive=True)
        self._exchange = exchange
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._timer is not None

    def start(self) -> MarketDriver:
        """Arm the first timer (call inside the running loop); returns ``self``."""
        if self._timer is None:
            self._exchange.advance(self._clock.now())
            self._arm()
        return self

    def stop(self) -> None:
        """Cancel the timer; the exchange keeps its state."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        now = self._clock.now()
        when = min(self._exchange.next_event_time(), now + self._max_interval)
        self._timer = self._clock.call_at(when, self._fire)

    def _fire(self) -> None:
        self._exchange.advance(self._clock.now())
        self._arm()


def drive_market(
    exchange: SimulatedKraken, clock: Timebase, *, max_interval: float = 1.0
) -> MarketDriver:
    """A started :class:`MarketDriver` (call inside the running loop); ``.stop()`` it."""
    return MarketDriver(exchange, clock, max_interval=max_interval).start()
