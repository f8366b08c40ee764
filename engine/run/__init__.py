"""Running a strategy: backtests on the simulated exchange (:mod:`engine.run.backtest`),
live runs (:mod:`engine.run.live`), their summaries and reports."""
