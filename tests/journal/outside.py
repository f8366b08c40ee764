"""The exchange seen from outside, as a user sees it: ``orderpace simulate-exchange`` as a
subprocess, what it served (its ``--json`` line, on SIGUSR1 and at stop), and the account's
orders over REST with a key of the account's own.

:class:`ExchangeProcess` starts the command, reads its stdout (the first line names the URL;
each later ``{``-line is a report of what it served) and stops it; :class:`Account` asks
OpenOrders / ClosedOrders with a key, pacing itself when its key's API counter says no.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from engine.venues.kraken_rest.rest import KrakenRestVenue

__all__ = ["Account", "ExchangeProcess", "count_wire", "read_only"]

_API_RATE_LIMIT = "EAPI:Rate limit exceeded"


class ExchangeProcess:
    """``python -m engine simulate-exchange --port 0 --json ARGS`` in a subprocess."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc = proc
        self.url = url
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, errfile: Path, *args: str) -> ExchangeProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "engine", "simulate-exchange", "--port", "0", "--json", *args,
            stdout=asyncio.subprocess.PIPE, stderr=errfile.open("w"))
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert "listening on http://127.0.0.1:" in first, (first, errfile.read_text())
        return cls(proc, first.split("listening on ")[1].split(" ")[0])

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode().strip()
            if line.startswith("{"):
                self.lines.put_nowait(line)

    async def served(self) -> dict[str, Any]:
        """What the exchange has served so far (SIGUSR1: it prints its report)."""
        self.proc.send_signal(signal.SIGUSR1)
        report: dict[str, Any] = json.loads(await asyncio.wait_for(self.lines.get(), 30))
        return report

    async def settled(self, quiet: float = 0.05) -> dict[str, Any]:
        """The report once nothing is in flight and two reports ``quiet`` s apart agree on
        the requests: every request a killed client had on the wire is in the counts."""
        last = await self.served()
        while True:
            await asyncio.sleep(quiet)
            now = await self.served()
            if now["in_flight"] == 0 and now["requests"] == last["requests"]:
                return now
            last = now

    async def stop(self) -> dict[str, Any]:
        """SIGTERM; the report it prints last (exit code 0)."""
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await asyncio.wait_for(self._reader, 10)
        assert code == 0, code
        last = None
        while not self.lines.empty():
            last = self.lines.get_nowait()
        assert last is not None, "no report at stop"
        report: dict[str, Any] = json.loads(last)
        return report

    async def aclose(self) -> None:
        """Kill it if it still runs (a failed test)."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Account:
    """The account's orders as a key of it sees them over REST (``venue``: signed with that
    key).  Each query that meets ``EAPI:Rate limit exceeded`` waits and asks again."""

    def __init__(self, venue: KrakenRestVenue, wait: float = 2.0) -> None:
        self.venue = venue
        self.wait = wait
        self.refused = 0

    async def ask(self, endpoint: str, params: dict[str, Any]) -> Any:
        for _ in range(30):
            reply = await self.venue.request(endpoint, params)
            if reply["error"] != [_API_RATE_LIMIT]:
                assert reply["error"] == [], (endpoint, reply)
                return reply["result"]
            self.refused += 1
            await asyncio.sleep(self.wait)
        raise AssertionError(f"{endpoint}: the key's API counter never let it through")

    async def open_orders(self) -> dict[str, dict[str, Any]]:
        """txid -> order, every open order of the account (OpenOrders)."""
        result = await self.ask("OpenOrders", {})
        opened: dict[str, dict[str, Any]] = result["open"]
        return opened

    async def closed_orders(self) -> dict[str, dict[str, Any]]:
        """txid -> order, every closed order the exchange remembers (ClosedOrders, page by
        page; nothing may close meanwhile: the pages would shift)."""
        closed: dict[str, dict[str, Any]] = {}
        count = None
        while count is None or len(closed) < count:
            page = await self.ask("ClosedOrders", {"ofs": len(closed)})
            assert count in (None, page["count"]), "an order closed while paging"
            count = page["count"]
            if not page["closed"]:
                break
            closed.update(page["closed"])
        assert len(closed) == count, (len(closed), count)
        return closed


def read_only(journal: Path) -> sqlite3.Connection | None:
    """A read-only connection to the journal (None: it does not exist yet)."""
    if not journal.exists():
        return None
    try:
        return sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    except sqlite3.DatabaseError:
        return None


def count_wire(db: sqlite3.Connection | None, run: int, endpoint: str) -> int:
    """The wire notes of ``endpoint`` in ``run`` (requests about to leave or gone)."""
    if db is None:
        return 0
    try:
        (n,) = db.execute("SELECT COUNT(*) FROM wire WHERE run = ? AND endpoint = ?",
                          (run, endpoint)).fetchone()
    except sqlite3.DatabaseError:  # not created yet, or busy: nothing seen yet
        return 0
    return int(n)
