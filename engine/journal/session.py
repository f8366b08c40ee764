"""One run's journal: open it, record the run, seed the counters, recover, close.

>>> journal = Journal(path, clock=clock, account="api.kraken.com", key_id="k1")
>>> journal.watch(rest_venue)                    # its key and nonce noted before the wire
>>> async with Engine(venue, clock=clock, observer=journal.recorder, ...) as engine:
...     journal.seed(engine)                      # counters from the journal, decayed
...     report = await journal.recover(engine, on_start="adopt", strategy="quotes")
...     ...
>>> journal.close(summary)

``before`` is the journal as the previous runs left it (read before this run writes).
:func:`default_path` is where ``orderpace live`` keeps it: one file per exchange host and
API key, under ``$XDG_STATE_HOME/orderpace/`` (default ``~/.local/state/orderpace/``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from engine.clock import Clock
from engine.clordid import MARK
from engine.core.wirenote import Noting
from engine.journal.lock import JournalLock
from engine.journal.marks import mark_for, userref_for
from engine.journal.reader import read_state
from engine.journal.recorder import JournalRecorder
from engine.journal.recovery import RecoveryReport, recover, seed_counters
from engine.journal.writer import JournalWriter

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["Journal", "default_path", "key_id_of"]


def key_id_of(api_key: str) -> str:
    """A short id of an API key for file names and rows (16 hex digits of its SHA-256)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def default_path(base_url: str, api_key: str, env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/orderpace/<host>[_<port>]/<key id>.sqlite``."""
    e = os.environ if env is None else env
    state = e.get("XDG_STATE_HOME") or str(Path(e.get("HOME", "~")).expanduser()
                                           / ".local" / "state")
    url = urlsplit(base_url)
    try:
        port = url.port
    except ValueError:  # the base URL's own check names a bad port
        port = None
    host = (url.hostname or "exchange") + (f"_{port}" if port else "")
    return Path(state) / "orderpace" / host / f"{key_id_of(api_key)}.sqlite"


class Journal:
    """The journal of one run (see the module docstring).  Raises
    :class:`~engine.journal.lock.JournalBusy` when another process (or another open
    :class:`Journal` of this one) holds the journal -- until :meth:`close` or its death --
    and :class:`~engine.journal.writer.JournalError` when the file cannot be opened."""

    def __init__(self, path: str | Path, *, clock: Clock, account: str, key_id: str) -> None:
        self.path = Path(path)
        self.clock = clock
        self.lock = JournalLock(self.path)  # one process per journal: JournalBusy if not
        try:
            self.writer = JournalWriter(self.path)
        except BaseException:
            self.lock.release()
            raise
        self.before = read_state(self.writer.db)
        self.userref = userref_for(account, self.path)
        #: the cl_ord_id mark of this journal, set for this context from now on (the
        #: engine's and strategies' tasks started after it make marked cl_ord_ids)
        self.mark = mark_for(account, self.path)
        self._marking = MARK.set(self.mark)
        self.run = self.writer.new_run(account=account, key_id=key_id, userref=self.userref)
        self.recorder = JournalRecorder(self.writer, self.run, clock, key_id=key_id)
        self.report: RecoveryReport | None = None
        self.seeded: dict[str, float] | None = None

    def watch(self, *venues: object) -> None:
        """Have each venue with an ``on_wire`` note (REST, WebSocket) journal the key and
        nonce (or ``req_id``) of every private request before it is written
        (:mod:`engine.core.wirenote`); others are left as they are.  Give every venue
        private requests reach: once one notes, a batch of private requests is committed by
        the notes alone (no group commit of its own)."""
        for venue in venues:
            if isinstance(venue, Noting):
                venue.on_wire = self.recorder.on_wire
                self.recorder.noted = True

    def seed(self, engine: Engine) -> dict[str, float]:
        """Record ``engine``'s counter levels from now on, and start them from the journal."""
        names = engine.markets.names

        pool = () if engine.keys is None else engine.keys.ids  # each key of a pool

        trade, api = engine.profile.trading.decay, engine.profile.api.decay  # units/s

        budget = engine.budget

        def levels(pairs: Collection[str] | None, apis: bool) -> list[tuple[str, float, float]]:
            now = engine.clock.now()
            out = [(n, budget.trading_level(n, now), trade) for n in
                   (names if pairs is None else pairs)]
            if apis:
                out.append(("api", engine.api_level(), api))
                out.extend((f"api:{k}", budget.api_level(k, now), api) for k in pool)
            return out

        self.recorder.attach_levels(levels)
        self.recorder.attach_orders(engine.pull_orders())
        self.seeded = seed_counters(engine, self.before, now_wall=self.clock.wall())
        return self.seeded

    async def recover(self, engine: Engine, *, on_start: str = "cancel",
                      strategy: str = "default", add_wait: float = 6.0) -> RecoveryReport:
        """Reconcile the previous runs' unfinished work (seeding the counters first if
        :meth:`seed` was not called): :func:`~engine.journal.recovery.recover`."""
        seeded = self.seeded if self.seeded is not None else self.seed(engine)
        self.report = await recover(engine, self.before, self.writer, on_start=on_start,
                                    strategy=strategy, add_wait=add_wait, seeded=seeded,
                                    mark=self.mark)
        return self.report

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        """End the run (its summary kept as JSON), close the file and free its lock; a
        journal that already failed is just closed."""
        try:
            if self.writer.failed is None:
                self.recorder.flush()  # the order records not taken yet included
                self.writer.end_run(self.run, None if summary is None else
                                    json.dumps(summary, default=str, separators=(",", ":")))
        finally:
            try:
                self.recorder.close()
                self.writer.close()
            finally:
                self.lock.release()
                with contextlib.suppress(ValueError):  # closed in another context: kept
                    MARK.reset(self._marking)
