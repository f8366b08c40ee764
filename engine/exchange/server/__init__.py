"""The simulated exchange served over HTTP with Kraken's paths, headers and envelopes: one
ASGI application (Starlette) under uvicorn.

* :func:`serve` / :class:`ExchangeServer` (:mod:`~engine.exchange.server.runner`): the server;
  :class:`ServerConfig`, :class:`ServerStats`, :class:`Served`, :class:`CannotListen`
  (:mod:`~engine.exchange.server.config`).
* :class:`ExchangeApp` (:mod:`~engine.exchange.server.app`): the ASGI app itself.
* :class:`Fault`, :class:`FaultPlan` (:mod:`~engine.exchange.server.faults`): fault injection.
* :data:`DEMO_KEY`, :data:`DEMO_SECRET` (:mod:`~engine.exchange.server.keys`): the public demo
  pair.
* ``orderpace simulate-exchange`` lives in :mod:`engine.cli.simulate`.

Like the exchange, it imports nothing from ``limiters``, the engine's core, the venues or the
client-side helpers: its signature check (:mod:`~engine.exchange.server.signing`) and key
checks are its own.
"""

from engine.exchange.server.app import MAX_BODY, DroppedReply, ExchangeApp
from engine.exchange.server.config import (
    DEFAULT_DECAY_STEP,
    DEFAULT_IDLE_TIMEOUT,
    MAX_DECAY_STEP,
    MAX_IDLE_TIMEOUT,
    MAX_JITTER,
    CannotListen,
    Served,
    ServerConfig,
    ServerStats,
)
from engine.exchange.server.faults import Fault, FaultKind, FaultPlan, parse_fault
from engine.exchange.server.keys import (
    DEMO_KEY,
    DEMO_SECRET,
    InvalidServerKey,
    ServerKeys,
    server_keys,
)
from engine.exchange.server.runner import ExchangeServer, serve

__all__ = [
    "DEFAULT_DECAY_STEP",
    "DEFAULT_IDLE_TIMEOUT",
    "DEMO_KEY",
    "DEMO_SECRET",
    "MAX_BODY",
    "MAX_DECAY_STEP",
    "MAX_IDLE_TIMEOUT",
    "MAX_JITTER",
    "CannotListen",
    "DroppedReply",
    "ExchangeApp",
    "ExchangeServer",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "InvalidServerKey",
    "Served",
    "ServerConfig",
    "ServerKeys",
    "ServerStats",
    "parse_fault",
    "serve",
    "server_keys",
]
