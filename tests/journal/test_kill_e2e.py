"""Done-when, end to end on loopback: ``orderpace live --strategy market-maker --journal J``
killed with SIGKILL in the middle of a burst of amends, then restarted on the same journal.

The exchange is the simulated Kraken served over HTTP on 127.0.0.1 (the server
``orderpace simulate-exchange`` runs), here in the test's process so that it can hold two
keys of one account: orderpace's, and another one with which the test places an order by
hand.  ``orderpace live`` runs as a real subprocess.  Checked on the server and in J:

* run 1 is killed mid-burst; run 2 restarts with ``--on-start adopt``: the strategy takes
  the orders as its quotes (it amends them) -- and is killed mid-burst too; run 3 restarts
  with ``--on-start cancel``: once it reports its recovery, no order of the earlier runs is
  open any more;
* no cl_ord_id was placed twice; every intent of the first run has exactly one outcome;
* the restart gets 0 rate-limit errors from the exchange (the referee's count);
* the order placed by hand, with the other key, is still open at the end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from engine.exchange.server import ExchangeServer
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.rest import KrakenRestVenue

KEY = "journal-e2e-key"
SECRET = base64.b64encode(b"journal e2e secret of orderpace's key").decode()
HAND = "journal-e2e-hand-key"
HAND_SECRET = base64.b64encode(b"journal e2e secret of the hand key").decode()
RATE_LIMIT = ("EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded",
              "EOrder:Orders limit exceeded")


def rate_limit_errors(server: ExchangeServer) -> int:
    return sum(server.exchange.stats.errors[e] for e in RATE_LIMIT)


async def live(url: str, journal: Path, errfile: Path, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": SECRET}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine", "live", "--base-url", url, "--strategy", "market-maker",
        "--set", "requote_bps=0.3", "--decay-step", "2", "--jitter-ms", "20",
        "--poll-interval", "1", "--journal", str(journal), "--json", *args,
        stdout=asyncio.subprocess.PIPE, stderr=errfile.open("w"), env=env)


async def wait_until(check: Any, what: str, timeout: float = 30.0, poll: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(poll)


def run_ids(journal: Path, run: int) -> set[str]:
    """The cl_ord_ids run ``run`` placed (or tried to)."""
    with sqlite3.connect(journal) as db:
        return {cid for (ids,) in db.execute(
            "SELECT ids FROM intents WHERE run = ? AND kind IN ('AddOrder', 'AddOrderBatch')",
            (run,)) for cid in ids.split()}


def amended_in(journal: Path, run: int) -> set[str]:
    with sqlite3.connect(journal) as db:
        return {r[0] for r in db.execute(
            "SELECT ids FROM intents WHERE run = ? AND kind = 'AmendOrder'", (run,))}


def recovered(errfile: Path) -> dict[str, Any] | None:
    """The restart's recovery report (its JSON log line), once logged."""
    for line in errfile.read_text().splitlines():
        if line.startswith("{") and '"journal.recovered"' in line:
            report: dict[str, Any] = json.loads(line)
            return report
    return None


async def kill_mid_burst(p: asyncio.subprocess.Process, server: ExchangeServer,
                         at_least: int) -> None:
    """SIGKILL ``p`` the moment an amend reaches the exchange, once it has seen
    ``at_least`` amends: the rest of that burst is queued or on the wire."""
    stats = server.exchange.stats
    await wait_until(lambda: stats.requests["AmendOrder"] >= at_least, "a burst of amends")
    seen = stats.requests["AmendOrder"]
    await wait_until(lambda: stats.requests["AmendOrder"] > seen, "the next amend",
                     poll=0.001)
    p.send_signal(signal.SIGKILL)
    await p.wait()
    assert p.returncode == -signal.SIGKILL


def without_outcome(journal: Path) -> list[tuple[Any, ...]]:
    """(run, hid, kind, strategy) of the intents that have no outcome."""
    with sqlite3.connect(journal) as db:
        return db.execute(
            "SELECT i.run, i.hid, i.kind, i.strategy FROM intents i LEFT JOIN outcomes o "
            "USING (run, hid) WHERE o.status IS NULL").fetchall()


