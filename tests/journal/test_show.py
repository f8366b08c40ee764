"""``orderpace journal show PATH``: a crashed run's journal, for a human."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from engine.cli import command as cli
from engine.clock import VirtualClock
from engine.core import Engine
from engine.journal.session import Journal
from tests.core.doubles import ScriptedVenue, add


def crashed_journal(path: Path) -> tuple[str, str]:
    """A journal whose run was "killed" with one order open and one add on the wire."""
    clock = VirtualClock()
    ids: list[str] = []

    async def main() -> None:
        journal = Journal(path, clock=clock, account="acct", key_id="k")
        venue = ScriptedVenue(clock, latency=0.5)
        engine = Engine(venue, clock=clock, observer=journal.recorder)
        async with engine:
            journal.seed(engine)
            a = add()
            await engine.submit(a)
            b = add(59000.0)
            engine.submit(b)
            await asyncio.sleep(0.1)  # b is on the wire: the "kill" comes now
            journal.writer.flush()
            journal.writer.db.close()  # no end of run
            ids.extend([a.cl_ord_id, b.cl_ord_id])
            await engine.aclose()

    clock.run(main())
    return ids[0], ids[1]


def test_show_names_the_open_order_the_unresolved_add_and_the_crash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.sqlite"
    open_id, wire_id = crashed_journal(path)
    assert cli.main(["journal", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ended NEVER (crashed or killed)" in out
    assert "orders that may rest: 2" in out and open_id in out
    assert "intents without an outcome: 1" in out
    assert f"AddOrder {wire_id}  1 request(s)" in out
    assert "XBT/USD" in out and "reconciles" in out
    assert cli.main(["journal", "show", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["last_run"]["ended"] is None
    assert [i["ids"] for i in data["unresolved_intents"]] == [[wire_id]]


def test_show_of_a_missing_or_foreign_file_is_one_line_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["journal", "show", str(tmp_path / "none.sqlite")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no such file" in err and len(err.splitlines()) == 1
    other = tmp_path / "other.sqlite"
    other.write_bytes(b"not a database at all, just text" * 10)
    assert cli.main(["journal", "show", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not an orderpace journal" in err and len(err.splitlines()) == 1
