"""Fault injection for the simulated exchange's front end, REST and WebSocket v2 (for tests
and drills).

A :class:`Fault` names what goes wrong (:class:`FaultKind`), for which requests, and
whether the exchange still processes the request:

==================  ==========================================  =========================  =====
kind                over REST (HTTP)                            over WebSocket (``/v2``)   proc.
==================  ==========================================  =========================  =====
``drop-reply``      the connection closes after the request,    the connection drops       yes
                    no reply                                    (TCP abort), no reply
``hang``            no reply for ``hold`` s, then the           no reply, ever; the        yes
                    connection closes                           connection stays open
``http-5xx``        HTTP ``status`` (default 502), HTML body    closed with code 1011      yes
``malformed-json``  HTTP 200 whose body is truncated JSON       a truncated JSON message   yes
``unavailable``     ``{"error": ["EService:Unavailable"]}``     ``EService:Unavailable``   no
``refuse-token``    ``EGeneral:Permission denied`` (a key       ``ESession:Invalid         no
                    without WebSocket access, on                session`` (the token is
                    GetWebSocketsToken)                         refused)
==================  ==========================================  =========================  =====

"proc." (processed) is the default of ``process``: whether the simulated exchange handles the
request (places the order, consumes the nonce, charges the counters) before the fault hides
the reply.  ``process=False`` makes the fault strike before the request reaches it.

Selection: a fault matches requests to ``endpoint`` -- a REST endpoint (``AddOrder``), a
WebSocket v2 method (``add_order``, ``ping``, ...), :data:`WS_ANY` (``/v2``: every WebSocket
request; a message that is no request is answered before faults apply) or ``None`` (every
request of either kind) -- and applies to the ``nth`` matching request (1-based) and the
``count - 1`` after it (``count=0``: every one from the ``nth`` on).  Each fault counts its
matching requests itself; when several apply to one request, the first added wins.  So
``Fault("drop-reply", "/v2", nth=3)`` drops a WebSocket connection right after the exchange
processed the third message of a batch.

Command line form (``--fault``): ``KIND[:ENDPOINT[:NTH[:COUNT[:WHEN]]]]``, ``ENDPOINT`` ``*``
for any, ``WHEN`` ``after`` (processed first) or ``before`` (never processed), e.g.
``drop-reply:AddOrder:3``, ``http-5xx:*:1:0`` or ``drop-reply:/v2:3:1:before``; an endpoint
the exchange does not serve is refused there, naming the known ones.
"""

from __future__ import annotations

import enum
import math
import threading
from collections import Counter
from collections.abc import Callable

import attrs

from engine.exchange.exchange import ENDPOINTS
from engine.exchange.wsv2.dispatch import WS_METHODS

__all__ = ["WS_ANY", "Fault", "FaultKind", "FaultPlan", "parse_fault"]

#: The endpoint of a fault matching every WebSocket v2 message.
WS_ANY = "/v2"


class FaultKind(enum.StrEnum):
    DROP_REPLY = "drop-reply"
    HANG = "hang"
    HTTP_5XX = "http-5xx"
    MALFORMED_JSON = "malformed-json"
    UNAVAILABLE = "unavailable"
    REFUSE_TOKEN = "refuse-token"


_PROCESSED_BY_DEFAULT: dict[FaultKind, bool] = {
    FaultKind.DROP_REPLY: True,
    FaultKind.HANG: True,
    FaultKind.HTTP_5XX: True,
    FaultKind.MALFORMED_JSON: True,
    FaultKind.UNAVAILABLE: False,
    FaultKind.REFUSE_TOKEN: False,
}


def _positive_int(name: str, minimum: int) -> Callable[[object, object, object], None]:
    def check(_i: object, _a: object, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"fault {name} must be an integer >= {minimum}, got {value!r}")

    return check


def _hold(_i: object, _a: object, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"fault hold must be a finite number of seconds >= 0, got {value!r}")


def _status(_i: object, _a: object, value: int) -> None:
    if not (isinstance(value, int) and 500 <= value <= 599):
        raise ValueError(f"fault status must be an HTTP 5xx code, got {value!r}")


@attrs.frozen(slots=True)
class Fault:
    """One injected fault (see the module docstring).  ``hold`` is in seconds."""

    kind: FaultKind = attrs.field(converter=FaultKind)
    endpoint: str | None = None
    nth: int = attrs.field(default=1, validator=_positive_int("nth", 1))
    count: int = attrs.field(default=1, validator=_positive_int("count", 0))
    process: bool | None = None
    status: int = attrs.field(default=502, validator=_status)
    hold: float = attrs.field(default=30.0, validator=_hold)

    @property
    def processes(self) -> bool:
        """Whether the exchange handles the request before the fault strikes."""
        return _PROCESSED_BY_DEFAULT[self.kind] if self.process is None else self.process

    def matches(self, endpoint: str, *, ws: bool = False) -> bool:
        """Whether a request to ``endpoint`` (a WebSocket message when ``ws``) counts."""
        if self.endpoint is None:
            return True
        return self.endpoint == endpoint or (ws and self.endpoint == WS_ANY)

    def applies_to(self, seen: int) -> bool:
        """Whether the ``seen``-th matching request (1-based) is hit."""
        if seen < self.nth:
            return False
        return self.count == 0 or seen < self.nth + self.count


