"""Errors the engine raises at its boundary (``Engine.submit`` and intent construction).

All derive from :class:`EngineError`.  Input errors are also :class:`ValueError`s and name
the field and value that were refused; nothing already queued is touched when one is raised.
"""

from __future__ import annotations

__all__ = [
    "EngineClosed",
    "EngineError",
    "EngineLocked",
    "InvalidIntent",
    "QueueFull",
    "UnknownOrder",
]


class EngineError(Exception):
    """Base class of the engine's errors."""


class InvalidIntent(EngineError, ValueError):
    """An intent with a malformed field (NaN price, negative volume, empty id, ...)."""

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"invalid {field}: {why} (got {value!r})")


class UnknownOrder(EngineError, ValueError):
    """An amend, edit or cancel of an order the engine does not know, with no pair given."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(
            f"unknown order {order_id!r}: not placed through this engine; "
            "pass pair=... to act on an order placed elsewhere"
        )


class QueueFull(EngineError):
    """The engine's bounded queue is full; the intent was refused and nothing was lost."""

    def __init__(self, scope: str, limit: int) -> None:
        self.scope = scope
        self.limit = limit
        super().__init__(f"queue full: {scope} already holds {limit} intents; intent refused")


class EngineClosed(EngineError):
    """``submit`` after shutdown began, or before the engine was started."""


class EngineLocked(EngineError):
    """The engine stopped sending: the exchange answered ``EGeneral:Temporary lockout``, or
    refused the key itself (``EAPI:Invalid key``, ``EAPI:Invalid signature``)."""
