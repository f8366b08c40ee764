"""``EOrder:Unknown order`` on an amend, edit or cancel: ask the exchange what happened.

The reply means "this order is no longer open", not "it never existed": most often it
filled (or expired) while the request was on the wire.  Closing it in the engine as
"unknown" would lose the fill.  :class:`GoneOrderLookup` is a venue layer: on that reply to
``AmendOrder``, ``EditOrder`` or ``CancelOrder`` it sends one ``QueryOrders`` for the order
(by ``txid`` when the request named one, else by ``cl_ord_id``), paced first by ``pace``
(its API-counter cost, 1 unit, on the engine's API counter: see
:class:`~engine.venues.kraken_rest.pacing.ApiPacer`), and hands what the exchange reports
to ``on_gone(ref, info)`` -- Kraken's order record: ``status`` (``closed`` = filled,
``canceled``, ``expired``), ``vol_exec``, ``price`` (average) -- *before* returning the
reply, so the caller reports the fill (the strategy's ``on_fill``) and closes the order
before the engine reads the refusal.  The reply itself is returned unchanged.

A lookup that fails (transport error, refusal, no record) is logged and counted; the engine
then closes the order as before.  ``stats`` counts lookups by what they found.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from engine import kraken_errors as ke
from engine.venues.base import Reply, TransportError, Venue
from limiters.costs import API_COSTS

__all__ = ["CHANGE_ENDPOINTS", "GoneOrderLookup"]

#: Requests about one resting order whose ``EOrder:Unknown order`` is looked up.
CHANGE_ENDPOINTS = frozenset({"AmendOrder", "EditOrder", "CancelOrder"})

#: A Kraken order txid: ``OABCDE-FGHIJ-KLMNOP``.
_TXID = re.compile(r"O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}")

_log = structlog.get_logger("orderpace.live.gone")

Pace = Callable[[str, float], Awaitable[None]]
OnGone = Callable[[str, Mapping[str, Any]], None]


def _ref(params: Mapping[str, Any]) -> tuple[str, str] | None:
    """The order a change request names: ``(parameter, id)``."""
    for name in ("txid", "cl_ord_id", "order_id"):
        value = params.get(name)
        if isinstance(value, str) and value:
            return name, value
    return None


class GoneOrderLookup:
    """A :class:`~engine.venues.base.Venue` over ``inner`` (see the module docstring)."""

    __slots__ = ("inner", "on_gone", "pace", "stats")

    def __init__(self, inner: Venue, *, on_gone: OnGone | None = None,
                 pace: Pace | None = None) -> None:
        self.inner = inner
        self.on_gone = on_gone
        self.pace = pace
        self.stats: Counter[str] = Counter()

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        reply = await self.inner.request(endpoint, params)
        if endpoint in CHANGE_ENDPOINTS and ke.UNKNOWN_ORDER in (reply.get("error") or ()):
            ref = _ref(params)
            if ref is not None:
                await self._look_up(endpoint, ref[1])
        return reply

    async def _look_up(self, endpoint: str, ref: str) -> None:
        query = {"txid": ref} if _TXID.fullmatch(ref) else {"cl_ord_id": ref}
        try:
            if self.pace is not None:
                await self.pace("QueryOrders", float(API_COSTS.get("QueryOrders", 1)))
            reply = await self.inner.request("QueryOrders", query)
        except TransportError as e:
            self.stats["failed"] += 1
            _log.warning("gone.lookup_failed", endpoint=endpoint, order=ref, error=str(e))
            return
        self.stats["lookups"] += 1
        result = reply.get("result")
        errors = reply.get("error") or ()
        info = None
        if not errors and isinstance(result, Mapping) and result:
            info = next(iter(result.values()))
        if not isinstance(info, Mapping):
            self.stats["not_found"] += 1
            _log.warning("gone.lookup_empty", endpoint=endpoint, order=ref,
                         error=errors[0] if errors else None)
            return
        status = str(info.get("status") or "unknown")
        self.stats[status] += 1
        _log.info("gone.order", endpoint=endpoint, order=ref, status=status,
                  vol_exec=info.get("vol_exec"))
        if self.on_gone is not None and status != "open":
            self.on_gone(ref, info)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"GoneOrderLookup({self.inner!r})"
