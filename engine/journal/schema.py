"""The journal's tables (SQLite, WAL).  One file per account and API key.

Times: ``wall`` columns are UNIX seconds; prices in quote units, volumes in base units
(decimal strings, as sent).  ``run`` numbers each start of an engine on the journal.

* ``runs``: one row per run -- when it started and ended (NULL: it never ended: a crash),
  its account, key id and userref, and its summary (JSON) when it ended cleanly;
Intents, requests, wire notes, replies, outcomes and counter levels are rows of one table,
``events`` (``kind`` ``i``, ``q``, ``w``, ``r``, ``o``, ``c``: one statement per commit for
all of them), read through the views.  No secondary index: every page a commit touches
costs (measured 95 against 121 µs of CPU per commit of a typical group):

* ``intents``: every intent ``submit`` accepted (``hid``: the handle's id in that run), its
  kind, the order ids it names (``ids``: space-separated cl_ord_ids or txids) and pair;
* ``requests``: every request, recorded *before* it is written to the wire: endpoint, the
  order id it carries, the key id, its attempt;
* ``wire``: each time a private request is written, committed *before* its first byte
  leaves (the venue's note, :mod:`engine.core.wirenote`): its endpoint, the label of the
  pool key that actually carries it (a prefix of the API key, never the secret), the nonce
  (text: it may exceed SQLite's 63-bit integers), or for a WebSocket v2 request no key and
  no nonce but its ``req_id``.  ``hid``/``attempt`` name the request (0/0: a venue's own
  request outside any round trip of the engine);
* ``replies``: each reply (``ok``, the error or the txid), or the transport error;
* ``outcomes``: each intent's terminal outcome -- one per intent (the engine resolves each
  handle once; a restart decides only intents without one); ``recovered`` marks an
  outcome a restart decided for an intent the crash left open;
* ``orders``: the latest record of every order (cl_ord_id): txid, pair, side, price, volume,
  state, the wall time of its add or last amend (its age counts from it) -- a view of
  ``order_log``, where each record is appended (since schema 4: a record replaced in place
  wrote a page of the table per order and commit, the orders' random ids spreading them
  over the table; appends fill its last page).  A schema 3 file's ``orders`` table is moved
  into ``order_log`` when it is opened for writing (:data:`MIGRATE_3`);
* ``levels``: each counter's modelled level (units) when (``wall``) requests were sent --
  ``events`` rows of kind ``c`` (``hid`` 0), the latest per ``name`` counts; ``counters``:
  the same, one row per counter, as journals before schema 3 kept it (still read).
"""

from __future__ import annotations

__all__ = ["MIGRATE_3", "SCHEMA", "VERSION"]

VERSION = 4

_ORDER_LOG = """CREATE TABLE IF NOT EXISTS order_log (
    cl_ord_id TEXT NOT NULL, run INTEGER NOT NULL, txid TEXT, pair TEXT NOT NULL,
    side TEXT, price TEXT, volume TEXT, state TEXT NOT NULL, placed_wall REAL,
    strategy TEXT, wall REAL NOT NULL);"""

SCHEMA = """
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
""" + _ORDER_LOG + """
CREATE VIEW IF NOT EXISTS orders AS SELECT * FROM order_log
    WHERE rowid IN (SELECT MAX(rowid) FROM order_log GROUP BY cl_ord_id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, level REAL NOT NULL,
    wall REAL NOT NULL);
CREATE VIEW IF NOT EXISTS levels AS SELECT x1 AS name, n AS level, wall FROM events
    WHERE kind = 'c';
"""

#: Schema 3 -> 4: the ``orders`` table (one row per order, replaced) becomes ``order_log``
#: (appended; ``orders`` is its view), oldest record first.
MIGRATE_3 = """
BEGIN;
ALTER TABLE orders RENAME TO orders_3;
""" + _ORDER_LOG + """
INSERT INTO order_log SELECT * FROM orders_3 ORDER BY wall;
DROP TABLE orders_3;
UPDATE meta SET value = '4' WHERE key = 'version';
COMMIT;
"""
