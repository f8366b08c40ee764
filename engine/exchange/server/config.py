"""How the loopback server is set up, and what it reports.

:class:`ServerConfig` validates every setting when it is built (an out-of-range one raises
``ValueError`` naming it), :class:`ServerStats` and :class:`Served` are what tests and the
command read afterwards, :class:`CannotListen` is a port that cannot be bound.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from engine.exchange.markets import DEFAULT_MARKETS
from engine.exchange.server.faults import FaultKind
from engine.exchange.tiers import tier_rules

__all__ = [
    "DEFAULT_DECAY_STEP",
    "DEFAULT_IDLE_TIMEOUT",
    "MAX_DECAY_STEP",
    "MAX_IDLE_TIMEOUT",
    "MAX_JITTER",
    "CannotListen",
    "Served",
    "ServerConfig",
    "ServerStats",
]

#: Seconds between the exchange's decay releases by default (Kraken: "every couple of seconds").
DEFAULT_DECAY_STEP = 2.0
#: The longest decay step accepted (s): anything longer is a typo that stops decay.
MAX_DECAY_STEP = 3600.0
#: The most arrival jitter accepted (s): far more than any real network, and a request is
#: never delayed longer (``--jitter-ms 1e308`` would hang every request).
MAX_JITTER = 10.0
#: A connection that sends nothing for this long (s) while no request of it is being
#: handled is closed: a stalled or idle socket never holds a slot for good.
DEFAULT_IDLE_TIMEOUT = 60.0
#: The longest idle timeout accepted (s).
MAX_IDLE_TIMEOUT = 3600.0


def _tier(value: object) -> str:
    return tier_rules(value).name


def _seconds(name: str, maximum: float, *, positive: bool = False) -> Callable[..., None]:
    def check(_i: object, _a: object, value: object) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
            value) and (value > 0 if positive else value >= 0) and value <= maximum
        if not ok:
            low = "> 0" if positive else ">= 0"
            raise ValueError(f"{name} must be a finite number of seconds {low} and <= "
                             f"{maximum:g}, got {value!r}")

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

    Its message names the address and the reason, e.g. ``cannot listen on 127.0.0.1:8080:
    address already in use``; ``errno`` is the original one.
    """

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        reason = (cause.strerror or str(cause)).rsplit(": ", 1)[-1].lower()
        super().__init__(cause.errno, f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return str(self.strerror)


@attrs.frozen(slots=True)
class ServerConfig:
    """How to run the simulated exchange.

    ``tier``: ``starter``, ``intermediate`` or ``pro``.  ``decay_step`` (s): the exchange
    releases counter decay in steps of this length (0: continuously), at a phase drawn from
    ``seed``.  ``jitter`` (s): each request's arrival is delayed by a random ``[0, jitter]``
    drawn from its *connection's* own seeded stream -- requests on one connection keep
    their order, requests on different connections may overtake each other.
    ``idle_timeout`` (s): see :data:`DEFAULT_IDLE_TIMEOUT`.  ``port`` 0 binds any free port.
    ``markets``: the exchange's markets (any objects with the fields of
    :class:`~engine.exchange.markets.ExchangeMarket`).  ``exchange_options``: more keyword
    arguments for :class:`~engine.exchange.SimulatedKraken` (``processing_time``,
    ``max_concurrent``, ``nonce_window``, ``balances``, ``spread``, ``lockout_after``,
    ``lockout_seconds``, ``public_rate``, ``public_burst``, ...).
    """

    tier: str = attrs.field(default="intermediate", converter=_tier)
    decay_step: float = attrs.field(default=DEFAULT_DECAY_STEP,
                                    validator=_seconds("decay_step", MAX_DECAY_STEP))
    jitter: float = attrs.field(default=0.0, validator=_seconds("jitter", MAX_JITTER))
    seed: int = 0
    host: str = attrs.field(default="127.0.0.1", validator=_loopback)
    port: int = 0
    markets: Any = DEFAULT_MARKETS
    exchange_options: Mapping[str, Any] = attrs.field(factory=dict)
    idle_timeout: float = attrs.field(
        default=DEFAULT_IDLE_TIMEOUT,
        validator=_seconds("idle_timeout", MAX_IDLE_TIMEOUT, positive=True))


@attrs.define(slots=True)
class ServerStats:
    """What the HTTP front end saw (the exchange keeps its own ``stats``).

    ``requests``: routed requests by endpoint; ``auth_errors``: requests refused before
    reaching the exchange (invalid key, signature, nonce missing), by error;
    ``bad_requests``: unparsable HTTP, oversized or undecodable bodies; ``connections``:
    connections accepted; ``idle_closed``: connections closed by the idle timeout.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    auth_errors: Counter[str] = attrs.field(factory=Counter)
    bad_requests: int = 0
    connections: int = 0
    idle_closed: int = 0


@attrs.frozen(slots=True)
class Served:
    """One request the server answered (or hid by a fault).

    ``received``: exchange seconds when it was read off the socket; ``time``: when the
    exchange handled it -- its arrival (None: it never reached the exchange); ``key``: the
    first characters of its API key (None for public requests); ``errors``: the envelope's
    errors; ``fault``: the fault applied, if any; ``connection``: the index of the
    connection it came on (0, 1, ... in order of opening).
    """

    endpoint: str
    received: float
    time: float | None
    key: str | None
    errors: tuple[str, ...]
    fault: FaultKind | None
    connection: int = -1
