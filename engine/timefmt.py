"""Kraken's wire time format (RFC 3339, UTC, milliseconds), both ways: the client's one copy.

The simulated exchange keeps its own (:mod:`engine.exchange.params`): the referee shares no
code with what it referees.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["parse_rfc3339", "rfc3339"]


def rfc3339(unix: float) -> str:
    """``unix`` (seconds since the epoch) as ``2024-01-02T03:04:05.678+00:00``."""
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC).isoformat(timespec="milliseconds")


def parse_rfc3339(text: object) -> float | None:
    """UNIX seconds of an RFC 3339 time with a zone; None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None
