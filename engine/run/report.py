"""Writing a backtest's report to a directory.

* ``summary.json``: the run's :class:`~engine.run.summary.Summary` (pretty-printed) plus the
  run's settings;
* ``requests.csv``: one row per request the engine sent, in send order:

  - ``time``: when it left the engine (simulated seconds);
  - ``pair``, ``action`` (the scheduler's transaction kind: add, amend, cancel, ...);
  - ``engine_cost``, ``engine_level_before``, ``engine_level_after``: **the engine's own
    view at send time** -- the units its rate model charged (for orders, the penalty
    for the order's age as the engine measures it, from the acknowledgement) and its
    model's counter level before and after that charge.  These are estimates, not what
    the exchange charged: the exchange sees the request one network delay later, ages
    orders from its own clock and releases decay in steps, so its figures differ (the
    engine's penalty is an upper bound of the exchange's: it ages orders from their
    acknowledgement).  The exchange's own figures are in
    ``summary.json`` (``counters``, ``budget_utilization``, ``errors``) and in the
    ``trading_counter.png`` / ``api_counter.png`` charts;
  - ``outcome``, ``error``: how the request's intent ended and the exchange's error
    string, if any (a retried intent's rows all show its final outcome);
* charts (PNG), when the optional ``report`` extra is installed (``pip install
  'orderpace[report]'``, matplotlib):

  - ``trading_counter.png``: each pair's trading counter (the exchange's level) vs its max;
  - ``api_counter.png``: the key's API counter vs its max;
  - ``queue_depth.png``: intents queued per pair;
  - ``queue_wait.png``: distribution of the seconds intents waited before being sent.

Without matplotlib the data files are still written and :attr:`ReportFiles.charts_skipped`
says how to get the charts.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
from pathlib import Path
from typing import Any

import attrs

from engine.run.backtest import BacktestResult

__all__ = ["CHARTS", "INSTALL_HINT", "REQUEST_COLUMNS", "ReportFiles", "write_report"]

#: The columns of ``requests.csv`` (the ``engine_`` ones are the engine's estimates).
REQUEST_COLUMNS = ("time", "pair", "action", "engine_cost", "engine_level_before",
                   "engine_level_after", "outcome", "error")

#: The chart files, in the order they are written.
CHARTS = ("trading_counter.png", "api_counter.png", "queue_depth.png", "queue_wait.png")

INSTALL_HINT = (
    "charts skipped: matplotlib is not installed; install the report extra with "
    "pip install 'orderpace[report]' (or pip install matplotlib)"
)


@attrs.frozen(slots=True)
class ReportFiles:
    """What :func:`write_report` wrote: the directory, the file names, and why charts
    were skipped (None when they were drawn)."""

    directory: Path
    files: tuple[str, ...]
    charts_skipped: str | None = None


def write_report(result: BacktestResult, directory: str | os.PathLike[str]) -> ReportFiles:
    """Write the report files of ``result`` into ``directory`` (created if missing).

    Raises :class:`OSError` when a file cannot be written; the command line checks the
    directory before the run (:func:`engine.cli.types.output_directory`).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = [_write_summary(result, out), _write_requests(result, out)]
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
    except ImportError:
        return ReportFiles(out, tuple(files), INSTALL_HINT)
    matplotlib.use("Agg")  # files only, never a window
    files.extend(_write_charts(result, out))
    return ReportFiles(out, tuple(files))


def _write_summary(result: BacktestResult, out: Path) -> str:
    cfg = result.config
    data: dict[str, Any] = result.summary.as_dict()
    data["settings"] = {
        "decay_step": cfg.decay_step, "latency": cfg.latency, "jitter": cfg.jitter,
        "drain_timeout": cfg.drain_timeout,
    }
    (out / "summary.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    return "summary.json"


def _write_requests(result: BacktestResult, out: Path) -> str:
    with open(out / "requests.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(REQUEST_COLUMNS)
        for r in result.requests:
            w.writerow([f"{r.time:.6f}", r.pair, r.action, f"{r.cost:g}",
                        f"{r.level_before:.4f}", f"{r.level_after:.4f}", r.outcome,
                        r.error or ""])
    return "requests.csv"


def _write_charts(result: BacktestResult, out: Path) -> list[str]:
    plt: Any = importlib.import_module("matplotlib.pyplot")

    samples = result.samples
    times = [s.time for s in samples]
    pairs = result.config.pairs
    title = f"{result.summary.strategy} · {result.summary.tier} · seed {result.summary.seed}"
    written = []

    fig, axes = plt.subplots(len(pairs), 1, figsize=(10, 2.6 * len(pairs)), sharex=True,
                             squeeze=False)
    for ax, pair in zip(axes[:, 0], pairs, strict=True):
        ax.plot(times, [s.trading[pair] for s in samples], lw=0.8, label="level")
        ax.axhline(result.trading_max, color="red", lw=1, ls="--", label="max")
        ax.set_ylabel(f"{pair}\nunits")
        ax.set_ylim(0, result.trading_max * 1.08)
        ax.legend(loc="upper right", fontsize=8)
    axes[0, 0].set_title(f"Trading counter per pair · {title}")
    axes[-1, 0].set_xlabel("simulated seconds")
    written.append(_save(fig, out, "trading_counter.png"))

    fig, ax = plt.subplots(figsize=(10, 3))
    ax.plot(times, [s.api for s in samples], lw=0.8, label="level")
    ax.axhline(result.api_max, color="red", lw=1, ls="--", label="max")
    ax.set_ylim(0, result.api_max * 1.08)
    ax.set_title(f"API counter · {title}")
    ax.set_xlabel("simulated seconds")
    ax.set_ylabel("units")
    ax.legend(loc="upper right", fontsize=8)
    written.append(_save(fig, out, "api_counter.png"))

    fig, ax = plt.subplots(figsize=(10, 3))
    for pair in pairs:
        ax.step(times, [s.queued[pair] for s in samples], where="post", lw=0.8, label=pair)
    ax.set_title(f"Queue depth · {title}")
    ax.set_xlabel("simulated seconds")
    ax.set_ylabel("intents queued")
    ax.legend(loc="upper right", fontsize=8)
    written.append(_save(fig, out, "queue_depth.png"))

    fig, ax = plt.subplots(figsize=(10, 3))
    waits = result.waits
    if waits:
        ax.hist(waits, bins=60, color="tab:blue")
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no intent was sent", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_title(f"Queue wait (submit to send) · {title}")
    ax.set_xlabel("seconds")
    ax.set_ylabel("intents")
    written.append(_save(fig, out, "queue_wait.png"))
    return written


def _save(fig: Any, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=100)
    importlib.import_module("matplotlib.pyplot").close(fig)
    return name
