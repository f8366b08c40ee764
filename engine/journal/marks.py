"""Marking orders as this journal's own: a mark derived from the account and the journal,
carried in every ``cl_ord_id`` the run makes.

:func:`userref_for` takes the first four bytes of SHA-256 over ``account`` and the
journal's resolved path, as a positive 31-bit integer (1 .. 2**31 - 1): stable across
restarts of the same journal, different (with overwhelming odds) between journals.  It is
recorded with each run (``runs.userref``) but sent on no order: Kraken refuses ``userref``
together with ``cl_ord_id`` on an add, and the engine follows orders by ``cl_ord_id``.

:func:`mark_for` is the same number as 8 hex digits: the :data:`engine.clordid.MARK` that
:class:`~engine.journal.session.Journal` sets, so every ``cl_ord_id`` made by default
(:func:`engine.clordid.new_cl_ord_id`) begins with it.  Recovery counts an open order as
ours when the journal recorded its ``cl_ord_id`` or txid (every add is recorded before it
leaves) *or* its ``cl_ord_id`` carries the mark -- so an order whose journal row is missing
(the file lost and made again at the same path) is still found.  Orders placed by hand --
a ``cl_ord_id`` of another form (free text, another UUID) or none -- are left alone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["mark_for", "userref_for"]


def userref_for(account: str, journal: str | Path) -> int:
    """The 31-bit number of ``account``'s orders journaled in ``journal`` (1 .. 2**31 - 1)."""
    text = f"{account}\0{Path(journal).resolve()}".encode()
    n = int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFF_FFFF
    return n or 1


def mark_for(account: str, journal: str | Path) -> str:
    """:func:`userref_for` as 8 lowercase hex digits: the cl_ord_id mark of ``journal``."""
    return format(userref_for(account, journal), "08x")
