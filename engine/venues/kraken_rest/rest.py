"""The live venue: Kraken's REST API over one keep-alive ``httpx.AsyncClient``.

* **Public** endpoints (:data:`limiters.costs.PUBLIC_ENDPOINTS`): ``GET /0/public/<Endpoint>``
  with query parameters, paced per IP by a :class:`~kraken_rest.public.PublicThrottle`.
* **Private** endpoints (everything else): ``POST /0/private/<Endpoint>`` with a nonce from a
  :class:`~kraken_rest.nonce.NonceSource`, signed (:mod:`kraken_rest.signing`), the body
  form-encoded or JSON (:mod:`kraken_rest.body`), headers ``API-Key`` and ``API-Sign``.

Wire order (the nonce rule)
---------------------------
Requests on different keep-alive connections can be reordered by the network, and Kraken
refuses a nonce below the highest it has seen for the key.  So each private request takes a
key of the venue's :class:`~engine.core.keys.KeyPool` (one or more keys of one account) --
the key the engine chose and charged (:data:`engine.core.apikeys.SEND_KEY`, a pool key's
label), else the pool's pick -- and
holds that key's wire slot from the taking of its nonce until the exchange is over: without
a nonce window (``nonce_window=0``, the default) one request per key is on the wire; with a
window, up to ``max_per_key`` as long as every nonce on the wire stays within the window of
the newest (:class:`~engine.core.keys.LocalWire`).  Replies then carry what the key pool
learns: ``EAPI:Invalid nonce`` counts against the key (three in a row serialize a windowed
key), and ``EAPI:Invalid key``, ``EAPI:Invalid signature`` or ``EGeneral:Permission denied``
take the key out of the pool -- the request executed nothing and is sent again on the next
key; the last key's refusal is returned as it is (the engine stops).  With the key's slot
and nonce held, and before a byte is written, ``on_wire(endpoint, key label, nonce, None)``
is called if set (the journal commits the nonce there: :mod:`engine.core.wirenote`); if it
raises, the request is not sent (``TransportError``, ``sent=False``).  An engine over this
venue should have ``max_inflight`` at most ``venue.pool.concurrency`` and follow it as keys
leave (``engine.run.live_keys.bind_pool``; ``run_live`` does), so that requests wait in the
engine before they are charged rather than here after.

Failures
--------
Kraken's envelopes (``{"error": [...], "result": ...}``, normally HTTP 200, any status below
500 accepted) are returned as they are, errors included: the engine reads ``error`` (see
:mod:`kraken_rest.errors`).  A timeout, a connection error, an HTTP 5xx, or a reply that is
not Kraken's envelope (a proxy's HTML page, say) raises
:class:`engine.venues.base.TransportError` whose ``sent`` is False only when nothing can have
reached the exchange (connection never made, connection pool timeout, venue closed before
the send).  No message or log line contains the secret, the signature or the parameters.

``dry_run=True`` adds ``validate=true`` to AddOrder, AddOrderBatch, EditOrder and AmendOrder:
Kraken checks them and places nothing.  Other endpoints (cancels included) are sent as is.

Times in logs (``elapsed_ms``) are wall-clock diagnostics from :func:`time.perf_counter`;
they drive no decision.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import structlog

from engine import kraken_errors as ke
from engine.core.apikeys import SEND_KEY
from engine.core.keys import KeyPool, LocalWire, NoKeysLeft, NonceSource, PoolKey, WireSlot
from engine.core.wirenote import WireNote, noted
from engine.venues.base import Reply, TransportError
from engine.venues.kraken_rest.body import encode_private, form_value
from engine.venues.kraken_rest.credentials import Credentials, MissingCredentials
from engine.venues.kraken_rest.nonce import WallClockNonces
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.signing import sign
from limiters.costs import is_public

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "VALIDATE_ENDPOINTS",
    "KrakenRestVenue",
    "check_base_url",
]

DEFAULT_BASE_URL = "https://api.kraken.com"

#: Seconds: 5 to connect or to get a pooled connection, 10 to write or to read a reply.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=5.0)

#: Keep-alive pool: idle connections are kept 30 s.
DEFAULT_LIMITS = httpx.Limits(
    max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0
)

#: Endpoints that take ``validate=true`` (check only, place nothing) in a dry run.
VALIDATE_ENDPOINTS: frozenset[str] = frozenset(
    {"AddOrder", "AddOrderBatch", "EditOrder", "AmendOrder"}
)

#: Refusals of a key itself: it leaves the pool (the request executed nothing).
_KEY_REFUSED = frozenset({ke.INVALID_KEY, ke.INVALID_SIGNATURE, ke.PERMISSION_DENIED})

_ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")

#: httpx errors raised before any byte of the request can have left.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)

_log = structlog.get_logger("engine.venues.kraken_rest.rest")


def _version() -> str:
    try:
        return importlib.metadata.version("orderpace")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = f"orderpace/{_version()}"


class _Wire:
    """What one request did on the wire, as httpcore's ``trace`` extension reports it."""

    __slots__ = ("on_wire", "started", "traced")

    def __init__(self) -> None:
        self.traced = False  # the transport reports trace events at all
        self.started = False  # request headers began to be written
        self.on_wire = asyncio.Event()  # body written, or the exchange is over

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        self.traced = True
        if name.endswith(".send_request_headers.started"):
            self.started = True
        elif name.endswith(".send_request_body.complete"):
            self.on_wire.set()

    def sent(self, exc: BaseException | None) -> bool:
        """Whether any byte may have left, given the exception that ended the exchange."""
        if self.traced:
            return self.started
        return not isinstance(exc, _NOT_SENT_ERRORS)


