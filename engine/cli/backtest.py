"""``orderpace backtest``: one run, or a sweep of runs, on the simulated exchange.

::

    orderpace backtest --strategy NAME [--tier starter|intermediate|pro] [--pairs ...]
                       [--duration SECONDS] [--seed N] [--set key=value ...]
                       [--report DIR] [--json]
                       [--sweep key=v1,v2,... ...] [--jobs N] [--rank-by METRIC]

One run prints its summary (a table, or with ``--json`` one JSON object on the last line);
``--report DIR`` writes ``summary.json``, ``requests.csv`` and charts.

With ``--sweep`` (see :mod:`engine.run.sweep`) it runs the cartesian product of the axes in
``--jobs`` processes (default: every core), shows one progress bar over all runs on a
terminal, and prints the runs ranked by ``--rank-by`` (default ``budget_utilization``; see
:mod:`engine.run.ranking`), or with ``--json`` one JSON object ``{"axes", "rank_by",
"runs": [{"rank", "point", "value", "fills", "summary"}]}`` on the last line; ``--report
DIR`` writes ``sweep.csv``, ``sweep.json`` and ``sweep.png``.  Every run's configuration
is checked before the first one starts: a bad axis or value is a usage error.

Exit codes: 0 success; 1 a run failed (a strategy raised) or the report could not be
written after all; 2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

from engine.cli import types as cli_types
from engine.cli.base import PROG, Subcommand, UsageError

if TYPE_CHECKING:
    from engine.run.backtest import BacktestConfig

__all__ = ["COMMAND", "ProgressBar", "SweepBar"]

_NAME = f"{PROG} backtest"


def configure(p: argparse.ArgumentParser) -> None:
    """Add ``backtest``'s arguments to ``p``."""
    from engine.run.backtest import DEFAULT_DURATION, DEFAULT_PAIRS, DEFAULT_STRATEGY, MAX_DURATION
    from engine.run.ranking import METRICS
    from engine.run.sweep import RUN_KEYS

    p.add_argument("--strategy", default=DEFAULT_STRATEGY, metavar="NAME",
                   help=f"strategy to run (default {DEFAULT_STRATEGY}; "
                        "see 'orderpace strategies')")
    p.add_argument("--tier", default="intermediate", type=cli_types.tier,
                   metavar="starter|intermediate|pro",
                   help="Kraken verification tier (default intermediate)")
    p.add_argument("--pairs", type=cli_types.pairs, default=DEFAULT_PAIRS, metavar="PAIR,PAIR",
                   help=f"pairs to trade (default {','.join(DEFAULT_PAIRS)})")
    p.add_argument("--duration", type=cli_types.seconds, default=DEFAULT_DURATION,
                   metavar="SECONDS",
                   help=f"simulated seconds to run (default {DEFAULT_DURATION:g}, "
                        f"at most {MAX_DURATION:.0f}: 30 days)")
    p.add_argument("--seed", type=cli_types.seed, default=1, metavar="N",
                   help="random seed: prices, latency, strategy (default 1)")
    p.add_argument("--set", dest="settings", action="append", type=cli_types.assignment,
                   default=[], metavar="KEY=VALUE", help="set a strategy parameter (repeatable)")
    p.add_argument("--report", metavar="DIR", type=cli_types.output_directory,
                   help="write summary.json, requests.csv and charts (PNG) to DIR -- with "
                        "--sweep: sweep.csv, sweep.json, sweep.png (created if missing; "
                        "checked before the run)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object (the last line)")
    p.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="run every combination of these values (repeatable): a strategy "
                        f"parameter or {', '.join(RUN_KEYS)} (seed also A..B)")
    p.add_argument("--jobs", type=cli_types.jobs, default=None, metavar="N",
                   help="worker processes for --sweep (default: every core)")
    p.add_argument("--rank-by", default=None, metavar="METRIC[:asc|:desc]",
                   help="order --sweep's runs by this metric (default budget_utilization): "
                        f"{', '.join(METRICS)}, or report.PATH")


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most every ``every`` wall seconds."""

    def __init__(self, stream: TextIO, every: float = 0.1, width: int = 30) -> None:
        self.stream = stream
        self.every = every
        self.width = width
        self._last = 0.0
        self._drawn = False

    def draw(self, frac: float, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        filled = int(min(1.0, max(0.0, frac)) * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {text}\033[K")
        self.stream.flush()
        self._drawn = True

    def __call__(self, p: object) -> None:
        from engine.run.backtest import Progress

        assert isinstance(p, Progress)
        frac = min(1.0, p.simulated / p.duration) if p.duration > 0 else 1.0
        state = "draining" if p.stopping else f"{100 * frac:3.0f}%"
        self.draw(frac, f"{state} {p.simulated:,.0f}/{p.duration:,.0f} s  "
                        f"intents {p.intents:,}  rate-limit errors {p.errors}")

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()


class SweepBar(ProgressBar):
    """One bar over all of a sweep's runs: ``done/total runs`` and the wall time so far."""

    def __init__(self, stream: TextIO, total: int) -> None:
        super().__init__(stream)
        self.total = total
        self.started = time.monotonic()
        self.draw(0.0, f"0/{total} runs", force=True)

    def runs(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        self.draw(done / total if total else 1.0,
                  f"{done}/{total} runs  {elapsed:,.0f} s", force=done == total)


def _config(args: argparse.Namespace) -> BacktestConfig:
    from engine.run.backtest import BacktestConfig, BacktestError

    try:
        return BacktestConfig(
            strategy=args.strategy, tier=args.tier, pairs=args.pairs, duration=args.duration,
            seed=args.seed, settings=tuple(args.settings),
            record=args.report is not None and not args.sweep,
            log_decisions=args.verbose >= 2,
        )
    except BacktestError as e:
        raise UsageError(str(e)) from None


def run(args: argparse.Namespace) -> int:
    """Run ``orderpace backtest``; return the exit code (see the module docstring)."""
    if args.sweep:
        return _run_sweep(args)
    if args.jobs is not None or args.rank_by is not None:
        raise UsageError("--jobs and --rank-by go with --sweep")
    from engine.run.backtest import BacktestError, run_backtest
    from strategies.params import ParameterError
    from strategies.registry import StrategyError

    config = _config(args)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = run_backtest(config, progress=bar)
    except (StrategyError, ParameterError, BacktestError) as e:
        raise UsageError(str(e)) from None
    finally:
        if bar is not None:
            bar.close()
    summary = result.summary
    if not args.json:
        print(summary.render())
    if args.report is not None:
        from engine.run.report import write_report

        try:
            written = write_report(result, args.report)
        except OSError as e:  # checked before the run; e.g. the disk filled up since
            print(f"{_NAME}: error: cannot write the report to {args.report}: {e}",
                  file=sys.stderr)
            return 1
        out = sys.stderr if args.json else sys.stdout  # the JSON line stays the last line
        print(f"report written to {written.directory}: {', '.join(written.files)}", file=out)
        if written.charts_skipped:
            print(f"{_NAME}: note: {written.charts_skipped}", file=sys.stderr)
    if args.json:
        print(summary.to_json())
    if summary.failure:
        print(f"{_NAME}: the run failed: {summary.failure}", file=sys.stderr)
        return 1
    return 0


def _run_sweep(args: argparse.Namespace) -> int:
    import json

    from engine.run.backtest import BacktestError
    from engine.run.ranking import parse_rank_by, rank, render_table
    from engine.run.sweep import parse_axis, plan_sweep, run_sweep
    from strategies.params import ParameterError
    from strategies.registry import StrategyError

    config = _config(args)
    try:
        by = parse_rank_by(args.rank_by or "budget_utilization")
        plan = plan_sweep(config, [parse_axis(text) for text in args.sweep])
    except (StrategyError, ParameterError, BacktestError) as e:
        raise UsageError(str(e)) from None
    jobs = args.jobs if args.jobs is not None else os.cpu_count() or 1
    bar = SweepBar(sys.stderr, len(plan)) if sys.stderr.isatty() else None
    level = logging.DEBUG if args.verbose >= 2 else (
        logging.WARNING if args.verbose == 1 else logging.ERROR)
    try:
        runs = run_sweep(plan, jobs=jobs, progress=bar.runs if bar else None, log_level=level)
    finally:
        if bar is not None:
            bar.close()
    ranked = rank(runs, by)
    keys = [a.key for a in plan.axes]
    if not args.json:
        print(render_table(ranked, keys, by))
    if args.report is not None:
        from engine.run.sweep_report import write_sweep_report

        try:
            written = write_sweep_report(ranked, plan, by, args.report)
        except OSError as e:
            print(f"{_NAME}: error: cannot write the report to {args.report}: {e}",
                  file=sys.stderr)
            return 1
        out = sys.stderr if args.json else sys.stdout
        print(f"report written to {written.directory}: {', '.join(written.files)}", file=out)
        if written.charts_skipped:
            print(f"{_NAME}: note: {written.charts_skipped}", file=sys.stderr)
    if args.json:
        from engine.run.ranking import metric

        print(json.dumps({
            "axes": {a.key: list(a.values) for a in plan.axes}, "rank_by": str(by),
            "runs": [{"rank": i, "point": dict(r.point), "value": metric(r, by.name),
                      "fills": r.fills, "summary": dict(r.summary)}
                     for i, r in enumerate(ranked, 1)],
        }, separators=(",", ":"), default=str))
    failed = [r for r in runs if r.failure]
    if failed:
        print(f"{_NAME}: {len(failed)} of {len(runs)} runs failed", file=sys.stderr)
        return 1
    return 0


COMMAND = Subcommand(
    "backtest", "run a strategy against the simulated exchange on a virtual clock",
    configure, run,
)
