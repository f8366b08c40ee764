"""What a live run needs for its keys and for orders that left the book under a request.

* :func:`rest_venue` -- the REST venue over a pool of one or more keys of the account, with
  the run's nonce window (``EngineSettings.nonce_window``; 0: one request per key on the
  wire, see :mod:`engine.core.keys`);
* :func:`engine_settings` -- the engine's in-flight cap sized to what the pool lets on the
  wire (one per key without a window), so requests wait in the engine -- before they are
  charged -- rather than at the venue; :func:`bind_pool` keeps it so as keys leave the pool
  or are serialized;
* :func:`closed_order` -- what a ``QueryOrders`` lookup after ``EOrder:Unknown order``
  found (:mod:`engine.venues.kraken_rest.gone`), as the poller's
  :class:`~engine.venues.kraken_rest.poller.ClosedOrder`, named as the engine knows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from engine.core.keys import NonceSource, WireSlot
from engine.core.settings import EngineSettings
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.poller import ClosedOrder
from engine.venues.kraken_rest.rest import KrakenRestVenue

if TYPE_CHECKING:
    from engine.core.engine import Engine
    from engine.run.live_config import LiveConfig

__all__ = ["bind_pool", "closed_order", "engine_settings", "key_list", "pool_ids", "rest_venue"]


def key_list(credentials: Credentials | Sequence[Credentials]) -> tuple[Credentials, ...]:
    """``credentials`` as a tuple of one or more keys (ValueError when empty)."""
    keys = (credentials,) if isinstance(credentials, Credentials) else tuple(credentials)
    if not keys:
        raise ValueError("a live run needs at least one API key")
    return keys


def rest_venue(config: LiveConfig, keys: Sequence[Credentials], nonces: NonceSource,
               transport: httpx.AsyncBaseTransport | None,
               wires: Sequence[WireSlot] | None = None) -> KrakenRestVenue:
    """The REST venue of a live run over ``keys`` (one account); ``wires``: the keys'
    wire slots when they are not this process's alone (a shared store)."""
    return KrakenRestVenue(
        keys, base_url=config.base_url, nonces=nonces, dry_run=config.dry_run,
        transport=transport, nonce_window=config.engine.nonce_window,
        max_per_key=config.engine.max_inflight, wires=wires,
        timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout),
                              pool=min(5.0, config.timeout)),
    )


def engine_settings(config: LiveConfig, rest: KrakenRestVenue) -> EngineSettings:
    """``config.engine`` with ``max_inflight`` at most the key pool's concurrency."""
    pool = rest.pool
    assert pool is not None  # a live venue always has keys
    return attrs.evolve(config.engine,
                        max_inflight=min(config.engine.max_inflight, pool.concurrency))


def pool_ids(rest: KrakenRestVenue) -> tuple[str, ...] | None:
    """The engine's key ids for ``rest``'s pool of two or more keys (the keys' labels, in
    the credentials' order: one API counter per key, :mod:`engine.core.apikeys`); None for
    one key (the engine's single API counter, as before)."""
    pool = rest.pool
    if pool is None or len(pool.keys) < 2:
        return None
    return tuple(k.label for k in pool.keys)


def bind_pool(engine: Engine, rest: KrakenRestVenue) -> None:
    """Keep ``engine``'s in-flight cap within what ``rest``'s key pool lets on the wire, now
    and when a key is removed or serialized (build the engine with :func:`engine_settings`);
    an engine with a key ring (``key_ids``: :func:`pool_ids`) follows the pool's keys."""
    pool = rest.pool
    assert pool is not None  # a live venue always has keys
    engine.budget.inflight.limit(pool.concurrency)
    pool.on_capacity = engine.budget.inflight.limit
    if engine.keys is not None:
        engine.keys.follow(pool)


def closed_order(engine: Engine, ref: str, info: Mapping[str, Any]) -> ClosedOrder | None:
    """The order ``ref`` (txid or cl_ord_id) the exchange reports gone, with Kraken's
    record ``info``; None when the engine no longer knows it (already closed)."""
    view = engine.order(ref)
    if view is None:
        return None
    status = info.get("status")
    return ClosedOrder(view.cl_ord_id, view.txid, view.pair,
                       str(status) if status is not None else None, info)