def check_base_url(base_url: str) -> httpx.URL:
    """``base_url`` parsed: ``http`` or ``https``, a host, optionally a port (1 to 65535),
    nothing else.

    Raises :class:`ValueError` naming what is wrong.  A URL carrying a user name or
    password is refused without being repeated (it may hold a credential).
    """
    if not isinstance(base_url, str):
        raise ValueError(f"base URL must be a string, got {type(base_url).__name__}")
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as e:
        raise ValueError(f"base URL is not a valid URL ({e}): {base_url!r}") from None
    if url.userinfo:
        raise ValueError("base URL must not contain a user name or password")
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"base URL must be http:// or https:// with a host "
            f"(like {DEFAULT_BASE_URL}), got {base_url!r}"
        )
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError(f"base URL must have no path, query or fragment, got {base_url!r}")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError(f"base URL port must be 1 to 65535, got {url.port} in {base_url!r}")
    return url.copy_with(path="/")


def _is_envelope(data: object) -> bool:
    if not isinstance(data, dict):
        return False
    errors = data.get("error")
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
        return False
    return bool(errors) or "result" in data


def _consume(task: asyncio.Task[httpx.Response]) -> None:
    """Mark a finished task's exception as retrieved (its caller may have gone)."""
    if not task.cancelled():
        task.exception()


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class KrakenRestVenue:
    """:class:`engine.venues.base.Venue` over Kraken's REST API.

    ``credentials``: needed for private endpoints only; ``base_url``: scheme and host (a
    loopback simulated exchange works); ``nonces``: default :class:`WallClockNonces`
    (milliseconds); ``public_throttle``: default :class:`PublicThrottle` at Kraken's per-IP
    rate; ``timeout`` (seconds) and ``limits``: httpx settings; ``transport``: an httpx
    transport (``httpx.MockTransport`` in tests); ``dry_run``: validate orders only.
    """

    def __init__(
        self,
        credentials: Credentials | Sequence[Credentials] | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        nonces: NonceSource | None = None,
        public_throttle: PublicThrottle | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
        dry_run: bool = False,
        user_agent: str = USER_AGENT,
        nonce_window: int = 0,
        max_per_key: int = 8,
        wires: Sequence[WireSlot] | None = None,
    ) -> None:
        self._base_url = check_base_url(base_url)
        if credentials is None:
            keys: tuple[Credentials, ...] = ()
        elif isinstance(credentials, Credentials):
            keys = (credentials,)
        else:
            keys = tuple(credentials)
        if len({c.key for c in keys}) != len(keys):
            raise ValueError("the same API key is given twice")
        self._keys = keys
        self._credentials = keys[0] if keys else None
        self._nonces: NonceSource = nonces if nonces is not None else WallClockNonces()
        if wires is not None and len(wires) != len(keys):
            raise ValueError(f"{len(wires)} wire slots for {len(keys)} keys")
        self.pool = KeyPool([
            PoolKey(f"{c.key_prefix}#{i + 1}" if len(keys) > 1 else c.key_prefix, i,
                    wires[i] if wires is not None else LocalWire(
                        c.key, self._nonces, window=nonce_window, limit=max_per_key))
            for i, c in enumerate(keys)
        ]) if keys else None
        self._public = public_throttle if public_throttle is not None else PublicThrottle()
        self.dry_run = dry_run
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=timeout,
            limits=limits,
            transport=transport,
            headers={"User-Agent": user_agent},
            follow_redirects=False,
        )
        self._inflight: set[asyncio.Task[httpx.Response]] = set()
        self._closed = False
        #: called with (endpoint, key label, nonce, None) before a private request's bytes
        #: leave; raising refuses it (:mod:`engine.core.wirenote`: the journal)
        self.on_wire: WireNote | None = None

    @property
    def base_url(self) -> str:
        """Scheme and host requests go to."""
        return str(self._base_url)

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def __repr__(self) -> str:
        key = self._credentials.key_prefix if self._credentials is not None else None
        return (
            f"KrakenRestVenue(base_url={self.base_url!r}, key={key!r}, dry_run={self.dry_run})"
        )

    async def __aenter__(self) -> KrakenRestVenue:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        """Send ``endpoint`` with ``params``; Kraken's reply envelope, errors included.

        Raises :class:`TransportError` when the request's fate is unknown (or, with
        ``sent=False``, certainly not executed); :class:`MissingCredentials` for a private
        endpoint without credentials; :class:`~kraken_rest.body.InvalidParameter` for a
        parameter that cannot be sent as given (nothing is sent).
        """
        if not _ENDPOINT_NAME.fullmatch(endpoint):
            raise ValueError(f"invalid endpoint name {endpoint!r}")
        self._check_open(endpoint)
        if is_public(endpoint):
            return await self._request_public(endpoint, params)
        return await self._request_private(endpoint, params)

    async def aclose(self) -> None:
        """Close the connections; requests in flight end with :class:`TransportError`."""
        if self._closed:
            return
        self._closed = True
        pending = list(self._inflight)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._client.aclose()

    # -- the two kinds of call ------------------------------------------------------------

    async def _request_public(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        query = httpx.QueryParams(
            [(name, form_value(endpoint, name, value)) for name, value in params.items()]
        )
        wire = _Wire()
        async with self._public:
            self._check_open(endpoint)
            request = self._client.build_request(
                "GET", f"/0/public/{endpoint}", params=query, extensions={"trace": wire.trace}
            )
            started = time.perf_counter()
            task = self._start(request, wire)
        return await self._finish(endpoint, task, wire, started, nonce=None)

    async def _request_private(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        pool = self.pool
        if pool is None:
            raise MissingCredentials(
                f"{endpoint} is a private endpoint and this venue has no API credentials"
            )
        if self.dry_run and endpoint in VALIDATE_ENDPOINTS:
            params = {**params, "validate": True}
        while True:
            key, reply = await self._send_private(pool, endpoint, params)
            errors = reply.get("error") or ()
            if ke.INVALID_NONCE in errors:
                pool.nonce_refused(key)
                return reply
            pool.accepted(key)
            refused = next((e for e in errors if e in _KEY_REFUSED), None)
            if refused is None or len(pool.live) <= 1:
                return reply  # the last key's refusal goes to the engine: it stops
            pool.remove(key, refused)  # executed nothing: try the next key

    async def _send_private(self, pool: KeyPool, endpoint: str, params: Mapping[str, Any]
                            ) -> tuple[PoolKey, Reply]:
        """One signed request on a key of the pool: the key's wire slot is held from the
        nonce's taking until the exchange is over (see :mod:`engine.core.keys`)."""
        path = f"/0/private/{endpoint}"
        try:
            key, nonce = await pool.acquire(SEND_KEY.get())
        except NoKeysLeft as e:
            raise TransportError(str(e), endpoint=endpoint, sent=False) from None
        try:
            self._check_open(endpoint)
            credentials = self._keys[key.index]
            body = encode_private(endpoint, params, nonce)
            await noted(self.on_wire, endpoint, key.label, nonce)  # recorded, or not sent
            headers = {
                "API-Key": credentials.key,
                "API-Sign": sign(credentials.secret, path, nonce, body.content),
                "Content-Type": body.content_type,
            }
            wire = _Wire()
            request = self._client.build_request(
                "POST", path, content=body.content, headers=headers,
                extensions={"trace": wire.trace},
            )
            started = time.perf_counter()
            task = self._start(request, wire)
            try:
                return key, await self._finish(endpoint, task, wire, started, nonce=nonce)
            finally:
                if not task.done():  # cancelled: the send must really stop first
                    task.cancel()
                    await asyncio.wait({task})
        finally:
            await pool.release(key, nonce)

    # -- one exchange ----------------------------------------------------------------------

    def _check_open(self, endpoint: str) -> None:
        if self._closed:
            raise TransportError("venue is closed", endpoint=endpoint, sent=False)

    def _start(self, request: httpx.Request, wire: _Wire) -> asyncio.Task[httpx.Response]:
        """Send ``request`` in its own task; ``wire.on_wire`` is set when the task ends."""
        task = asyncio.create_task(self._client.send(request))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        task.add_done_callback(lambda _: wire.on_wire.set())
        task.add_done_callback(_consume)
        return task

    async def _finish(
        self,
        endpoint: str,
        task: asyncio.Task[httpx.Response],
        wire: _Wire,
        started: float,
        *,
        nonce: int | None,
    ) -> Reply:
        failure: TransportError | None = None
        cause: BaseException | None = None
        try:
            response = await task
        except asyncio.CancelledError:
            if not self._closed or _being_cancelled():
                raise
            failure = self._failure(
                endpoint, "venue closed while the request was in flight",
                sent=wire.sent(None), started=started,
            )
        except (httpx.HTTPError, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            failure = self._failure(endpoint, detail, sent=wire.sent(exc), started=started)
            # chain the httpx error for debugging, unless its text shows a credential
            cause = exc if self._scrub(detail) == detail else None
        if failure is not None:
            # raised outside the except blocks: no implicit __context__ either
            raise failure from cause
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        status = response.status_code
        _log.debug(
            "kraken.request", endpoint=endpoint, method=response.request.method,
            status=status, elapsed_ms=round(elapsed_ms, 3), nonce=nonce,
        )
        if status >= 500:
            raise self._failure(endpoint, f"HTTP {status}", sent=True, started=started)
        try:
            data = json.loads(response.content)
        except ValueError:
            raise self._failure(
                endpoint, f"HTTP {status}: reply is not JSON", sent=True, started=started
            ) from None
        if not _is_envelope(data):
            raise self._failure(
                endpoint, f"HTTP {status}: reply is not Kraken's envelope",
                sent=True, started=started,
            )
        reply: Reply = data
        return reply

    def _failure(
        self, endpoint: str, message: str, *, sent: bool, started: float
    ) -> TransportError:
        message = self._scrub(message)
        _log.warning(
            "kraken.transport_error", endpoint=endpoint, error=message, sent=sent,
            elapsed_ms=round((time.perf_counter() - started) * 1000.0, 3),
        )
        return TransportError(message, endpoint=endpoint, sent=sent)

    def _scrub(self, text: str) -> str:
        """``text`` with the key and secret masked (defence in depth: they are never put in)."""
        for c in self._keys:
            for value in (c.secret, c.key):
                if len(value) >= 8:
                    text = text.replace(value, "***")
        return text
