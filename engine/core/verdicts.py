"""Reading a reply: :func:`judge` turns a Kraken reply into a :class:`Verdict`.

Pure: no clock, no state.  The engine applies the verdict (engine.core.engine).

* no ``E`` error: **accept**;
* ``EOrder:Rate limit exceeded``: the pair's trading counter is full -- *saturate* it, and
  **retry** once (such a refusal executes nothing);
* ``EAPI:Rate limit exceeded``: the same for the key's API counter;
* ``EOrder:Orders limit exceeded``: **retry** once;
* ``EService:Throttled:<ts>``: *pause* the key until ``<ts>`` (UNIX seconds; unknown: one
  second) and halve the in-flight cap, then **retry** -- up to 10 tries in all (the request
  was not processed);
* ``EGeneral:Temporary lockout``, ``EAPI:Invalid key``, ``EAPI:Invalid signature``: **lock**
  -- nothing more can succeed;
* ``EAPI:Invalid nonce``: **retry** with a fresh nonce -- up to :data:`NONCE_ATTEMPTS` tries
  in all (such a refusal executes nothing; the retry goes back through the queue and its
  pacing) -- when ``nonce_retry`` (the engine still running), whatever ``retry_allowed``;
* ``EService:Deadline elapsed`` (not retried): **expire**;
* anything else: **reject**.
Retries happen only when ``retry_allowed`` (the setting, and the engine still running).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, NamedTuple

from engine import kraken_errors as ke

__all__ = ["NONCE_ATTEMPTS", "THROTTLED_ATTEMPTS", "Action", "Effect", "Verdict", "judge"]

#: Tries for a request refused with EService:Throttled (it was not processed): the first
#: and nine more, each after the pause the exchange asked for.
THROTTLED_ATTEMPTS = 10

#: Tries for a request refused for its nonce (``EAPI:Invalid nonce``): the first and two
#: more (refusals are rare under the nonce rule; many in a row can earn a lockout).
NONCE_ATTEMPTS = 3

#: Tries for a request refused for a rate limit or the open-orders cap: the first and one more.
RATE_LIMITED_ATTEMPTS = 2

#: Refusals of the key itself: every further request would meet them too.
_KEY_REFUSED = frozenset({ke.INVALID_KEY, ke.INVALID_SIGNATURE})

_RETRYABLE = frozenset(
    {ke.ErrorKind.ORDER_RATE_LIMIT, ke.ErrorKind.API_RATE_LIMIT, ke.ErrorKind.THROTTLED,
     ke.ErrorKind.ORDERS_LIMIT}
)


class Action(enum.Enum):
    """What becomes of the intent."""

    ACCEPT = "accept"
    RETRY = "retry"  # back to the front of its queue
    REJECT = "reject"
    EXPIRE = "expire"
    LOCK = "lock"  # stop sending; fail everything pending


class Effect(enum.Enum):
    """What the reply tells about the budget, whatever becomes of the intent."""

    NONE = "none"
    SATURATE_TRADING = "saturate_trading"  # the pair's trading counter is full
    SATURATE_API = "saturate_api"  # the key's API counter is full
    PAUSE = "pause"  # throttled: pause the key until ``resume_at``, halve the in-flight cap


class Verdict(NamedTuple):
    """A reply, judged.  ``error``: the first ``E`` error (None when accepted); ``errors``:
    every ``E`` error; ``result``: the reply's result when it is a mapping; ``resume_at``:
    UNIX seconds to pause until (``PAUSE`` only; None when the reply did not say)."""

    action: Action
    effect: Effect = Effect.NONE
    error: str | None = None
    errors: tuple[str, ...] = ()
    result: Mapping[str, Any] | None = None
    resume_at: float | None = None
    kind: ke.ErrorKind | None = None


def judge(reply: Mapping[str, Any], attempts: int, *, retry_allowed: bool = True,
          nonce_retry: bool = True) -> Verdict:
    """The verdict on ``reply`` to a request tried ``attempts`` times (this one included)."""
    result = reply.get("result")
    if result is not None and type(result) is not dict and not isinstance(result, Mapping):
        result = None
    raw = reply.get("error")
    if not raw:  # the usual reply: accepted, no errors at all
        return Verdict(Action.ACCEPT, Effect.NONE, None, (), result)
    errors = tuple(e for e in raw if isinstance(e, str) and e[:1] == "E")
    if not errors:
        return Verdict(Action.ACCEPT, Effect.NONE, None, (), result)
    error = errors[0]
    kind = ke.classify(error)
    effect = Effect.NONE
    resume_at = None
    if kind is ke.ErrorKind.ORDER_RATE_LIMIT:
        effect = Effect.SATURATE_TRADING
    elif kind is ke.ErrorKind.API_RATE_LIMIT:
        effect = Effect.SATURATE_API
    elif kind is ke.ErrorKind.THROTTLED:
        effect = Effect.PAUSE
        resume_at = ke.throttled_until(error)
    elif kind is ke.ErrorKind.LOCKOUT or error in _KEY_REFUSED:
        return Verdict(Action.LOCK, effect, error, errors, result, None, kind)
    if kind is ke.ErrorKind.NONCE:
        action = Action.RETRY if nonce_retry and attempts < NONCE_ATTEMPTS else Action.REJECT
        return Verdict(action, effect, error, errors, result, None, kind)
    limit = THROTTLED_ATTEMPTS if kind is ke.ErrorKind.THROTTLED else RATE_LIMITED_ATTEMPTS
    if retry_allowed and attempts < limit and kind in _RETRYABLE:
        action = Action.RETRY
    elif kind is ke.ErrorKind.TRANSIENT and error == ke.DEADLINE_ELAPSED:
        action = Action.EXPIRE
    else:
        action = Action.REJECT
    return Verdict(action, effect, error, errors, result, resume_at, kind)


def retryable(kind: ke.ErrorKind | None) -> bool:
    """Whether errors of ``kind`` are rate limits (or a nonce refusal) a retry may get
    past (for logging)."""
    return kind in _RETRYABLE or kind is ke.ErrorKind.NONCE
