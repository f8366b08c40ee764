"""A venue that settles requests whose fate a transport failure left unknown -- without
blind resends.

:class:`RecoveringVenue` wraps another :class:`~engine.venues.base.Venue` (normally the
:class:`~engine.venues.kraken_rest.rest.KrakenRestVenue`) and applies the rules of
:mod:`engine.venues.kraken_rest.idempotency`.  A request's fate is *unknown* after a
:class:`~engine.venues.base.TransportError` with ``sent=True`` (timeout, dropped connection,
HTTP 5xx, a reply that is not JSON) or after an error reply that does not say whether it
executed (``EService:Unavailable``, ``EService:Busy``, ``EGeneral:Internal error``).

Adds (AddOrder, AddOrderBatch)
------------------------------
1. **Every add carries a deadline.**  An add without ``deadline`` gets one,
   ``add_deadline`` seconds ahead (RFC 3339; Kraken accepts now + 2 s to now + 60 s): the
   exchange drops the add if it arrives later, so after that moment (plus ``skew`` for the
   difference between our clock and the exchange's) the add can no longer be placed.
2. **Fate unknown: look the order up by its ``cl_ord_id``** (every engine add has one) --
   at once, and if not found, once more after the deadline + ``skew``.  Found (open,
   closed, cancelled, expired): the add was placed; the reply is a Kraken-shaped success
   with the found ``txid`` (and ``"orderpace_recovered"`` in the result), so nothing is sent
   twice.  An AddOrderBatch is all or nothing: one order found means the batch was placed;
   its reply lists every order's txid (if some cannot be found, :class:`TransportError`).
3. **Not found after the deadline: the add was never placed and never will be.**
   With our own deadline the add is resent once (``resend``, with a fresh deadline), which
   is safe: the original can no longer arrive.  With the caller's deadline the caller did
   not want the order after it, so the reply is ``EService:Deadline elapsed`` (the engine
   resolves the intent as expired).  With no resend left: ``TransportError(sent=False)``
   -- certainly not executed.
4. **A lookup that fails decides nothing.**  It is retried ``lookup_attempts`` times,
   ``lookup_retry_delay`` seconds apart; then :class:`TransportError` (``sent=True``): the
   fate stays unknown and the engine marks the order unknown.  The add is never resent on
   a failed lookup.
5. ``sent=False`` (nothing left): resent at once, once.  A dry-run add (``validate=true``,
   places nothing) is simply resent once.

Cancels (CancelOrder, CancelOrderBatch, CancelAll)
--------------------------------------------------
Retried ``cancel_retries`` times (default once) after a fate-unknown failure: cancelling is
idempotent.  ``EOrder:Unknown order`` on the retry counts as done: the first cancel most
likely succeeded, or the order had closed meanwhile; either way it is no longer open.  The
reply is then a success ``{"count": 0, "orderpace_note": ...}``.  A retry's trading penalty
is charged by the exchange only if the first cancel did not execute, so the engine's single
charge stays right.

Other endpoints (amends, edits, queries) pass through unchanged: an amend or edit retried
after it executed would be charged twice, an edit would even create a second order.

Costs and pacing
----------------
Lookups use the API counter: OpenOrders and ClosedOrders cost 2 units each (Kraken's own SDK
charges 2; :data:`limiters.costs.API_COSTS`).  A single add's recovery costs 2 (found open)
to 8 units (two rounds of both lookups); a batch's up to 12.  Pass ``pace`` --
``async (endpoint, cost) -> None``, e.g. :class:`~kraken_rest.pacing.ApiPacer` -- to wait
for and charge that budget on the engine's model before each lookup.  A resent add costs
the trading counter its fixed +1 again only if the original reached the exchange and was
refused there with its reply lost (the engine charged it once).

Times are seconds; ``wall`` gives UNIX seconds (deadlines are UNIX times).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs
import structlog

from engine import kraken_errors as ke
from engine.timefmt import parse_rfc3339, rfc3339
from engine.venues.base import Reply, TransportError, Venue
from engine.venues.kraken_rest.errors import (
    KrakenError,
    MalformedReply,
    kraken_errors_of,
    raise_for_reply,
)
from engine.venues.kraken_rest.idempotency import (
    FoundOrder,
    cancel_counts_as_done,
    find_order_by_cl_ord_id,
)
from limiters.costs import API_COSTS

__all__ = [
    "ADD_ENDPOINTS",
    "CANCEL_ENDPOINTS",
    "LookupPacer",
    "RecoveringVenue",
    "RecoverySettings",
    "is_uncertain",
]

#: ``await pace(endpoint, cost_units)`` before each lookup (see "Costs and pacing").
LookupPacer = Callable[[str, int], Awaitable[None]]

ADD_ENDPOINTS: frozenset[str] = frozenset({"AddOrder", "AddOrderBatch"})
CANCEL_ENDPOINTS: frozenset[str] = frozenset({"CancelOrder", "CancelOrderBatch", "CancelAll"})

_BUSY = "EService:Busy"

_log = structlog.get_logger("orderpace.live.recovery")


def is_uncertain(reply: Mapping[str, Any]) -> str | None:
    """The error of a reply that leaves the request's fate unknown, else None."""
    try:
        errors = kraken_errors_of(reply)
    except MalformedReply:
        return None
    for e in errors:
        if e in (ke.UNAVAILABLE, _BUSY) or e.startswith(ke.INTERNAL_ERROR):
            return e
    return None


