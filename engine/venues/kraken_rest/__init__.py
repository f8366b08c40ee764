"""The live Kraken venue: signing, nonces, credentials, error types, REST transport.

* :class:`KrakenRestVenue` -- :class:`engine.venues.base.Venue` over Kraken's REST API (httpx).
* :class:`Credentials` -- API key and secret from the environment or an owner-only file.
* :func:`sign` / :func:`verify` -- the ``API-Sign`` header.
* :class:`WallClockNonces` -- the default :class:`NonceSource`.
* :func:`raise_for_reply` and the :class:`KrakenError` family -- typed error replies.
* :class:`PublicThrottle` -- per-IP pacing of public endpoints.
* :func:`find_order_by_cl_ord_id` and the rules for what to do after a transport error.
* :class:`RecoveringVenue` -- settles fate-unknown adds and cancels by lookup, never by a
  blind resend; :class:`ApiPacer` paces its lookups on the engine's API counter.
* :class:`OrderPoller` -- closes in the engine the orders that left the book unseen.
* :class:`DryRunVenue` -- dry runs: adds validated only, cancels/amends/edits never sent.
* :class:`TickerFeed` -- prices for a live run from the public Ticker.

The live runner (:mod:`engine.run.live`, ``run_live``) and ``orderpace live``
(:mod:`engine.cli.live`) are imported on demand: they pull in the strategies package.
"""

from engine.venues.kraken_rest.body import (
    JSON_ENDPOINTS,
    EncodedBody,
    InvalidParameter,
    nonce_of_body,
)
from engine.venues.kraken_rest.credentials import (
    Credentials,
    CredentialsError,
    InsecureCredentialsFile,
    InvalidCredentials,
    MissingCredentials,
)
from engine.venues.kraken_rest.dryrun import DryRunVenue
from engine.venues.kraken_rest.errors import (
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
from engine.venues.kraken_rest.idempotency import (
    FoundOrder,
    cancel_counts_as_done,
    find_order_by_cl_ord_id,
    should_resend_add,
)
from engine.venues.kraken_rest.nonce import MAX_NONCE, NonceExhausted, NonceSource, WallClockNonces
from engine.venues.kraken_rest.pacing import ApiPacer, api_pacer_for
from engine.venues.kraken_rest.poller import ClosedOrder, OrderPoller
from engine.venues.kraken_rest.prices import TickerFeed
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.recovery import LookupPacer, RecoveringVenue, RecoverySettings
from engine.venues.kraken_rest.rest import DEFAULT_BASE_URL, USER_AGENT, KrakenRestVenue
from engine.venues.kraken_rest.signing import InvalidSecret, sign, verify

__all__ = [
    "DEFAULT_BASE_URL",
    "JSON_ENDPOINTS",
    "MAX_NONCE",
    "USER_AGENT",
    "ApiPacer",
    "AuthError",
    "ClosedOrder",
    "Credentials",
    "CredentialsError",
    "DryRunVenue",
    "EncodedBody",
    "FoundOrder",
    "InsecureCredentialsFile",
    "InvalidCredentials",
    "InvalidParameter",
    "InvalidSecret",
    "KrakenError",
    "KrakenRestVenue",
    "LockoutError",
    "LookupPacer",
    "MalformedReply",
    "MissingCredentials",
    "NonceError",
    "NonceExhausted",
    "NonceSource",
    "OrderPoller",
    "OrderRejected",
    "PublicThrottle",
    "RateLimitError",
    "RecoveringVenue",
    "RecoverySettings",
    "ThrottledError",
    "TickerFeed",
    "TransientError",
    "UnknownOrderError",
    "WallClockNonces",
    "api_pacer_for",
    "cancel_counts_as_done",
    "error_for_reply",
    "find_order_by_cl_ord_id",
    "nonce_of_body",
    "raise_for_reply",
    "should_resend_add",
    "sign",
    "verify",
]
