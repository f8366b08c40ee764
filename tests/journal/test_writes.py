"""The journal's writes: every intent, request (before it is sent), reply, outcome, order
record and counter level -- and a write that fails stops sending."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from engine.clock import VirtualClock
from engine.core import Engine
from engine.errors import EngineLocked
from engine.intents import AmendOrder, CancelOrder
from engine.journal.recorder import JournalRecorder
from engine.journal.session import Journal
from engine.journal.writer import JournalError, JournalWriter
from engine.outcomes import Status
from tests.core.doubles import ScriptedVenue, add, run


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(sql))


def recorder(path: Path, clock: VirtualClock) -> JournalRecorder:
    writer = JournalWriter(path)
    run_no = writer.new_run(account="acct", key_id="k1", userref=7)
    return JournalRecorder(writer, run_no, clock, key_id="k1")


class Checking(ScriptedVenue):
    """A venue that, as each request arrives, reads the journal from another connection:
    the request must already be there."""

    def __init__(self, clock: VirtualClock, path: Path) -> None:
        super().__init__(clock)
        self.path = path
        self.unrecorded: list[str] = []

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        oid = params.get("cl_ord_id") or params.get("txid")
        found = rows(self.path, f"SELECT 1 FROM requests WHERE endpoint = '{endpoint}' "
                                f"AND order_id = '{oid}'")
        if not found:
            self.unrecorded.append(endpoint)
        return await super().request(endpoint, params)


def test_every_step_is_journaled_and_requests_before_they_leave(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    clock = VirtualClock()
    rec = recorder(path, clock)

    async def main() -> None:
        venue = Checking(clock, path)
        engine = Engine(venue, clock=clock, observer=rec, key_id="k1")
        rec.attach_levels(lambda pairs, api: [("XBT/USD", engine.trading_level("XBT/USD"), 0.0)])
        async with engine:
            a = add()
            placed = await engine.submit(a)
            await engine.submit(AmendOrder(a.cl_ord_id, price="59990.0"))
            await engine.submit(CancelOrder(a.cl_ord_id))
        assert venue.unrecorded == []
        assert placed.txid is not None
        rec.writer.close()
        assert rows(path, "SELECT kind, ids FROM intents ORDER BY hid") == [
            ("AddOrder", a.cl_ord_id), ("AmendOrder", a.cl_ord_id),
            ("CancelOrder", a.cl_ord_id)]
        assert [r[0] for r in rows(path, "SELECT endpoint FROM requests")] == [
            "AddOrder", "AmendOrder", "CancelOrder"]
        assert rows(path, "SELECT key_id FROM requests")[0] == ("k1",)
        assert rows(path, "SELECT ok, txid FROM replies")[0] == (1, placed.txid)
        assert [r[0] for r in rows(path, "SELECT status FROM outcomes")] == ["accepted"] * 3
        order = rows(path, "SELECT txid, pair, side, price, volume, state, placed_wall "
                           "FROM orders")
        assert len(order) == 1
        txid, pair, side, price, volume, state, placed_wall = order[0]
        assert (txid, pair, side, price, volume, state) == (
            placed.txid, "XBT/USD", "buy", "59990.0", "0.01", "closed")
        assert placed_wall is not None  # the last amend's acknowledgement
        (level,) = rows(path, "SELECT level FROM levels WHERE name = 'XBT/USD' "
                            "ORDER BY wall DESC LIMIT 1")[0]
        assert level > 0

    clock.run(main())


def test_writes_are_grouped_per_loop_turn(tmp_path: Path) -> None:
    clock = VirtualClock()
    rec = recorder(tmp_path / "j.sqlite", clock)

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        handles = [e.submit(add(59000.0 + i)) for i in range(20)]
        for h in handles:
            await h
        # 20 intents, 20 requests, 20 replies, 20 outcomes, orders: far fewer commits
        assert rec.writer.rows >= 80
        assert rec.writer.flushes <= 10

    run(body, observer=rec)


def test_a_failed_write_stops_sending_with_a_clear_error(tmp_path: Path) -> None:
    clock = VirtualClock()
    rec = recorder(tmp_path / "j.sqlite", clock)

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        assert (await e.submit(add())).ok
        sent = len(v.log)
        rec.writer.db.execute("PRAGMA query_only = ON")  # every write now fails
        h = e.submit(add(59000.0))
        out = await h
        assert out.status is Status.FAILED and not out.sent
        assert out.error is not None and "cannot write journal" in out.error
        assert len(v.log) == sent  # nothing left unrecorded
        with pytest.raises(EngineLocked, match="journal write failed"):
            e.submit(add(58000.0))

    run(body, observer=rec)


def test_a_file_that_is_not_a_journal_is_refused_when_opened(tmp_path: Path) -> None:
    # (a read-only file cannot be the case here: the tests may run as root, who writes it)
    path = tmp_path / "j.sqlite"
    path.write_bytes(b"not a database, " * 512)
    with pytest.raises(JournalError, match=r"cannot open journal .*j\.sqlite"):
        JournalWriter(path)
    assert path.read_bytes() == b"not a database, " * 512  # left as it was


def test_a_journal_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(JournalError, match=r"cannot open journal .*file/j\.sqlite"):
        JournalWriter(tmp_path / "file" / "j.sqlite")


def test_a_closed_journal_leaves_no_commit_behind(tmp_path: Path) -> None:
    """Closing the journal while its lingering commit is armed (an outcome just buffered)
    cancels it: nothing tries to write the closed file later, so nothing is logged; a
    request after it fails, not sent, saying so."""
    clock = VirtualClock()
    path = tmp_path / "j.sqlite"
    failed: list[Any] = []

    async def main() -> None:
        journal = Journal(path, clock=clock, account="acct", key_id="k")
        async with Engine(ScriptedVenue(clock), clock=clock, observer=journal.recorder) as e:
            journal.seed(e)
            assert (await e.submit(add())).ok  # its outcome and order record linger
            with structlog.testing.capture_logs() as logs:
                journal.close()
                await asyncio.sleep(1.0)  # well past the linger
            failed.extend(x for x in logs if x["event"] == "journal.write_failed")
            out = await e.submit(add(59000.0))
            assert out.status is Status.FAILED and not out.sent
            assert out.error is not None and "is closed" in out.error
            with pytest.raises(JournalError, match="is closed"):  # a REST venue's wire note
                journal.recorder.on_wire("AddOrder", "key#1", 1, None)

    clock.run(main())
    assert failed == []
    assert rows(path, "SELECT COUNT(*) FROM outcomes") == [(1,)]  # the first, committed at close
