"""Recovery at start: reconcile the journal of an earlier run with the exchange, before the
strategy starts.

:func:`seed_counters` first, before any request: each pair's trading counter and each key's
API counter (every key of a pool: ``api:<key id>``) start from the journaled level, decayed
to now at the tier's rate (``max(0, level - decay * (now - then))``, units and seconds) --
never lowering a level the budget already holds (a shared store may know better). A pair
the journal has no level for starts at its maximum when the journal has earlier runs
(something may have traded there unseen); a new journal records the first run and starts
from zero. With no journal at all (``--journal off``) the live run starts every trading
counter at its max.

:func:`recover` then, when the journal holds unfinished work (or is new: marked orders
of a lost journal may be open, :mod:`engine.journal.marks`):

1. one OpenOrders (2 API units), and one QueryOrders (1 unit) per unresolved add that was
   sent and is not open -- all submitted through the engine, so paced on its API counter
   (and journaled in the new run);
2. :func:`~engine.journal.reconcile.plan`; adds that may still arrive are looked up again
   once their deadline (plus skew) has passed, then decided for good;
3. writes the decided outcomes (``recovered = 1``) and marks gone orders closed;
4. adopts our open orders into the engine (``Engine.adopt``: they count under the caps and
   age from ``opentm`` or the last amend) -- for ``strategy`` with ``on_start="adopt"``, or
   to cancel them at once (``"cancel"``: CancelOrderBatch through the engine, 50 a batch);
   orders of pairs this run does not trade are left and reported;
5. returns a :class:`RecoveryReport`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from engine import kraken_errors as ke
from engine.core.adopt import Adopted
from engine.core.budget import MemoryBudget
from engine.intents import CancelOrderBatch, QueryOpenOrders, QueryOrders, Side
from engine.journal.reader import JournalState
from engine.journal.reconcile import ExchangeOrder, Plan, lookups, plan
from engine.journal.writer import JournalWriter

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["RecoveryError", "RecoveryReport", "recover", "seed_counters"]

_log = structlog.get_logger("orderpace.journal")

#: The strategy name of recovery's own intents (lookups, start cancels).
RECOVERY = "orderpace.recovery"
_BATCH = 50


class RecoveryError(RuntimeError):
    """Recovery could not learn what it needs from the exchange (the message says what)."""


@attrs.frozen(slots=True)
class RecoveryReport:
    """What recovery found and did (counts of orders and intents)."""

    on_start: str
    found_open: int = 0  # our orders open on the exchange
    adopted: int = 0
    cancelled: int = 0  # of the adopted, cancelled at start
    left: int = 0  # ours, on pairs this run does not trade: left open
    foreign: int = 0  # open orders that are not ours: left alone
    gone: int = 0  # journaled as resting, no longer open
    resolved: dict[str, int] = attrs.field(factory=dict)  # outcome status -> intents
    lookups: int = 0  # single-order lookups
    waited: float = 0.0  # seconds spent waiting for adds' deadlines
    seeded: dict[str, float] = attrs.field(factory=dict)  # counter -> starting level

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def seed_counters(engine: Engine, state: JournalState | None, *,
                  now_wall: float) -> dict[str, float]:
    """Start the engine's counters from the journal (module docstring); the levels set."""
    limits = engine.profile
    seeded: dict[str, float] = {}
    for name in engine.markets.names:
        row = None if state is None else state.counters.get(name)
        if row is not None:
            level = max(0.0, row.level - limits.trading.decay * max(0.0, now_wall - row.wall))
        elif state is None or state.runs:
            level = limits.trading.maximum
        else:
            continue
        level = max(level, engine.trading_level(name))  # never below what is known already
        engine.resync_trading(name, level)
        seeded[name] = level
    if state is None or not isinstance(engine.budget, MemoryBudget):
        return seeded  # a shared budget (another process's store): its levels stand
    now = engine.clock.now()
    keys = [("api", engine.api_counter, engine.api_level())]  # the engine's (first) key
    for k in () if engine.keys is None else engine.keys.ids:  # each key of a pool
        keys.append((f"api:{k}", engine.budget.api_counter(k), engine.budget.api_level(k, now)))
    for name, counter, known in keys:
        api = state.counters.get(name)
        if api is not None:
            level = max(0.0, api.level - limits.api.decay * max(0.0, now_wall - api.wall), known)
            counter.resync(level, now)
            seeded[name] = level
    return seeded


async def _open_orders(engine: Engine) -> Mapping[str, Any]:
    out = await engine.submit(QueryOpenOrders(), strategy=RECOVERY)
    result = out.result or {}
    orders = result.get("open") if isinstance(result, Mapping) else None
    if not out.ok or not isinstance(orders, Mapping):
        raise RecoveryError(f"cannot reconcile the journal: OpenOrders {out.status.value}"
                            f"{': ' + out.error if out.error else ''}")
    return orders


