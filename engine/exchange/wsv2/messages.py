"""Kraken WebSocket v2 message shapes: requests read, replies and channel messages built.

A request is a JSON object ``{"method": str, "params": {...}, "req_id": int}`` (``params``
and ``req_id`` optional).  Replies echo ``method`` and ``req_id``:

* success: ``{"method", "req_id", "result", "success": true, "time_in", "time_out"}``;
* failure: ``{"error": str, "method", "req_id", "success": false, "time_in", "time_out"}``
  (a refused ``subscribe`` also names its ``channel`` and carries ``"status": "error"``, as
  Kraken's ws-auth host answers an untokened executions subscription);
* ``ping`` -> ``{"method": "pong", "req_id", "time_in", "time_out"}``.

``time_in`` / ``time_out`` are RFC 3339 with microseconds: when the request was read off
the wire and when its reply was written (:func:`stamped`).  Channel messages:
``{"channel": "heartbeat"}``, and on connect
``{"channel": "status", "type": "update", "data": [{"version", "system": "online",
"api_version": "v2", "connection_id"}]}``.

Messages are read within bounds before anything else (:func:`parse_request`): at most
:data:`MAX_MESSAGE` bytes, JSON nested at most :data:`~engine.exchange.jsonbounds.MAX_DEPTH`
deep.  A message that is not a request is answered with :data:`INVALID_REQUEST` and no
``method``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from engine.exchange import replies as ke
from engine.exchange.jsonbounds import MAX_DEPTH, json_depth
from engine.exchange.times import rfc3339_micro

__all__ = [
    "API_VERSION",
    "HEARTBEAT",
    "INVALID_REQUEST",
    "MAX_MESSAGE",
    "SERVER_VERSION",
    "WsBadRequest",
    "WsReject",
    "WsRequest",
    "failure",
    "heartbeat",
    "parse_request",
    "pong",
    "stamped",
    "status",
    "success",
    "unsupported_field",
]

#: The largest message read (bytes): Kraken's largest requests (a 15-order batch) are a
#: few kB.
MAX_MESSAGE = 1024 * 1024

#: What the ``status`` message reports.
API_VERSION = "v2"
SERVER_VERSION = "2.0.10-orderpace-sim"

#: The error for a message that is not a request (not JSON, not an object, no method).
INVALID_REQUEST = ke.INVALID_ARGUMENTS

#: The heartbeat sent about once a second on a connection with a subscription.
HEARTBEAT: Mapping[str, Any] = {"channel": "heartbeat"}


class WsReject(Exception):
    """A WebSocket request is refused with ``error`` (a Kraken error string)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class WsBadRequest(WsReject):
    """A message that cannot be read as a request; ``method`` and ``req_id`` are echoed
    when they could be read."""

    def __init__(self, error: str, method: str | None = None, req_id: int | None = None
                 ) -> None:
        super().__init__(error)
        self.method = method
        self.req_id = req_id


def _shown(params: Mapping[str, Any]) -> str:
    """``params`` for a repr: the token (a credential) never shown."""
    return repr({k: ("***" if k == "token" else v) for k, v in params.items()})


@attrs.frozen(slots=True)
class WsRequest:
    """One request read off a connection (``params`` never None; its token never in a
    repr)."""

    method: str
    params: Mapping[str, Any] = attrs.field(factory=dict, repr=_shown)
    req_id: int | None = None


def unsupported_field(name: str, method: str) -> str:
    """Kraken's refusal of a field the method does not take, e.g. ``Unsupported field:
    'price' for the given msg type: add order`` (recorded by ccxt)."""
    return f"Unsupported field: '{name}' for the given msg type: {method.replace('_', ' ')}"


def parse_request(text: str | bytes) -> WsRequest:
    """A :class:`WsRequest` from one message, or :class:`WsBadRequest` (nothing else is
    raised, whatever the bytes)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(raw) > MAX_MESSAGE or json_depth(raw) > MAX_DEPTH:
        raise WsBadRequest(INVALID_REQUEST)
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise WsBadRequest(INVALID_REQUEST) from None
    if not isinstance(obj, dict):
        raise WsBadRequest(INVALID_REQUEST)
    method = obj.get("method")
    req_id = obj.get("req_id")
    good_id = req_id is None or (isinstance(req_id, int) and not isinstance(req_id, bool))
    shown = req_id if good_id else None
    if not isinstance(method, str) or not method:
        raise WsBadRequest(f"{ke.INVALID_ARGUMENTS}:method", None, shown)
    if not good_id:
        raise WsBadRequest(f"{ke.INVALID_ARGUMENTS}:req_id", method, None)
    params = obj.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise WsBadRequest(f"{ke.INVALID_ARGUMENTS}:params", method, shown)
    return WsRequest(method, params, shown)


def _head(method: str | None, req_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if method is not None:
        out["method"] = method
    if req_id is not None:
        out["req_id"] = req_id
    return out


def success(method: str, req_id: int | None, result: Any) -> dict[str, Any]:
    """A successful reply (without times: see :func:`stamped`)."""
    return {**_head(method, req_id), "result": result, "success": True}


def failure(method: str | None, req_id: int | None, error: str,
            **extra: Any) -> dict[str, Any]:
    """A refused reply (without times); ``extra`` fields go before ``success``."""
    return {"error": error, **_head(method, req_id), **extra, "success": False}


def pong(req_id: int | None) -> dict[str, Any]:
    """The answer to ``ping`` (without times)."""
    return _head("pong", req_id)


def stamped(reply: Mapping[str, Any], time_in: float, time_out: float) -> dict[str, Any]:
    """``reply`` with ``time_in`` and ``time_out`` (UNIX seconds) in RFC 3339."""
    return {**reply, "time_in": rfc3339_micro(time_in), "time_out": rfc3339_micro(time_out)}


def heartbeat() -> dict[str, Any]:
    return dict(HEARTBEAT)


def status(connection_id: int) -> dict[str, Any]:
    """The ``status`` message sent when a connection opens."""
    return {"channel": "status", "type": "update", "data": [{
        "version": SERVER_VERSION, "system": "online", "api_version": API_VERSION,
        "connection_id": connection_id,
    }]}
