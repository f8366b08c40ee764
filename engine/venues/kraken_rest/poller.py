"""Order-state polling: find orders that left the book without the engine seeing it.

Against the live exchange the engine learns of an order's end only from its own requests'
replies.  An order filled, expired, or cancelled elsewhere (another client, the dead-man
switch) would stay "open" in the engine forever, holding a slot under the open-orders cap.
:class:`OrderPoller` closes that gap: every ``interval`` seconds it submits a
:class:`~engine.intents.QueryOpenOrders` *through the engine* -- so the query waits for
and is charged on the API counter like any other (OpenOrders costs 2 units) -- compares
the exchange's open orders with ``engine.open_orders()``, and reports each order that is
gone.  With ``details`` on, it then asks what became of them (``QueryOrders``, 1 unit per
50 orders, also through the engine): ``closed`` (filled), ``canceled`` or ``expired``.

Each gone order is passed to ``on_closed`` as a :class:`ClosedOrder`; the default handler
calls ``engine.order_closed(order_id, reason)``.  (A live runner routes fills to its
strategy instead, which also tells the engine.)

Snapshot races: the exchange answers OpenOrders as of the query's arrival.  An order is
judged gone only if the engine acknowledged it (add, edit or amend) *before the query was
sent* -- it was then on the book before the snapshot -- and no request about it is in
flight (its own reply will tell).  Orders acknowledged later are judged at the next poll.

Times are seconds on the engine's clock.  :meth:`stop` ends the task; an intent already
submitted still resolves in the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from engine.core.orders import OrderView
from engine.errors import EngineClosed, EngineLocked, QueueFull
from engine.intents import QueryOpenOrders, QueryOrders

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["ClosedOrder", "OrderPoller"]

_log = structlog.get_logger("orderpace.live.poller")

#: Ids per QueryOrders (Kraken's limit).
_QUERY_MAX = 50


@attrs.frozen(slots=True)
class ClosedOrder:
    """An order the engine held open that the exchange no longer has open.

    ``status`` is Kraken's (``closed`` = filled, ``canceled``, ``expired``), or None when it
    was not asked or could not be learned; ``info`` Kraken's order record (or empty).
    """

    cl_ord_id: str
    txid: str | None
    pair: str
    status: str | None
    info: Mapping[str, Any] = attrs.field(eq=False, repr=False, factory=dict)

    @property
    def order_id(self) -> str:
        """The id to give ``engine.order_closed``."""
        return self.cl_ord_id

    @property
    def filled(self) -> bool:
        """Whether the order executed (fully, or partly before it was cancelled)."""
        try:
            return float(self.info.get("vol_exec", 0) or 0) > 0
        except (TypeError, ValueError):
            return False

    @property
    def reason(self) -> str:
        """Why it left the book, for ``order_closed``: ``filled``, the status, or ``closed``."""
        if self.filled:
            return "filled"
        return self.status or "closed"


class OrderPoller:
    """Polls OpenOrders through ``engine`` every ``interval`` seconds (module docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = 5.0,
        details: bool = True,
        on_closed: Callable[[ClosedOrder], None] | None = None,
        strategy: str = "orderpace.poller",
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.engine = engine
        self.interval = float(interval)
        self.details = details
        self.on_closed = on_closed if on_closed is not None else self._close_in_engine
        self.strategy = strategy
        self.polls = 0
        self.closed = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> OrderPoller:
        """Start polling in a task (inside the running loop); returns ``self``."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        """Stop polling and wait for the task to end."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.poll_once()
            except (EngineClosed, EngineLocked) as e:  # nothing more to poll
                _log.info("poller.stopped", why=str(e))
                return
            except QueueFull as e:  # try again at the next interval
                _log.warning("poller.queue_full", why=str(e))
            await asyncio.sleep(self.interval)

    async def poll_once(self) -> list[ClosedOrder]:
        """One poll: the orders found gone (already reported to ``on_closed``)."""
        engine = self.engine
        if not engine.open_orders():
            return []
        outcome = await engine.submit(QueryOpenOrders(), strategy=self.strategy)
        self.polls += 1
        if not outcome.ok or outcome.result is None or outcome.sent_at is None:
            _log.info("poller.query_failed", status=outcome.status.value, error=outcome.error)
            return []
        open_ = outcome.result.get("open")
        if not isinstance(open_, Mapping):
            _log.warning("poller.malformed_reply")
            return []
        txids = set(open_)
        cids = {i.get("cl_ord_id") for i in open_.values() if isinstance(i, Mapping)}
        sent_at = outcome.sent_at
        gone = [
            r for r in engine.open_orders()
            if r.aged_from is not None and r.aged_from < sent_at and not r.busy
            and r.txid not in txids and r.cl_ord_id not in cids
        ]
        if not gone:
            return []
        found = await self._details(gone) if self.details else {}
        reported = []
        for rec in gone:
            if engine.order(rec.cl_ord_id) is not rec:
                continue  # closed meanwhile by a reply
            info = found.get(rec.txid) if rec.txid is not None else None
            status = info.get("status") if info is not None else None
            closed = ClosedOrder(rec.cl_ord_id, rec.txid, rec.pair,
                                 status if isinstance(status, str) else None, info or {})
            reported.append(closed)
            self.closed += 1
            _log.info("poller.order_gone", cl_ord_id=rec.cl_ord_id, txid=rec.txid,
                      pair=rec.pair, status=closed.status)
            self.on_closed(closed)
        return reported

    async def _details(self, gone: list[OrderView]) -> dict[str, Mapping[str, Any]]:
        """Kraken's records of the gone orders, by txid (missing where it cannot say)."""
        txids = [r.txid for r in gone if r.txid is not None]
        out: dict[str, Mapping[str, Any]] = {}
        for i in range(0, len(txids), _QUERY_MAX):
            chunk = tuple(txids[i:i + _QUERY_MAX])
            outcome = await self.engine.submit(QueryOrders(chunk), strategy=self.strategy)
            if outcome.ok and outcome.result is not None:
                out.update((t, v) for t, v in outcome.result.items() if isinstance(v, Mapping))
            else:
                _log.info("poller.details_failed", status=outcome.status.value,
                          error=outcome.error)
        return out

    def _close_in_engine(self, closed: ClosedOrder) -> None:
        self.engine.order_closed(closed.order_id, closed.reason)

    def __repr__(self) -> str:
        return f"OrderPoller(interval={self.interval:g}, polls={self.polls}, closed={self.closed})"
