"""The simulated world of backtests and bench cells, and the course of a run in it.

:func:`simulated_world` builds, for a tier, markets and seed:

* a :class:`~engine.exchange.SimulatedKraken` releasing decay in ``decay_step``-second ticks
  at a phase drawn from the seed, ``U(0, decay_step)`` (Kraken: "every couple of seconds"),
  with seeded random-walk prices;
* a :class:`~engine.venues.simulated.SimulatedVenue` into it with a one-way network delay of
  ``latency + U(0, jitter)`` seconds, seeded.

:func:`play` runs a :class:`~engine.run.loop.RunLoop` there: the exchange's events routed to
it, the market driven (prices at time 0 reach the strategies before they start), the
strategies started, ``started()`` called; at clock time ``until`` (or a strategy failure)
``stopping()`` is called, the strategies stop, the clients drain for at most
``drain_timeout`` seconds, the market stops, ``drained()`` is called, the clients close
and their handles settle.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from engine.clock import Clock
from engine.exchange import SimulatedKraken, drive_market
from engine.markets import Markets
from engine.run.loop import RunLoop, settle
from engine.venues.simulated import SimulatedVenue
from limiters import Tier

__all__ = [
    "DEFAULT_DECAY_STEP",
    "DEFAULT_JITTER",
    "DEFAULT_LATENCY",
    "play",
    "simulated_world",
]

#: The simulated exchange releases decay every 2 s (Kraken: "every couple of seconds").
DEFAULT_DECAY_STEP = 2.0
#: One-way network delay: 50 ms plus up to 20 ms of jitter.
DEFAULT_LATENCY = 0.05
DEFAULT_JITTER = 0.02


def simulated_world(
    tier: Tier, markets: Markets, *, seed: int, clock: Clock,
    decay_step: float = DEFAULT_DECAY_STEP, latency: float = DEFAULT_LATENCY,
    jitter: float = DEFAULT_JITTER,
) -> tuple[SimulatedKraken, SimulatedVenue]:
    """The exchange and the venue into it (see the module docstring); same seed, same world."""
    phase = random.Random(seed).uniform(0.0, decay_step) if decay_step > 0 else 0.0
    exchange = SimulatedKraken(tier, decay_step=decay_step, decay_phase=phase, markets=markets,
                               seed=seed)
    venue = SimulatedVenue(exchange, clock, latency=latency, jitter=jitter, seed=seed)
    return exchange, venue


async def play(
    run: RunLoop, exchange: SimulatedKraken, *, until: float, drain_timeout: float,
    started: Callable[[], None] | None = None, stopping: Callable[[], None] | None = None,
    drained: Callable[[], None] | None = None,
) -> None:
    """Run ``run`` against ``exchange`` until clock time ``until`` (module docstring)."""
    exchange.subscribe(run.on_exchange_event)
    driver = drive_market(exchange, run.clock)  # prices at t=0 reach the hosts
    run.start()
    if started is not None:
        started()
    await run.wait(until)
    if stopping is not None:
        stopping()
    run.stop()
    await run.drain(drain_timeout)
    driver.stop()
    if drained is not None:
        drained()
    await run.aclose()
    await settle()
