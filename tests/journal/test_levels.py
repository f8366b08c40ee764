"""Counter-level rows (``levels``): with each batch of requests, only the counters the
batch charges are read (an order request its pair's trading counter, another private one
the API counters, a public one none), and a row is written only where the counter's last
row, decayed to now, would not tell its level; a lingering commit reads every counter."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Collection
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from engine.clock import VirtualClock
from engine.core.observer import Outgoing
from engine.journal.recorder import JournalRecorder
from engine.journal.writer import JournalWriter

DECAY = {"XBT/USD": 1.0, "ETH/USD": 1.0, "api": 0.5}  # units per second


def test_only_charged_counters_are_read_and_only_untold_levels_written(tmp_path: Path) -> None:
    clock = VirtualClock()
    writer = JournalWriter(tmp_path / "j.sqlite")
    run = writer.new_run(account="a", key_id="k", userref=1)
    level = {"XBT/USD": 10.0, "ETH/USD": 0.0, "api": 3.0}
    asked: list[tuple[list[str] | None, bool]] = []

    def levels(pairs: Collection[str] | None, api: bool) -> list[tuple[str, float, float]]:
        asked.append((None if pairs is None else sorted(pairs), api))
        names = ["XBT/USD", "ETH/USD"] if pairs is None else sorted(pairs)
        names += ["api"] if api else []
        return [(n, level[n], DECAY[n]) for n in names]

    rec = JournalRecorder(writer, run, clock, key_id="k", levels=levels, linger=60.0)
    rec.noted = True  # private requests' rows ride with their wire notes: no turn commit

    def send(endpoint: str, pair: str = "") -> None:
        rec.requests_ready([Outgoing(1, 1, endpoint, {}, clock.now(), pair)])

    async def main() -> None:
        send("AddOrder", "XBT/USD")  # t=0: first row of XBT/USD (10)
        await asyncio.sleep(2)
        level["XBT/USD"] = 8.0  # only decayed: 10 - 2 * 1.0
        send("AmendOrder", "XBT/USD")  # no row
        await asyncio.sleep(1)
        level["XBT/USD"] = 9.0  # charged: 7 + 2
        send("AddOrder", "XBT/USD")  # row (9 > 8 - 1)
        send("QueryOrders")  # the API counter: its first row
        send("Ticker")  # public: nothing read -- but a commit at the turn's end, which
        await asyncio.sleep(0)  # reads every counter: ETH/USD's first row
        send("CancelAll")  # an order request of no one pair: every pair's counter read
        rec.flush()

    clock.run(main())
    assert asked == [(["XBT/USD"], False), (["XBT/USD"], False), (["XBT/USD"], False),
                     ([], True), ([], False), (None, True), (None, False)]
    db = sqlite3.connect(tmp_path / "j.sqlite")
    rows = db.execute("SELECT name, level, wall - ? FROM levels ORDER BY rowid",
                      (clock.epoch,)).fetchall()
    assert rows == [("XBT/USD", 10.0, 0.0), ("XBT/USD", 9.0, 3.0), ("api", 3.0, 3.0),
                    ("ETH/USD", 0.0, 3.0)]
    db.close()
    writer.close()


@given(st.lists(st.tuples(st.floats(0.0, 5.0), st.floats(0.0, 3.0)), min_size=1, max_size=40))
def test_a_restart_never_reads_a_level_below_the_model(steps: list[tuple[float, float]]
                                                       ) -> None:
    """Whatever the charges and pauses, the last row of a counter decayed to any moment
    after it (what a restart starts from) is never below the model's level then."""
    decay = 1.0
    rows: list[tuple[float, float]] = []  # (level, wall) written

    class Writer:
        def add(self, table: str, row: tuple[object, ...]) -> None:
            level, wall = row[6], row[8]
            assert isinstance(level, float) and isinstance(wall, float)
            rows.append((level, wall))

    level, now = 0.0, 0.0
    rec = JournalRecorder(Writer(), 1, VirtualClock(), key_id="k",  # type: ignore[arg-type]
                          levels=lambda pairs, api: [("XBT/USD", level, decay)])
    for pause, charge in steps:
        now += pause
        level = max(0.0, level - decay * pause) + charge
        rec._note_levels({"XBT/USD"}, False, now)
        last_level, last_wall = rows[-1]
        assert max(0.0, last_level - decay * (now - last_wall)) >= level - 1e-9
