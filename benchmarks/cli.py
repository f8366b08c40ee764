"""The ``bench`` subcommand: ``orderpace bench [--quick] [--json] [--out DIR] [--jobs N]``.

Found by :mod:`engine.cli` through its ``PROVIDERS`` table (this module's ``COMMAND``).
Writes ``latest.json``, ``latest.md`` and ``latest.png`` to ``--out`` (default
``benchmarks/results`` beside this file), prints the markdown (or, with ``--json``, the
whole result as one JSON object on the last line), and exits 0: targets are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.cli import Subcommand

__all__ = ["COMMAND", "DEFAULT_OUT"]

#: Where results go by default: ``benchmarks/results``.
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="a small version (one seed, one simulated minute per cell): < 60 s")
    p.add_argument("--json", action="store_true",
                   help="print the whole result as one JSON object (the last line)")
    p.add_argument("--out", metavar="DIR", default=str(DEFAULT_OUT),
                   help="directory for latest.json, latest.md, latest.png "
                        "(default benchmarks/results)")
    p.add_argument("--jobs", type=int, metavar="N", default=None,
                   help="worker processes for the workload cells (default: up to 2)")


def _command_line(args: argparse.Namespace) -> str:
    parts = ["orderpace bench"]
    if args.quick:
        parts.append("--quick")
    if args.jobs is not None:
        parts.append(f"--jobs {args.jobs}")
    return " ".join(parts)


def _progress(done: int, total: int, cell: dict[str, Any]) -> None:
    sys.stderr.write(f"\r[{done}/{total}] {cell['workload']} {cell['tier']} {cell['limiter']} "
                     f"seed {cell['seed']}\033[K")
    if done == total:
        sys.stderr.write("\r\033[K")
    sys.stderr.flush()


def _run(args: argparse.Namespace) -> int:
    from benchmarks.report import write_results
    from benchmarks.suite import SuiteConfig, run_suite

    if args.jobs is not None and args.jobs < 1:
        print("orderpace bench: error: --jobs must be >= 1", file=sys.stderr)
        return 2
    cfg = SuiteConfig.for_mode(args.quick, args.jobs)
    data = run_suite(cfg, progress=_progress if sys.stderr.isatty() else None,
                     command=_command_line(args))
    written = write_results(data, args.out)
    out = sys.stderr if args.json else sys.stdout
    print(f"results written to {written.directory}: {', '.join(written.files)}", file=out)
    if written.chart_skipped:
        print(f"orderpace bench: note: {written.chart_skipped}", file=sys.stderr)
    if args.json:
        print(json.dumps(data, separators=(",", ":"), default=str))
    else:
        print((Path(written.directory) / "latest.md").read_text(encoding="utf-8"))
    return 0


COMMAND = Subcommand(
    "bench", "run the bench suite: orderpace side by side with other limiters",
    _configure, _run,
)
