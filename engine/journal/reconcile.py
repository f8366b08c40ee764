"""Reconciling a journal with the exchange after a crash -- pure logic, no I/O.

Inputs: the :class:`~engine.journal.reader.JournalState`, the exchange's open orders (an
OpenOrders result: txid -> Kraken's order record) and what the lookups of single orders
found (cl_ord_id -> ``(txid, status)``, or None: the exchange has no such order).

**Whose orders.**  An open order is this journal's when its cl_ord_id or txid is one the
journal recorded (every cl_ord_id is recorded before its add leaves), or when its cl_ord_id
carries the journal's ``mark`` (:mod:`engine.clordid`: found even if the journal lost its
row); any other open order -- placed by hand, by another program, with another key, with a
cl_ord_id of another form or none -- is left alone.

**Every unresolved intent gets exactly one outcome** (:class:`Resolved`):

* nothing recorded as sent: ``failed``, not sent;
* an add: ``accepted`` when the exchange has the order (open or closed: it was placed);
  not found while its request may still arrive (``last_request + add_wait`` seconds, its
  deadline and clock skew, not yet passed): undecided -- look again then; not found after
  that: ``failed``, "not placed" (the deadline guarantees it never will be);
* a cancel (single or batch): ``accepted`` when none of its orders is open any more, else
  ``failed`` (the order is still open: it is then cancelled or adopted like any other);
* an amend or edit: ``failed``, fate unknown (sent) -- the order's price and volume are
  taken from the exchange's record;
* anything else (queries, cancel-all, dead-man): ``failed``, interrupted (sent).

Journaled orders that may rest but are not open on the exchange are ``gone``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from engine.clordid import carries
from engine.journal.reader import IntentRow, JournalState

__all__ = ["ExchangeOrder", "Plan", "Resolved", "lookups", "plan"]

_ADDS = ("AddOrder", "AddOrderBatch")
_CANCELS = ("CancelOrder", "CancelOrderBatch")
Found = Mapping[str, tuple[str, str] | None]


@attrs.frozen(slots=True)
class Resolved:
    """The outcome decided for a journaled intent (``status``: an outcome status)."""

    run: int
    hid: int
    status: str
    txid: str | None
    error: str | None
    sent: bool


@attrs.frozen(slots=True)
class ExchangeOrder:
    """One of our orders open on the exchange.  ``pair``: the exchange's spelling (the
    record's ``descr.pair``); prices in quote units, volumes in base units; ``placed_wall``:
    UNIX seconds its age counts from (the later of ``opentm`` and the journaled last amend)."""

    txid: str
    cl_ord_id: str
    pair: str
    side: str
    price: Decimal | None
    volume: Decimal | None
    filled: Decimal
    placed_wall: float
    strategy: str | None


@attrs.frozen(slots=True)
class Plan:
    ours_open: tuple[ExchangeOrder, ...]
    foreign: tuple[str, ...]  # txids of open orders that are not ours
    resolved: tuple[Resolved, ...]
    undecided: tuple[IntentRow, ...]
    wait_until: float | None  # look the undecided up again at this UNIX time
    gone: tuple[str, ...]  # cl_ord_ids journaled as resting, not open on the exchange


def _dec(value: object) -> Decimal | None:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _ours(txid: str, info: Mapping[str, Any], known: frozenset[str], mark: str | None
          ) -> bool:
    cid = info.get("cl_ord_id")
    return txid in known or cid in known or (mark is not None and carries(cid, mark))


def lookups(state: JournalState, open_orders: Mapping[str, Any]) -> list[str]:
    """The cl_ord_ids to look up one by one: those of unresolved adds that were sent and
    are not open on the exchange."""
    open_ids = {info.get("cl_ord_id") for info in open_orders.values()
                if isinstance(info, Mapping)}
    out: list[str] = []
    for i in state.unresolved:
        if i.kind in _ADDS and i.requests:
            out.extend(cid for cid in i.ids if cid not in open_ids and cid not in out)
    return out


def plan(state: JournalState, open_orders: Mapping[str, Any], found: Found, *,
         now_wall: float, add_wait: float, final: bool = False, mark: str | None = None
         ) -> Plan:
    """What to do (module docstring).  ``final``: decide every add now (no more waiting);
    ``mark``: the journal's cl_ord_id mark (None: recorded ids only)."""
    journal = {o.cl_ord_id: o for o in state.open_orders}
    ours: list[ExchangeOrder] = []
    foreign: list[str] = []
    open_refs: dict[str, str] = {}  # cl_ord_id and txid -> txid, of every open order
    for txid, info in open_orders.items():
        if not isinstance(info, Mapping):
            continue
        cid = str(info.get("cl_ord_id") or "")
        open_refs[txid] = txid
        if cid:
            open_refs[cid] = txid
        if not _ours(txid, info, state.known_ids, mark):
            foreign.append(txid)
            continue
        d = info.get("descr")
        descr: Mapping[str, Any] = d if isinstance(d, Mapping) else {}
        rec = journal.get(cid)
        opened = float(info.get("opentm") or 0.0)
        amended = rec.placed_wall if rec is not None and rec.placed_wall is not None else 0.0
        ours.append(ExchangeOrder(
            txid=txid, cl_ord_id=cid or txid, pair=str(descr.get("pair", "")),
            side=str(descr.get("type", "")), price=_dec(descr.get("price")),
            volume=_dec(info.get("vol")), filled=_dec(info.get("vol_exec")) or Decimal(0),
            placed_wall=max(opened, amended), strategy=None if rec is None else rec.strategy))
    resolved: list[Resolved] = []
    undecided: list[IntentRow] = []
    for i in state.unresolved:
        r = _resolve(i, open_refs, found, now_wall, add_wait, final)
        if r is None:
            undecided.append(i)
        else:
            resolved.append(r)
    wait = max((i.last_request or 0.0) + add_wait for i in undecided) if undecided else None
    gone = tuple(o.cl_ord_id for o in state.open_orders
                 if o.cl_ord_id not in open_refs and (o.txid is None or o.txid not in open_refs))
    return Plan(tuple(ours), tuple(foreign), tuple(resolved), tuple(undecided), wait, gone)


def _resolve(i: IntentRow, open_refs: Mapping[str, str], found: Found, now_wall: float,
             add_wait: float, final: bool) -> Resolved | None:
    if not i.requests:
        return Resolved(i.run, i.hid, "failed", None, "not sent before the crash", False)
    if i.kind in _ADDS:
        txids = [open_refs.get(cid) or (found.get(cid) or (None, ""))[0] for cid in i.ids]
        if any(txids):
            return Resolved(i.run, i.hid, "accepted", next(t for t in txids if t), None, True)
        if not final and (i.last_request or 0.0) + add_wait > now_wall:
            return None
        return Resolved(i.run, i.hid, "failed", None,
                        "not placed: not on the exchange after its deadline", True)
    if i.kind in _CANCELS:
        still = [oid for oid in i.ids if oid in open_refs]
        if not still:
            return Resolved(i.run, i.hid, "accepted", None, None, True)
        return Resolved(i.run, i.hid, "failed", None,
                        "not executed: the order is still open after the crash", True)
    return Resolved(i.run, i.hid, "failed", None,
                    "fate unknown: the run crashed before the reply", True)
