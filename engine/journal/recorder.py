"""The engine's observer that writes the journal (:class:`JournalRecorder`).

Every call buffers rows in the :class:`~engine.journal.writer.JournalWriter`.
:meth:`requests_ready` returns a future of a commit at the end of the event-loop turn
(``loop.call_soon``): the engine writes the requests to the wire only after it -- every
batch decided in one turn shares the one transaction, with every row buffered before it.
Rows without a request (replies, outcomes, order records, intents) may wait for the next
commit, or ``linger`` seconds (default 0.1; such a commit also writes every counter level
that rose without a request, say raised by the model): a crash that loses them leaves intents
without an outcome, which a restart looks up on the exchange.  If the
commit fails the future carries the :class:`~engine.journal.writer.JournalError`: the engine
then sends none of those requests, fails their intents as not sent and stops sending.

A second commit comes from the venue (:meth:`JournalRecorder.on_wire`, its ``on_wire``
note): the key the request goes out on and its nonce (REST), or its ``req_id`` (WebSocket),
committed before the bytes leave -- the nonce is only drawn there, under the key's wire
slot.  A REST request is committed at once and goes on without waiting (no future, no
extra loop turns): a key has one request on the wire (a few with a nonce window), and
requests were seldom noted in the same loop turn (14 of 480 with a window of 5 s), so a
shared commit would save less than the wait costs.  WebSocket v2 requests (one connection
sends a batch in one turn) wait for one commit at the end of the turn they were noted in.
A note's commit writes whatever else is buffered in the same transaction (order records
aside), the request rows included: so once the venues note every private request (``noted``, set
by :meth:`~engine.journal.session.Journal.watch`), a batch of private requests is sent at
once, its rows committed by each request's note (one commit per request instead of two);
a batch with a public request still waits for the turn's commit.

With each batch of requests the recorder also writes the counters' modelled levels
(``levels``: ``[(name, units, decay), ...]``, pair names and ``"api"``, decay in units per
second) with the wall time, so a restart can start from them, decayed to its own start --
as ``events`` rows (kind ``c``), appended to the page the commit writes anyway.  Only the
levels the last row does not already tell: a counter gets a row when its level is above
``max(0, last - decay * (wall - last_wall))``, what a restart would compute from its
last row (a charge, or the model raising it); one that only decayed needs none.

Times: the engine's clock gives seconds; rows get UNIX seconds (``clock.wall()``), engine
times converted by the offset between the two clocks at the moment of writing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import structlog

from engine.clock import Clock
from engine.core.observer import Outgoing
from engine.core.orders import OrderView
from engine.core.wirenote import SENDING
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelOrder,
    CancelOrderBatch,
    EditOrder,
    Intent,
)
from engine.journal.writer import JournalError, JournalWriter
from engine.outcomes import Outcome
from limiters.costs import ORDER_ENDPOINTS, is_public

__all__ = ["JournalRecorder", "intent_ids"]

_log = structlog.get_logger("orderpace.journal")

#: ``levels(pairs, api)``: ``(name, level in units, decay in units per second)`` of the
#: trading counters of ``pairs`` (None: every pair's) and, if ``api``, of the API counters
Levels = Callable[[Collection[str] | None, bool], Iterable[tuple[str, float, float]]]


def intent_ids(intent: Intent) -> tuple[str, str | None]:
    """The order ids an intent names (space-separated) and its pair, as journaled."""
    kind = type(intent)
    if kind is AddOrder:
        return intent.cl_ord_id, intent.pair  # type: ignore[union-attr]
    if kind is AmendOrder or kind is EditOrder or kind is CancelOrder:
        return intent.order_id, intent.pair  # type: ignore[union-attr]
    if kind is AddOrderBatch:
        orders = intent.orders  # type: ignore[union-attr]
        return " ".join(o.cl_ord_id for o in orders), orders[0].pair
    if kind is CancelOrderBatch:
        return " ".join(intent.order_ids), None  # type: ignore[union-attr]
    return "", None


def _txid(reply: Mapping[str, Any]) -> str | None:
    result = reply.get("result")
    if not isinstance(result, Mapping):
        return None
    txid = result.get("txid")
    if isinstance(txid, list):
        return str(txid[0]) if txid else None
    return None if txid is None else str(txid)


def _charged(batch: Sequence[Outgoing]) -> tuple[set[str] | None, bool]:
    """The trading counters (pairs; None: maybe any, an order request of no one pair) and
    whether the API counters, that ``batch`` charges: order requests the trading counter
    (0 on the API counter), other private ones the API counter, public ones neither."""
    pairs: set[str] | None = set()
    api = False
    for o in batch:
        if o.endpoint in ORDER_ENDPOINTS:
            if not o.pair:
                pairs = None
            elif pairs is not None:
                pairs.add(o.pair)
        elif not is_public(o.endpoint):
            api = True
    return pairs, api


class JournalRecorder:
    """An :class:`~engine.core.observer.Observer` writing run ``run`` of ``writer``."""

    __slots__ = ("_changed", "_clock", "_closed", "_levels", "_noting", "_scheduled", "_timer",
                 "_waiting", "_written", "key_id", "linger", "noted", "run", "writer")

    def __init__(self, writer: JournalWriter, run: int, clock: Clock, *, key_id: str,
                 levels: Levels | None = None, linger: float = 0.1) -> None:
        self.writer = writer
        self.run = run
        self.key_id = key_id
        self._clock = clock
        self._levels = levels
        self._changed: Callable[[], Sequence[OrderView]] | None = None  # see attach_orders
        self._written: dict[str, tuple[float, float]] = {}  # name -> last row's (level, wall)
        self._closed = False  # see close()
        self._scheduled = False  # a commit at the end of this loop turn
        self._timer: asyncio.TimerHandle | None = None  # a lingering commit
        self.linger = linger  # seconds rows without requests may wait
        self._waiting: asyncio.Future[None] | None = None  # requests waiting for the commit
        #: every private request is noted by its venue before the wire (:meth:`on_wire`
        #: commits): a batch of private requests needs no commit of its own
        self.noted = False
        self._noting: list[asyncio.Future[None]] = []  # WebSocket requests waiting to leave

    def attach_levels(self, levels: Levels) -> None:
        """Where the counters' levels come from (the engine, once built)."""
        self._levels = levels

    def attach_orders(self, changed: Callable[[], Sequence[OrderView]]) -> None:
        """Take the changed orders' views from ``changed`` (:meth:`Engine.pull_orders
        <engine.core.engine.Engine.pull_orders>`) when order records are committed, instead
        of having them pushed after each change: one view per order and commit."""
        self._changed = changed

    def _take_orders(self) -> None:
        if self._changed is not None:
            self._buffer_orders(self._changed())

    # -- grouping ------------------------------------------------------------------------

    def _soon(self) -> None:
        """Rows that may wait (a crash losing them leaves intents a restart looks up):
        written with the next requests' commit, or ``linger`` seconds from now."""
        if not self._scheduled and self._timer is None and not self._closed:
            self._timer = asyncio.get_running_loop().call_later(self.linger, self._turn_end)

    def _note_levels(self, pairs: Collection[str] | None, api: bool, wall: float) -> None:
        """Buffer a ``c`` row for each counter (``pairs``' trading counters, None: every
        pair's; the API counters if ``api``) whose level its last row does not tell."""
        if self._levels is None:
            return
        written, add, run = self._written, self.writer.add, self.run
        for name, level, decay in self._levels(pairs, api):
            last = written.get(name)
            if last is None or level > max(0.0, last[0] - decay * (wall - last[1])) + 1e-9:
                written[name] = (level, wall)
                add("events", (run, 0, "c", name, None, None, level, None, wall, 0))

    def _turn_end(self) -> None:
        """The end of a loop turn: one transaction for everything buffered in it; the
        requests waiting for it leave (or fail, with the error) after it."""
        self._scheduled = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, None
        self._note_levels(None, True, self._clock.wall())  # the model may raise one unasked
        self._take_orders()
        self._commit(() if waiting is None else (waiting,), urgent=False)

    def _commit(self, waiting: Iterable[asyncio.Future[None]], *, urgent: bool
                ) -> JournalError | None:
        """Flush the writer (``urgent``: events and counter levels only), then release the
        ``waiting`` futures -- with the :class:`JournalError` if the commit failed (one whose
        waiter gave up is left alone); rows it left (order records) linger.  Returns that
        error (None: committed)."""
        try:
            self.writer.flush(urgent=urgent)
        except JournalError as e:
            _log.error("journal.write_failed", error=str(e))
            for f in waiting:
                if not f.done():
                    f.set_exception(e)
            return e
        for f in waiting:
            if not f.done():
                f.set_result(None)
        if self.writer.pending:
            self._soon()
        return None

    def flush(self) -> None:
        """Commit what is buffered now (:class:`JournalError` on failure)."""
        self._take_orders()
        self.writer.flush()

    def close(self) -> None:
        """The journal closes: no commit of its own any more (the lingering one is
        cancelled; nothing more is taken from the engine)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._changed = self._levels = None
        self._closed = True

    # -- the observer --------------------------------------------------------------------

    def intent_accepted(self, hid: int, intent: Intent, strategy: str, time: float) -> None:
        ids, pair = intent_ids(intent)
        self.writer.add("events", (self.run, hid, "i", type(intent).__name__, ids, pair, None,
                                   strategy, self._clock.wall(), 0))
        self._soon()

    def requests_ready(self, batch: Sequence[Outgoing]) -> asyncio.Future[None] | None:
        wall = self._clock.wall()
        add, run, key = self.writer.add, self.run, self.key_id
        for o in batch:
            p = o.params
            oid = p.get("cl_ord_id") or p.get("txid")
            add("events", (run, o.hid, "q", o.endpoint, None if oid is None else str(oid), key,
                           o.attempt, None, wall, 0))
        self._note_levels(*_charged(batch), wall)
        self.writer.check()  # a journal already failed: nothing more leaves
        if self.noted and not any(is_public(o.endpoint) for o in batch):
            self._soon()  # the venue's note commits these rows before the bytes leave
            return None
        waiting = self._waiting
        if waiting is None:  # sent after this turn's commit, with everything else in it
            loop = asyncio.get_running_loop()
            waiting = self._waiting = loop.create_future()
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._turn_end)
        return waiting

    def reply(self, hid: int, endpoint: str, reply: Mapping[str, Any] | None, error: str | None,
              time: float) -> None:
        row: tuple[Any, ...]
        if reply is None:
            row = (self.run, hid, "r", endpoint, error, None, 0, None, self._clock.wall(), 0)
        else:
            errors = reply.get("error")
            if errors:
                text = ",".join(map(str, errors)) if isinstance(errors, list) else str(errors)
                row = (self.run, hid, "r", endpoint, text, None, 0, None, self._clock.wall(), 0)
            else:
                row = (self.run, hid, "r", endpoint, None, _txid(reply), 1, None,
                       self._clock.wall(), 0)
        self.writer.add("events", row)
        self._soon()

    def on_wire(self, endpoint: str, key: str | None, nonce: int | None,
                req_id: int | None) -> asyncio.Future[None] | None:
        """A venue's note (:class:`~engine.core.wirenote.WireNote`): the request of this
        task's round trip goes out on ``key`` with ``nonce`` (or as ``req_id``) once the
        events and counter levels buffered (this row, the request's, its intent's...) are
        committed; order records follow within ``linger`` seconds.  A REST note (``key``
        set) commits at once (None: send now; :class:`JournalError`: do not); a WebSocket
        one gets a future of one commit at the end of the loop turn, shared by the notes
        of that turn (the caller's own: cancelling it leaves the commit alone), carrying
        the error if it fails."""
        hid, attempt = SENDING.get() or (0, 0)
        self.writer.add("events", (self.run, hid, "w", endpoint, key,
                                   None if nonce is None else str(nonce), attempt,
                                   None if req_id is None else str(req_id),
                                   self._clock.wall(), 0))
        if key is None:  # WebSocket v2: one commit at the turn's end for all noted in it
            loop = asyncio.get_running_loop()
            noted = loop.create_future()
            if not self._noting:
                loop.call_soon(self._note_turn_end)
            self._noting.append(noted)
            return noted
        error = self._commit((), urgent=True)
        if error is not None:
            raise error
        return None

    def _note_turn_end(self) -> None:
        """The end of a loop turn with WebSocket requests noted: their commit, then they
        leave."""
        noting, self._noting = self._noting, []
        self._commit(noting, urgent=True)  # events and counter levels; order records linger

    def outcome(self, hid: int, outcome: Outcome) -> None:
        self.writer.add("events", (self.run, hid, "o", outcome.status._value_, outcome.error,
                                   outcome.txid, int(outcome.sent), None, self._clock.wall(), 0))
        self._soon()

    def orders_changed(self, views: Sequence[OrderView]) -> None:
        self._buffer_orders(views)
        self._soon()

    def _buffer_orders(self, views: Sequence[OrderView]) -> None:
        clock = self._clock
        wall = clock.wall()
        offset = wall - clock.now()
        add, run = self.writer.add_order, self.run
        for v in views:
            add(v, run, offset, wall)
