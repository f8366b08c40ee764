"""The simulated exchange served over HTTP with Kraken's paths, headers and envelopes.

* :func:`serve` / :class:`ExchangeServer` (:mod:`engine.exchange.server.app`): the server.
* :class:`Fault`, :class:`FaultPlan` (:mod:`engine.exchange.server.faults`): fault injection.
* :data:`DEMO_KEY`, :data:`DEMO_SECRET` (:mod:`engine.exchange.server.keys`): the public demo pair.
* ``orderpace simulate-exchange`` lives in :mod:`engine.cli.simulate`.
"""

from engine.exchange.server.app import (
    DEFAULT_DECAY_STEP,
    CannotListen,
    ExchangeServer,
    Served,
    ServerConfig,
    ServerStats,
    serve,
)
from engine.exchange.server.faults import Fault, FaultKind, FaultPlan, parse_fault
from engine.exchange.server.keys import DEMO_KEY, DEMO_SECRET, ServerKeys, server_keys

__all__ = [
    "DEFAULT_DECAY_STEP",
    "DEMO_KEY",
    "DEMO_SECRET",
    "CannotListen",
    "ExchangeServer",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Served",
    "ServerConfig",
    "ServerKeys",
    "ServerStats",
    "parse_fault",
    "serve",
    "server_keys",
]