class _Rule:
    """A fault in force and how many matching requests it has seen."""

    __slots__ = ("fault", "seen")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.seen = 0


class FaultPlan:
    """The faults in force; thread-safe, so a test may add faults while the server runs."""

    def __init__(self, faults: tuple[Fault, ...] | list[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.fired: Counter[FaultKind] = Counter()
        self.history: list[tuple[str, FaultKind]] = []  # (endpoint, kind) per fault applied
        for f in faults:
            self.add(f)

    def add(self, fault: Fault) -> Fault:
        """Put ``fault`` in force (its request count starts at 0); returns it."""
        if not isinstance(fault, Fault):
            raise TypeError(f"expected a Fault, got {fault!r}")
        with self._lock:
            self._rules.append(_Rule(fault))
        return fault

    def inject(self, kind: FaultKind | str, endpoint: str | None = None, *, nth: int = 1,
               count: int = 1, process: bool | None = None, status: int = 502,
               hold: float = 30.0) -> Fault:
        """Shorthand for ``add(Fault(...))``."""
        return self.add(Fault(kind, endpoint, nth, count, process, status, hold))

    def clear(self) -> None:
        """Remove every fault (what has fired stays in :attr:`fired` and :attr:`history`)."""
        with self._lock:
            self._rules.clear()

    def pick(self, endpoint: str, *, ws: bool = False) -> Fault | None:
        """Count one request to ``endpoint`` (a WebSocket method when ``ws``) against every
        fault; the fault that hits it."""
        chosen: Fault | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.fault.matches(endpoint, ws=ws):
                    continue
                rule.seen += 1
                if chosen is None and rule.fault.applies_to(rule.seen):
                    chosen = rule.fault
            if chosen is not None:
                self.fired[chosen.kind] += 1
                self.history.append((endpoint, chosen.kind))
        return chosen

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"FaultPlan(faults={len(self._rules)}, fired={sum(self.fired.values())})"


def _known_endpoint(name: str, spec: str) -> str:
    """``name`` as the exchange spells it (any case accepted), or ``ValueError``."""
    by_lower = {e.lower(): e for e in (*ENDPOINTS, *WS_METHODS, WS_ANY)}
    found = by_lower.get(name.strip().lower())
    if found is None:
        known = ", ".join(sorted(ENDPOINTS) + sorted(WS_METHODS) + [WS_ANY])
        raise ValueError(f"unknown endpoint {name!r} in {spec!r}; known: {known} (or * for any)")
    return found


_WHEN = {"after": True, "before": False}


def parse_fault(spec: str) -> Fault:
    """A :class:`Fault` from ``KIND[:ENDPOINT[:NTH[:COUNT[:WHEN]]]]`` (``ValueError`` if
    malformed).

    ``ENDPOINT`` must be one the simulated exchange serves (:data:`engine.exchange.ENDPOINTS`
    or a WebSocket v2 method, any case: ``addorder`` is ``AddOrder``), ``/v2`` or ``*``;
    ``WHEN`` is ``after`` or ``before`` (the exchange processes the request first, or never).
    """
    parts = spec.strip().split(":")
    if not parts[0] or len(parts) > 5:
        raise ValueError(f"expected KIND[:ENDPOINT[:NTH[:COUNT[:WHEN]]]], got {spec!r}")
    try:
        kind = FaultKind(parts[0].lower())
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault kind {parts[0]!r}; known: {known}") from None
    endpoint = parts[1] if len(parts) > 1 and parts[1] not in ("", "*") else None
    if endpoint is not None:
        endpoint = _known_endpoint(endpoint, spec)
    try:
        nth = int(parts[2]) if len(parts) > 2 else 1
        count = int(parts[3]) if len(parts) > 3 else 1
    except ValueError:
        raise ValueError(f"NTH and COUNT must be integers in {spec!r}") from None
    process: bool | None = None
    if len(parts) > 4:
        if parts[4].lower() not in _WHEN:
            raise ValueError(f"WHEN must be 'after' or 'before' in {spec!r}")
        process = _WHEN[parts[4].lower()]
    return Fault(kind, endpoint, nth, count, process)
