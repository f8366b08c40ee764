"""WebSocket v2 order requests as the exchange's REST-style parameters, and REST results as
v2 results: one order implementation (:mod:`engine.exchange.order_endpoints`), two wire
formats.

==========================  ========================  =====================================
v2 method                   exchange endpoint         v2 result
==========================  ========================  =====================================
``add_order``               AddOrder                  ``{order_id[, cl_ord_id, order_userref]}``
``batch_add``               AddOrderBatch             a list of those, in request order
``amend_order``             AmendOrder                ``{amend_id, order_id[, cl_ord_id]}``
``edit_order``              EditOrder                 ``{order_id, original_order_id}``
``cancel_order``            CancelOrder, per id       one reply per cancelled order:
                                                      ``{order_id[, cl_ord_id]}``
``batch_cancel``            CancelOrderBatch          ``{count}`` (2 to 50 ids)
``cancel_all``              CancelAll                 ``{count}``
``cancel_all_orders_after`` CancelAllOrdersAfter      ``{currentTime, triggerTime}``
==========================  ========================  =====================================

Field names are v2's (``order_qty``, ``limit_price``, ``side``, ``order_type``, ``symbol``
such as ``BTC/USD``, ``time_in_force`` in lower case, ``post_only``, ``expire_time`` and
``deadline`` in RFC 3339, ``order_userref``); a REST error naming a field names the v2 field
(``EGeneral:Invalid arguments:order_qty``).  Numbers may be JSON numbers or decimal strings.
A field a method does not take is refused with Kraken's ``Unsupported field: '<name>' for
the given msg type: <method>``; fields of Kraken's that change nothing here are accepted and
ignored (:data:`IGNORED`), and those whose other values this exchange does not model must
keep their default (:data:`DEFAULT_ONLY`: ``margin``, ``reduce_only``,
``limit_price_type``).  ``token`` is read by the dispatcher, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.exchange import replies as ke
from engine.exchange.times import parse_rfc3339
from engine.exchange.wsv2.messages import WsReject, unsupported_field

__all__ = [
    "DEFAULT_ONLY",
    "IGNORED",
    "REST_TO_WS_FIELD",
    "amend_params",
    "batch_add_params",
    "batch_cancel_params",
    "cancel_after_params",
    "cancel_idents",
    "check_fields",
    "edit_params",
    "invalid",
    "order_params",
    "ws_error",
]

#: Kraken fields accepted and ignored: they change nothing this exchange models.
IGNORED = frozenset({"token", "fee_preference", "stp_type", "no_mpp", "sender_sub_id"})

#: Kraken fields accepted only with their default value (the rest is not modelled).
DEFAULT_ONLY: Mapping[str, object] = {
    "margin": False, "reduce_only": False, "limit_price_type": "static",
}

#: The v2 name of each REST field an error may name.
REST_TO_WS_FIELD: Mapping[str, str] = {
    "volume": "order_qty", "price": "limit_price", "type": "side", "ordertype": "order_type",
    "userref": "order_userref", "pair": "symbol", "timeinforce": "time_in_force",
    "expiretm": "expire_time", "txid": "order_id", "oflags": "post_only",
    "cl_ord_ids": "cl_ord_id",
}

#: v2 order fields renamed one to one.
_RENAMED: Mapping[str, str] = {
    "order_type": "ordertype", "side": "type", "order_qty": "volume", "limit_price": "price",
    "order_userref": "userref", "cl_ord_id": "cl_ord_id",
}
#: Fields of one order (add_order, or one entry of batch_add).
_ORDER_FIELDS = frozenset({*_RENAMED, "time_in_force", "post_only", "expire_time"})
_ADD_FIELDS = _ORDER_FIELDS | {"symbol", "deadline", "validate"}
_BATCH_FIELDS = frozenset({"symbol", "orders", "deadline", "validate"})
_AMEND_FIELDS = frozenset({"order_id", "cl_ord_id", "order_qty", "limit_price", "post_only",
                           "deadline", "symbol"})
_EDIT_FIELDS = frozenset({"order_id", "symbol", "order_qty", "limit_price", "order_userref",
                          "post_only", "deadline", "validate"})
_TIME_IN_FORCE = frozenset({"gtc", "gtd", "ioc"})


def invalid(field: str) -> WsReject:
    """``EGeneral:Invalid arguments:<field>``."""
    return WsReject(f"{ke.INVALID_ARGUMENTS}:{field}")


def ws_error(error: str) -> str:
    """A REST error string with the field it names in v2's words."""
    prefix = f"{ke.INVALID_ARGUMENTS}:"
    if error.startswith(prefix):
        field = error[len(prefix):]
        return prefix + REST_TO_WS_FIELD.get(field, field)
    return error


def check_fields(params: Mapping[str, Any], allowed: frozenset[str], method: str) -> None:
    """Refuse a field ``method`` does not take (see the module docstring)."""
    for name, value in params.items():
        if name in allowed or name in IGNORED:
            continue
        if name in DEFAULT_ONLY:
            if value != DEFAULT_ONLY[name] or type(value) is not type(DEFAULT_ONLY[name]):
                raise invalid(name)
            continue
        raise WsReject(unsupported_field(name, method))


