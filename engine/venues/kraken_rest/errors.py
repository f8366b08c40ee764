"""Typed exceptions for Kraken error replies, classified by :func:`engine.kraken_errors.classify`.

Kraken answers HTTP 200 with ``{"error": [...], "result": {...}}``.  Entries starting with
``E`` are errors; entries starting with ``W`` are warnings and do not fail a request.
:func:`error_for_reply` builds the exception a reply deserves (or ``None``);
:func:`raise_for_reply` raises it, else returns the ``result``.

When a reply carries several errors, the exception follows the most severe one, in this
order: lockout, throttled, rate limits (API counter, trading counter, open orders, per-IP),
auth, nonce, transient, unknown order, rejected.  Every error string is kept in ``errors``.

=====================  =============================================================
exception              kinds (:class:`~engine.kraken_errors.ErrorKind`)
=====================  =============================================================
RateLimitError         API_RATE_LIMIT, ORDER_RATE_LIMIT, ORDERS_LIMIT, TOO_MANY_REQUESTS
ThrottledError         THROTTLED (a RateLimitError; ``until`` = UNIX seconds or None)
LockoutError           LOCKOUT
AuthError              AUTH
NonceError             NONCE
TransientError         TRANSIENT (the request's fate is unknown)
UnknownOrderError      UNKNOWN_ORDER
OrderRejected          REJECTED
=====================  =============================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.kraken_errors import ErrorKind, classify, throttled_until

__all__ = [
    "AuthError",
    "KrakenError",
    "LockoutError",
    "MalformedReply",
    "NonceError",
    "OrderRejected",
    "RateLimitError",
    "ThrottledError",
    "TransientError",
    "UnknownOrderError",
    "error_for_reply",
    "kraken_errors_of",
    "raise_for_reply",
]


class KrakenError(Exception):
    """Kraken refused a request.  ``errors``: every error string; ``kind``: the deciding one."""

    def __init__(
        self, errors: Iterable[str], kind: ErrorKind, *, endpoint: str | None = None
    ) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        self.kind = kind
        self.endpoint = endpoint
        where = f"{endpoint}: " if endpoint else ""
        super().__init__(f"{where}{', '.join(self.errors)}")

    @property
    def error(self) -> str:
        """The first error string of the deciding kind."""
        return next((e for e in self.errors if classify(e) is self.kind), self.errors[0])


class RateLimitError(KrakenError):
    """A rate limit was hit: back off; the engine's estimate was wrong."""


class ThrottledError(RateLimitError):
    """``EService:Throttled:<ts>``: too many concurrent requests; retry only after ``until``."""

    @property
    def until(self) -> float | None:
        """UNIX seconds after which the key may send again (``None`` if Kraken gave none)."""
        return throttled_until(self.error)


class LockoutError(KrakenError):
    """``EGeneral:Temporary lockout``: stop sending on this key (about 15 minutes)."""


class AuthError(KrakenError):
    """Invalid key, invalid signature or missing permission: not retryable."""


class NonceError(KrakenError):
    """``EAPI:Invalid nonce``: the nonce was not above the last one the key used."""


class TransientError(KrakenError):
    """Unavailable, internal error, deadline elapsed: the request's outcome is unknown."""


class UnknownOrderError(KrakenError):
    """``EOrder:Unknown order``: no such order (or it is already closed)."""


class OrderRejected(KrakenError):
    """The order itself was refused: arguments, funds, minimums, tick size, market mode..."""


class MalformedReply(ValueError):
    """A reply that is not Kraken's envelope (the venue normally refuses these itself)."""


_EXCEPTIONS: dict[ErrorKind, type[KrakenError]] = {
    ErrorKind.API_RATE_LIMIT: RateLimitError,
    ErrorKind.ORDER_RATE_LIMIT: RateLimitError,
    ErrorKind.ORDERS_LIMIT: RateLimitError,
    ErrorKind.TOO_MANY_REQUESTS: RateLimitError,
    ErrorKind.THROTTLED: ThrottledError,
    ErrorKind.LOCKOUT: LockoutError,
    ErrorKind.AUTH: AuthError,
    ErrorKind.NONCE: NonceError,
    ErrorKind.TRANSIENT: TransientError,
    ErrorKind.UNKNOWN_ORDER: UnknownOrderError,
    ErrorKind.REJECTED: OrderRejected,
}

#: Most severe first: the first kind present in a reply decides its exception.
_SEVERITY: tuple[ErrorKind, ...] = (
    ErrorKind.LOCKOUT,
    ErrorKind.THROTTLED,
    ErrorKind.API_RATE_LIMIT,
    ErrorKind.ORDER_RATE_LIMIT,
    ErrorKind.ORDERS_LIMIT,
    ErrorKind.TOO_MANY_REQUESTS,
    ErrorKind.AUTH,
    ErrorKind.NONCE,
    ErrorKind.TRANSIENT,
    ErrorKind.UNKNOWN_ORDER,
    ErrorKind.REJECTED,
)


def kraken_errors_of(reply: Mapping[str, Any]) -> tuple[str, ...]:
    """The error entries (``E...``) of a reply; warnings (``W...``) are left out."""
    errors = reply.get("error", [])
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
        raise MalformedReply("reply's 'error' is not a list of strings")
    return tuple(e for e in errors if not e.startswith("W"))


def error_for_reply(
    reply: Mapping[str, Any], *, endpoint: str | None = None
) -> KrakenError | None:
    """The exception ``reply`` deserves, or ``None`` when it carries no error."""
    errors = kraken_errors_of(reply)
    if not errors:
        return None
    kinds = {classify(e) for e in errors}
    kind = next(k for k in _SEVERITY if k in kinds)
    return _EXCEPTIONS[kind](errors, kind, endpoint=endpoint)


def raise_for_reply(reply: Mapping[str, Any], *, endpoint: str | None = None) -> Any:
    """``reply["result"]`` if the reply carries no error; else raise its :class:`KrakenError`."""
    error = error_for_reply(reply, endpoint=endpoint)
    if error is not None:
        raise error
    if "result" not in reply:
        raise MalformedReply("reply has neither errors nor a 'result'")
    return reply["result"]
