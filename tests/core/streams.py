"""Random intent streams against the simulated exchange, and the invariants they must keep.

Shared by the scheduler properties: :func:`simulate` runs a stream (optionally with a
budget that answers later, :class:`~tests.core.doubles.AsyncBudget`), :func:`check`
asserts the invariants, :func:`examples` sizes a costly property from the Hypothesis
profile in force (so ``HYPOTHESIS_PROFILE=explore`` raises it too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as attrs_replace
from decimal import Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from engine.clock import VirtualClock
from engine.core import Engine, EngineSettings, MemoryBudget, OrderView, Outgoing
from engine.exchange import CancelReason, OrderCancelled, OrderFilled, SimulatedKraken, drive_market
from engine.intents import (
    AddOrder,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CancelOrderBatch,
    EditOrder,
    Intent,
    QueryBalance,
    QueryOpenOrders,
)
from engine.kraken_errors import is_rate_limit_error
from engine.outcomes import Handle, Outcome
from engine.venues.simulated import SimulatedVenue
from limiters import KrakenProfile, LimiterSettings, tier_limits

from .doubles import AsyncBudget

PAIRS = ("XBT/USD", "ETH/USD")
TICK = {"XBT/USD": Decimal("0.1"), "ETH/USD": Decimal("0.01")}
VOLUME = {"XBT/USD": "0.01", "ETH/USD": "0.1"}


def examples(share: float, *, at_least: int = 1, of: int | None = None) -> int:
    """``share`` of the profile's ``max_examples`` (``of``: another count), and at least
    ``at_least``: a per-test cost scale, so a heavier profile (``ci``, ``explore``) raises
    every property."""
    base = settings.default.max_examples if of is None else of
    return max(at_least, round(base * share))


@dataclass(frozen=True)
class Op:
    """One step of a random stream: wait ``delay`` seconds, then do ``kind`` to ``ref``."""

    delay: float
    kind: str
    pair: int
    ref: int
    offset: int


ops = st.builds(
    Op,
    delay=st.sampled_from([0.0, 0.0, 0.0, 0.05, 0.5, 3.0, 7.0]),
    kind=st.sampled_from(
        ["add"] * 5 + ["burst"] * 2 + ["amend"] * 3
        + ["edit", "cancel", "cancel", "lazy_cancel", "batch", "query", "cancel_all"]
    ),
    pair=st.integers(0, 1),
    ref=st.integers(0, 10_000),
    offset=st.integers(5, 400),
)


class QueuedWatch:
    """An observer noting the engine's queued count whenever anything happens."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.lowest = 0
        self.seen = 0

    def _look(self) -> None:
        if self.engine is not None:
            self.seen += 1
            self.lowest = min(self.lowest, self.engine.queued)

    def intent_accepted(self, hid: int, intent: Intent, strategy: str, time: float) -> None:
        self._look()

    def requests_ready(self, batch: Sequence[Outgoing]) -> None:
        self._look()

    def reply(self, hid: int, endpoint: str, reply: Mapping[str, Any] | None,
              error: str | None, time: float) -> None:
        self._look()

    def outcome(self, hid: int, outcome: Outcome) -> None:
        self._look()

    def orders_changed(self, views: Sequence[OrderView]) -> None:
        self._look()


@dataclass
class Run:
    handles: list[Handle]
    exchange: SimulatedKraken
    engine: Engine
    submitted: int
    watch: QueuedWatch
    budget_delay: float | None


def simulate(
    tier: str, stream: list[Op], *, jitter: float, phase: float, seed: int,
    horizon: float = 900.0, budget_delay: float | None = None,
) -> Run:
    """Run ``stream``; ``budget_delay`` (seconds, 0 = one loop turn) puts an
    :class:`AsyncBudget` in front of the engine's memory budget."""
    clock = VirtualClock()
    exchange = SimulatedKraken(tier=tier, decay_step=2.0, decay_phase=phase, seed=seed)
    venue = SimulatedVenue(exchange, clock, latency=0.02, jitter=jitter, seed=seed)
    limits = LimiterSettings.matching(decay_step=2.0, jitter=jitter)
    handles: list[Handle] = []
    adds: list[AddOrder] = []
    watch = QueuedWatch()

    async def main() -> Engine:
        settings_ = EngineSettings(trace=True, max_queue=10_000)
        budget = None
        if budget_delay is not None:
            memory = MemoryBudget(KrakenProfile.for_tier(tier, limits), settings_)
            budget = AsyncBudget(memory, clock, budget_delay)
        engine = Engine(venue, tier=tier, clock=clock, limits=limits, settings=settings_,
                        budget=budget, observer=watch if budget_delay is not None else None)
        watch.engine = engine

        def on_event(ev: object) -> None:
            # a replaced order (EditOrder) lives on under a new txid: not a close
            replaced = isinstance(ev, OrderCancelled) and ev.reason is CancelReason.REPLACED
            if isinstance(ev, OrderFilled | OrderCancelled) and not replaced:
                engine.order_closed(ev.txid)

        exchange.subscribe(on_event)
        driver = drive_market(exchange, clock)
        async with engine:
            for op in stream:
                if op.delay:
                    await asyncio.sleep(op.delay)
                # a burst offers up to 40 adds at once: far more than the budget allows
                repeat = op.offset % 40 if op.kind == "burst" else 1
                for i in range(repeat):
                    intent = build(attrs_replace(op, offset=op.offset + 2 * i), adds, exchange)
                    if intent is None:
                        continue
                    try:
                        handles.append(engine.submit(intent, strategy=f"s{op.pair}"))
                    except ValueError:
                        continue  # unknown order (already closed) and the like: refused
                    watch.lowest = min(watch.lowest, engine.queued)
                    if isinstance(intent, AddOrder):
                        adds.append(intent)
            await asyncio.wait(handles, timeout=horizon) if handles else None
        driver.stop()
        return engine

    engine = clock.run(main())
    return Run(handles, exchange, engine, len(handles), watch, budget_delay)


