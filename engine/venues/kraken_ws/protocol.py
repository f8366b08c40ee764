"""REST-shaped requests as Kraken WebSocket v2 methods, and v2 replies as REST envelopes.

The engine speaks Kraken's REST endpoint names and parameters (:mod:`engine.venues.base`);
the WebSocket venue sends the same intents as v2 methods and hands the engine back a REST
envelope, so the engine's verdicts, settlement and recovery read WS replies unchanged.

==========================  ===========================  ==================================
REST endpoint               v2 method                    REST result built from v2's
==========================  ===========================  ==================================
AddOrder                    ``add_order``                ``{"txid": [order_id]}``
AddOrderBatch               ``batch_add``                ``{"orders": [{"txid"}, ...]}``
AmendOrder                  ``amend_order``              ``{"amend_id"}``
EditOrder                   ``edit_order``               ``{"txid", "originaltxid"}``
CancelOrder                 ``cancel_order``             ``{"count": 1}``
CancelOrderBatch            ``batch_cancel`` (2-50 ids;  ``{"count"}``
                            one id: over REST)
CancelAll                   ``cancel_all``               ``{"count"}``
CancelAllOrdersAfter        ``cancel_all_orders_after``  ``{"currentTime", "triggerTime"}``
==========================  ===========================  ==================================

Fields: ``type`` -> ``side``, ``ordertype`` -> ``order_type``, ``volume`` -> ``order_qty``,
``price`` -> ``limit_price`` (decimal strings become JSON numbers: v2 takes numbers),
``oflags=post`` -> ``post_only: true``, ``timeinforce`` -> ``time_in_force`` (lower case),
``userref`` -> ``order_userref`` (an integer), ``pair`` (REST altname) -> ``symbol`` (v2's
``BTC/USD``, see :class:`Symbols`), ``txid`` -> ``order_id`` -- or ``cl_ord_id`` when the
reference is not a Kraken txid (the engine cancels by cl_ord_id before it knows the txid).
A v2 failure ``{"error": "EOrder:..."}`` becomes ``{"error": ["EOrder:..."]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "ORDER_METHODS",
    "Symbols",
    "envelope",
    "is_txid",
    "to_ws",
    "v2_symbol",
]

#: REST endpoint -> v2 method, for every request the WebSocket venue sends over WS.
ORDER_METHODS: Mapping[str, str] = {
    "AddOrder": "add_order", "AddOrderBatch": "batch_add", "AmendOrder": "amend_order",
    "EditOrder": "edit_order", "CancelOrder": "cancel_order",
    "CancelOrderBatch": "batch_cancel", "CancelAll": "cancel_all",
    "CancelAllOrdersAfter": "cancel_all_orders_after",
}

#: Asset codes WebSocket v2 spells differently from REST's ``wsname`` (Kraken's docs).
_V2_ASSETS: Mapping[str, str] = {"XBT": "BTC", "XDG": "DOGE"}

#: A Kraken order id, ``OABCDE-FGHIJ-KLMNOP``.
_TXID = re.compile(r"[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{6}")

_TRUE = ("true", "1", True)


def v2_symbol(wsname: str) -> str:
    """v2's symbol for a REST ``wsname``: ``"XBT/USD"`` -> ``"BTC/USD"``."""
    return "/".join(_V2_ASSETS.get(part, part) for part in wsname.split("/"))


def is_txid(ref: str) -> bool:
    """Whether ``ref`` is a Kraken order id (else: a cl_ord_id)."""
    return _TXID.fullmatch(ref) is not None


class Symbols:
    """Pair names both ways: a REST name (wsname, altname or REST key) -> v2 symbol, and a v2
    symbol -> the engine's pair name (the wsname)."""

    __slots__ = ("_engine", "_v2")

    def __init__(self, pairs: Iterable[tuple[str, Iterable[str]]]) -> None:
        """``pairs``: ``(wsname, every name the pair goes by)``."""
        self._v2: dict[str, str] = {}
        self._engine: dict[str, str] = {}
        for wsname, names in pairs:
            symbol = v2_symbol(wsname)
            for n in (wsname, *names):
                self._v2[n] = symbol
            self._engine[symbol] = wsname
            self._engine[wsname] = wsname

    def symbol(self, pair: str) -> str:
        """v2's symbol for ``pair`` (unknown names: converted as a wsname)."""
        return self._v2.get(pair) or v2_symbol(pair)

    def pair(self, symbol: str) -> str | None:
        """The engine's pair name for a v2 ``symbol``, None when not traded here."""
        return self._engine.get(symbol)


def _number(value: Any) -> Any:
    """A decimal string as a JSON number (an int when whole, else a float); else as given."""
    if isinstance(value, str):
        try:
            d = Decimal(value)
        except InvalidOperation:
            return value
        if not d.is_finite():
            return value
        return int(d) if d == d.to_integral_value() and "." not in value else float(d)
    return value


