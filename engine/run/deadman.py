"""The dead-man switch of a live run: if the run dies, the exchange pulls its quotes.

:class:`DeadManSwitch` submits :class:`~engine.intents.CancelAllOrdersAfter` (``timeout``
seconds) *through the engine* -- so each call waits for and is charged on the API counter
(1 unit) like any request, and goes over whichever transport the engine's venue uses
(REST ``CancelAllOrdersAfter`` or WebSocket ``cancel_all_orders_after``).  Every call
restarts the exchange's countdown; :meth:`arm` makes the first, then a task refreshes it
every ``timeout / 4`` seconds (so three refreshes in a row may fail before it fires).
:meth:`disarm` stops the refreshes and sends ``timeout=0``: call it on a clean exit, after
the exit cancels.  Killed without a disarm, the countdown runs out and the exchange cancels
every open order of the account.

``refreshes`` counts the calls accepted, ``failures`` those that were not (the next
refresh tries again); units are seconds on the engine's clock.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from engine.aio import cancel_and_wait
from engine.errors import EngineError
from engine.intents import CancelAllOrdersAfter
from engine.outcomes import Outcome

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["DeadManSwitch"]

_log = structlog.get_logger("orderpace.live.deadman")

#: The strategy name the switch's intents are submitted under.
STRATEGY = "orderpace.deadman"


class DeadManSwitch:
    """Keeps ``CancelAllOrdersAfter(timeout)`` armed on ``engine`` (module docstring)."""

    def __init__(self, engine: Engine, timeout: int) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
            raise ValueError(f"timeout must be whole seconds > 0, got {timeout!r}")
        self.engine = engine
        self.timeout = timeout
        self.interval = timeout / 4.0
        self.refreshes = 0
        self.failures = 0
        self.disarmed = False
        self._task: asyncio.Task[None] | None = None

    async def _call(self, timeout: int) -> Outcome | None:
        try:
            handle = self.engine.submit(CancelAllOrdersAfter(timeout), strategy=STRATEGY)
        except EngineError as e:  # closed or locked: nothing more can be sent
            _log.warning("deadman.not_sent", timeout=timeout, why=str(e))
            return None
        outcome = await asyncio.shield(handle)  # a cancelled wait leaves the handle alone
        if not outcome.ok:
            _log.warning("deadman.refused", timeout=timeout, status=outcome.status.value,
                         error=outcome.error)
        return outcome

    async def _refresh(self) -> bool:
        outcome = await self._call(self.timeout)
        if outcome is not None and outcome.ok:
            self.refreshes += 1
            return True
        self.failures += 1
        return False

    async def arm(self) -> bool:
        """The first call, then refreshes every ``interval`` seconds in a task; whether the
        first call was accepted."""
        ok = await self._refresh()
        _log.info("deadman.armed", timeout=self.timeout, refresh_every=self.interval, ok=ok)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return ok

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._refresh()

    async def stop(self) -> None:
        """Stop refreshing (the countdown keeps running on the exchange)."""
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def disarm(self, wait: float = 5.0) -> bool:
        """Stop refreshing and switch the countdown off (``timeout=0``), waiting at most
        ``wait`` seconds; whether the exchange accepted it."""
        await self.stop()
        try:
            outcome = await asyncio.wait_for(self._call(0), wait)
        except TimeoutError:
            outcome = None
        self.disarmed = outcome is not None and outcome.ok
        _log.info("deadman.disarmed", ok=self.disarmed)
        return self.disarmed

    def details(self) -> dict[str, object]:
        """For the run's summary."""
        return {"timeout": self.timeout, "refreshes": self.refreshes,
                "failures": self.failures, "disarmed": self.disarmed}
