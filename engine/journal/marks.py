"""Marking orders as this journal's own: a ``userref`` derived from the account and the
journal, put on every add that does not carry one.

``userref`` is Kraken's signed 32-bit order tag.  :func:`userref_for` takes the first four
bytes of SHA-256 over ``account`` and the journal's resolved path, as a positive 31-bit
integer (1 .. 2**31 - 1): stable across restarts of the same journal, different (with
overwhelming odds) between journals.  Orders the user placed by hand carry another userref
(0 by default) and a cl_ord_id the journal never recorded: recovery leaves them alone.

:class:`MarkingVenue` wraps the venue the engine sends through and adds the userref to
AddOrder (and each order of AddOrderBatch).  The cl_ord_id needs no marking: every one is
journaled before its request leaves, so the journal finds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.venues.base import Reply, Venue

__all__ = ["MarkingVenue", "userref_for"]


def userref_for(account: str, journal: str | Path) -> int:
    """The userref of ``account``'s orders journaled in ``journal`` (1 .. 2**31 - 1)."""
    text = f"{account}\0{Path(journal).resolve()}".encode()
    n = int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFF_FFFF
    return n or 1


class MarkingVenue:
    """A :class:`~engine.venues.base.Venue` that puts ``userref`` on adds without one."""

    __slots__ = ("inner", "userref")

    def __init__(self, inner: Venue, userref: int) -> None:
        self.inner = inner
        self.userref = userref

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if endpoint == "AddOrder" and "userref" not in params:
            params = {**params, "userref": str(self.userref)}
        elif endpoint == "AddOrderBatch":
            orders = params.get("orders")
            if isinstance(orders, list | tuple):
                params = {**params, "orders": [
                    {**o, "userref": str(self.userref)}
                    if isinstance(o, Mapping) and "userref" not in o else o for o in orders]}
        return await self.inner.request(endpoint, params)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __repr__(self) -> str:
        return f"MarkingVenue({self.inner!r})"
