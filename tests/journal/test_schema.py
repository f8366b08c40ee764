"""The journal's schema: order records appended to ``order_log`` (``orders``: the latest
of each), and a schema 3 file (``orders`` a table, one row per order) moved over when it
is opened for writing -- read-only it is read as it is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.journal.reader import read_state
from engine.journal.writer import JournalWriter, connect

#: schema 3 as journals were written by it (engine/journal/schema.py at VERSION 3)
_V3 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY, started REAL NOT NULL, ended REAL, pid INTEGER,
    account TEXT, key_id TEXT, userref INTEGER, summary TEXT);
CREATE TABLE IF NOT EXISTS events (
    run INTEGER NOT NULL, hid INTEGER NOT NULL, kind TEXT NOT NULL,
    x1 TEXT, x2 TEXT, x3 TEXT, n INTEGER, strategy TEXT, wall REAL NOT NULL,
    recovered INTEGER NOT NULL DEFAULT 0);
CREATE VIEW IF NOT EXISTS intents AS SELECT run, hid, x1 AS kind, strategy, x2 AS ids,
    x3 AS pair, wall FROM events WHERE kind = 'i';
CREATE VIEW IF NOT EXISTS requests AS SELECT run, hid, n AS attempt, x1 AS endpoint,
    x2 AS order_id, x3 AS key_id, wall FROM events WHERE kind = 'q';
CREATE VIEW IF NOT EXISTS wire AS SELECT run, hid, n AS attempt, x1 AS endpoint, x2 AS key,
    x3 AS nonce, strategy AS req_id, wall FROM events WHERE kind = 'w';
CREATE VIEW IF NOT EXISTS replies AS SELECT run, hid, x1 AS endpoint, n AS ok, x2 AS error,
    x3 AS txid, wall FROM events WHERE kind = 'r';
CREATE VIEW IF NOT EXISTS outcomes AS SELECT run, hid, x1 AS status, x3 AS txid, x2 AS error,
    n AS sent, wall, recovered FROM events WHERE kind = 'o';
CREATE TABLE IF NOT EXISTS orders (
    cl_ord_id TEXT PRIMARY KEY, run INTEGER NOT NULL, txid TEXT, pair TEXT NOT NULL,
    side TEXT, price TEXT, volume TEXT, state TEXT NOT NULL, placed_wall REAL,
    strategy TEXT, wall REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, level REAL NOT NULL,
    wall REAL NOT NULL);
CREATE VIEW IF NOT EXISTS levels AS SELECT x1 AS name, n AS level, wall FROM events
    WHERE kind = 'c';
INSERT INTO meta VALUES ('version', '3');
INSERT INTO orders VALUES ('b', 1, 'TX-B', 'XBT/USD', 'buy', '59000.0', '0.01', 'open',
    1000.0, 'mm', 1002.0);
INSERT INTO orders VALUES ('a', 1, 'TX-A', 'XBT/USD', 'sell', '61000.0', '0.02', 'closed',
    999.0, 'mm', 1001.0);
"""
_ROW_B = ("b", 1, "TX-B", "XBT/USD", "buy", "59000.0", "0.01", "open", 1000.0, "mm", 1002.0)


def _v3(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(_V3)
    db.close()


def test_a_schema_3_journal_is_read_as_it_is_when_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    _v3(path)
    db = connect(path, readonly=True)
    state = read_state(db)  # its orders table, read where schema 4 reads the view
    assert [o.cl_ord_id for o in state.open_orders] == ["b"]
    assert {"a", "TX-A", "b", "TX-B"} <= state.known_ids
    db.close()


def test_a_schema_3_journal_opened_for_writing_moves_its_orders_into_the_log(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    _v3(path)
    w = JournalWriter(path)
    db = w.db
    assert db.execute("SELECT type FROM sqlite_master WHERE name = 'orders'").fetchone() == (
        "view",)
    assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == ("4",)
    assert db.execute("SELECT cl_ord_id FROM order_log ORDER BY rowid").fetchall() == [
        ("a",), ("b",)]  # oldest record first
    assert db.execute("SELECT * FROM orders WHERE cl_ord_id = 'b'").fetchone() == _ROW_B
    w.add("gone", (2000.0, "b"))  # recovery: no longer open on the exchange
    w.flush()
    assert db.execute("SELECT state, wall, price FROM orders WHERE cl_ord_id = 'b'"
                      ).fetchone() == ("closed", 2000.0, "59000.0")
    assert db.execute("SELECT COUNT(*) FROM order_log").fetchone() == (3,)
    assert read_state(db).open_orders == ()
    w.close()
    JournalWriter(path).close()  # opened again: nothing more to move
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM order_log").fetchone() == (3,)
    db.close()


def test_orders_is_the_latest_record_of_each_order(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "j.sqlite")
    insert = "INSERT INTO order_log VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    for cid, state, wall in [("x", "pending", 1.0), ("y", "pending", 1.5), ("x", "open", 2.0),
                             ("y", "open", 2.5), ("x", "closed", 3.0)]:
        w.db.execute(insert, (cid, 1, None, "XBT/USD", "buy", "1", "1", state, None, "s", wall))
    assert w.db.execute("SELECT cl_ord_id, state, wall FROM orders ORDER BY cl_ord_id"
                        ).fetchall() == [("x", "closed", 3.0), ("y", "open", 2.5)]
    w.close()


def test_a_clean_end_of_run_keeps_only_each_orders_latest_record(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "j.sqlite")
    run = w.new_run(account="a", key_id="k", userref=1)
    insert = "INSERT INTO order_log VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    for cid, state, wall in [("x", "pending", 1.0), ("y", "pending", 1.5), ("x", "open", 2.0),
                             ("y", "open", 2.5), ("x", "closed", 3.0)]:
        w.db.execute(insert, (cid, run, None, "XBT/USD", "buy", "1", "1", state, None, "s", wall))
    before = w.db.execute("SELECT * FROM orders ORDER BY cl_ord_id").fetchall()
    w.end_run(run, None)
    assert w.db.execute("SELECT cl_ord_id, state FROM order_log ORDER BY rowid").fetchall() == [
        ("y", "open"), ("x", "closed")]
    assert w.db.execute("SELECT * FROM orders ORDER BY cl_ord_id").fetchall() == before
    w.close()
