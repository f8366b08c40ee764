"""The loopback server: one :class:`~engine.exchange.SimulatedKraken` behind the ASGI app
(:mod:`engine.exchange.server.app`), served by uvicorn on a socket the server binds itself:
REST at ``/0/...`` and WebSocket v2 at ``/v2`` (uvicorn's ``websockets-sansio`` protocol,
over the ``websockets`` library) on the same port.

:class:`ExchangeServer` binds ``host:port`` first (a busy port raises
:class:`~engine.exchange.server.config.CannotListen` at once), then runs uvicorn's server
on that socket inside the current event loop -- only its ``startup`` and ``shutdown``, not
``serve``, so uvicorn installs no signal handlers of its own: the command line keeps
SIGINT/SIGTERM.  The exchange's time is the loop's clock
(:class:`~engine.exchange.server.timebase.ExchangeClock`); a
:class:`~engine.exchange.driver.MarketDriver` keeps prices moving between requests.

Use :func:`serve` (an async context manager) to run one; it binds port 0 by default and
exposes the bound :attr:`~ExchangeServer.port` and :attr:`~ExchangeServer.url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import socket
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import attrs
import structlog
import uvicorn

from engine.exchange.driver import MarketDriver, drive_market
from engine.exchange.exchange import SimulatedKraken
from engine.exchange.server.app import ExchangeApp
from engine.exchange.server.config import CannotListen, Served, ServerConfig, ServerStats
from engine.exchange.server.connections import ConnectionTable
from engine.exchange.server.faults import FaultPlan
from engine.exchange.server.keys import ServerKeys
from engine.exchange.server.protocol import ExchangeProtocol
from engine.exchange.server.tally import Tally
from engine.exchange.server.timebase import ExchangeClock
from engine.exchange.wsv2 import MAX_MESSAGE

__all__ = ["ExchangeServer", "serve"]

#: Seconds shutdown waits for requests still being handled before cancelling them.
SHUTDOWN_GRACE = 1.0

_log = structlog.get_logger("orderpace.server")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto TCP, not 0: accepted sockets copy it, and asyncio turns Nagle off (TCP_NODELAY)
    # only on sockets that say TCP -- with Nagle on, a reply written as headers then body
    # waited for the client's delayed ACK: 40 ms per REST request on loopback
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise CannotListen(host, port, e) from e
    sock.setblocking(False)
    return sock


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
        self._served_history = served_history
        self._app: ExchangeApp | None = None
        self._exchange: SimulatedKraken | None = None
        self._clock: ExchangeClock | None = None
        self._driver: MarketDriver | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._sock: socket.socket | None = None
        self._table = ConnectionTable(self.config.seed)
        self._port: int | None = None
        self._closing = False

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Build the exchange on the loop's clock, bind the port and start serving."""
        if self._app is not None:
            raise RuntimeError("server already started")
        cfg = self.config
        self._sock = sock = _bind(cfg.host, cfg.port)
        self._clock = clock = ExchangeClock()
        phase = random.Random(cfg.seed).uniform(0.0, cfg.decay_step) if cfg.decay_step else 0.0
        options = dict(cfg.exchange_options)
        options.setdefault("seed", cfg.seed)
        self._exchange = exchange = SimulatedKraken(
            cfg.tier, decay_step=cfg.decay_step, decay_phase=phase, markets=cfg.markets,
            epoch=clock.epoch, keys=(), **options,
        )
        for key, secret in self._keys.items():
            exchange.add_key(key, secret)
        self._app = app = ExchangeApp(
            exchange, cfg, keys=self._keys, faults=self.faults, stats=self.stats,
            table=self._table, now=clock.now, served_history=self._served_history,
        )
        protocol = functools.partial(ExchangeProtocol, table=self._table, stats=self.stats,
                                     idle_timeout=cfg.idle_timeout)
        ucfg = uvicorn.Config(
            app, http=cast(Any, protocol), ws="websockets-sansio", ws_max_size=MAX_MESSAGE,
            lifespan="off", log_config=None,
            access_log=False, proxy_headers=False, server_header=False, date_header=False,
            timeout_keep_alive=max(1, round(cfg.idle_timeout)),
            timeout_graceful_shutdown=max(1, round(SHUTDOWN_GRACE)),
        )
        self._uvicorn = server = uvicorn.Server(ucfg)
        ucfg.load()  # what uvicorn's ``serve`` does before ``startup``
        server.lifespan = ucfg.lifespan_class(ucfg)
        await server.startup(sockets=[sock])
        self._driver = drive_market(exchange, clock)
        self._port = int(sock.getsockname()[1])
        _log.info("server.started", url=self.url, tier=cfg.tier, decay_step=cfg.decay_step,
                  jitter=cfg.jitter)

    async def aclose(self) -> None:
        """Stop listening, end every connection (hung ones included) and stop the market."""
        if self._closing:
            return
        self._closing = True
        if self._app is not None:
            self._app.close()
        if self._uvicorn is not None:
            self._uvicorn.force_exit = True  # do not wait for idle keep-alive connections
            await asyncio.sleep(0)
            self._table.abort_all()
            await self._uvicorn.shutdown(sockets=[self._sock] if self._sock else None)
        elif self._sock is not None:
            self._sock.close()
        if self._driver is not None:
            self._driver.stop()
        _log.info("server.stopped", requests=sum(self.stats.requests.values()))

    # -- what tests and the command read -------------------------------------------------

    @property
    def app(self) -> ExchangeApp:
        """The ASGI application (drive it in process with ``httpx.ASGITransport``)."""
        if self._app is None:
            raise RuntimeError("server not started")
        return self._app

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
    def served(self) -> deque[Served]:
        """The requests answered, oldest first (at most ``served_history``)."""
        return self.app.served

    @property
    def tally(self) -> Tally:
        """Requests and errors by key, public and in total (see :mod:`.tally`)."""
        return self.app.tally

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

    @property
    def ws_url(self) -> str:
        """``ws://<host>:<port>/v2``: the WebSocket v2 URL to give a client."""
        return "ws" + self.url[len("http"):] + "/v2"

    def add_key(self, key: str, secret: str) -> None:
        """Accept API ``key`` signed with ``secret`` (base64) from now on."""
        self._keys[key] = secret
        if self._exchange is not None:
            self._exchange.add_key(key, secret)

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"ExchangeServer({where}, tier={self.config.tier}, keys={len(self._keys)})"


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