def build(op: Op, adds: list[AddOrder], exchange: SimulatedKraken) -> Intent | None:
    pair = PAIRS[op.pair]
    tick = TICK[pair]
    mid = Decimal(exchange.price(pair)).quantize(tick)
    side = "buy" if op.offset % 2 else "sell"
    away = op.offset * tick * 10 * (-1 if side == "buy" else 1)
    price = mid + away
    if op.kind in ("add", "burst"):
        return AddOrder(pair, side, VOLUME[pair], price)
    target = adds[op.ref % len(adds)] if adds else None
    if op.kind in ("query",):
        return QueryOpenOrders() if op.offset % 2 else QueryBalance()
    if op.kind == "cancel_all":
        return CancelAll() if op.offset % 5 == 0 else None
    if target is None:
        return None
    if op.kind == "amend":
        return AmendOrder(target.cl_ord_id, price=price if target.pair == pair else None,
                          volume=None if target.pair == pair else "0.2")
    if op.kind == "edit":
        return EditOrder(target.cl_ord_id, volume="0.3")
    if op.kind == "cancel":
        return CancelOrder(target.cl_ord_id)
    if op.kind == "lazy_cancel":
        return CancelOrder(target.cl_ord_id, urgent=False)
    ids = list(dict.fromkeys(a.cl_ord_id for a in adds[-(op.ref % 5 + 1):]))
    return CancelOrderBatch(ids)


def check(run: Run, tier: str) -> None:
    """No rate-limit error; one outcome per intent; nothing left queued or in flight, and
    the queued count never below zero; no counter past its capacity; work-conserving."""
    stats: Any = run.exchange.stats
    rate_errors = {e: n for e, n in stats.errors.items() if is_rate_limit_error(e)}
    assert rate_errors == {}, rate_errors
    outcomes: list[Outcome] = [h.result() for h in run.handles]  # all resolved (raises if not)
    assert len(outcomes) == run.submitted
    assert sum(run.engine.outcomes.values()) == run.submitted  # exactly one outcome each
    assert run.engine.queued == 0
    assert run.engine.inflight == 0
    assert run.watch.lowest >= 0
    limits = tier_limits(tier)
    trace = run.engine.trace
    for d in trace:
        if d.action == "send" and d.pair != "api":
            assert d.level + d.cost <= limits.trading_max + 1e-9
    # work-conserving: a pair told to wait w seconds is looked at again within w seconds
    # (plus the budget's answer time, when it answers later), unless it first became
    # blocked on an event (a free request slot, a closed order) or had nothing left to send
    slack = 1e-6 + (run.budget_delay or 0.0)
    pair_of = {a.intent.cl_ord_id: a.intent.pair for a in run.handles
               if isinstance(a.intent, AddOrder)}
    queued: dict[str, list[tuple[float, float]]] = {}
    for h in run.handles:
        o = h.result()
        pair = getattr(o.intent, "pair", None) or pair_of.get(getattr(o.intent, "order_id", ""))
        if pair is not None and o.sent_at is not None:
            queued.setdefault(pair, []).append((o.queued_at, o.sent_at))
    last_wait: dict[str, tuple[float, float]] = {}
    for d in trace:
        prev = last_wait.pop(d.pair, None)
        if prev is not None and d.time > prev[0] + prev[1] + slack:
            due = prev[0] + prev[1]
            waiting = [q for q in queued.get(d.pair, []) if q[0] <= due and q[1] > due + slack]
            assert not waiting, (d, prev, waiting[:3])
        if d.action in ("wait", "defer"):
            last_wait[d.pair] = (d.time, d.wait)