def _post_only(value: object) -> str:
    if not isinstance(value, bool):
        raise invalid("post_only")
    return "post" if value else ""


def _symbol(params: Mapping[str, Any]) -> str:
    symbol = params.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise invalid("symbol")
    return symbol


def _order(entry: Mapping[str, Any], method: str, allowed: frozenset[str]) -> dict[str, Any]:
    """One order's REST fields (AddOrder, or an AddOrderBatch entry)."""
    check_fields(entry, allowed, method)
    out: dict[str, Any] = {rest: entry[v2] for v2, rest in _RENAMED.items() if v2 in entry}
    if "post_only" in entry:
        out["oflags"] = _post_only(entry["post_only"])
    tif = entry.get("time_in_force")
    if tif is not None:
        if not isinstance(tif, str) or tif.lower() not in _TIME_IN_FORCE:
            raise invalid("time_in_force")
        out["timeinforce"] = tif.upper()
    if "expire_time" in entry:
        unix = parse_rfc3339(entry["expire_time"])
        if unix is None:
            raise invalid("expire_time")
        out["expiretm"] = repr(unix)
    return out


def order_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``add_order`` -> AddOrder parameters."""
    out = _order(params, "add_order", _ADD_FIELDS)
    out["pair"] = _symbol(params)
    for field in ("deadline", "validate"):
        if field in params:
            out[field] = params[field]
    return out


def batch_add_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``batch_add`` -> AddOrderBatch parameters (the orders' count is checked there)."""
    check_fields(params, _BATCH_FIELDS, "batch_add")
    raw = params.get("orders")
    if not isinstance(raw, list) or not all(isinstance(o, Mapping) for o in raw):
        raise invalid("orders")
    out: dict[str, Any] = {
        "pair": _symbol(params),
        "orders": [_order(o, "batch_add", _ORDER_FIELDS) for o in raw],
    }
    for field in ("deadline", "validate"):
        if field in params:
            out[field] = params[field]
    return out


def amend_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``amend_order`` -> AmendOrder parameters (by ``order_id`` or ``cl_ord_id``)."""
    check_fields(params, _AMEND_FIELDS, "amend_order")
    out: dict[str, Any] = {}
    if "order_id" in params:
        out["txid"] = params["order_id"]
    for field in ("cl_ord_id", "order_qty", "limit_price", "deadline", "post_only"):
        if field in params:
            out[field] = params[field]
    if "post_only" in out and not isinstance(out["post_only"], bool):
        raise invalid("post_only")
    return out


def edit_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``edit_order`` -> EditOrder parameters (``order_id`` and ``symbol`` required)."""
    check_fields(params, _EDIT_FIELDS, "edit_order")
    ident = params.get("order_id")
    if not isinstance(ident, str) or not ident:
        raise invalid("order_id")
    out: dict[str, Any] = {"txid": ident, "pair": _symbol(params)}
    for v2, rest in (("order_qty", "volume"), ("limit_price", "price"),
                     ("order_userref", "userref"), ("deadline", "deadline"),
                     ("validate", "validate")):
        if v2 in params:
            out[rest] = params[v2]
    if "post_only" in params:
        out["oflags"] = _post_only(params["post_only"])
    return out


def cancel_idents(params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``cancel_order`` -> ``(REST field, identifiers)``: exactly one of ``order_id`` (ids),
    ``cl_ord_id`` (ids) or ``order_userref`` (integers), a non-empty list of at most 50."""
    check_fields(params, frozenset({"order_id", "cl_ord_id", "order_userref"}),
                  "cancel_order")
    given = [f for f in ("order_id", "cl_ord_id", "order_userref") if f in params]
    if len(given) != 1:
        raise invalid("order_id")
    field = given[0]
    idents = params[field]
    kind: type = int if field == "order_userref" else str
    if (not isinstance(idents, list) or not 1 <= len(idents) <= 50
            or not all(isinstance(i, kind) and not isinstance(i, bool) for i in idents)):
        raise invalid(field)
    return ("cl_ord_id" if field == "cl_ord_id" else "txid"), list(idents)


def batch_cancel_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``batch_cancel`` -> CancelOrderBatch parameters (2 to 50 ids in all)."""
    check_fields(params, frozenset({"orders", "cl_ord_id"}), "batch_cancel")
    out: dict[str, Any] = {}
    total = 0
    for v2, rest in (("orders", "orders"), ("cl_ord_id", "cl_ord_ids")):
        raw = params.get(v2)
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise invalid(v2)
        out[rest] = raw
        total += len(raw)
    if not 2 <= total <= 50:
        raise invalid("orders")
    return out


def cancel_after_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``cancel_all_orders_after`` -> CancelAllOrdersAfter parameters (``timeout`` s)."""
    check_fields(params, frozenset({"timeout"}), "cancel_all_orders_after")
    timeout = params.get("timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise invalid("timeout")
    return {"timeout": timeout}
