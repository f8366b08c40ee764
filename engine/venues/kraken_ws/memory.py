"""What the executions feed told about our orders: enough to settle a request whose reply
was lost, without asking the exchange again.

The exchange pushes every event a request causes *before* that request's reply, on the same
ordered connection (and re-lists open orders in the snapshot after a reconnect), so once a
reply is known lost:

* an add whose ``cl_ord_id`` the feed showed (``pending_new``, ``new``, a fill, a cancel,
  or the snapshot) was placed: its reply is rebuilt from the feed's ``order_id``;
* a cancel whose order the feed showed ``canceled`` (or ``filled``, ``expired``) is done;
* anything else stays unknown: the caller falls back to a lookup by ``cl_ord_id``
  (:class:`~engine.venues.kraken_rest.recovery.RecoveringVenue`), never to a blind resend.

Entries are kept for the last :data:`KEEP` orders (a run's recent history).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

__all__ = ["KEEP", "FeedMemory"]

#: Orders remembered (oldest forgotten first).
KEEP = 20_000

#: ``exec_type`` values after which an order is no longer open.
_CLOSED = frozenset({"filled", "canceled", "expired"})


class FeedMemory:
    """Orders seen on the executions feed: ``cl_ord_id`` -> ``order_id``, and which closed."""

    __slots__ = ("_by_cid", "_closed")

    def __init__(self) -> None:
        self._by_cid: OrderedDict[str, str] = OrderedDict()
        self._closed: OrderedDict[str, str] = OrderedDict()  # order_id -> exec_type

    def note(self, item: Mapping[str, Any]) -> None:
        """Remember one executions item (snapshot or update)."""
        oid = item.get("order_id")
        if not isinstance(oid, str):
            return
        cid = item.get("cl_ord_id")
        if isinstance(cid, str) and cid not in self._by_cid:
            self._by_cid[cid] = oid
            if len(self._by_cid) > KEEP:
                self._by_cid.popitem(last=False)
        kind = item.get("exec_type")
        if kind in _CLOSED:
            self._closed[oid] = str(kind)
            if len(self._closed) > KEEP:
                self._closed.popitem(last=False)

    def order_id(self, cl_ord_id: str) -> str | None:
        """The ``order_id`` the feed showed for ``cl_ord_id`` (None: never seen)."""
        return self._by_cid.get(cl_ord_id)

    def closed(self, ref: str) -> str | None:
        """How the order ``ref`` (order_id or cl_ord_id) was seen leaving the book
        (``filled``, ``canceled``, ``expired``), None when it was not."""
        oid = self._by_cid.get(ref, ref)
        return self._closed.get(oid)

    def __len__(self) -> int:
        return len(self._by_cid)
