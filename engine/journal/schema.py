"""The journal's tables (SQLite, WAL).  One file per account and API key.

Times: ``wall`` columns are UNIX seconds; prices in quote units, volumes in base units
(decimal strings, as sent).  ``run`` numbers each start of an engine on the journal.

* ``runs``: one row per run -- when it started and ended (NULL: it never ended: a crash),
  its account, key id and userref, and its summary (JSON) when it ended cleanly;
* ``intents``: every intent ``submit`` accepted (``hid``: the handle's id in that run), its
  kind, the order ids it names (``ids``: space-separated cl_ord_ids or txids) and pair;
* ``requests``: every request, recorded *before* it is written to the wire: endpoint, the
  order id it carries, the key id, its attempt;
* ``replies``: each reply (``ok``, the error or the txid), or the transport error;
* ``outcomes``: each intent's terminal outcome -- one per intent (primary key); ``recovered``
  marks an outcome a restart decided for an intent the crash left open;
* ``orders``: the latest record of every order (cl_ord_id): txid, pair, side, price, volume,
  state, the wall time of its add or last amend (its age counts from it);
* ``counters``: each counter's last modelled level (units) and when (``wall``).
"""

from __future__ import annotations

__all__ = ["SCHEMA", "VERSION"]

VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY, started REAL NOT NULL, ended REAL, pid INTEGER,
    account TEXT, key_id TEXT, userref INTEGER, summary TEXT);
CREATE TABLE IF NOT EXISTS intents (
    run INTEGER NOT NULL, hid INTEGER NOT NULL, kind TEXT NOT NULL, strategy TEXT,
    ids TEXT NOT NULL, pair TEXT, wall REAL NOT NULL, PRIMARY KEY (run, hid));
CREATE TABLE IF NOT EXISTS requests (
    run INTEGER NOT NULL, hid INTEGER NOT NULL, attempt INTEGER NOT NULL,
    endpoint TEXT NOT NULL, order_id TEXT, key_id TEXT, wall REAL NOT NULL);
CREATE INDEX IF NOT EXISTS requests_hid ON requests (run, hid);
CREATE TABLE IF NOT EXISTS replies (
    run INTEGER NOT NULL, hid INTEGER NOT NULL, endpoint TEXT, ok INTEGER NOT NULL,
    error TEXT, txid TEXT, wall REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    run INTEGER NOT NULL, hid INTEGER NOT NULL, status TEXT NOT NULL, txid TEXT,
    error TEXT, sent INTEGER NOT NULL, wall REAL NOT NULL, recovered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run, hid));
CREATE TABLE IF NOT EXISTS orders (
    cl_ord_id TEXT PRIMARY KEY, run INTEGER NOT NULL, txid TEXT, pair TEXT NOT NULL,
    side TEXT, price TEXT, volume TEXT, state TEXT NOT NULL, placed_wall REAL,
    strategy TEXT, wall REAL NOT NULL);
CREATE INDEX IF NOT EXISTS orders_state ON orders (state);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, level REAL NOT NULL,
    wall REAL NOT NULL);
"""
