"""The engine surface over a plain limiter: what a user writes around asyncio-throttle & co.

Strategies talk to an engine through ``submit`` / ``order`` / ``order_closed`` /
``clock`` (see :mod:`strategies.context` and :mod:`strategies.host`).  :class:`PacedClient`
offers the same surface with no scheduler behind it: each intent becomes one task that

1. for an amend, edit or cancel, first waits for the order's add to be acknowledged (a
   user awaits ``create_order`` before touching the order);
2. awaits ``pacer.acquire(endpoint, pair)`` -- the baseline limiter -- bounded by the
   intent's ``deadline`` when it has one (``asyncio.wait_for``: expired, nothing sent);
3. sends the request through the venue and turns the reply into an
   :class:`~engine.outcomes.Outcome`.

A request refused for a rate limit is retried once, through the limiter again: the same
policy as the engine (``EngineSettings.retry_rate_limited``), so both sides are compared
like for like.  There is no coalescing, no priority, no open-order cap and no penalty
model: that is the point of the comparison.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from engine import kraken_errors as ke
from engine.clock import Clock
from engine.core.book import OrderBook
from engine.core.orders import OrderRecord, OrderState, OrderView
from engine.core.requests import (
    add_order_fields,
    add_order_params,
    amend_params,
    edit_params,
    query_request,
    reply_txids,
)
from engine.errors import InvalidIntent
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelOrder,
    EditOrder,
    Intent,
    OrderType,
    TimeInForce,
)
from engine.markets import Markets
from engine.outcomes import Handle, Outcome, Status
from engine.venues.base import TransportError, Venue

__all__ = ["PacedClient", "Pacer"]

#: Attempts per intent: the first send and one retry after a rate-limit refusal.
MAX_ATTEMPTS = 2


class Pacer(Protocol):
    """A baseline limiter: returns when ``endpoint`` (on ``pair``; None for a private
    query, paced per key) may be sent."""

    async def acquire(self, endpoint: str, pair: str | None) -> None: ...


def _orders_of(intent: AddOrder | AddOrderBatch) -> tuple[AddOrder, ...]:
    return intent.orders if isinstance(intent, AddOrderBatch) else (intent,)


class PacedClient:
    """Strategies' engine surface, each request paced only by ``pacer`` (module doc)."""

    def __init__(self, venue: Venue, pacer: Pacer, *, clock: Clock, markets: Markets) -> None:
        self.venue = venue
        self.pacer = pacer
        self.clock = clock
        self.markets = markets
        self._orders = OrderBook()
        self._acks: dict[str, asyncio.Future[None]] = {}  # cl_ord_id -> its add has a reply
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 0

    # -- the engine surface ------------------------------------------------------------

    def start(self) -> None:
        """Nothing to start: present for symmetry with :class:`~engine.core.engine.Engine`."""

    def submit(self, intent: Intent, *, strategy: str = "default") -> Handle:
        """Start carrying ``intent``; return the handle its outcome resolves."""
        loop = asyncio.get_running_loop()
        self._next_id += 1
        handle = Handle(self._next_id, intent, strategy, loop)
        if isinstance(intent, AddOrder | AddOrderBatch):
            for o in _orders_of(intent):
                pair = self.markets.get(o.pair).name
                self._orders.add(OrderRecord(o.cl_ord_id, pair, OrderState.QUEUED,
                                             strategy=strategy, side=o.side, price=o.price,
                                             volume=o.volume))
                self._acks[o.cl_ord_id] = loop.create_future()
        elif isinstance(intent, CancelOrder):
            rec = self._orders.get(intent.order_id)
            if rec is not None:  # the strategy sees it closing from now on
                self._orders.set_cancel_queued(rec, True)
        elif not isinstance(intent, AmendOrder | EditOrder | CancelOrder):
            try:
                query_request(intent)  # type: ignore[arg-type]
            except TypeError:
                raise InvalidIntent(
                    "intent", intent, "an add, amend, edit, cancel or query"
                ) from None
        task = loop.create_task(self._carry(handle, self.clock.now()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return handle

    def order(self, order_id: str) -> OrderView | None:
        """The client's record of a live order (by cl_ord_id or txid)."""
        rec = self._orders.get(order_id)
        return None if rec is None else rec.view()

    def live_orders(self, pair: str | None = None, strategy: str | None = None,
                    ) -> list[OrderView]:
        """Orders queued, on the wire or open, not reported gone."""
        return [r.view() for r in self._orders.live_orders(pair, strategy)]

    def live_count(self, pair: str | None = None, strategy: str | None = None) -> int:
        return sum(1 for _ in self._orders.live_orders(pair, strategy))

    def order_closed(self, order_id: str, reason: str = "filled", *,
                     expected: bool = False) -> None:
        """The order left the book (a fill, an expiry): forget it -- once its add's reply is
        in, when the close overtook that reply (an order filled on arrival).  ``expected``:
        a request of ours closed it; its reply does the bookkeeping."""
        rec = self._orders.get(order_id)
        if rec is None:
            return
        if expected:
            self._orders.report_closed(rec)
        elif rec.state is OrderState.PENDING:
            rec.closed_early = True
        elif rec.state in (OrderState.OPEN, OrderState.UNKNOWN):
            self._orders.close(rec)

    async def drain(self) -> None:
        """Wait until every submitted intent has its outcome."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Cancel what is still running (each ends ``failed``)."""
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- carrying one intent -----------------------------------------------------------

    async def _carry(self, handle: Handle, queued_at: float) -> None:
        intent = handle.intent
        state = _Carry(handle, queued_at)
        try:
            await self._carry_steps(intent, state)
        except asyncio.CancelledError:
            self._finish(state, Status.FAILED, error="client closed")
            raise
        finally:
            if isinstance(intent, AddOrder | AddOrderBatch):
                for o in _orders_of(intent):
                    ack = self._acks.pop(o.cl_ord_id, None)
                    if ack is not None and not ack.done():
                        ack.set_result(None)

    async def _carry_steps(self, intent: Intent, st: _Carry) -> None:
        rec: OrderRecord | None = None
        if isinstance(intent, AmendOrder | EditOrder | CancelOrder):
            rec = self._orders.get(intent.order_id)
            ack = self._acks.get(rec.cl_ord_id) if rec is not None else None
            if ack is not None:
                await asyncio.shield(ack)
                rec = self._orders.get(intent.order_id)
            if rec is None or rec.state is OrderState.CLOSED:
                cancel = isinstance(intent, CancelOrder)
                self._finish(st, Status.COALESCED if cancel else Status.REJECTED,
                             error="the order is not open")
                return
        endpoint, params, pair = self._request(intent, rec)
        last_error: str | None = None
        while st.attempts < MAX_ATTEMPTS:
            if not await self._acquire(endpoint, pair, intent.deadline):
                self._on_add_failed(intent)
                status = Status.EXPIRED if last_error is None else Status.REJECTED
                self._finish(st, status, error=last_error or "deadline passed while waiting")
                return
            now = self.clock.now()
            if st.sent_at is None:
                st.sent_at = now
            st.attempts += 1
            if isinstance(intent, AddOrder | AddOrderBatch):
                for o in _orders_of(intent):
                    r = self._orders.get(o.cl_ord_id)
                    if r is not None:
                        r.state = OrderState.PENDING
            try:
                reply = await self.venue.request(endpoint, params)
            except TransportError as e:
                self._on_add_failed(intent)
                self._finish(st, Status.FAILED, error=str(e))
                return
            errors = [e for e in reply.get("error") or () if isinstance(e, str) and e[:1] == "E"]
            result = reply.get("result")
            result = result if isinstance(result, Mapping) else None
            if not errors:
                txid = self._on_accepted(intent, rec, result)
                self._finish(st, Status.ACCEPTED, txid=txid, result=result)
                return
            last_error = errors[0]
            if not ke.is_rate_limit_error(last_error):
                break
        self._on_add_failed(intent)
        if rec is not None and last_error == ke.UNKNOWN_ORDER:
            self._orders.close(rec)
        self._finish(st, Status.REJECTED, error=last_error)

    async def _acquire(self, endpoint: str, pair: str | None, deadline: float | None) -> bool:
        """Wait for the limiter; False if the intent's deadline passed first."""
        if deadline is None:
            await self.pacer.acquire(endpoint, pair)
            return True
        left = deadline - self.clock.now()
        if left <= 0:
            return False
        try:
            await asyncio.wait_for(self.pacer.acquire(endpoint, pair), left)
        except TimeoutError:
            return False
        return True

    def _request(
        self, intent: Intent, rec: OrderRecord | None
    ) -> tuple[str, dict[str, Any], str | None]:
        """Endpoint, parameters and pair (None: paced per key) of ``intent``."""
        if isinstance(intent, AddOrder):
            m = self.markets.get(intent.pair)
            return "AddOrder", add_order_params(intent, m.altname), m.name
        if isinstance(intent, AddOrderBatch):
            m = self.markets.get(intent.pair)
            orders = [add_order_fields(o) for o in intent.orders]
            return "AddOrderBatch", {"pair": m.altname, "orders": orders}, m.name
        if isinstance(intent, AmendOrder | EditOrder | CancelOrder):
            assert rec is not None
            if isinstance(intent, CancelOrder):
                return "CancelOrder", {"txid": rec.ref}, rec.pair
            if isinstance(intent, AmendOrder):
                params = amend_params(intent, rec.ref, by_cl_ord_id=rec.txid is None)
                return "AmendOrder", params, rec.pair
            altname = self.markets.get(rec.pair).altname
            return "EditOrder", edit_params(intent, rec.ref, altname), rec.pair
        endpoint, params = query_request(intent)  # type: ignore[arg-type]
        return endpoint, params, None

    def _on_accepted(
        self, intent: Intent, rec: OrderRecord | None, result: Mapping[str, Any] | None
    ) -> str | None:
        now = self.clock.now()
        txids = reply_txids(result)
        if isinstance(intent, AddOrder | AddOrderBatch):
            for i, o in enumerate(_orders_of(intent)):
                r = self._orders.get(o.cl_ord_id)
                if r is None:
                    continue
                if i < len(txids):
                    self._orders.set_txid(r, txids[i])
                self._orders.mark_open(r, now)
                if (o.order_type is OrderType.MARKET or o.time_in_force is TimeInForce.IOC
                        or r.closed_early):
                    self._orders.close(r)
            return txids[0] if txids else None
        if rec is None:
            return None
        if isinstance(intent, CancelOrder):
            self._orders.close(rec)
        else:
            assert isinstance(intent, AmendOrder | EditOrder)
            self._orders.changed(rec, intent, txids, now)
        return rec.txid

    def _on_add_failed(self, intent: Intent) -> None:
        if isinstance(intent, AddOrder | AddOrderBatch):
            for o in _orders_of(intent):
                r = self._orders.get(o.cl_ord_id)
                if r is not None:
                    self._orders.close(r)

    def _finish(
        self, st: _Carry, status: Status, *, txid: str | None = None, error: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        if st.handle.done():
            return
        intent = st.handle.intent
        if isinstance(intent, CancelOrder) and status not in (Status.ACCEPTED, Status.COALESCED):
            rec = self._orders.get(intent.order_id)
            if rec is not None:  # refused: the order still rests
                self._orders.set_cancel_queued(rec, False)
        st.handle.set_result(Outcome(
            status=status, intent=st.handle.intent, queued_at=st.queued_at,
            done_at=self.clock.now(), sent_at=st.sent_at, txid=txid, error=error,
            result=result, sent=st.attempts > 0, attempts=st.attempts,
        ))

    def __repr__(self) -> str:
        return f"PacedClient(pacer={self.pacer!r}, running={len(self._tasks)})"


class _Carry:
    """Mutable state of one intent in flight through :class:`PacedClient`."""

    __slots__ = ("attempts", "handle", "queued_at", "sent_at")

    def __init__(self, handle: Handle, queued_at: float) -> None:
        self.handle = handle
        self.queued_at = queued_at
        self.sent_at: float | None = None
        self.attempts = 0