def _order_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    """One order's v2 fields from AddOrder's REST fields."""
    out: dict[str, Any] = {}
    for rest, v2 in (("ordertype", "order_type"), ("type", "side"), ("cl_ord_id", "cl_ord_id")):
        if rest in p:
            out[v2] = p[rest]
    for rest, v2 in (("volume", "order_qty"), ("price", "limit_price")):
        if rest in p:
            out[v2] = _number(p[rest])
    if "oflags" in p:
        out["post_only"] = "post" in str(p["oflags"]).split(",")
    if "timeinforce" in p:
        out["time_in_force"] = str(p["timeinforce"]).lower()
    if "userref" in p:
        out["order_userref"] = int(p["userref"])
    return out


def _common(p: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    if "deadline" in p:
        out["deadline"] = p["deadline"]
    if p.get("validate") in _TRUE:
        out["validate"] = True
    return out


def _ref(ref: str) -> tuple[str, str]:
    """The v2 field naming an order by ``ref``: ``order_id`` or ``cl_ord_id``."""
    return ("order_id", ref) if is_txid(ref) else ("cl_ord_id", ref)


def to_ws(endpoint: str, params: Mapping[str, Any], symbols: Symbols) -> tuple[str, dict[str, Any]]:
    """The v2 method and params (token not included) for a REST request; :class:`KeyError`
    for an endpoint not sent over WS (:data:`ORDER_METHODS`)."""
    method = ORDER_METHODS[endpoint]
    p = params
    if endpoint == "AddOrder":
        out = _order_fields(p)
        out["symbol"] = symbols.symbol(str(p["pair"]))
        return method, _common(p, out)
    if endpoint == "AddOrderBatch":
        return method, _common(p, {"symbol": symbols.symbol(str(p["pair"])),
                                   "orders": [_order_fields(o) for o in p["orders"]]})
    if endpoint == "AmendOrder":
        out = {}
        if "txid" in p:
            out["order_id"] = p["txid"]
        if "cl_ord_id" in p:
            out["cl_ord_id"] = p["cl_ord_id"]
        for f in ("order_qty", "limit_price"):
            if f in p:
                out[f] = _number(p[f])
        if "deadline" in p:
            out["deadline"] = p["deadline"]
        return method, out
    if endpoint == "EditOrder":
        out = {"order_id": p["txid"], "symbol": symbols.symbol(str(p["pair"]))}
        for rest, v2 in (("volume", "order_qty"), ("price", "limit_price")):
            if rest in p:
                out[v2] = _number(p[rest])
        if "userref" in p:
            out["order_userref"] = int(p["userref"])
        return method, _common(p, out)
    if endpoint == "CancelOrder":
        ref = str(p.get("txid", p.get("cl_ord_id", "")))
        field, value = _ref(ref)
        return method, {field: [value]}
    if endpoint == "CancelOrderBatch":
        refs = [str(r) for r in p["orders"]]  # 2 to 50 (the venue sends one over REST)
        ids = [r for r in refs if is_txid(r)]
        cids = [r for r in refs if not is_txid(r)]
        out = {}
        if ids:
            out["orders"] = ids
        if cids:
            out["cl_ord_id"] = cids
        return method, out
    if endpoint == "CancelAll":
        return method, {}
    return method, {"timeout": int(str(p["timeout"]))}  # CancelAllOrdersAfter


def envelope(endpoint: str, reply: Mapping[str, Any]) -> dict[str, Any]:
    """A v2 reply (one message) as Kraken's REST envelope for ``endpoint``."""
    if not reply.get("success"):
        error = reply.get("error")
        return {"error": [error if isinstance(error, str) and error else "EGeneral:Internal error"]}
    result = reply.get("result")
    r: Mapping[str, Any] = result if isinstance(result, Mapping) else {}
    if endpoint == "AddOrder":
        out: dict[str, Any] = {"txid": [r["order_id"]]} if "order_id" in r else {}
        return {"error": [], "result": out}
    if endpoint == "AddOrderBatch":
        placed = result if isinstance(result, list) else []
        return {"error": [], "result": {"orders": [
            {"txid": o["order_id"]} for o in placed
            if isinstance(o, Mapping) and "order_id" in o]}}
    if endpoint == "AmendOrder":
        return {"error": [], "result": {"amend_id": r.get("amend_id")}}
    if endpoint == "EditOrder":
        out = {"originaltxid": r.get("original_order_id")}
        if "order_id" in r:
            out["txid"] = r["order_id"]
        return {"error": [], "result": out}
    if endpoint == "CancelOrder":
        return {"error": [], "result": {"count": 1}}
    if endpoint in ("CancelOrderBatch", "CancelAll"):
        return {"error": [], "result": {"count": r.get("count", 1)}}
    return {"error": [], "result": dict(r)}