def ours_open(server: ExchangeServer, hand_txid: str) -> set[str]:
    return {t for t in server.exchange.open_orders() if t != hand_txid}


async def test_sigkill_mid_burst_restart_adopt_sigkill_again_restart_cancel(
        start_server: Any, tmp_path: Path) -> None:
    server: ExchangeServer = await start_server(
        keys={KEY: SECRET, HAND: HAND_SECRET}, decay_step=2.0, jitter=0.02,
        exchange_options={"nonce_window": 5000})
    async with KrakenRestVenue(Credentials(HAND, HAND_SECRET), base_url=server.url) as hand:
        reply = await hand.request("AddOrder", {
            "pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
            "price": "30000.0", "userref": "77"})
    assert reply["error"] == [], reply
    (hand_txid,) = reply["result"]["txid"]
    journal = tmp_path / "J.sqlite"
    amends = server.exchange.stats.requests

    # -- run 1: killed with SIGKILL in a burst of amends
    p1 = await live(server.url, journal, tmp_path / "run1.err")
    await kill_mid_burst(p1, server, at_least=6)
    left1 = ours_open(server, hand_txid)
    assert left1, "the kill left no order open: nothing to recover"
    errors_before = rate_limit_errors(server)

    # -- run 2, --on-start adopt: the strategy takes the orders as its quotes; killed again
    err2 = tmp_path / "run2.err"
    p2 = await live(server.url, journal, err2, "--on-start", "adopt")
    await wait_until(lambda: recovered(err2) is not None, "run 2's recovery", timeout=60)
    report2 = recovered(err2)
    assert report2 is not None
    # a quote may fill between the kill and the restart
    assert 0 < report2["found_open"] == report2["adopted"] <= len(left1)
    assert report2["foreign"] == 1  # the hand order, left alone
    first = run_ids(journal, 1)
    await wait_until(lambda: bool(amended_in(journal, 2) & first),
                     "the strategy amending an adopted order", timeout=30)
    await kill_mid_burst(p2, server, at_least=amends["AmendOrder"] + 2)
    left2 = ours_open(server, hand_txid)

    # -- run 3, --on-start cancel
    err3 = tmp_path / "run3.err"
    p3 = await live(server.url, journal, err3, "--on-start", "cancel", "--duration", "2")
    await wait_until(lambda: recovered(err3) is not None, "run 3's recovery", timeout=60)
    earlier = first | run_ids(journal, 2)
    assert not [t for t, o in server.exchange.open_orders().items()
                if o.get("cl_ord_id") in earlier]  # no order left the engine does not know
    out, _ = await asyncio.wait_for(p3.communicate(), timeout=60)
    assert p3.returncode == 0, err3.read_text()[-3000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    report3 = summary["live"]["journal"]["recovery"]
    assert report3["found_open"] == report3["cancelled"] <= len(left2)

    # -- the invariants, on the server and in the journal
    placed: dict[str, int] = {}
    for o in [*server.exchange.engine.open.values(), *server.exchange.engine.closed.values()]:
        if o.cl_ord_id is not None:
            placed[o.cl_ord_id] = placed.get(o.cl_ord_id, 0) + 1
    assert max(placed.values()) == 1  # no cl_ord_id placed twice
    with sqlite3.connect(journal) as db:
        per_run = db.execute(
            "SELECT i.run, COUNT(*), COUNT(o.status) FROM intents i "
            "LEFT JOIN outcomes o USING (run, hid) GROUP BY i.run ORDER BY i.run").fetchall()
    assert [r[0] for r in per_run] == [1, 2, 3]
    for run, intents, ended in per_run[:2]:  # the killed runs: recovery gave every intent
        assert intents > 0 and ended == intents, (run, intents, ended)  # exactly one outcome
    # the last run ended cleanly: every intent it accepted has its one outcome too
    run, intents, ended = per_run[2]
    assert intents > 0 and ended == intents, (run, intents, ended, without_outcome(journal))
    assert rate_limit_errors(server) == errors_before  # the restarts: 0 rate-limit errors
    assert summary["rate_limit_errors"] == 0
    assert set(server.exchange.open_orders()) == {hand_txid}  # the hand order untouched
