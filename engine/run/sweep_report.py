"""Writing a sweep's report: ``sweep.csv``, ``sweep.json`` and ``sweep.png``.

* ``sweep.csv``: one row per run, best first: ``rank``, each swept key, then
  :data:`CSV_METRICS` and the ranking metric (``value``), ``failure``;
* ``sweep.json``: the axes, the ranking, the base settings and every run (rank, point,
  ranking value, fills, whole summary);
* ``sweep.png`` (the optional ``report`` extra, matplotlib): the ranking metric per run, and
  each run's budget utilization beside its rate-limit errors.

Without matplotlib the data files are written and :attr:`ReportFiles.charts_skipped` says
how to get the chart.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.run.ranking import RankBy, metric
from engine.run.report import INSTALL_HINT, ReportFiles
from engine.run.sweep import SweepPlan, SweepRun

__all__ = ["CSV_METRICS", "write_sweep_report"]

#: Figures in ``sweep.csv`` for every run (see :data:`engine.run.ranking.METRICS`).
CSV_METRICS = ("intents", "sent", "accepted", "rejected", "expired", "coalesced", "failed",
               "unresolved", "rate_limit_errors", "budget_utilization", "fills", "pnl",
               "queue_wait_p99")


def write_sweep_report(
    ranked: Sequence[SweepRun], plan: SweepPlan, by: RankBy,
    directory: str | os.PathLike[str],
) -> ReportFiles:
    """Write the files of the module docstring into ``directory`` (created if missing)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    keys = [a.key for a in plan.axes]
    files = [_csv(ranked, keys, by, out), _json(ranked, plan, by, out)]
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
    except ImportError:
        return ReportFiles(out, tuple(files), INSTALL_HINT)
    matplotlib.use("Agg")
    files.append(_chart(ranked, keys, by, out))
    return ReportFiles(out, tuple(files))


def _cell(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def _csv(ranked: Sequence[SweepRun], keys: list[str], by: RankBy, out: Path) -> str:
    with open(out / "sweep.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rank", *keys, *CSV_METRICS, f"value:{by.name}", "failure"])
        for i, r in enumerate(ranked, 1):
            w.writerow([i, *(r.point[k] for k in keys),
                        *(_cell(metric(r, m)) for m in CSV_METRICS),
                        _cell(metric(r, by.name)), r.failure or ""])
    return "sweep.csv"


def _json(ranked: Sequence[SweepRun], plan: SweepPlan, by: RankBy, out: Path) -> str:
    base = plan.base
    data = {
        "axes": {a.key: list(a.values) for a in plan.axes},
        "rank_by": str(by),
        "base": {"strategy": base.strategy, "tier": base.tier.value, "pairs": list(base.pairs),
                 "duration": base.duration, "seed": base.seed, "settings": list(base.settings)},
        "runs": [{"rank": i, "point": dict(r.point), "value": metric(r, by.name),
                  "fills": r.fills, "summary": dict(r.summary)}
                 for i, r in enumerate(ranked, 1)],
    }
    (out / "sweep.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    return "sweep.json"


def _chart(ranked: Sequence[SweepRun], keys: list[str], by: RankBy, out: Path) -> str:
    plt: Any = importlib.import_module("matplotlib.pyplot")
    labels = [", ".join(f"{k}={r.point[k]}" for k in keys) for r in ranked]
    y = list(range(len(ranked)))
    height = max(3.0, 0.35 * len(ranked) + 1.5)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, height), sharey=True)
    values = [metric(r, by.name) for r in ranked]
    left.barh(y, [v if v is not None else 0.0 for v in values], color="tab:blue")
    left.set_yticks(y, labels, fontsize=8)
    left.invert_yaxis()  # the best run on top
    left.set_title(f"ranked by {by}")
    util = [100 * (metric(r, "budget_utilization") or 0.0) for r in ranked]
    errors = [metric(r, "rate_limit_errors") or 0.0 for r in ranked]
    right.barh(y, util, color="tab:green", label="budget utilization (%)")
    right.set_xlim(0, 110)
    right.set_title("budget utilization (%) · rate-limit errors")
    for yi, (u, e) in enumerate(zip(util, errors, strict=True)):
        right.text(u + 1, yi, f"{u:.1f}% · {e:.0f} err", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "sweep.png", dpi=100)
    plt.close(fig)
    return "sweep.png"
