"""The journal in a live run (:class:`LiveJournal`): what ``engine.run.live`` calls.

* :meth:`LiveJournal.open` -- the run's :class:`~engine.journal.session.Journal` at
  ``config.journal`` (None: no journal);
* :attr:`observer` -- for the engine (None without a journal);
* :meth:`watch` -- the REST (and WebSocket) venue: key and nonce noted before the wire;
* :meth:`seed` -- before the first request: counters from the journal, decayed to now; with
  ``config.start_levels == "max"`` (no journal: ``--journal off``) every pair's trading
  counter starts at its maximum;
* :meth:`recover` -- after the key check, before the strategy starts: reconcile a crashed
  run (``config.on_start``: cancel or adopt for the strategy);
* :meth:`details` and :meth:`close` -- what the summary shows; the run's end.

Errors become :class:`~engine.run.live_config.LiveError` (one line, naming the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

from engine.clock import Clock
from engine.journal.recorder import JournalRecorder
from engine.journal.recovery import RecoveryError, seed_counters
from engine.journal.session import Journal, key_id_of
from engine.journal.writer import JournalError
from engine.run.live_config import LiveConfig, LiveError

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["LiveJournal"]

_log = structlog.get_logger("orderpace.journal")


class LiveJournal:
    """See the module docstring."""

    def __init__(self, config: LiveConfig, journal: Journal | None) -> None:
        self.config = config
        self.journal = journal
        self.seeded: dict[str, float] = {}

    @classmethod
    def open(cls, config: LiveConfig, api_key: str, clock: Clock, account: str) -> LiveJournal:
        if config.journal is None:
            return cls(config, None)
        try:
            journal = Journal(config.journal, clock=clock, account=account,
                              key_id=key_id_of(api_key))
        except JournalError as e:
            raise LiveError(str(e)) from None
        return cls(config, journal)

    @property
    def observer(self) -> JournalRecorder | None:
        return None if self.journal is None else self.journal.recorder

    def watch(self, *venues: object) -> None:
        """The venues whose private requests are noted before the wire (key, nonce)."""
        if self.journal is not None:
            self.journal.watch(*venues)

    def seed(self, engine: Engine) -> None:
        if self.journal is not None:
            self.seeded = self.journal.seed(engine)
        elif self.config.start_levels == "max":
            self.seeded = seed_counters(engine, None, now_wall=engine.clock.wall())

    async def recover(self, engine: Engine) -> None:
        if self.journal is None:
            return
        cfg = self.config
        try:
            await self.journal.recover(
                engine, on_start=cfg.on_start, strategy=cfg.strategy,
                add_wait=cfg.recovery.add_deadline + cfg.recovery.skew)
        except (RecoveryError, JournalError) as e:
            raise LiveError(str(e)) from None

    def details(self) -> dict[str, Any]:
        j = self.journal
        report = None if j is None or j.report is None else j.report.as_dict()
        return {"path": None if j is None else str(j.path), "run": None if j is None else j.run,
                "on_start": self.config.on_start, "seeded": self.seeded, "recovery": report,
                "failed": None if j is None or j.writer.failed is None else str(j.writer.failed)}

    def close(self, summary: Mapping[str, Any] | None) -> None:
        if self.journal is None:
            return
        try:
            self.journal.close(summary)
        except JournalError as e:
            _log.error("journal.close_failed", error=str(e))
