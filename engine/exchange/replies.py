"""Kraken's error strings as the referee sends them (kraken-rate-limits.md s.1, s.2, s.4).

Kraken answers HTTP 200 with ``{"error": [...]}``; each error is
``<E|W><Category>:<message>[:<detail>]``.  The referee keeps its own copy of every string
it sends (not ``engine.kraken_errors``, the client's reading): a test holds the two against
each other.  :func:`envelope` and :func:`refusal` build the reply bodies.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "API_RATE_LIMIT",
    "COST_MINIMUM",
    "DEADLINE_ELAPSED",
    "INSUFFICIENT_FUNDS",
    "INVALID_ARGUMENTS",
    "INVALID_KEY",
    "INVALID_NONCE",
    "INVALID_SIGNATURE",
    "ORDERS_LIMIT",
    "ORDER_MINIMUM",
    "ORDER_RATE_LIMIT",
    "POST_ONLY_ORDER",
    "TEMPORARY_LOCKOUT",
    "THROTTLED",
    "TICK_SIZE",
    "TOO_MANY_REQUESTS",
    "UNAVAILABLE",
    "UNKNOWN_ASSET",
    "UNKNOWN_ASSET_PAIR",
    "UNKNOWN_METHOD",
    "UNKNOWN_ORDER",
    "envelope",
    "refusal",
    "throttled",
]

API_RATE_LIMIT = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMIT = "EOrder:Rate limit exceeded"
ORDERS_LIMIT = "EOrder:Orders limit exceeded"
THROTTLED = "EService:Throttled"  # followed by ":<UNIX timestamp>"
TOO_MANY_REQUESTS = "EGeneral:Too many requests"
TEMPORARY_LOCKOUT = "EGeneral:Temporary lockout"
INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"  # optionally ":<field>"
UNKNOWN_METHOD = "EGeneral:Unknown method"
UNAVAILABLE = "EService:Unavailable"
DEADLINE_ELAPSED = "EService:Deadline elapsed"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
ORDER_MINIMUM = "EOrder:Order minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
TICK_SIZE = "EOrder:Tick size check failed"
POST_ONLY_ORDER = "EOrder:Post only order"
UNKNOWN_ORDER = "EOrder:Unknown order"
UNKNOWN_ASSET_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"


def throttled(until: int) -> str:
    """``EService:Throttled:<until>``: retry after UNIX time ``until`` (s)."""
    return f"{THROTTLED}:{until}"


def envelope(result: Any) -> dict[str, Any]:
    """A successful reply: ``{"error": [], "result": result}``."""
    return {"error": [], "result": result}


def refusal(error: str) -> dict[str, Any]:
    """A refused reply: ``{"error": [error]}`` (no ``result``, as Kraken sends it)."""
    return {"error": [error]}
