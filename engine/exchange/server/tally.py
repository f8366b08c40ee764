"""What the server answered, counted from outside any client: requests and errors per API
key, for public requests, and in total -- the figures ``orderpace simulate-exchange --json``
prints (at stop, and on SIGUSR1 while it serves).

Every request the server routes (REST, public or private, and every WebSocket v2 message)
is counted once: under the key it names (``API-Key``, whether or not its signature holds;
a WebSocket message: its token's key), under ``public`` (no key: a public REST request, a
WebSocket message without a valid token) or under ``unknown_key`` (a key the server does
not accept, or none on a private path).  Errors are the reply's error strings, by code;
``EService:Throttled:<ts>`` counts under the bare ``EService:Throttled``.
``rate_limit_errors`` sums the replies the design calls rate-limit errors
(:data:`RATE_LIMIT_ERRORS`).

A key is shown only as its first four characters and ``...`` (the secret never: only the
keys of the server's key -> secret mapping are read), in the order the keys were given;
two keys with the same first characters are told apart by their place in that list.
``in_flight`` is the number of requests read and not yet answered (REST) or not yet
handled (WebSocket): 0 means every request received so far is in the counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from engine.exchange import replies as ke

__all__ = ["RATE_LIMIT_ERRORS", "Tally", "error_code"]

#: The replies counted as rate-limit errors (design.md, "Command line"):
#: the API counter, the trading counter, the open-orders cap, the concurrency throttle and
#: the per-IP public limit.
RATE_LIMIT_ERRORS = frozenset({
    ke.API_RATE_LIMIT, ke.ORDER_RATE_LIMIT, ke.ORDERS_LIMIT, ke.THROTTLED,
    ke.TOO_MANY_REQUESTS,
})


def error_code(error: str) -> str:
    """``error`` without its variable part (``EService:Throttled:<ts>``: the bare code)."""
    return ke.THROTTLED if error.startswith(ke.THROTTLED + ":") else error


class _Bucket:
    """Requests and errors (by code) of one key, of public requests, or of unknown keys."""

    __slots__ = ("errors", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.errors: Counter[str] = Counter()

    def add(self, errors: Iterable[str]) -> None:
        self.requests += 1
        for e in errors:
            self.errors[error_code(e)] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": dict(sorted(self.errors.items())),
            "rate_limit_errors": sum(n for e, n in self.errors.items()
                                     if e in RATE_LIMIT_ERRORS),
        }


def _shown(key: str) -> str:
    return key[:4] + "..."


class Tally:
    """The counts (see the module docstring).

    ``keys``: the server's accepted keys, a mapping read live (keys added while serving are
    counted from then on) in the order they were given; only its keys are read.
    """

    __slots__ = ("_by_key", "_keys", "in_flight", "public", "unknown_key")

    def __init__(self, keys: Mapping[str, object]) -> None:
        self._keys = keys
        self._by_key: dict[str, _Bucket] = {}
        self.public = _Bucket()
        self.unknown_key = _Bucket()
        self.in_flight = 0

    def record(self, key: str | None, errors: Iterable[str]) -> None:
        """One request answered: signed with ``key`` (None: public), replied ``errors``."""
        if key is None:
            self.public.add(errors)
        elif key in self._keys:
            bucket = self._by_key.get(key)
            if bucket is None:
                bucket = self._by_key[key] = _Bucket()
            bucket.add(errors)
        else:
            self.unknown_key.add(errors)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: ``requests``, ``errors`` (by code) and ``rate_limit_errors`` in
        total; ``keys`` (a list in the keys' order: ``key`` shown as its first four
        characters, then the same three figures), ``public``, ``unknown_key``;
        ``in_flight``."""
        keys = [{"key": _shown(k), **self._by_key.get(k, _Bucket()).as_dict()}
                for k in list(self._keys)]
        total = _Bucket()
        for bucket in (self.public, self.unknown_key, *self._by_key.values()):
            total.requests += bucket.requests
            total.errors.update(bucket.errors)
        return {**total.as_dict(), "in_flight": self.in_flight, "keys": keys,
                "public": self.public.as_dict(), "unknown_key": self.unknown_key.as_dict()}

    def __repr__(self) -> str:
        return f"Tally(keys={len(self._by_key)}, public={self.public.requests})"
