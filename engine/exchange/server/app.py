"""The simulated exchange over real HTTP: Kraken's paths, headers, bodies and envelopes.

:class:`ExchangeServer` serves a :class:`~engine.exchange.SimulatedKraken` on a loopback address
with the standard library's ``asyncio.start_server`` and the small HTTP/1.1 codec of
:mod:`engine.exchange.server.http` (keep-alive, ``Content-Length`` or chunked bodies) -- no web
framework: the exchange needs two routes and exact control of the bytes and of when a
request reaches the exchange, which a framework would hide.

Routes
------
* ``GET`` or ``POST /0/public/<Endpoint>``: parameters from the query string and/or a form
  or JSON body.
* ``POST /0/private/<Endpoint>``: a form or JSON body carrying ``nonce``; headers
  ``API-Key`` (a registered key, else ``EAPI:Invalid key``) and ``API-Sign`` (checked with
  :func:`kraken_rest.signing.verify`, else ``EAPI:Invalid signature``).  The exchange core
  then checks the nonce, the counters and the order itself.

Every Kraken error is HTTP 200 with Kraken's envelope ``{"error": [...]}``; an unknown path
is HTTP 404 with ``EGeneral:Unknown method``; an unparsable request HTTP 400.

Time, arrival and nonces
------------------------
The exchange's ``now`` is the event loop's clock, shifted to start at 0
(:class:`~engine.exchange.server.timebase.ExchangeClock`).  A request's *arrival* at the exchange is
the moment it is read off the socket plus a seeded random delay in ``[0, jitter]``
seconds, modelling the network: requests sent apart can arrive bunched together.

The delay never reorders one key's requests.  The server authenticates each private
request when it is read off the socket, then hands it to the exchange in that same order
per key, each no earlier than its own delayed arrival: ``arrival_i = max(read_i + U_i,
arrival_{i-1})``, so every arrival stays within ``jitter`` of its read time and requests of
one key can bunch but not overtake each other.  Requests of different keys, and public
requests, are delayed independently and do reorder.  Why: Kraken refuses a nonce that is
not above the last one it accepted (``EAPI:Invalid nonce``).  A correct client writes its
requests in nonce order (the live venue takes the nonce and writes the body under one
lock), and Kraken effectively checks nonces in the order a key's requests reach its API
gateway.  If the simulated jitter could swap two requests of one key *after* they left the
client in order, no client could ever avoid ``EAPI:Invalid nonce`` short of sending one
request at a time; keeping per-key order makes jitter model what it should (bunching,
order ages and decay seen differently than sent) while a client that really writes nonces
out of order still gets ``EAPI:Invalid nonce`` -- the exchange core keeps checking them.

Faults
------
:attr:`ExchangeServer.faults` (a :class:`~engine.exchange.server.faults.FaultPlan`) injects dropped
replies, hangs, HTTP 5xx, malformed JSON and ``EService:Unavailable``, per endpoint and per
n-th request, before or after the exchange processes the request.

Use :func:`serve` (an async context manager) to run one; it binds port 0 by default and
exposes the bound :attr:`~ExchangeServer.port` and :attr:`~ExchangeServer.url`.  A port that
cannot be bound (in use, privileged) raises :class:`CannotListen`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import math
import random
import re
from collections import Counter, deque
from collections.abc import AsyncIterator, Mapping
from typing import Any

import attrs
import structlog

from engine import kraken_errors as ke
from engine.exchange import MarketDriver, SimulatedKraken, drive_market
from engine.exchange.server.faults import Fault, FaultKind, FaultPlan
from engine.exchange.server.forms import BadParams, decode_body, decode_query
from engine.exchange.server.http import (
    MAX_HEAD,
    BadRequest,
    HttpRequest,
    encode_response,
    read_request,
)
from engine.exchange.server.keys import ServerKeys
from engine.exchange.server.timebase import ExchangeClock
from engine.markets import DEFAULT_MARKETS, Markets
from engine.venues.kraken_rest.body import nonce_of_body
from engine.venues.kraken_rest.signing import verify
from limiters import Tier

__all__ = [
    "DEFAULT_DECAY_STEP",
    "CannotListen",
    "ExchangeServer",
    "Served",
    "ServerConfig",
    "ServerStats",
    "serve",
]

#: Seconds between the exchange's decay releases by default (Kraken: "every couple of seconds").
DEFAULT_DECAY_STEP = 2.0

_ROUTE = re.compile(r"^/0/(public|private)/([A-Za-z][A-Za-z0-9]*)$")
_HTML_5XX = b"<html><head><title>%d</title></head><body><h1>%d</h1>simulated fault</body></html>"

_log = structlog.get_logger("orderpace.server")


def _tier(value: str | Tier) -> Tier:
    return Tier.parse(value)


def _non_negative(name: str) -> Any:
    def check(_i: object, _a: object, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and value >= 0
        ):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    return check


def _loopback(_i: object, _a: object, host: str) -> None:
    if host == "localhost":
        return
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"the simulated exchange serves loopback addresses only, got {host!r}")


class CannotListen(OSError):
    """The server could not bind ``host:port`` (in use, not permitted, ...).

    Its message names the address and the reason (``strerror``), e.g. ``cannot listen on
    127.0.0.1:8080: address already in use``; ``errno`` is the original one.
    """

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        # asyncio words it "error while attempting to bind on address (...): <reason>"
        reason = (cause.strerror or str(cause)).rsplit(": ", 1)[-1].lower()
        super().__init__(cause.errno, f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return str(self.strerror)


@attrs.frozen(slots=True)
class ServerConfig:
    """How to run the simulated exchange.

    ``decay_step`` (s): the exchange releases counter decay in steps of this length (0:
    continuously), at a phase drawn from ``seed``.  ``jitter`` (s): each request's arrival
    is delayed by a seeded random ``[0, jitter]``.  ``port`` 0 binds any free port.
    ``exchange_options``: more keyword arguments for :class:`SimulatedKraken`
    (``processing_time``, ``max_concurrent``, ``nonce_window``, ``balances``, ...).
    """

    tier: Tier = attrs.field(default=Tier.INTERMEDIATE, converter=_tier)
    decay_step: float = attrs.field(default=DEFAULT_DECAY_STEP,
                                    validator=_non_negative("decay_step"))
    jitter: float = attrs.field(default=0.0, validator=_non_negative("jitter"))
    seed: int = 0
    host: str = attrs.field(default="127.0.0.1", validator=_loopback)
    port: int = 0
    markets: Markets = DEFAULT_MARKETS
    exchange_options: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define(slots=True)
class ServerStats:
    """What the HTTP front end saw (the exchange keeps its own ``stats``).

    ``requests``: routed requests by endpoint; ``auth_errors``: requests refused before
    reaching the exchange (invalid key, signature, nonce missing), by error;
    ``bad_requests``: unparsable HTTP; ``connections``: connections accepted.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    auth_errors: Counter[str] = attrs.field(factory=Counter)
    bad_requests: int = 0
    connections: int = 0


