"""``orderpace live``'s journal flags: ``--journal PATH|off`` and ``--on-start cancel|adopt``.

:func:`add_arguments` adds them to the live parser; :func:`live_settings` turns them into
:class:`~engine.run.live_config.LiveConfig` fields:

* ``journal``: the path (default :func:`~engine.journal.session.default_path` -- per
  exchange host and API key under ``$XDG_STATE_HOME/orderpace/``), or None for ``off``;
  a dry run keeps no journal unless ``--journal PATH`` is given (it places nothing);
* ``on_start``: what to do with our orders still open from a crashed run;
* ``start_levels``: ``"max"`` with ``--journal off`` -- with no journal nothing says what the
  account's counters hold, so each pair's trading counter starts at its maximum.

The journal is opened once here, so an unusable path (a directory that cannot be made, a
read-only file) is a usage error naming it, before anything is sent -- and so is a journal
another process holds (its lock, :mod:`engine.journal.lock`: exit 2, one line).  The run
itself then takes the lock for its whole length (the rare process that takes it in
between makes the run fail at start with the same line, exit 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.journal.lock import JournalLock
from engine.journal.session import default_path
from engine.journal.writer import JournalError, JournalWriter

__all__ = ["add_arguments", "live_settings"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--journal`` and ``--on-start`` to the live parser ``p``."""
    p.add_argument("--journal", default=None, metavar="PATH|off",
                   help="the SQLite journal of this account and key (default: "
                        "$XDG_STATE_HOME/orderpace/<host>/<key id>.sqlite); 'off' keeps none "
                        "and starts every trading counter at its maximum")
    p.add_argument("--on-start", choices=("cancel", "adopt"), default="cancel",
                   help="orders a crashed run left open: cancel them (default) or adopt "
                        "them as the strategy's own")


def live_settings(args: argparse.Namespace, api_key: str) -> dict[str, Any]:
    """The LiveConfig fields for ``args``; ValueError (a usage error) if the journal
    cannot be opened."""
    value = args.journal
    if value == "off" or (value is None and args.dry_run):
        return {"journal": None, "on_start": args.on_start,
                "start_levels": "max" if value == "off" else "empty"}
    path = default_path(args.base_url, api_key) if value is None else value
    try:
        JournalWriter(path).close()
        JournalLock(path).release()  # another run on this journal: a usage error, now
    except JournalError as e:
        raise ValueError(f"argument --journal: {e}") from None
    return {"journal": str(path), "on_start": args.on_start, "start_levels": "empty"}