def _positive(name: str) -> Any:
    def check(_i: object, _a: object, value: float) -> None:
        if not (isinstance(value, int | float) and value >= 0 and value == value):
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")

    return check


@attrs.frozen(slots=True)
class RecoverySettings:
    """Recovery policy (seconds, counts); see the module docstring for each rule."""

    add_deadline: float = attrs.field(default=5.0, validator=_positive("add_deadline"))
    skew: float = attrs.field(default=1.0, validator=_positive("skew"))
    resend: bool = True
    lookup_attempts: int = 3
    lookup_retry_delay: float = attrs.field(default=1.0, validator=_positive("lookup_retry_delay"))
    cancel_retries: int = 1

    def __attrs_post_init__(self) -> None:
        if not 2.0 <= self.add_deadline <= 60.0:
            raise ValueError(f"add_deadline must be 2 to 60 s (Kraken), got {self.add_deadline}")
        if self.lookup_attempts < 1 or self.cancel_retries < 0:
            raise ValueError("lookup_attempts must be >= 1 and cancel_retries >= 0")


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _cl_ord_ids(endpoint: str, params: Mapping[str, Any]) -> list[str] | None:
    """The cl_ord_ids an add places, or None when any order lacks one."""
    if endpoint == "AddOrder":
        cid = params.get("cl_ord_id")
        return [cid] if isinstance(cid, str) and cid else None
    orders = params.get("orders")
    if not isinstance(orders, Sequence) or isinstance(orders, str) or not orders:
        return None
    ids: list[str] = []
    for o in orders:
        cid = o.get("cl_ord_id") if isinstance(o, Mapping) else None
        if not isinstance(cid, str) or not cid:
            return None
        ids.append(cid)
    return ids


def _scan(orders: object, ids: Sequence[str], where: str) -> dict[str, FoundOrder]:
    """Orders of a OpenOrders/ClosedOrders result whose own cl_ord_id is one of ``ids``."""
    if orders is None:
        return {}
    if not isinstance(orders, Mapping):
        raise MalformedReply(f"{where} orders are not an object")
    wanted = set(ids)
    found: dict[str, FoundOrder] = {}
    for txid, info in orders.items():
        if isinstance(info, Mapping):
            cid = info.get("cl_ord_id")
            if isinstance(cid, str) and cid in wanted:
                found[cid] = FoundOrder(str(txid), str(info.get("status", where)), where, info)
    return found


def _descr(found: FoundOrder) -> dict[str, Any]:
    descr = found.info.get("descr")
    order = descr.get("order") if isinstance(descr, Mapping) else None
    return {"order": order} if isinstance(order, str) else {}


class _NotPlaced(Exception):
    """Looked up after its deadline: the add was never placed."""


class _PacedLookups:
    """The inner venue for lookups: paced, counted."""

    __slots__ = ("_owner",)

    def __init__(self, owner: RecoveringVenue) -> None:
        self._owner = owner

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        owner = self._owner
        if owner.pace is not None:
            await owner.pace(endpoint, API_COSTS.get(endpoint, 1))
        owner.extra_requests[endpoint] += 1
        owner.stats["lookups"] += 1
        return await owner.inner.request(endpoint, params)

    async def aclose(self) -> None:  # pragma: no cover - never closed on its own
        return None


