"""Running strategies: one run loop shared by backtests, live runs and bench cells.

* :mod:`engine.run.loop` -- :class:`RunLoop`: hosting, routing, the tally, the end;
* :mod:`engine.run.simulated` -- the simulated world and the course of a run in it;
* :mod:`engine.run.sampling` -- counter levels sampled on the run's clock;
* :mod:`engine.run.backtest` -- :func:`run_backtest`; :mod:`engine.run.sweep` and
  :mod:`engine.run.ranking` -- sweeps of backtests, ranked;
* :mod:`engine.run.live` -- :func:`run_live` (:mod:`~engine.run.live_config`,
  :mod:`~engine.run.live_start`); :mod:`engine.run.margins` -- the margins' bounds;
* :mod:`engine.run.summary`, :mod:`engine.run.report`, :mod:`engine.run.sweep_report` --
  what a run reports.

The names below are imported on first use (a backtest need not load the live venue).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "RunLoop": "loop",
    "Sample": "sampling", "Sampler": "sampling",
    "play": "simulated", "simulated_world": "simulated",
    "BacktestConfig": "backtest", "BacktestError": "backtest", "BacktestResult": "backtest",
    "Progress": "backtest", "run_backtest": "backtest",
    "SweepAxis": "sweep", "SweepError": "sweep", "SweepPlan": "sweep", "SweepRun": "sweep",
    "parse_axis": "sweep", "plan_sweep": "sweep", "run_sweep": "sweep",
    "RankBy": "ranking", "parse_rank_by": "ranking", "rank": "ranking",
    "LiveConfig": "live", "LiveError": "live", "LiveResult": "live", "run_live": "live",
    "MarginTooLarge": "live_config", "limiter_settings": "live_config",
    "MarginProblem": "margins", "margin_problem": "margins",
    "OutcomeTally": "summary", "Summary": "summary",
    "write_report": "report", "write_sweep_report": "sweep_report",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.run' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.run.{module}"), name)
