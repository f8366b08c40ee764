"""The live Kraken venue: signing, nonces, credentials, error types, REST transport.

* :class:`KrakenRestVenue` -- :class:`engine.venue.Venue` over Kraken's REST API (httpx).
* :class:`Credentials` -- API key and secret from the environment or an owner-only file.
* :func:`sign` / :func:`verify` -- the ``API-Sign`` header.
* :class:`WallClockNonces` -- the default :class:`NonceSource`.
* :func:`raise_for_reply` and the :class:`KrakenError` family -- typed error replies.
* :class:`PublicThrottle` -- per-IP pacing of public endpoints.
* :func:`find_order_by_cl_ord_id` and the rules for what to do after a transport error.
"""

from engine.live.body import JSON_ENDPOINTS, EncodedBody, InvalidParameter, nonce_of_body
from engine.live.credentials import (
    Credentials,
    CredentialsError,
    InsecureCredentialsFile,
    InvalidCredentials,
    MissingCredentials,
)
from engine.live.errors import (
    AuthError,
    KrakenError,
    LockoutError,
    MalformedReply,
    NonceError,
    OrderRejected,
    RateLimitError,
    ThrottledError,
    TransientError,
    UnknownOrderError,
    error_for_reply,
    raise_for_reply,
)
from engine.live.idempotency import (
    FoundOrder,
    cancel_counts_as_done,
    find_order_by_cl_ord_id,
    should_resend_add,
)
from engine.live.nonce import MAX_NONCE, NonceExhausted, NonceSource, WallClockNonces
from engine.live.public import PublicThrottle
from engine.live.rest import DEFAULT_BASE_URL, USER_AGENT, KrakenRestVenue
from engine.live.signing import InvalidSecret, sign, verify

__all__ = [
    "DEFAULT_BASE_URL",
    "JSON_ENDPOINTS",
    "MAX_NONCE",
    "USER_AGENT",
    "AuthError",
    "Credentials",
    "CredentialsError",
    "EncodedBody",
    "FoundOrder",
    "InsecureCredentialsFile",
    "InvalidCredentials",
    "InvalidParameter",
    "InvalidSecret",
    "KrakenError",
    "KrakenRestVenue",
    "LockoutError",
    "MalformedReply",
    "MissingCredentials",
    "NonceError",
    "NonceExhausted",
    "NonceSource",
    "OrderRejected",
    "PublicThrottle",
    "RateLimitError",
    "ThrottledError",
    "TransientError",
    "UnknownOrderError",
    "WallClockNonces",
    "cancel_counts_as_done",
    "error_for_reply",
    "find_order_by_cl_ord_id",
    "nonce_of_body",
    "raise_for_reply",
    "should_resend_add",
    "sign",
    "verify",
]