class RecoveringVenue:
    """:class:`~engine.venues.base.Venue` settling fate-unknown adds and cancels (module docstring).

    ``stats`` counts what recovery did (``add.unknown``, ``add.found``, ``add.resent``,
    ``add.expired``, ``add.not_placed``, ``add.undecided``, ``cancel.retried``,
    ``cancel.unknown_done``, ``lookups``); ``extra_requests`` the requests it sent beyond
    the caller's, by endpoint.
    """

    def __init__(
        self,
        inner: Venue,
        settings: RecoverySettings | None = None,
        *,
        pace: LookupPacer | None = None,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.settings = settings if settings is not None else RecoverySettings()
        self.pace = pace
        self._wall = wall
        self._sleep = sleep
        self._lookups = _PacedLookups(self)
        self.stats: Counter[str] = Counter()
        self.extra_requests: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"RecoveringVenue({self.inner!r})"

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        """Send ``endpoint``; settle an unknown fate for adds and cancels (module docstring)."""
        if endpoint in ADD_ENDPOINTS:
            return await self._add(endpoint, params)
        if endpoint in CANCEL_ENDPOINTS:
            return await self._cancel(endpoint, params)
        return await self.inner.request(endpoint, params)

    async def aclose(self) -> None:
        await self.inner.aclose()

    # -- adds ----------------------------------------------------------------------------

    async def _add(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if _truthy(params.get("validate")) or getattr(self.inner, "dry_run", False) is True:
            try:
                return await self.inner.request(endpoint, params)
            except TransportError:
                self.stats["validate.resent"] += 1
                self.extra_requests[endpoint] += 1
                return await self.inner.request(endpoint, params)  # places nothing: safe
        ids = _cl_ord_ids(endpoint, params)
        if ids is None:
            return await self.inner.request(endpoint, params)  # nothing to look up by
        p = dict(params)
        own = p.get("deadline") in (None, "")
        if own:
            p["deadline"] = rfc3339(self._wall() + self.settings.add_deadline)
        resends = 0
        while True:
            if resends:
                self.extra_requests[endpoint] += 1
            try:
                reply = await self.inner.request(endpoint, p)
            except TransportError as e:
                if not e.sent:
                    if resends >= 1:
                        raise
                    resends += 1
                    self.stats["add.resent"] += 1
                    if own:
                        p["deadline"] = rfc3339(self._wall() + self.settings.add_deadline)
                    continue
                failure = str(e)
            else:
                uncertain = is_uncertain(reply)
                if uncertain is None:
                    return reply
                failure = f"{endpoint}: {uncertain}"
            self.stats["add.unknown"] += 1
            _log.warning("recovery.add_unknown", endpoint=endpoint, orders=len(ids),
                         error=failure)
            try:
                return await self._settle_add(endpoint, p, ids, failure)
            except _NotPlaced:
                pass
            if not own:
                self.stats["add.expired"] += 1
                return {"error": [ke.DEADLINE_ELAPSED], "result": {"orderpace_recovered": {
                    "after": failure,
                    "found": False,
                    "note": "looked up after its deadline: not placed, and never will be",
                }}}
            if not self.settings.resend or resends >= 1:
                self.stats["add.not_placed"] += 1
                raise TransportError(
                    f"{failure}; not placed (looked up after its deadline)",
                    endpoint=endpoint, sent=False,
                )
            resends += 1
            self.stats["add.resent"] += 1
            _log.info("recovery.add_resent", endpoint=endpoint, orders=len(ids))
            p["deadline"] = rfc3339(self._wall() + self.settings.add_deadline)

    async def _settle_add(
        self, endpoint: str, params: Mapping[str, Any], ids: list[str], failure: str
    ) -> Reply:
        """The reply for an add whose fate was unknown; raises :class:`_NotPlaced`."""
        found = await self._lookup(endpoint, ids, failure)
        if not found:
            deadline = parse_rfc3339(params.get("deadline"))
            if deadline is None:  # unreadable: count from now, which is later than it
                deadline = self._wall() + self.settings.add_deadline
            wait = deadline + self.settings.skew - self._wall()
            if wait > 0:
                await self._sleep(wait)
            found = await self._lookup(endpoint, ids, failure)
        if not found:
            raise _NotPlaced()
        missing = [cid for cid in ids if cid not in found]
        if missing:
            self.stats["add.undecided"] += 1
            raise TransportError(
                f"{failure}; the batch was placed but {len(missing)} of its orders could not "
                "be found", endpoint=endpoint, sent=True,
            )
        self.stats["add.found"] += 1
        first = found[ids[0]]
        note = {"after": failure, "found": True, "status": first.status, "where": first.where}
        _log.info("recovery.add_found", endpoint=endpoint, txid=first.txid, status=first.status)
        result: dict[str, Any]
        if endpoint == "AddOrder":
            result = {"txid": [first.txid], "descr": _descr(first)}
        else:
            result = {"orders": [{"txid": found[c].txid, "descr": _descr(found[c])} for c in ids]}
        result["orderpace_recovered"] = note
        return {"error": [], "result": result}

    async def _lookup(self, endpoint: str, ids: list[str], failure: str) -> dict[str, FoundOrder]:
        """The orders among ``ids`` the exchange has; retried; TransportError if it can't say."""
        last: Exception | None = None
        for attempt in range(self.settings.lookup_attempts):
            if attempt:
                await self._sleep(self.settings.lookup_retry_delay)
            try:
                return await self._find(ids)
            except (TransportError, KrakenError, MalformedReply) as e:
                last = e
                _log.warning("recovery.lookup_failed", endpoint=endpoint, attempt=attempt + 1,
                             error=str(e))
        self.stats["add.undecided"] += 1
        raise TransportError(
            f"{failure}; fate unknown: the order lookup failed ({last})",
            endpoint=endpoint, sent=True,
        )

    async def _find(self, ids: list[str]) -> dict[str, FoundOrder]:
        lookups = self._lookups
        if len(ids) == 1:
            one = await find_order_by_cl_ord_id(lookups, ids[0])
            return {ids[0]: one} if one is not None else {}
        result = raise_for_reply(await lookups.request("OpenOrders", {}), endpoint="OpenOrders")
        found = _scan(result.get("open") if isinstance(result, Mapping) else None, ids, "open")
        if not found:
            # all or nothing: if the first order is nowhere, the batch was not placed
            reply = await lookups.request("ClosedOrders", {"cl_ord_id": ids[0]})
            result = raise_for_reply(reply, endpoint="ClosedOrders")
            closed = result.get("closed") if isinstance(result, Mapping) else None
            found = _scan(closed, ids[:1], "closed")
            if not found:
                return {}
        missing = [cid for cid in ids if cid not in found]
        if missing:
            reply = await lookups.request("ClosedOrders", {})
            result = raise_for_reply(reply, endpoint="ClosedOrders")
            closed = result.get("closed") if isinstance(result, Mapping) else None
            found.update(_scan(closed, missing, "closed"))
        return found

    # -- cancels -------------------------------------------------------------------------

    async def _cancel(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        retries = 0
        while True:
            if retries:
                self.extra_requests[endpoint] += 1
            try:
                reply = await self.inner.request(endpoint, params)
            except TransportError as e:
                if retries >= self.settings.cancel_retries:
                    raise
                retries += 1
                self.stats["cancel.retried"] += 1
                _log.warning("recovery.cancel_retry", endpoint=endpoint, error=str(e))
                continue
            uncertain = is_uncertain(reply)
            if uncertain is not None and retries < self.settings.cancel_retries:
                retries += 1
                self.stats["cancel.retried"] += 1
                _log.warning("recovery.cancel_retry", endpoint=endpoint, error=uncertain)
                continue
            if retries and kraken_errors_of(reply) and cancel_counts_as_done(
                reply, after_transport_error=True
            ):
                self.stats["cancel.unknown_done"] += 1
                return {"error": [], "result": {"count": 0, "orderpace_note": (
                    f"{ke.UNKNOWN_ORDER} on a retry after a lost reply: the first cancel most "
                    "likely succeeded, or the order had closed; either way it is not open"
                )}}
            return reply