@attrs.frozen(slots=True)
class Served:
    """One request the server answered (or hid by a fault).

    ``received``: exchange seconds when it was read off the socket; ``time``: when the
    exchange handled it -- its arrival (None: it never reached the exchange); ``key``: the
    first characters of its API key (None for public requests); ``errors``: the envelope's
    errors; ``fault``: the fault applied, if any.
    """

    endpoint: str
    received: float
    time: float | None
    key: str | None
    errors: tuple[str, ...]
    fault: FaultKind | None


class _Out:
    """A response to write, or ``data is None``: close without answering."""

    __slots__ = ("data", "keep_alive")

    def __init__(self, data: bytes | None, keep_alive: bool = True) -> None:
        self.data = data
        self.keep_alive = keep_alive


def _json(status: int, payload: Mapping[str, Any], keep_alive: bool) -> _Out:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _Out(encode_response(status, body, keep_alive=keep_alive), keep_alive)


def _error(error: str) -> dict[str, Any]:
    return {"error": [error]}


class ExchangeServer:
    """The simulated exchange served over HTTP (see the module docstring).

    ``keys``: key -> secret pairs to accept (a :class:`ServerKeys` or a mapping); more can
    be added with :meth:`add_key`.  ``faults``: the fault plan (default: none).  Call
    :meth:`start` inside the running loop and :meth:`aclose` to stop, or use :func:`serve`.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        keys: ServerKeys | Mapping[str, str] | None = None,
        faults: FaultPlan | None = None,
        served_history: int = 100_000,
    ) -> None:
        self.config = config if config is not None else ServerConfig()
        pairs = keys.pairs if isinstance(keys, ServerKeys) else dict(keys or {})
        self._keys: dict[str, str] = dict(pairs)
        self.faults = faults if faults is not None else FaultPlan()
        self.stats = ServerStats()
        self.served: deque[Served] = deque(maxlen=served_history)
        self._exchange: SimulatedKraken | None = None
        self._clock: ExchangeClock | None = None
        self._driver: MarketDriver | None = None
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._rng = random.Random(f"jitter:{self.config.seed}")
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._conns: set[asyncio.Task[Any]] = set()
        self._closing = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Build the exchange on the loop's clock and start listening."""
        if self._server is not None:
            raise RuntimeError("server already started")
        cfg = self.config
        self._clock = clock = ExchangeClock()
        phase_rng = random.Random(cfg.seed)
        phase = phase_rng.uniform(0.0, cfg.decay_step) if cfg.decay_step > 0 else 0.0
        options = dict(cfg.exchange_options)
        options.setdefault("seed", cfg.seed)
        self._exchange = exchange = SimulatedKraken(
            cfg.tier, decay_step=cfg.decay_step, decay_phase=phase, markets=cfg.markets,
            epoch=clock.epoch, keys=(), **options,
        )
        for key, secret in self._keys.items():
            exchange.add_key(key, secret)
        try:
            self._server = await asyncio.start_server(
                self._connection, cfg.host, cfg.port, limit=MAX_HEAD
            )
        except OSError as e:
            raise CannotListen(cfg.host, cfg.port, e) from e
        self._driver = drive_market(exchange, clock)
        self._port = int(self._server.sockets[0].getsockname()[1])
        _log.info("server.started", url=self.url, tier=cfg.tier.value,
                  decay_step=cfg.decay_step, jitter=cfg.jitter)

    async def aclose(self) -> None:
        """Stop listening, end every connection (hung ones included) and stop the market."""
        if self._closing:
            return
        self._closing = True
        if self._server is not None:
            self._server.close()
        conns = list(self._conns)
        for task in conns:
            task.cancel()
        if conns:
            await asyncio.gather(*conns, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._driver is not None:
            self._driver.stop()
        _log.info("server.stopped", requests=sum(self.stats.requests.values()))

    # -- what tests and the command read -------------------------------------------------

    @property
    def exchange(self) -> SimulatedKraken:
        """The exchange core (its order book, stats and counters)."""
        if self._exchange is None:
            raise RuntimeError("server not started")
        return self._exchange

    @property
    def clock(self) -> ExchangeClock:
        if self._clock is None:
            raise RuntimeError("server not started")
        return self._clock

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://<host>:<port>``: the base URL to give a client."""
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def add_key(self, key: str, secret: str) -> None:
        """Accept API ``key`` signed with ``secret`` (base64) from now on."""
        self._keys[key] = secret
        if self._exchange is not None:
            self._exchange.add_key(key, secret)

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"ExchangeServer({where}, tier={self.config.tier.value}, keys={len(self._keys)})"

    # -- connections ---------------------------------------------------------------------

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        self.stats.connections += 1
        try:
            while not self._closing:
                try:
                    request = await read_request(reader)
                except BadRequest as e:
                    self.stats.bad_requests += 1
                    payload = json.dumps(_error(ke.INVALID_ARGUMENTS)).encode()
                    writer.write(encode_response(e.status, payload, keep_alive=False))
                    await writer.drain()
                    return
                if request is None:
                    return
                out = await self._respond(request)
                if out.data is None:
                    return  # a fault: hang up without answering
                writer.write(out.data)
                await writer.drain()
                if not out.keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            if task is not None:
                self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _respond(self, request: HttpRequest) -> _Out:
        keep = request.keep_alive
        route = _ROUTE.match(request.path)
        if route is None:
            return _json(404, _error(ke.UNKNOWN_METHOD), keep)
        kind, endpoint = route.group(1), route.group(2)
        received = self.clock.now()
        key = request.headers.get("api-key", "")[:4] + "..." if kind == "private" else None
        self.stats.requests[endpoint] += 1
        fault = self.faults.pick(endpoint)
        if fault is not None and not fault.processes:
            self.served.append(Served(endpoint, received, None, key, (), fault.kind))
            return await self._strike(fault, None, keep)
        handled_at, reply = await self._process(request, kind, endpoint)
        errors = tuple(e for e in reply.get("error", ()) if isinstance(e, str))
        self.served.append(Served(endpoint, received, handled_at, key, errors,
                                  fault.kind if fault else None))
        _log.debug("server.request", endpoint=endpoint, errors=list(errors),
                   fault=fault.kind.value if fault else None)
        if fault is not None:
            return await self._strike(fault, reply, keep)
        return _json(200, reply, keep)

    async def _strike(self, fault: Fault, reply: Mapping[str, Any] | None, keep: bool) -> _Out:
        """The response a fault turns the request into."""
        _log.info("server.fault", kind=fault.kind.value, endpoint=fault.endpoint,
                  processed=reply is not None)
        if fault.kind is FaultKind.DROP_REPLY:
            return _Out(None)
        if fault.kind is FaultKind.HANG:
            await asyncio.sleep(fault.hold)
            return _Out(None)
        if fault.kind is FaultKind.HTTP_5XX:
            body = _HTML_5XX % (fault.status, fault.status)
            data = encode_response(fault.status, body, content_type="text/html",
                                   keep_alive=False)
            return _Out(data, keep_alive=False)
        if fault.kind is FaultKind.MALFORMED_JSON:
            text = json.dumps(reply if reply is not None else {"error": [], "result": {}})
            body = text[: max(1, len(text) // 2)].encode()
            return _Out(encode_response(200, body, keep_alive=keep), keep)
        return _json(200, _error(ke.UNAVAILABLE), keep)

    # -- requests ------------------------------------------------------------------------

    async def _process(
        self, request: HttpRequest, kind: str, endpoint: str
    ) -> tuple[float | None, dict[str, Any]]:
        """Authenticate, wait for the arrival, let the exchange handle it: (time, reply)."""
        try:
            params = decode_query(request.query) if request.query else {}
            if request.method == "POST":
                params.update(decode_body(request.body, request.content_type))
        except BadParams:
            return None, _error(ke.INVALID_ARGUMENTS)
        if kind == "public":
            await self._delay()
            now = self.clock.now()
            return now, self.exchange.handle(endpoint, params, key=None, now=now)
        if request.method != "POST":
            return None, _error(ke.INVALID_ARGUMENTS)
        key = request.headers.get("api-key", "").strip()
        refusal = self._authenticate(request, key)
        if refusal is not None:
            self.stats.auth_errors[refusal] += 1
            return None, _error(refusal)
        return await self._in_key_order(key, endpoint, params)

    def _authenticate(self, request: HttpRequest, key: str) -> str | None:
        """The error refusing a private request, or None when key and signature are good."""
        secret = self._keys.get(key) if key else None
        if secret is None:
            return ke.INVALID_KEY
        try:
            nonce = nonce_of_body(request.body, request.content_type)
        except ValueError:
            return ke.INVALID_NONCE  # Kraken's answer to a body without a usable nonce
        signature = request.headers.get("api-sign", "")
        if not signature or not verify(secret, request.path, nonce, request.body, signature):
            return ke.INVALID_SIGNATURE
        return None

    async def _delay(self) -> None:
        """The network: a seeded random delay in ``[0, jitter]`` seconds."""
        jitter = self.config.jitter
        if jitter > 0:
            await asyncio.sleep(self._rng.random() * jitter)

    async def _in_key_order(
        self, key: str, endpoint: str, params: dict[str, Any]
    ) -> tuple[float, dict[str, Any]]:
        """Hand the request to the exchange after its delay and after the key's previous one."""
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            await self._delay()
            if previous is not None and not previous.done():
                await asyncio.wait({previous})  # never cancels ``previous`` itself
            now = self.clock.now()
            return now, self.exchange.handle(endpoint, params, key=key, now=now)
        finally:
            if not done.done():
                done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]


@contextlib.asynccontextmanager
async def serve(
    config: ServerConfig | None = None,
    *,
    keys: ServerKeys | Mapping[str, str] | None = None,
    faults: FaultPlan | None = None,
    **options: Any,
) -> AsyncIterator[ExchangeServer]:
    """Run an :class:`ExchangeServer` for the ``async with`` block.

    Give a ``config``, or :class:`ServerConfig` fields as keyword ``options`` (``port`` 0 by
    default: read the bound port from the server).  Stops cleanly on exit.
    """
    if config is None:
        config = ServerConfig(**options)
    elif options:
        config = attrs.evolve(config, **options)
    server = ExchangeServer(config, keys=keys, faults=faults)
    await server.start()
    try:
        yield server
    finally:
        await server.aclose()
