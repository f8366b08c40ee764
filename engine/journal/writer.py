"""Writing the journal: one SQLite file in WAL mode, rows buffered and committed in groups.

Rows are appended to in-memory buffers (cheap: a tuple each) and written by :meth:`flush`
in *one* transaction -- the recorder flushes once per event-loop turn, and at once before
requests are written to the wire.  A flush of events alone (the one before each request)
is a single multi-row ``INSERT`` in its own implicit transaction: no ``BEGIN``/``COMMIT``
statements around it (each costs about as much CPU as the insert, caches cold between
requests).  ``synchronous=NORMAL`` in WAL mode: a commit is durable
against a crash of this process (the kill the journal is for) without an fsync per commit;
a power loss may lose the last commits, never corrupt the file.

A write that fails (disk full, a read-only file or directory, an I/O error) raises
:class:`JournalError`, and the writer stays failed: every later :meth:`flush` raises the
same error, so nothing can be sent unrecorded after it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.journal.schema import MIGRATE_3, SCHEMA, VERSION

if TYPE_CHECKING:
    from engine.core.orders import OrderView

__all__ = ["JournalError", "JournalWriter"]

_INSERT = {
    "events": "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)",
    "orders": "INSERT INTO order_log VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    # an order's latest record again, closed: (wall, cl_ord_id)
    "gone": "INSERT INTO order_log SELECT cl_ord_id, run, txid, pair, side, price, volume, "
            "'closed', placed_wall, strategy, ? FROM order_log WHERE cl_ord_id = ? "
            "ORDER BY rowid DESC LIMIT 1",
}
_ALL = tuple(_INSERT)  # events first
#: at the end of a run: the superseded order records go (one transaction)
_END_RUN = ("BEGIN; DELETE FROM order_log WHERE rowid NOT IN "
            "(SELECT MAX(rowid) FROM order_log GROUP BY cl_ord_id); COMMIT;")
_URGENT = ("events",)  # what an urgent flush writes (see JournalWriter.flush)
_EVENT_COLUMNS = 10
#: events rows per multi-row statement: 900 variables, under the 999 of SQLite before 3.32
_PER_STATEMENT = 90
_VALUES: dict[int, str] = {}  # rows -> "INSERT INTO events VALUES (?,...),(?,...)"


def _insert_events(n: int) -> str:
    """The statement inserting ``n`` events rows at once (built once per ``n``)."""
    sql = _VALUES.get(n)
    if sql is None:
        row = "(" + ",".join("?" * _EVENT_COLUMNS) + ")"
        sql = _VALUES[n] = "INSERT INTO events VALUES " + ",".join([row] * n)
    return sql


def _order_row(v: OrderView, run: int, offset: float, wall: float) -> tuple[Any, ...]:
    """The ``orders`` row of view ``v`` (see :meth:`JournalWriter.add_order`)."""
    # ``_value_``: the member's value without the ``value`` property's Python-level lookup
    return (v.cl_ord_id, run, v.txid, v.pair, None if v.side is None else v.side._value_,
            None if v.price is None else str(v.price),
            None if v.volume is None else str(v.volume), v.state._value_,
            None if v.placed_at is None else v.placed_at + offset, v.strategy, wall)


# A None parameter binds as NULL either way, but without an adapter for it the sqlite3
# module first looks for one the slow way, raising (and dropping) a formatted
# AttributeError per None: ~0.7 against ~0.2 µs, and a journal row has several Nones.
# An identity adapter ({}.get(None) is None), registered unless the process has one.
_NONE = (type(None), sqlite3.PrepareProtocol)
if _NONE not in sqlite3.adapters:
    sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))


class JournalError(RuntimeError):
    """The journal cannot be opened or written; the message names the file and why."""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to the journal at ``path`` (WAL, ``synchronous=NORMAL``, schema made).

    ``readonly``: open an existing file for reading only.  Raises :class:`JournalError`.
    """
    try:
        if readonly:
            if not path.exists():
                raise JournalError(f"journal {path}: no such file")
            return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                   isolation_level=None)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders'"
                      ).fetchone():
            db.executescript(MIGRATE_3)  # a schema 3 file: its orders into order_log
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('version', ?)", (str(VERSION),))
        os.chmod(path, 0o600)
        return db
    except (sqlite3.Error, OSError) as e:
        raise JournalError(f"cannot open journal {path}: {e}") from None


