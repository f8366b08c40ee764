"""Kraken's error strings, exactly as the exchange sends them, and their classification.

Kraken answers HTTP 200 with ``{"error": [...], "result": {...}}``; each error is
``<E|W><Category>:<message>[:<detail>]``.  The simulated exchange answers with these
strings and the live venue classifies what it receives with :func:`classify`.
Source: ``kraken-rate-limits.md`` sections 1, 2 and 4, and Kraken's spot error page.
"""

from __future__ import annotations

import enum

__all__ = [
    "API_RATE_LIMIT",
    "CANCEL_ONLY",
    "COST_MINIMUM",
    "DEADLINE_ELAPSED",
    "INSUFFICIENT_FUNDS",
    "INTERNAL_ERROR",
    "INVALID_ARGUMENTS",
    "INVALID_KEY",
    "INVALID_NONCE",
    "INVALID_SIGNATURE",
    "ORDERS_LIMIT",
    "ORDER_MINIMUM",
    "ORDER_RATE_LIMIT",
    "PERMISSION_DENIED",
    "POST_ONLY_MODE",
    "POST_ONLY_ORDER",
    "RATE_LIMIT_ERRORS",
    "TEMPORARY_LOCKOUT",
    "THROTTLED",
    "TICK_SIZE",
    "TOO_MANY_REQUESTS",
    "UNAVAILABLE",
    "UNKNOWN_ASSET_PAIR",
    "UNKNOWN_METHOD",
    "UNKNOWN_ORDER",
    "ErrorKind",
    "classify",
    "is_rate_limit_error",
    "throttled",
    "throttled_until",
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
PERMISSION_DENIED = "EGeneral:Permission denied"
INTERNAL_ERROR = "EGeneral:Internal error"
UNKNOWN_METHOD = "EGeneral:Unknown method"
UNAVAILABLE = "EService:Unavailable"
CANCEL_ONLY = "EService:Market in cancel_only mode"
POST_ONLY_MODE = "EService:Market in post_only mode"
DEADLINE_ELAPSED = "EService:Deadline elapsed"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
ORDER_MINIMUM = "EOrder:Order minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
TICK_SIZE = "EOrder:Tick size check failed"
POST_ONLY_ORDER = "EOrder:Post only order"
UNKNOWN_ORDER = "EOrder:Unknown order"
UNKNOWN_ASSET_PAIR = "EQuery:Unknown asset pair"

#: Replies that count as rate-limit errors in every report (design.md, command line).
RATE_LIMIT_ERRORS: tuple[str, ...] = (
    API_RATE_LIMIT, ORDER_RATE_LIMIT, ORDERS_LIMIT, THROTTLED, TOO_MANY_REQUESTS,
)


class ErrorKind(enum.StrEnum):
    """What an error means for the engine."""

    API_RATE_LIMIT = "api_rate_limit"  # the key's API counter is full
    ORDER_RATE_LIMIT = "order_rate_limit"  # the pair's trading counter is full
    ORDERS_LIMIT = "orders_limit"  # too many open orders on the pair
    THROTTLED = "throttled"  # too many concurrent requests: retry after a timestamp
    TOO_MANY_REQUESTS = "too_many_requests"  # public per-IP limit
    LOCKOUT = "lockout"  # stop sending
    AUTH = "auth"  # key, signature, permission: not retryable
    NONCE = "nonce"
    UNKNOWN_ORDER = "unknown_order"
    TRANSIENT = "transient"  # unavailable, internal error, deadline elapsed: outcome unknown
    REJECTED = "rejected"  # the order itself was refused (arguments, funds, minimums, ...)


_EXACT: dict[str, ErrorKind] = {
    API_RATE_LIMIT: ErrorKind.API_RATE_LIMIT,
    ORDER_RATE_LIMIT: ErrorKind.ORDER_RATE_LIMIT,
    ORDERS_LIMIT: ErrorKind.ORDERS_LIMIT,
    TOO_MANY_REQUESTS: ErrorKind.TOO_MANY_REQUESTS,
    TEMPORARY_LOCKOUT: ErrorKind.LOCKOUT,
    INVALID_KEY: ErrorKind.AUTH,
    INVALID_SIGNATURE: ErrorKind.AUTH,
    PERMISSION_DENIED: ErrorKind.AUTH,
    INVALID_NONCE: ErrorKind.NONCE,
    UNKNOWN_ORDER: ErrorKind.UNKNOWN_ORDER,
    UNAVAILABLE: ErrorKind.TRANSIENT,
    DEADLINE_ELAPSED: ErrorKind.TRANSIENT,
}


def classify(error: str) -> ErrorKind:
    """The :class:`ErrorKind` of one Kraken error string."""
    if error.startswith(THROTTLED):
        return ErrorKind.THROTTLED
    if error.startswith(INTERNAL_ERROR):
        return ErrorKind.TRANSIENT
    return _EXACT.get(error, ErrorKind.REJECTED)


def is_rate_limit_error(error: str) -> bool:
    """Whether ``error`` is one of :data:`RATE_LIMIT_ERRORS` (Throttled with any timestamp)."""
    return error in RATE_LIMIT_ERRORS or error.startswith(THROTTLED)


def throttled(until_unix: float) -> str:
    """The Throttled error for a retry allowed at ``until_unix`` (whole UNIX seconds)."""
    return f"{THROTTLED}:{int(until_unix)}"


def throttled_until(error: str) -> float | None:
    """The UNIX timestamp in an ``EService:Throttled:<ts>`` error, else ``None``."""
    if not error.startswith(THROTTLED):
        return None
    tail = error[len(THROTTLED):].lstrip(": ").strip()
    try:
        return float(tail)
    except ValueError:
        return None
