"""A live run's start: the pairs' rules from ``AssetPairs``, and what a refused key means.

:func:`load_markets` reads the rules of exactly the configured pairs (tick size, order
minimums, decimals) from the venue's public ``AssetPairs``: any pair the exchange lists can
be traded.  The reply is read with the live venue's one envelope parser
(:func:`~engine.venues.kraken_rest.errors.raise_for_reply`).

The key check's messages are here too.  :func:`nonce_refused_message` explains
``EAPI:Invalid nonce`` at the start-up check: with one private request on the wire there
is nothing to reorder, so the key has already accepted a nonce above ours -- another
client used it with a larger unit (microseconds, or time x 1e8) -- and Kraken never
accepts a smaller one again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from engine import kraken_errors as ke
from engine.markets import Markets
from engine.run.live_config import LiveError
from engine.venues.base import TransportError, Venue
from engine.venues.kraken_rest.errors import KrakenError, MalformedReply, raise_for_reply

__all__ = ["key_refused_message", "load_markets", "nonce_refused_message"]

#: At most this many pair names in an error message.
_SHOWN = 8

_log = structlog.get_logger("orderpace.live")


def _shown(names: Sequence[str]) -> str:
    """``names`` for a message: at most :data:`_SHOWN` of them, then how many more."""
    if not names:
        return "none"
    more = len(names) - _SHOWN
    return ", ".join(names[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


async def load_markets(venue: Venue, pairs: tuple[str, ...]) -> Markets:
    """The rules of exactly ``pairs``, in that order, from the venue's ``AssetPairs`` (all
    pairs: one public request, matched on their WebSocket names, so no guess is made about
    which spellings the pair filter accepts).

    Raises :class:`LiveError` naming the pairs the exchange does not list, or saying why
    its reply cannot be used.
    """
    result = await _asset_pairs(venue)
    if not all(isinstance(k, str) and isinstance(v, Mapping) for k, v in result.items()):
        raise LiveError("AssetPairs reply not understood: entries are not pair objects")
    try:
        listed = Markets.from_asset_pairs(result)
    except (ValueError, KeyError, TypeError, ArithmeticError) as e:
        raise LiveError(f"AssetPairs reply not understood: {e}") from None
    missing = [p for p in pairs if p not in listed]
    if missing:
        raise LiveError(f"the exchange's AssetPairs does not list {_shown(missing)} "
                        f"(pairs are named as in its wsname, like XBT/USD)")
    try:
        markets = listed.subset(pairs)
    except ValueError:
        raise LiveError(f"pairs: {', '.join(pairs)} name the same pair twice") from None
    for rest_name, info in result.items():
        status = info.get("status")
        if status not in (None, "online") and rest_name in markets:
            _log.warning("live.pair_status", pair=markets.get(rest_name).name, status=status)
    return markets


async def _asset_pairs(venue: Venue) -> Mapping[str, Any]:
    """``AssetPairs``' result for every pair; :class:`LiveError` when the exchange cannot
    be reached or answers with an error."""
    try:
        reply = await venue.request("AssetPairs", {})
    except TransportError as e:
        raise LiveError(f"cannot reach the exchange: {e}") from None
    try:
        result = raise_for_reply(reply, endpoint="AssetPairs")
    except KrakenError as e:
        raise LiveError(f"AssetPairs failed: {', '.join(e.errors)}") from None
    except MalformedReply:
        result = None
    if not isinstance(result, Mapping):
        raise LiveError("AssetPairs failed: no result")
    return result


def key_refused_message(key_prefix: str, error: str) -> str:
    """Why the run stops when the exchange refuses the key (``error``: Kraken's)."""
    if ke.classify(error) is ke.ErrorKind.LOCKOUT:
        return f"the exchange locked out API key {key_prefix} ({error})"
    return (f"the exchange refused API key {key_prefix} ({error}): check the key, "
            "its secret and its permissions")


def nonce_refused_message(key_prefix: str, per_second: int, wall: float | None = None) -> str:
    """Why the run stops when the start-up check's one request meets ``EAPI:Invalid
    nonce``: ``per_second`` is our nonce unit (nonces per second of UNIX time)."""
    now = time.time() if wall is None else wall
    ours = f"{now * per_second:.3g}"
    unit = {1000: "milliseconds", 1_000_000: "microseconds"}.get(
        per_second, f"1/{per_second} seconds")
    return (f"the exchange refused our nonce for API key {key_prefix} "
            f"({ke.INVALID_NONCE}) at the start-up check, with nothing else on the wire: the "
            f"key has already accepted a larger nonce. orderpace sends {unit} since 1970 "
            f"(about {ours} now); a client that used this key with a larger unit "
            f"(microseconds, about {now * 1e6:.3g}, or time x 1e8) raised its nonce for good, "
            "and Kraken never accepts a smaller one. Use an API key of its own for orderpace "
            "(or one only ever used with millisecond nonces); a nonce window set on the key "
            "absorbs requests arriving slightly out of order, not a larger unit")
