"""``orderpace journal show PATH``: what a journal holds, for a human after a crash.

Prints the last run (when it started, whether it ended -- a run that never ended crashed or
was killed -- and its summary's headline figures), the orders that may still rest (open,
being placed, or of unknown fate), the intents without an outcome, the counters' last
modelled levels, and the outcomes over every run.  ``--json`` prints the same as one JSON
object.  The file is opened read-only.  Exit codes: 0; 2 for a path that is not a
journal (one line naming it).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from typing import Any

import attrs

from engine.cli.base import Subcommand, UsageError
from engine.journal.reader import JournalState, read_state
from engine.journal.writer import JournalError, connect

__all__ = ["COMMAND", "configure", "run", "show"]


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="journal_action", metavar="ACTION", required=True)
    show_p = sub.add_parser("show", help="print what a journal holds")
    show_p.add_argument("path", metavar="PATH", help="the journal file (.sqlite)")
    show_p.add_argument("--json", action="store_true", help="one JSON object")


def _when(wall: float | None) -> str:
    if wall is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(wall))


def _summary_line(text: str | None) -> str:
    if not text:
        return "no summary (the run did not end cleanly)"
    try:
        s = json.loads(text)
    except ValueError:
        return "summary unreadable"
    outs = ", ".join(f"{k} {v}" for k, v in (s.get("outcomes") or {}).items() if v)
    return (f"{s.get('strategy', '?')}: {s.get('intents', 0)} intents, outcomes {outs or '-'}, "
            f"rate-limit errors {s.get('rate_limit_errors', 0)}")


def as_dict(state: JournalState) -> dict[str, Any]:
    last = state.last_run
    return {
        "runs": len(state.runs),
        "last_run": None if last is None else {
            **attrs.asdict(last), "summary": None if last.summary is None
            else json.loads(last.summary)},
        "open_orders": [attrs.asdict(o) for o in state.open_orders],
        "unresolved_intents": [attrs.asdict(i) for i in state.unresolved],
        "counters": {n: attrs.asdict(c) for n, c in state.counters.items()},
        "outcomes": state.outcomes,
    }


def show(state: JournalState, path: str) -> str:
    """The human report of ``state`` (the journal at ``path``)."""
    lines = [f"journal {path}: {len(state.runs)} run(s)"]
    last = state.last_run
    if last is not None:
        ended = _when(last.ended) if last.ended is not None else "NEVER (crashed or killed)"
        lines += [f"last run #{last.run} (pid {last.pid}): started {_when(last.started)}, "
                  f"ended {ended}", f"  {_summary_line(last.summary)}"]
    lines.append(f"orders that may rest: {len(state.open_orders)}")
    for o in state.open_orders:
        lines.append(f"  {o.cl_ord_id}  {o.txid or '-':<19}  {o.pair:<9} {o.side or '-':<4} "
                     f"{o.volume or '-'} @ {o.price or '-'}  {o.state}  since "
                     f"{_when(o.placed_wall)}  run {o.run} {o.strategy or ''}")
    lines.append(f"intents without an outcome: {len(state.unresolved)}")
    for i in state.unresolved:
        sent = f"{i.requests} request(s), last {_when(i.last_request)}" if i.requests \
            else "not sent"
        lines.append(f"  run {i.run} #{i.hid} {i.kind} {' '.join(i.ids) or '-'}  {sent}")
    if state.counters:
        lines.append("counters (last modelled level):")
        for c in state.counters.values():
            lines.append(f"  {c.name:<9} {c.level:8.2f}  at {_when(c.wall)}")
    outs = ", ".join(f"{k} {v}" for k, v in sorted(state.outcomes.items()))
    lines.append(f"outcomes over all runs: {outs or '-'}")
    if state.unfinished:
        lines.append("the next start on this journal reconciles the above with the exchange "
                     "(orderpace live --on-start cancel|adopt)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    try:
        db = connect(Path(args.path), readonly=True)
        try:
            state = read_state(db)
        finally:
            db.close()
    except JournalError as e:
        raise UsageError(str(e)) from None
    except sqlite3.Error as e:
        raise UsageError(f"{args.path} is not an orderpace journal: {e}") from None
    print(json.dumps(as_dict(state), default=str) if args.json else show(state, args.path))
    return 0


COMMAND = Subcommand("journal", "what a journal holds, for a human after a crash", configure,
                     run)
