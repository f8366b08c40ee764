"""The public endpoints of the simulated exchange: Time, SystemStatus, Assets, AssetPairs,
Ticker, Depth and Trades, in Kraken's shapes.

Each function takes the :class:`~engine.exchange.matching.MatchingEngine`, the request
``params`` and the arrival ``now`` (clock seconds) and returns Kraken's ``result``.  The
book they show is the simulated market's quote (see :mod:`engine.exchange.matching`):

* Ticker: ``a``/``b`` ask and bid ``[price, whole lot volume, lot volume]``, ``c`` the last
  trade ``[price, volume]``, and the day's statistics over the trades the exchange keeps.
* Depth: ``count`` levels a side (default 100, at most 500), one tick apart from the
  quote outwards, each ``[price, volume, UNIX time]``: bids descending, asks ascending,
  best bid below best ask.  The market's own liquidity only: the account's orders are not
  merged into it.
* Trades: the pair's recent trades ``[price, volume, time, "b"|"s", "l"|"m", "", id]``
  after ``since`` (a trade id), oldest first, at most ``count`` (default 1000), and
  ``last``: the id to pass as ``since`` next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.exchange import replies as ke
from engine.exchange.markets import ExchangeMarket, asset_info
from engine.exchange.matching import MatchingEngine
from engine.exchange.params import Reject, invalid
from engine.exchange.times import rfc1123, rfc3339

__all__ = ["asset_pairs", "assets", "depth", "server_time", "system_status", "ticker", "trades"]

#: Depth levels per side by default, and at most (Kraken's).
DEPTH_DEFAULT = 100
DEPTH_MAX = 500
#: Trades per reply by default, and at most (Kraken's).
TRADES_DEFAULT = 1000

#: Volume (base units) the simulated market shows at each depth level.
LEVEL_VOLUME = Decimal(1)


def server_time(x: MatchingEngine, _params: Mapping[str, Any], now: float) -> dict[str, Any]:
    wall = x.epoch + now
    return {"unixtime": math.floor(wall), "rfc1123": rfc1123(wall)}


def system_status(x: MatchingEngine, _params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """SystemStatus: always ``online``, stamped with the arrival (RFC 3339, UTC)."""
    return {"status": "online", "timestamp": rfc3339(x.epoch + now)}


def _pairs(x: MatchingEngine, params: Mapping[str, Any]) -> list[ExchangeMarket]:
    raw = params.get("pair")
    if raw in (None, ""):
        return list(x.markets)
    names = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(names, list | tuple):
        raise invalid("pair")
    found = [x.markets.find(str(n).strip()) for n in names]
    if any(m is None for m in found):
        raise Reject(ke.UNKNOWN_ASSET_PAIR)
    return [m for m in found if m is not None]


def _one_pair(x: MatchingEngine, params: Mapping[str, Any]) -> ExchangeMarket:
    chosen = _pairs(x, params)
    if params.get("pair") in (None, "") or len(chosen) != 1:
        raise invalid("pair")
    return chosen[0]


def _count(params: Mapping[str, Any], default: int, maximum: int) -> int:
    raw = params.get("count")
    if raw in (None, ""):
        return default
    try:
        n = int(raw)
    except (TypeError, ValueError):
        raise invalid("count") from None
    if n < 1:
        raise invalid("count")
    return min(n, maximum)


def assets(x: MatchingEngine, params: Mapping[str, Any], _now: float) -> dict[str, Any]:
    """Assets: every asset the markets trade (or those named in ``asset``)."""
    codes = list(x.markets.assets())
    raw = params.get("asset")
    if raw not in (None, ""):
        wanted = [str(a).strip() for a in (raw.split(",") if isinstance(raw, str) else raw)]
        by_name = {n.lower(): c for c in codes for n in (c, asset_info(c).altname)}
        if any(w.lower() not in by_name for w in wanted):
            raise Reject(ke.UNKNOWN_ASSET)
        codes = [by_name[w.lower()] for w in wanted]
    return {c: asset_info(c).info() for c in codes}


def asset_pairs(x: MatchingEngine, params: Mapping[str, Any], _now: float) -> dict[str, Any]:
    return x.markets.asset_pairs(_pairs(x, params))


def _stats(x: MatchingEngine, m: ExchangeMarket, now: float) -> dict[str, Any]:
    """Volume, VWAP, trade count, low, high over the kept trades of the last 24 h."""
    recent = [t for t in x.market_trades(m.name) if t.time > now - 86_400.0]
    last = m.format_price(x.price(m))
    if not recent:
        return {"v": ["0.00000000", "0.00000000"], "p": [last, last], "t": [0, 0],
                "l": [last, last], "h": [last, last], "o": last}
    vol = sum((t.volume for t in recent), Decimal(0))
    vwap = sum((m.tick_size * t.ticks * t.volume for t in recent), Decimal(0)) / vol
    lo = m.format_price(m.tick_size * min(t.ticks for t in recent))
    hi = m.format_price(m.tick_size * max(t.ticks for t in recent))
    v, p = m.format_volume(vol), m.format_price(vwap)
    return {"v": [v, v], "p": [p, p], "t": [len(recent), len(recent)], "l": [lo, lo],
            "h": [hi, hi], "o": m.format_price(m.tick_size * recent[0].ticks)}


def ticker(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Ticker: the quote (bid below ask), the last trade and the day's statistics."""
    out: dict[str, Any] = {}
    for m in _pairs(x, params):
        bid, ask = x.quote(m)
        kept = x.tape[m.name]
        last_vol = m.format_volume(kept[-1][2] if kept else Decimal(0))
        out[m.rest_name] = {
            "a": [m.format_price(ask), "1", "1.000"],
            "b": [m.format_price(bid), "1", "1.000"],
            "c": [m.format_price(x.price(m)), last_vol],
            **_stats(x, m, now),
        }
    return out


def depth(x: MatchingEngine, params: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Depth: ``count`` levels a side, one tick apart, outwards from the quote."""
    m = _one_pair(x, params)
    n = _count(params, DEPTH_DEFAULT, DEPTH_MAX)
    stamp = math.floor(x.epoch + now)
    bid, ask = x.bid_ticks(m), x.ask_ticks(m)
    vol = m.format_volume(LEVEL_VOLUME)
    bids = [[m.format_price(m.tick_size * (bid - i)), vol, stamp]
            for i in range(n) if bid - i >= 1]
    asks = [[m.format_price(m.tick_size * (ask + i)), vol, stamp] for i in range(n)]
    return {m.rest_name: {"asks": asks, "bids": bids}}


def trades(x: MatchingEngine, params: Mapping[str, Any], _now: float) -> dict[str, Any]:
    """Trades: the pair's kept trades after ``since`` (a trade id), oldest first."""
    m = _one_pair(x, params)
    n = _count(params, TRADES_DEFAULT, TRADES_DEFAULT)
    raw = params.get("since")
    try:
        since = int(raw) if raw not in (None, "") else 0
    except (TypeError, ValueError):
        raise invalid("since") from None
    kept = [t for t in x.market_trades(m.name) if t.trade_id > since][-n:]
    rows = [[m.format_price(m.tick_size * t.ticks), m.format_volume(t.volume),
             round(x.epoch + t.time, 4), t.side, t.ordertype, "", t.trade_id] for t in kept]
    last = kept[-1].trade_id if kept else since
    return {m.rest_name: rows, "last": str(last)}