class JournalWriter:
    """Buffered, grouped writes to one journal (see the module docstring)."""

    __slots__ = ("_buffers", "_db", "_orders", "closed", "failed", "flushes", "path", "rows")

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path)
        self._buffers: dict[str, list[tuple[Any, ...]]] = {k: [] for k in _INSERT}
        self._orders: dict[str, tuple[OrderView, int, float, float]] = {}
        self.failed: JournalError | None = None
        self.closed = False  # by close(): a write after it raises JournalError
        self.flushes = 0  # transactions committed
        self.rows = 0  # rows written

    @property
    def db(self) -> sqlite3.Connection:
        return self._db

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Buffer ``row`` for ``table`` (written at the next :meth:`flush`)."""
        self._buffers[table].append(row)

    def add_order(self, view: OrderView, run: int, offset: float, wall: float) -> None:
        """Buffer run ``run``'s record of an order, ``view`` (``offset``: UNIX seconds minus
        engine seconds, to date its ``placed_at``) as of ``wall``; a later one of the same
        order replaces it, so its row is only made at the flush (one row per order and
        flush)."""
        self._orders[view.cl_ord_id] = (view, run, offset, wall)

    @property
    def pending(self) -> bool:
        return bool(self._orders) or any(self._buffers.values())

    def new_run(self, *, account: str, key_id: str, userref: int) -> int:
        """Start a run: its number (committed at once)."""
        self._check()
        try:
            cur = self._db.execute(
                "INSERT INTO runs (started, pid, account, key_id, userref) VALUES (?,?,?,?,?)",
                (time.time(), os.getpid(), account, key_id, userref))
        except sqlite3.Error as e:
            raise self._fail(e) from None
        assert cur.lastrowid is not None
        return cur.lastrowid

    def end_run(self, run: int, summary: str | None) -> None:
        """Mark ``run`` ended cleanly, with its summary (JSON), and keep only the latest
        record of each order in ``order_log`` (a restart reads it whole: about 2 s per
        million records; the earlier ones only said what the order was before)."""
        self.flush()
        try:
            self._db.executescript(_END_RUN)
            self._db.execute("UPDATE runs SET ended = ?, summary = ? WHERE run = ?",
                             (time.time(), summary, run))
        except sqlite3.Error as e:
            raise self._fail(e) from None

    def flush(self, *, urgent: bool = False) -> None:
        """Write the buffered rows in one transaction; :class:`JournalError` on failure.

        ``urgent``: only the events, counter levels included (the commit before a request:
        one statement); order records wait for the next full flush.
        """
        self._check()
        buffers, orders = self._buffers, self._orders
        if orders and not urgent:
            buffers["orders"].extend(_order_row(*o) for o in orders.values())
            orders.clear()
        tables = _URGENT if urgent else _ALL
        if not any(buffers[t] for t in tables):
            return
        db = self._db
        events = buffers["events"]
        try:
            if len(events) <= _PER_STATEMENT and not any(buffers[t] for t in tables[1:]):
                n = len(events)  # events alone: one statement, its own transaction
                db.execute(_insert_events(n), [v for row in events for v in row])
                events.clear()
            else:
                n = self._transaction(tables)
        except (sqlite3.Error, OSError) as e:
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise self._fail(e) from None
        self.flushes += 1
        self.rows += n

    def _transaction(self, tables: tuple[str, ...]) -> int:
        """Write the buffered rows of ``tables`` in one explicit transaction: rows written."""
        db, n = self._db, 0
        db.execute("BEGIN")
        for table in tables:
            rows = self._buffers[table]
            if rows:
                db.executemany(_INSERT[table], rows)
                n += len(rows)
                rows.clear()
        db.execute("COMMIT")
        return n

    def close(self) -> None:
        """Write what is buffered (if the journal still works) and close the file; a write
        after it raises :class:`JournalError` (``journal PATH is closed``)."""
        try:
            if self.failed is None:
                self.flush()
        finally:
            self._db.close()
            self.closed = True

    def check(self) -> None:
        """Raise the :class:`JournalError` the journal failed with, if it did."""
        self._check()

    def _check(self) -> None:
        if self.failed is not None:
            raise self.failed
        if self.closed:
            raise JournalError(f"journal {self.path} is closed")

    def _fail(self, e: BaseException) -> JournalError:
        self.failed = JournalError(f"cannot write journal {self.path}: {e}")
        return self.failed

    def __repr__(self) -> str:
        return f"JournalWriter({str(self.path)!r}, flushes={self.flushes}, rows={self.rows})"
