"""The ``bench`` subcommand: ``orderpace bench [--quick] [--json] [--out DIR] [--jobs N]
[--before DIR]``.

Found by :mod:`engine.cli` through its ``PROVIDERS`` table (this module's ``COMMAND``).
Writes ``latest.json``, ``latest.md`` and ``latest.png`` to ``--out`` (default
``benchmarks/results`` under the current directory: in a checkout of the repository,
where ``make bench`` runs, that is the committed ``benchmarks/results/``), prints the
markdown (or, with ``--json``, the whole result as one JSON object on the last line), and
exits 0: targets are reported, never asserted.

The output directory is created and checked before the suite runs: one that cannot be
created or written is a usage error (exit 2, one line on stderr), as is a missing
``aiolimiter`` (the ``bench`` extra: ``pip install 'orderpace[bench]'``).  The chart needs
the ``report`` extra (matplotlib) and is skipped, with a note, without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.cli import Subcommand, UsageError
from engine.cli import types as cli_types

__all__ = ["COMMAND", "DEFAULT_OUT"]

#: Where results go by default: ``benchmarks/results``, relative to the current directory.
DEFAULT_OUT = Path("benchmarks") / "results"

_EXTRA_HINT = "install the bench extra: pip install 'orderpace[bench]'"


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="a small version (one seed, one simulated minute per cell): < 60 s")
    p.add_argument("--json", action="store_true",
                   help="print the whole result as one JSON object (the last line)")
    p.add_argument("--out", metavar="DIR", type=cli_types.output_directory, default=None,
                   help="directory for latest.json, latest.md, latest.png, created if missing "
                        f"(default {DEFAULT_OUT.as_posix()} under the current directory)")
    p.add_argument("--before", metavar="DIR", type=_checkout, default=None,
                   help="a checkout of other code (a directory holding engine/): the user's "
                        "backtest command is timed from it too, alternated, side by side")
    p.add_argument("--jobs", type=cli_types.jobs, metavar="N", default=None,
                   help="worker processes for the workload cells (default: up to 2; at most "
                        f"{cli_types.MAX_JOBS})")


def _checkout(value: str) -> str:
    if not (Path(value) / "engine" / "__main__.py").is_file():
        raise argparse.ArgumentTypeError(f"{value!r} holds no engine/__main__.py")
    return value


def _command_line(args: argparse.Namespace) -> str:
    parts = ["orderpace bench"]
    if args.quick:
        parts.append("--quick")
    if args.jobs is not None:
        parts.append(f"--jobs {args.jobs}")
    if args.before is not None:
        parts.append(f"--before {args.before}")
    return " ".join(parts)


def _progress(done: int, total: int, cell: dict[str, Any]) -> None:
    sys.stderr.write(f"\r[{done}/{total}] {cell['workload']} {cell['tier']} {cell['limiter']} "
                     f"seed {cell['seed']}\033[K")
    if done == total:
        sys.stderr.write("\r\033[K")
    sys.stderr.flush()


def _out_dir(args: argparse.Namespace) -> Path:
    """``--out``, or the default directory created and checked now (before the run)."""
    if args.out is not None:
        return Path(args.out)
    try:
        return cli_types.make_directory(DEFAULT_OUT)
    except cli_types.BadOutputDirectory as e:
        raise UsageError(f"{e} (the default results directory; choose one with --out)") from None


def _run(args: argparse.Namespace) -> int:
    try:
        from benchmarks.report import write_results
        from benchmarks.suite import SuiteConfig, run_suite
    except ModuleNotFoundError as e:
        if e.name is None or e.name.split(".")[0] != "aiolimiter":
            raise
        raise UsageError(f"the bench suite needs aiolimiter; {_EXTRA_HINT}") from None
    out_dir = _out_dir(args)
    cfg = SuiteConfig.for_mode(args.quick, args.jobs, args.before)
    data = run_suite(cfg, progress=_progress if sys.stderr.isatty() else None,
                     command=_command_line(args))
    try:
        written = write_results(data, out_dir)
    except OSError as e:  # checked before the run; e.g. the disk filled up since
        print(f"orderpace bench: error: cannot write the results to {out_dir}: {e}",
              file=sys.stderr)
        return 1
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
