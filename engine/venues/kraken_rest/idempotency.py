"""After a :class:`~engine.venues.base.TransportError`: did the request reach the exchange?

A transport error with ``sent=True`` leaves a request's fate unknown.  Order requests are not
idempotent on Kraken, so the engine must find out before it acts again.  Rules:

1. **AddOrder: resend only if the order does not exist.**  Every add carries a ``cl_ord_id``
   (unique per open order); :func:`find_order_by_cl_ord_id` looks it up, first among open
   orders, then among closed ones (an order only moves from open to closed, so asking in
   that order cannot miss one that closes in between).  Found, in any status (pending, open,
   closed, canceled, expired): the add reached the exchange; adopt its ``txid``, do not
   resend.  Not found: resend (:func:`should_resend_add`) -- but only once the original can
   no longer arrive: give every add a ``deadline`` (RFC 3339, now + 2..60 s) and look it up
   after the deadline has passed, since the exchange drops an add that arrives later.  A
   lookup that itself fails (error reply or transport error) decides nothing: retry the
   lookup later, never the add.  As a last guard, Kraken refuses a second open order with
   the same ``cl_ord_id``, so a resend never duplicates an order that is still open.
2. **Cancel: an ``EOrder:Unknown order`` after a transport error counts as done.**  The lost
   cancel most likely succeeded (or the order closed meanwhile); either way the order is no
   longer open (:func:`cancel_counts_as_done`).  Retrying a cancel is always safe.
3. ``sent=False`` means the request certainly did not execute: send it again as new.

Lookups cost API-counter units (OpenOrders and ClosedOrders: 2 each, see
:mod:`limiters.costs`); the engine should charge them like any private call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from engine.kraken_errors import UNKNOWN_ORDER
from engine.venues.base import Reply, Venue
from engine.venues.kraken_rest.errors import MalformedReply, kraken_errors_of, raise_for_reply

__all__ = [
    "FoundOrder",
    "cancel_counts_as_done",
    "find_order_by_cl_ord_id",
    "should_resend_add",
]


@attrs.frozen(slots=True)
class FoundOrder:
    """An order found by its ``cl_ord_id``.

    ``txid``: Kraken's order id; ``status``: ``pending``, ``open``, ``closed``, ``canceled``
    or ``expired``; ``where``: ``"open"`` or ``"closed"`` (the list it was found in);
    ``info``: Kraken's order record as received.
    """

    txid: str
    status: str
    where: str
    info: Mapping[str, Any] = attrs.field(eq=False, repr=False)


def _match(orders: object, cl_ord_id: str, where: str) -> FoundOrder | None:
    if orders is None:
        return None
    if not isinstance(orders, Mapping):
        raise MalformedReply(f"{where} orders are not an object")
    for txid, info in orders.items():
        if isinstance(info, Mapping) and info.get("cl_ord_id") == cl_ord_id:
            return FoundOrder(str(txid), str(info.get("status", where)), where, info)
    return None


def _result(reply: Reply, endpoint: str) -> Mapping[str, Any]:
    result = raise_for_reply(reply, endpoint=endpoint)
    if not isinstance(result, Mapping):
        raise MalformedReply(f"{endpoint} result is not an object")
    return result


async def find_order_by_cl_ord_id(
    venue: Venue, cl_ord_id: str, *, closed_start: int | None = None
) -> FoundOrder | None:
    """The order with ``cl_ord_id``, open or closed, or ``None`` if the exchange has none.

    Asks OpenOrders, then ClosedOrders, both filtered by ``cl_ord_id``; only a record whose
    own ``cl_ord_id`` matches counts.  ``closed_start`` (UNIX seconds) narrows the closed
    search to orders since then.  Raises :class:`~kraken_rest.errors.KrakenError` on an error
    reply and :class:`~engine.venues.base.TransportError` when a lookup's fate is unknown: in both
    cases nothing is decided.
    """
    if not cl_ord_id:
        raise ValueError("cl_ord_id must not be empty")
    reply = await venue.request("OpenOrders", {"cl_ord_id": cl_ord_id})
    found = _match(_result(reply, "OpenOrders").get("open"), cl_ord_id, "open")
    if found is not None:
        return found
    params = {"cl_ord_id": cl_ord_id}
    if closed_start is not None:
        params["start"] = str(int(closed_start))
    reply = await venue.request("ClosedOrders", params)
    return _match(_result(reply, "ClosedOrders").get("closed"), cl_ord_id, "closed")


def should_resend_add(found: FoundOrder | None) -> bool:
    """Rule 1: resend an add only if its order does not exist (``found is None``).

    Call it only after the add's ``deadline`` has passed (see the module docstring).
    """
    return found is None


def cancel_counts_as_done(reply: Reply, *, after_transport_error: bool) -> bool:
    """Rule 2: whether a cancel reply means the order is no longer open.

    A reply without errors is done.  ``EOrder:Unknown order`` (alone) is done only when this
    cancel retries one lost to a transport error (``after_transport_error``); otherwise it
    is a real error for the engine to report.
    """
    errors = kraken_errors_of(reply)
    if not errors:
        return True
    return after_transport_error and all(e == UNKNOWN_ORDER for e in errors)
