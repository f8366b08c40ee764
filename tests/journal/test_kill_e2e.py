"""Done-when, end to end on loopback: ``orderpace live --strategy market-maker --journal J``
killed with SIGKILL in the middle of a burst of amends, then restarted on the same journal.

Everything runs as a user would run it, and is checked from outside: the exchange is the
real ``orderpace simulate-exchange`` command in a subprocess, holding two keys of one
account -- orderpace's, and another one with which the test places an order by hand and
reads the account's orders over REST (OpenOrders, ClosedOrders); ``orderpace live`` runs
as a real subprocess too; J is read through read-only SQLite connections.

* the kill: J records each private request (its ``wire`` note) just before the request's
  bytes leave; once a run has noted ``N`` AmendOrders, the next new note triggers SIGKILL --
  the rest of that burst is queued, being written or on the wire;
* run 1 is killed mid-burst; run 2 restarts with ``--on-start adopt``: the strategy takes
  the orders as its quotes (it amends them) -- and is killed mid-burst too; run 3 restarts
  with ``--on-start cancel``: once it reports its recovery, no order of the earlier runs is
  open any more;
* no cl_ord_id was placed twice (every order the account ever had: open, and closed --
  cancelled ones included -- each with its cl_ord_id); every intent of the first run has
  exactly one outcome;
* the restarts get 0 rate-limit errors: the exchange tells (``simulate-exchange --json``:
  its report by key, on SIGUSR1 once run 1's requests are all counted, and at stop);
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

from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.rest import KrakenRestVenue

from .outside import Account, ExchangeProcess, count_wire, read_only

KEY = "journal-e2e-key"
SECRET = base64.b64encode(b"journal e2e secret of orderpace's key").decode()
HAND = "hand-journal-e2e-key"
HAND_SECRET = base64.b64encode(b"journal e2e secret of the hand key").decode()


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


async def kill_mid_burst(p: asyncio.subprocess.Process, journal: Path, run: int,
                         at_least: int) -> None:
    """SIGKILL ``p`` the moment run ``run`` notes an AmendOrder in ``journal`` (just before
    its bytes leave), once it has noted ``at_least``: the rest of that burst is queued,
    being written or on the wire."""
    db = read_only(journal)
    try:
        def amends() -> int:
            nonlocal db
            if db is None:
                db = read_only(journal)
            return count_wire(db, run, "AmendOrder")

        await wait_until(lambda: amends() >= at_least, "a burst of amends")
        seen = amends()
        await wait_until(lambda: amends() > seen, "the next amend", poll=0.001)
        p.send_signal(signal.SIGKILL)
    finally:
        if db is not None:
            db.close()
    await p.wait()
    assert p.returncode == -signal.SIGKILL


def without_outcome(journal: Path) -> list[tuple[Any, ...]]:
    """(run, hid, kind, strategy) of the intents that have no outcome."""
    with sqlite3.connect(journal) as db:
        return db.execute(
            "SELECT i.run, i.hid, i.kind, i.strategy FROM intents i LEFT JOIN outcomes o "
            "USING (run, hid) WHERE o.status IS NULL").fetchall()


def rate_limit_errors(report: dict[str, Any]) -> tuple[int, int]:
    """(orderpace's key, public requests): the rate-limit errors the exchange replied."""
    ours = report["keys"][0]
    assert ours["key"] == KEY[:4] + "..."
    return ours["rate_limit_errors"], report["public"]["rate_limit_errors"]


async def test_sigkill_mid_burst_restart_adopt_sigkill_again_restart_cancel(
        tmp_path: Path) -> None:
    exchange = await ExchangeProcess.start(
        tmp_path / "exchange.err", "--decay-step", "2", "--jitter-ms", "20",
        "--nonce-window", "5000", "--key", KEY, "--secret", SECRET,
        "--key", HAND, "--secret", HAND_SECRET)
    runs: list[asyncio.subprocess.Process] = []
    try:
        async with KrakenRestVenue(Credentials(HAND, HAND_SECRET),
                                   base_url=exchange.url) as venue:
            await scenario(exchange, Account(venue), tmp_path, runs)
    finally:
        for p in runs:
            if p.returncode is None:
                p.kill()
                await p.wait()
        await exchange.aclose()


async def scenario(exchange: ExchangeProcess, hand: Account, tmp_path: Path,
                   runs: list[asyncio.subprocess.Process]) -> None:
    url = exchange.url
    reply = await hand.venue.request("AddOrder", {
        "pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
        "price": "30000.0", "userref": "77"})
    assert reply["error"] == [], reply
    (hand_txid,) = reply["result"]["txid"]
    journal = tmp_path / "J.sqlite"

    async def ours_open() -> set[str]:
        return {t for t in await hand.open_orders() if t != hand_txid}

    # -- run 1: killed with SIGKILL in a burst of amends
    p1 = await live(url, journal, tmp_path / "run1.err")
    runs.append(p1)
    await kill_mid_burst(p1, journal, 1, at_least=6)
    before = await exchange.settled()  # run 1's last requests counted: the restarts' start
    hand_refused = hand.refused
    left1 = await ours_open()
    assert left1, "the kill left no order open: nothing to recover"

    # -- run 2, --on-start adopt: the strategy takes the orders as its quotes; killed again
    err2 = tmp_path / "run2.err"
    p2 = await live(url, journal, err2, "--on-start", "adopt")
    runs.append(p2)
    await wait_until(lambda: recovered(err2) is not None, "run 2's recovery", timeout=60)
    report2 = recovered(err2)
    assert report2 is not None
    # a quote may fill between the kill and the restart
    assert 0 < report2["found_open"] == report2["adopted"] <= len(left1)
    assert report2["foreign"] == 1  # the hand order, left alone
    first = run_ids(journal, 1)
    await wait_until(lambda: bool(amended_in(journal, 2) & first),
                     "the strategy amending an adopted order", timeout=30)
    with sqlite3.connect(journal) as db:
        so_far = count_wire(db, 2, "AmendOrder")
    await kill_mid_burst(p2, journal, 2, at_least=so_far + 2)
    await exchange.settled()
    left2 = await ours_open()

    # -- run 3, --on-start cancel
    err3 = tmp_path / "run3.err"
    p3 = await live(url, journal, err3, "--on-start", "cancel", "--duration", "2")
    runs.append(p3)
    await wait_until(lambda: recovered(err3) is not None, "run 3's recovery", timeout=60)
    earlier = first | run_ids(journal, 2)
    assert not [t for t, o in (await hand.open_orders()).items()
                if o.get("cl_ord_id") in earlier]  # no order left the engine does not know
    out, _ = await asyncio.wait_for(p3.communicate(), timeout=60)
    assert p3.returncode == 0, err3.read_text()[-3000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    report3 = summary["live"]["journal"]["recovery"]
    assert report3["found_open"] == report3["cancelled"] <= len(left2)

    # -- the invariants, on the server (over REST, with the hand key) and in the journal
    opened, closed = await hand.open_orders(), await hand.closed_orders()
    assert set(opened) == {hand_txid}  # the hand order untouched, nothing else open
    assert closed and all("cl_ord_id" in o for o in closed.values())  # every one is ours
    assert any(o["status"] == "canceled" for o in closed.values())  # cancels are listed too
    placed: dict[str, int] = {}
    for o in [*opened.values(), *closed.values()]:
        if "cl_ord_id" in o:
            placed[o["cl_ord_id"]] = placed.get(o["cl_ord_id"], 0) + 1
    assert max(placed.values()) == 1  # no cl_ord_id placed twice
    assert set(placed) <= earlier | run_ids(journal, 3)  # the journal knows every one
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
    assert summary["rate_limit_errors"] == 0
    after = await exchange.stop()
    # the restarts (runs 2 and 3): 0 rate-limit errors, as the exchange counted them
    assert rate_limit_errors(after) == rate_limit_errors(before), (before, after)
    assert after["keys"][0]["requests"] > before["keys"][0]["requests"]  # they did ask
    # and on the whole account, none but the hand key's own (the test paces its queries)
    assert after["rate_limit_errors"] - before["rate_limit_errors"] == hand.refused - hand_refused
    assert "Traceback" not in (tmp_path / "exchange.err").read_text()
