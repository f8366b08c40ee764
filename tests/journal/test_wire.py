"""The wire note: every private request's key and nonce are in the journal (readable from
another connection) when the exchange receives the request, and they are the ones it
received -- over REST on loopback with a pool of two keys; a note that cannot be written
sends nothing; WebSocket v2 order requests are noted with their ``req_id`` (no key, no
nonce)."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections import defaultdict
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from engine.clock import RealClock
from engine.core import Engine
from engine.errors import EngineLocked
from engine.exchange.server import ExchangeServer
from engine.intents import AddOrder, AmendOrder, CancelOrder, QueryOpenOrders
from engine.journal.session import Journal
from engine.markets import DEFAULT_MARKETS
from engine.outcomes import Status
from engine.run.live_keys import bind_pool, pool_ids
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.rest import KrakenRestVenue
from engine.venues.kraken_ws import KrakenWsVenue, Symbols
from limiters import Tier

KEYS = {f"journal-wire-key-{c}": base64.b64encode(f"secret {c}".encode()).decode()
        for c in "ab"}


def nonce_of(request: httpx.Request) -> int:
    body = request.content.decode()
    if request.headers.get("Content-Type", "").startswith("application/json"):
        return int(json.loads(body)["nonce"])
    return int(parse_qs(body)["nonce"][0])


class Watching(httpx.AsyncHTTPTransport):
    """The loopback transport, checking the journal as each private request goes out:
    its request row, key and nonce must already be committed (read from another
    connection)."""

    def __init__(self, journal: Path, labels: dict[str, str]) -> None:
        super().__init__()
        self.journal = journal
        self.labels = labels  # API key -> pool label
        self.sent: dict[str, list[int]] = defaultdict(list)  # label -> nonces, in order
        self.unrecorded: list[tuple[str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/0/private/"):
            label, nonce = self.labels[request.headers["API-Key"]], nonce_of(request)
            with sqlite3.connect(self.journal) as db:
                found = db.execute(  # the request's row and its note's, both
                    "SELECT 1 FROM wire w JOIN requests r ON r.run = w.run AND r.hid = w.hid "
                    "AND r.attempt = w.attempt WHERE w.key = ? AND w.nonce = ?",
                    (label, str(nonce))).fetchall()
            if not found:
                self.unrecorded.append((label, nonce))
            self.sent[label].append(nonce)
        return await super().handle_async_request(request)


def adds(n: int) -> list[AddOrder]:
    return [AddOrder("XBT/USD", "buy", "0.01", 30000.0 - i, post_only=True) for i in range(n)]


async def test_key_and_nonce_are_committed_before_the_exchange_sees_them(
        start_server: Any, tmp_path: Path) -> None:
    server: ExchangeServer = await start_server(keys=KEYS)
    path = tmp_path / "j.sqlite"
    creds = [Credentials(k, s) for k, s in KEYS.items()]
    clock = RealClock()
    journal = Journal(path, clock=clock, account="acct", key_id="k")
    watching = Watching(path, {})
    rest = KrakenRestVenue(creds, base_url=server.url, transport=watching)
    assert rest.pool is not None
    labels = {c.key: k.label for c, k in zip(creds, rest.pool.keys, strict=True)}
    watching.labels.update(labels)
    journal.watch(rest)
    engine = Engine(rest, tier=Tier.PRO, clock=clock, markets=DEFAULT_MARKETS,
                    observer=journal.recorder, key_ids=pool_ids(rest))
    bind_pool(engine, rest)
    async with engine:
        journal.seed(engine)
        placed = [await h for h in [engine.submit(a) for a in adds(6)]]
        assert all(o.ok for o in placed), [o.error for o in placed]
        await engine.submit(AmendOrder(placed[0].txid or "", price="29000.0"))
        await engine.submit(QueryOpenOrders())
        for o in placed:
            await engine.submit(CancelOrder(o.txid or ""))
    await rest.aclose()
    journal.close()

    assert watching.unrecorded == []
    assert set(watching.sent) == set(labels.values())  # both keys of the pool carried some
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT key, nonce, hid, attempt, endpoint FROM wire").fetchall()
        requests = set(db.execute("SELECT hid, attempt, endpoint FROM requests"))
    journaled: dict[str, list[int]] = defaultdict(list)
    for key, nonce, hid, attempt, endpoint in rows:
        journaled[key].append(int(nonce))
        assert (hid, attempt, endpoint) in requests  # the request row it belongs to
    for label, nonces in watching.sent.items():  # the ones the exchange received, per key
        assert sorted(journaled[label]) == sorted(nonces), label
    assert server.exchange.stats.errors["EAPI:Invalid nonce"] == 0
    assert sum(server.exchange.stats.requests.values()) == sum(map(len, watching.sent.values()))
    secrets = "".join(map(str, rows))
    assert not any(k in secrets or s in secrets for k, s in KEYS.items())  # labels only


async def _one_key(start_server: Any, tmp_path: Path,
                   ) -> tuple[ExchangeServer, RealClock, Journal, KrakenRestVenue]:
    """A server, a journal at ``tmp_path/j.sqlite`` and a REST venue on the first key."""
    server: ExchangeServer = await start_server(keys=KEYS)
    clock = RealClock()
    journal = Journal(tmp_path / "j.sqlite", clock=clock, account="acct", key_id="k")
    key, secret = next(iter(KEYS.items()))
    return server, clock, journal, KrakenRestVenue(Credentials(key, secret), base_url=server.url)


async def test_a_note_that_cannot_be_written_sends_nothing_and_stops_sending(
        start_server: Any, tmp_path: Path) -> None:
    server, clock, journal, rest = await _one_key(start_server, tmp_path)
    journal.watch(rest)
    note = rest.on_wire
    assert note is not None

    def failing(*args: Any) -> Awaitable[None] | None:  # the disk fills before the write
        journal.writer.db.execute("PRAGMA query_only = ON")
        return note(*args)

    rest.on_wire = failing
    engine = Engine(rest, tier=Tier.PRO, clock=clock, markets=DEFAULT_MARKETS,
                    observer=journal.recorder)
    async with engine:
        out = await engine.submit(adds(1)[0])
        assert out.status is Status.FAILED and not out.sent
        assert out.error is not None and "journal write failed" in out.error
        second = await engine.submit(adds(2)[1])  # refused before it reaches the venue
        assert second.status is Status.FAILED and not second.sent
        with pytest.raises(EngineLocked, match="journal write failed"):
            engine.submit(adds(3)[2])
    await rest.aclose()
    journal.close()
    assert sum(server.exchange.stats.requests.values()) == 0  # nothing reached the exchange


async def test_websocket_order_requests_are_noted_with_their_req_id(
        start_server: Any, tmp_path: Path) -> None:
    server, clock, journal, rest = await _one_key(start_server, tmp_path)
    ws = KrakenWsVenue(rest, server.ws_url, symbols=Symbols([("XBT/USD", ("XBTUSD",))]))
    journal.watch(rest, ws)
    engine = Engine(ws, tier=Tier.PRO, clock=clock, markets=DEFAULT_MARKETS,
                    observer=journal.recorder)
    async with engine:
        await ws.start()
        placed = [await h for h in [engine.submit(a) for a in adds(3)]]
        assert all(o.ok for o in placed), [o.error for o in placed]
    await ws.aclose()
    journal.close()
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        orders = db.execute("SELECT key, nonce, req_id, hid FROM wire "
                            "WHERE endpoint = 'AddOrder' ORDER BY req_id + 0").fetchall()
        token = db.execute("SELECT key, nonce, hid FROM wire "
                           "WHERE endpoint = 'GetWebSocketsToken'").fetchall()
    # v2: no key, no nonce -- the req_id the request carried, and the engine's request
    assert [(k, n) for k, n, _r, _h in orders] == [(None, None)] * 3
    assert len({r for _k, _n, r, _h in orders}) == 3 and all(h > 0 for *_x, h in orders)
    assert server.exchange.stats.requests["AddOrder"] == 3
    # the token's REST request, outside any round trip of the engine: hid 0, its nonce
    assert len(token) == 1 and token[0][0] is not None and token[0][1] is not None
    assert token[0][2] == 0