async def _look_up(engine: Engine, ids: list[str]) -> dict[str, tuple[str, str] | None]:
    """Each cl_ord_id's ``(txid, status)``, None when the exchange has no such order;
    ids whose lookup failed otherwise are left out (undecided)."""
    handles = [engine.submit(QueryOrders((cid,)), strategy=RECOVERY) for cid in ids]
    found: dict[str, tuple[str, str] | None] = {}
    for cid, h in zip(ids, handles, strict=True):
        out = await h
        if out.ok and isinstance(out.result, Mapping) and out.result:
            txid, info = next(iter(out.result.items()))
            status = info.get("status", "") if isinstance(info, Mapping) else ""
            found[cid] = (str(txid), str(status))
        elif out.error is not None and ke.UNKNOWN_ORDER in out.error:
            found[cid] = None
    return found


async def _plan(engine: Engine, state: JournalState, add_wait: float, mark: str | None
                ) -> tuple[Plan, int, float]:
    clock = engine.clock
    open_orders = await _open_orders(engine)
    ids = lookups(state, open_orders)
    found = await _look_up(engine, ids) if ids else {}
    p = plan(state, open_orders, found, now_wall=clock.wall(), add_wait=add_wait, mark=mark)
    n, waited = len(ids), 0.0
    if p.undecided:
        assert p.wait_until is not None
        waited = max(0.0, p.wait_until - clock.wall())
        _log.info("journal.waiting_for_deadlines", adds=len(p.undecided), seconds=waited)
        await asyncio.sleep(waited)
        open_orders = await _open_orders(engine)
        ids = lookups(state, open_orders)
        found = await _look_up(engine, ids) if ids else {}
        n += len(ids)
        p = plan(state, open_orders, found, now_wall=clock.wall(), add_wait=add_wait,
                 final=True, mark=mark)
    return p, n, waited


def _adoptable(engine: Engine, orders: tuple[ExchangeOrder, ...], strategy: str,
               now_wall: float) -> tuple[list[Adopted], int]:
    now = engine.clock.now()
    out: list[Adopted] = []
    left = 0
    for o in orders:
        try:
            pair = engine.markets.get(o.pair).name
            side = Side(o.side)
        except ValueError:
            left += 1
            _log.warning("journal.order_left", txid=o.txid, pair=o.pair,
                         why="a pair this run does not trade")
            continue
        volume = o.volume - o.filled if o.volume is not None else None
        out.append(Adopted(o.cl_ord_id, o.txid, pair, side, o.price, volume,
                           now - max(0.0, now_wall - o.placed_wall), strategy,
                           filled=Decimal(0)))
    return out, left


async def recover(engine: Engine, state: JournalState, writer: JournalWriter, *,
                  on_start: str = "cancel", strategy: str = "default",
                  add_wait: float = 6.0, seeded: dict[str, float] | None = None,
                  mark: str | None = None) -> RecoveryReport:
    """Reconcile ``state`` (the journal before this run) with the exchange (module
    docstring).  ``add_wait``: seconds after an add's last request until it can no longer
    arrive (its deadline plus clock skew); ``seeded``: the counters' starting levels, for
    the report; ``mark``: the journal's cl_ord_id mark -- with one, a new journal (no
    earlier run: perhaps the file was lost) also looks for marked orders still open.
    Raises :class:`RecoveryError`."""
    if on_start not in ("cancel", "adopt"):
        raise ValueError(f"on_start must be 'cancel' or 'adopt', got {on_start!r}")
    seeded = {} if seeded is None else seeded
    if not state.unfinished and (state.runs or mark is None):
        return RecoveryReport(on_start, seeded=seeded)
    p, n, waited = await _plan(engine, state, add_wait, mark)
    wall = engine.clock.wall()
    resolved: dict[str, int] = {}
    for r in p.resolved:
        writer.add("events", (r.run, r.hid, "o", r.status, r.error, r.txid, int(r.sent), None,
                              wall, 1))
        resolved[r.status] = resolved.get(r.status, 0) + 1
    for cid in p.gone:
        writer.add("gone", (wall, cid))
    writer.flush()
    owner = strategy if on_start == "adopt" else RECOVERY
    adopted, left = _adoptable(engine, p.ours_open, owner, wall)
    views = engine.adopt(adopted)
    cancelled = 0
    if on_start == "cancel" and views:
        ids = [v.cl_ord_id for v in views]
        handles = [engine.submit(CancelOrderBatch(tuple(ids[i:i + _BATCH])), strategy=RECOVERY)
                   for i in range(0, len(ids), _BATCH)]
        for h in handles:
            out = await h
            if out.ok:
                cancelled += len(h.intent.order_ids)  # type: ignore[union-attr]
    report = RecoveryReport(
        on_start, found_open=len(p.ours_open), adopted=len(views), cancelled=cancelled,
        left=left, foreign=len(p.foreign), gone=len(p.gone), resolved=resolved, lookups=n,
        waited=waited, seeded=seeded)
    _log.info("journal.recovered", **report.as_dict())
    return report
