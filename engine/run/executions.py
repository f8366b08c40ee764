"""The executions feed drives a live run's order state, and its ``ratecount`` resyncs the
engine's trading counters.

:class:`ExecutionsRouter` is the WebSocket venue's listener.  For each item of an
``executions`` update (WebSocket v2):

* an order **filled** (``exec_type`` ``filled``, or a ``trade`` whose ``order_status`` is
  ``filled``; once per order) -> :meth:`RunLoop.fill` with ``cum_qty`` at ``avg_price``: the
  strategy's ``on_fill``, and the engine closes the order -- the very path the REST
  :class:`~engine.venues.kraken_rest.poller.OrderPoller` feeds;
* **canceled** / **expired** -> :meth:`RunLoop.closed`; a cancel the engine caused itself
  (``User requested`` or ``Unfilled IOC`` while a request about the order is queued or on
  the wire) is marked ``engine_knows`` (its reply does the bookkeeping); ``Order replaced``
  (an EditOrder) is no close at all;
* partial fills (``trade`` with ``partially_filled``) are not routed: the run loop takes
  whole fills only (the simulated exchange fills whole orders).

**Resync.**  Every item carrying ``ratecount`` (snapshot included) gives the exchange's
trading-counter level ``R`` of its pair at the event.  Requests of ours still without a
reply may not be in ``R`` yet (the exchange pushes a request's events before its reply, on
the same ordered connection, so those with a reply are, and so are those whose own event
came), so the engine adopts

    level = R + pending(pair)

where ``pending`` sums the units charged for our requests on the wire on that pair whose
processing the feed has not shown (:func:`trading_costs`, recorded by the venue at send).
``R`` only falls after the event (decay), and ``pending`` bounds what may still arrive, so
the adopted level is never below the exchange's: a resync never lets through a request the
exchange would refuse. Decay granularity and jitter stay covered by the engine's margins.
One race is closed too: the engine charges a request when it dispatches it, the venue
records it when the round trip's task first runs; while the engine has more requests in
flight than the venue has under way, the resync may raise the model but not lower it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import structlog

from engine.run.loop import RunLoop
from engine.venues.kraken_ws.protocol import Symbols
from limiters import Transaction, penalty

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["ExecutionsRouter", "trading_costs"]

_log = structlog.get_logger("orderpace.live.executions")

#: Kraken's cancel reasons -> the run loop's close reasons.
_REASONS: Mapping[str, str] = {
    "User requested": "requested", "Dead man switch": "dead_man", "Unfilled IOC": "ioc",
    "Order expired": "expired",
}
#: Cancels that a request of ours may have caused.
_OURS = frozenset({"User requested", "Unfilled IOC"})
_REPLACED = "Order replaced"
_CHANGES: Mapping[str, Transaction] = {
    "AmendOrder": Transaction.AMEND, "EditOrder": Transaction.EDIT,
    "CancelOrder": Transaction.CANCEL,
}


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() and d > 0 else None


def trading_costs(engine: Engine) -> Callable[[str, Mapping[str, Any]], Mapping[str, float]]:
    """``cost_of(endpoint, params)``: the trading-counter units per pair a REST-shaped order
    request will be charged, as the engine charged it -- add +1, batch ``ceil(n/2)``;
    amend, edit, cancel by the order's age from its acknowledgement (a lower bound: the
    dearer penalty); batch cancels and CancelAll the sum over their orders (CancelAll
    capped at the max per pair).  Unknown orders cost nothing here."""

    def pair_of(name: object) -> str | None:
        try:
            return engine.markets.get(str(name)).name
        except (KeyError, ValueError):
            return None

    def cancel(ref: str, now: float) -> tuple[str, float] | None:
        view = engine.order(ref)
        if view is None:
            return None
        age = 0.0 if view.aged_from is None else max(0.0, now - view.aged_from)
        return view.pair, float(penalty(Transaction.CANCEL, age))

    def cost_of(endpoint: str, params: Mapping[str, Any]) -> Mapping[str, float]:
        now = engine.clock.now()
        if endpoint in ("AddOrder", "AddOrderBatch"):
            pair = pair_of(params.get("pair"))
            if pair is None:
                return {}
            n = len(params["orders"]) if endpoint == "AddOrderBatch" else 1
            return {pair: float(math.ceil(n / 2)) if n > 1 else 1.0}
        if endpoint in _CHANGES:
            ref = params.get("txid", params.get("cl_ord_id"))
            view = engine.order(str(ref)) if ref is not None else None
            if view is None:
                return {}
            age = 0.0 if view.aged_from is None else max(0.0, now - view.aged_from)
            return {view.pair: float(penalty(_CHANGES[endpoint], age))}
        out: dict[str, float] = {}
        if endpoint == "CancelOrderBatch":
            refs = [str(r) for r in params.get("orders", ())]
        elif endpoint == "CancelAll":
            refs = [v.cl_ord_id for v in engine.open_orders()]
        else:
            return {}
        for ref in refs:
            c = cancel(ref, now)
            if c is not None:
                out[c[0]] = out.get(c[0], 0.0) + c[1]
        if endpoint == "CancelAll":
            top = engine.budget.trading_max
            out = {p: min(v, top) for p, v in out.items()}
        return out

    return cost_of


class ExecutionsRouter:
    """Routes executions items to ``loop`` and resyncs ``engine`` (module docstring).

    ``pending(pair)``: units on the wire for ``pair`` (the venue's
    :meth:`~engine.venues.kraken_ws.venue.KrakenWsVenue.pending_cost`); ``entered()``: the
    venue's requests under way (:attr:`~engine.venues.kraken_ws.venue.KrakenWsVenue.calls`).
    The engine charges a request when it dispatches it and the venue records it only when
    the round trip's task first runs; while ``engine.inflight > entered()`` some charge is
    known to the engine's model alone, and the resync may raise the model but not lower it.
    ``stats`` counts ``fills``, ``closes``, ``resyncs``, ``resyncs.lowered`` and
    ``resyncs.raised``.
    """

    def __init__(self, engine: Engine, loop: RunLoop, symbols: Callable[[], Symbols],
                 pending: Callable[[str], float],
                 entered: Callable[[], int] | None = None) -> None:
        self.engine = engine
        self.loop = loop
        self._symbols = symbols
        self._pending = pending
        self._entered = entered
        self._filled: set[str] = set()
        self.stats: Counter[str] = Counter()

    def on_message(self, message: Mapping[str, Any]) -> None:
        """One ``executions`` message (``snapshot`` or ``update``)."""
        data = message.get("data")
        if not isinstance(data, list):
            return
        update = message.get("type") == "update"
        symbols = self._symbols()
        for item in data:
            if not isinstance(item, Mapping):
                continue
            pair = symbols.pair(str(item.get("symbol", "")))
            if pair is None:
                continue
            rc = item.get("ratecount")
            if isinstance(rc, int | float) and not isinstance(rc, bool) and math.isfinite(rc):
                self._resync(pair, max(0.0, float(rc)))
            if update:
                self._route(item, pair)

    def _resync(self, pair: str, published: float) -> None:
        engine = self.engine
        before = engine.trading_level(pair)
        level = published + self._pending(pair)
        if self._entered is not None and engine.inflight > self._entered():
            # a request the engine charged has not reached the venue yet: its cost is only
            # in the engine's model, so that model is not lowered now
            level = max(level, before)
            self.stats["resyncs.held"] += 1
        engine.resync_trading(pair, level)
        self.stats["resyncs"] += 1
        if level < before - 1e-9:
            self.stats["resyncs.lowered"] += 1
        elif level > before + 1e-9:
            self.stats["resyncs.raised"] += 1

    def _route(self, item: Mapping[str, Any], pair: str) -> None:
        kind = item.get("exec_type")
        oid = item.get("order_id")
        if not isinstance(oid, str):
            return
        cid = item.get("cl_ord_id") if isinstance(item.get("cl_ord_id"), str) else None
        now = self.engine.clock.now()
        if kind == "filled" or (kind == "trade" and item.get("order_status") == "filled"):
            if oid in self._filled:
                return
            volume = _decimal(item.get("cum_qty"))
            price = _decimal(item.get("avg_price")) or _decimal(item.get("last_price"))
            side = item.get("side")
            if volume is None or price is None or side not in ("buy", "sell"):
                _log.warning("executions.unreadable_fill", order_id=oid)
                return
            self._filled.add(oid)
            self.stats["fills"] += 1
            self.loop.fill(oid, cid, pair, str(side), price, volume, now,
                           maker=item.get("liquidity_ind", "m") == "m")
        elif kind in ("canceled", "expired"):
            reason = str(item.get("reason") or item.get("cancel_reason") or "")
            if reason == _REPLACED or oid in self._filled:
                return
            view = self.engine.order(cid or oid)
            ours = reason in _OURS and view is not None and (
                view.busy or view.closing or view.pending)
            self.stats["closes"] += 1
            self.loop.closed(oid, cid, pair, _REASONS.get(reason, str(kind)), now,
                             engine_knows=ours)
