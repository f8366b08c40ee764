"""Every intent the engine accepted gets exactly one outcome in the journal before it
closes -- also when the task that awaited its handle was cancelled meanwhile (cancelling a
handle stops only that wait: the intent goes on).  This was the e2e's clean last run
journaling 19 intents and 18 outcomes: the order poller, stopped at shutdown in the middle
of a poll, cancelled its QueryOpenOrders handle, and the engine then dropped that
intent's outcome."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from engine.clock import VirtualClock
from engine.core import Engine
from engine.journal.recorder import JournalRecorder
from engine.journal.writer import JournalWriter
from engine.venues.kraken_rest.poller import OrderPoller
from tests.core.doubles import ScriptedVenue, add, run


def recorder(path: Path, clock: VirtualClock) -> JournalRecorder:
    writer = JournalWriter(path)
    return JournalRecorder(writer, writer.new_run(account="a", key_id="k", userref=1), clock,
                           key_id="k")


def outcomes(path: Path) -> dict[int, list[str]]:
    with sqlite3.connect(path) as db:
        out: dict[int, list[str]] = {}
        for hid, status in db.execute("SELECT hid, status FROM outcomes ORDER BY hid"):
            out.setdefault(hid, []).append(status)
        intents = [h for (h,) in db.execute("SELECT hid FROM intents ORDER BY hid")]
    assert sorted(out) == intents, (intents, out)  # every intent: an outcome
    return out


def test_an_intent_whose_waiter_was_cancelled_still_gets_its_one_outcome(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    rec = recorder(path, VirtualClock())

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        handle = e.submit(add())

        async def waiter() -> None:
            await handle

        task = asyncio.ensure_future(waiter())
        await asyncio.sleep(0.001)  # the add is on the wire
        task.cancel()  # e.g. a task stopped at shutdown while it awaited the handle
        await asyncio.gather(task, return_exceptions=True)
        assert handle.cancelled()
        await e.drain()  # the reply comes: the intent is accepted all the same
        assert e.outcomes["accepted"] == 1
        assert len(e.open_orders()) == 1

    run(body, observer=rec, latency=0.05)
    rec.writer.close()
    assert outcomes(path) == {1: ["accepted"]}


def test_the_poller_stopped_mid_poll_leaves_no_intent_without_outcome(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    rec = recorder(path, VirtualClock())

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        assert (await e.submit(add())).ok
        v.script = lambda endpoint, _p: ({"error": [], "result": {"open": {}}}
                                          if endpoint == "OpenOrders" else None)
        poller = OrderPoller(e, interval=10.0).start()
        await asyncio.sleep(0.01)  # its QueryOpenOrders is on the wire (latency 0.05 s)
        assert v.endpoints()[-1] == "OpenOrders"
        await poller.stop()  # shutdown: the poll's wait is cancelled

    run(body, observer=rec, latency=0.05)  # closing the engine waits for the reply
    rec.writer.close()
    got = outcomes(path)
    assert [s for s, *_ in got.values()] == ["accepted", "accepted"]
    assert all(len(s) == 1 for s in got.values())  # exactly one each
