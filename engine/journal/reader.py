"""Reading a journal: what a restart (or a human) needs to know.

:func:`read_state` returns a :class:`JournalState`: the runs, the orders not known closed,
every intent without an outcome (with how many requests it sent, and when the last one
was recorded), every order id the journal ever recorded (orderpace's own orders: an order
on the exchange whose cl_ord_id or txid is among them is this journal's), and the last
modelled level of each counter.  Times are UNIX seconds.
"""

from __future__ import annotations

import sqlite3

import attrs

__all__ = ["CounterRow", "IntentRow", "JournalState", "OrderRow", "RunRow", "read_state"]

#: Order states (:class:`~engine.core.orders.OrderState` values) of an order that may rest.
OPEN_STATES = ("queued", "pending", "open", "unknown")


@attrs.frozen(slots=True)
class RunRow:
    run: int
    started: float
    ended: float | None
    pid: int | None
    summary: str | None


@attrs.frozen(slots=True)
class OrderRow:
    """An order's last journaled record (price, volume: decimal strings)."""

    cl_ord_id: str
    run: int
    txid: str | None
    pair: str
    side: str | None
    price: str | None
    volume: str | None
    state: str
    placed_wall: float | None
    strategy: str | None


@attrs.frozen(slots=True)
class IntentRow:
    """An intent with no outcome: ``ids`` the order ids it names, ``requests`` how many
    requests it recorded, ``last_request`` the wall time of the last one (None: none)."""

    run: int
    hid: int
    kind: str
    strategy: str | None
    ids: tuple[str, ...]
    pair: str | None
    wall: float
    requests: int
    last_request: float | None


@attrs.frozen(slots=True)
class CounterRow:
    name: str
    level: float
    wall: float


@attrs.frozen(slots=True)
class JournalState:
    runs: tuple[RunRow, ...]
    open_orders: tuple[OrderRow, ...]
    unresolved: tuple[IntentRow, ...]
    known_ids: frozenset[str]
    counters: dict[str, CounterRow]
    outcomes: dict[str, int]  # terminal status -> count, over every run

    @property
    def last_run(self) -> RunRow | None:
        return self.runs[-1] if self.runs else None

    @property
    def unfinished(self) -> bool:
        """Work a restart must reconcile: orders that may rest, intents without outcome."""
        return bool(self.open_orders or self.unresolved)


def read_state(db: sqlite3.Connection) -> JournalState:
    """The journal's state (see the module docstring)."""
    runs = tuple(RunRow(*r) for r in db.execute(
        "SELECT run, started, ended, pid, summary FROM runs ORDER BY run"))
    marks = ",".join("?" * len(OPEN_STATES))
    orders = tuple(OrderRow(*r) for r in db.execute(
        "SELECT cl_ord_id, run, txid, pair, side, price, volume, state, placed_wall, strategy "
        f"FROM orders WHERE state IN ({marks}) ORDER BY wall", OPEN_STATES))
    unresolved = tuple(
        IntentRow(run, hid, kind, strategy, tuple(ids.split()), pair, wall, n, last)
        for run, hid, kind, strategy, ids, pair, wall, n, last in db.execute(
            "WITH open_i AS (SELECT i.* FROM intents i LEFT JOIN outcomes o "
            "  ON o.run = i.run AND o.hid = i.hid WHERE o.status IS NULL), "
            "sent AS (SELECT r.run, r.hid, COUNT(*) AS n, MAX(r.wall) AS last "
            "  FROM requests r JOIN open_i USING (run, hid) GROUP BY r.run, r.hid) "
            "SELECT i.run, i.hid, i.kind, i.strategy, i.ids, i.pair, i.wall, "
            "  COALESCE(s.n, 0), s.last FROM open_i i LEFT JOIN sent s USING (run, hid) "
            "ORDER BY i.run, i.hid"))
    known: set[str] = set()
    for cid, txid in db.execute("SELECT cl_ord_id, txid FROM orders"):
        known.add(cid)
        if txid:
            known.add(txid)
    for (ids,) in db.execute("SELECT ids FROM intents WHERE kind IN ('AddOrder', "
                             "'AddOrderBatch')"):
        known.update(ids.split())
    counters: dict[str, CounterRow] = {}  # the latest level of each (both places)
    for name, level, wall in db.execute("SELECT name, level, wall FROM counters UNION ALL "
                                        "SELECT name, level, wall FROM levels"):
        row = counters.get(name)
        if row is None or wall >= row.wall:
            counters[name] = CounterRow(name, float(level), wall)
    outcomes = dict(db.execute("SELECT status, COUNT(*) FROM outcomes GROUP BY status"))
    return JournalState(runs, orders, unresolved, frozenset(known), counters, outcomes)
