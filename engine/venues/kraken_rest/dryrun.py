"""Dry runs: check orders with the exchange, change nothing on the account.

``orderpace live --dry-run`` stacks :class:`DryRunVenue` over a
:class:`~engine.venues.kraken_rest.rest.KrakenRestVenue` built with ``dry_run=True``:

* **AddOrder, AddOrderBatch** are sent with ``validate=true``: Kraken checks them (pair,
  minimums, tick size, funds) and places nothing.  Their replies carry no ``txid``.
* **CancelOrder, CancelOrderBatch, CancelAll, CancelAllOrdersAfter, AmendOrder,
  EditOrder** are *not sent*.  A dry run places no order, so they would have nothing to act
  on -- and CancelAll or CancelAllOrdersAfter would act on the account's real orders.  They
  are answered locally with a success clearly marked ``"dry_run": true`` (cancels
  ``count`` 0, amends an ``amend_id`` and edits a ``txid`` starting with ``DRYRUN-``), and
  each is logged as ``dry_run.local``.
* Queries (OpenOrders, Balance, ...) and public endpoints are sent unchanged: they only read.

:attr:`DryRunVenue.local` counts the requests answered locally, by endpoint.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Any

import structlog

from engine.venues.base import Reply, Venue

__all__ = ["LOCAL_ENDPOINTS", "DryRunVenue"]

#: Endpoints a dry run answers locally instead of sending.
LOCAL_ENDPOINTS: frozenset[str] = frozenset(
    {"CancelOrder", "CancelOrderBatch", "CancelAll", "CancelAllOrdersAfter", "AmendOrder",
     "EditOrder"}
)

_NOTE = "dry run: not sent to the exchange"

_log = structlog.get_logger("orderpace.live.dry_run")


class DryRunVenue:
    """Answers order-changing endpoints locally; sends the rest to ``inner`` (see module)."""

    def __init__(self, inner: Venue) -> None:
        self.inner = inner
        self.local: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"DryRunVenue({self.inner!r})"

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if endpoint not in LOCAL_ENDPOINTS:
            return await self.inner.request(endpoint, params)
        self.local[endpoint] += 1
        _log.info("dry_run.local", endpoint=endpoint)
        result: dict[str, Any] = {"dry_run": True, "note": _NOTE}
        if endpoint == "AmendOrder":
            result["amend_id"] = f"DRYRUN-{next(self._ids)}"
        elif endpoint == "EditOrder":
            result["txid"] = f"DRYRUN-{next(self._ids)}"
        elif endpoint == "CancelAllOrdersAfter":
            result.update(currentTime="", triggerTime="0")
        else:
            result["count"] = 0
        return {"error": [], "result": result}

    async def aclose(self) -> None:
        await self.inner.aclose()
