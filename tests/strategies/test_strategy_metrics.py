"""``ctx.metrics()``: a strategy reads the engine's own metrics snapshot."""

from __future__ import annotations

from decimal import Decimal

from engine.core.metrics import MetricsSnapshot
from engine.intents import Side
from engine.run.backtest import BacktestConfig, run_backtest
from strategies import NoParams, Strategy, Tick
from strategies.registry import Registry, StrategyInfo


class Watcher(Strategy[NoParams]):
    """Places one bid, then records what ``ctx.metrics()`` says on every tick."""

    name = "watcher"
    description = "one bid, metrics read on every tick"

    def start(self) -> None:
        self.seen: list[MetricsSnapshot] = []
        self.same_as_engine = True
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        price = self.ctx.round_price(pair, mid * Decimal("0.95"), Side.BUY)
        self.ctx.submit(self.ctx.limit_order(
            pair, Side.BUY, self.ctx.volume_for(pair, Decimal(20), mid), price))
        self.at_submit = self.ctx.metrics()  # the add has just been charged and sent

    def on_tick(self, tick: Tick) -> None:
        snap = self.ctx.metrics()
        self.same_as_engine &= snap == self.ctx._engine.metrics()
        self.seen.append(snap)

    def stop(self) -> None:
        pair = self.ctx.pairs[0]
        last = self.seen[-1]
        self.ctx.report("watcher", {
            "snapshots": len(self.seen),
            "all_snapshots": all(isinstance(s, MetricsSnapshot) for s in self.seen),
            "same_as_engine": self.same_as_engine,
            "times_follow_clock": [s.time for s in self.seen] == sorted(s.time for s in
                                                                        self.seen),
            "trading_max": last.trading_max,
            "at_submit": [self.at_submit.trading_levels.get(pair), self.at_submit.inflight],
            "open_orders": last.open_orders.get(pair, 0),
            "accepted": last.outcomes.get("accepted", 0),
        })
        super().stop()


def test_metrics_is_the_engines_snapshot() -> None:
    reg = Registry([StrategyInfo("watcher", "tests", "tests:Watcher", strategy=Watcher)])
    cfg = BacktestConfig(strategy="watcher", pairs="XBT/USD", duration=10)
    s = run_backtest(cfg, registry=reg).summary
    assert s.failure is None
    r = s.strategy_report["watcher"]
    assert r["snapshots"] >= 9 and r["all_snapshots"] and r["same_as_engine"]
    assert r["times_follow_clock"] and r["trading_max"] == 125
    assert r["at_submit"] == [1.0, 1]  # AddOrder: +1 unit, one request on the wire
    assert r["open_orders"] == 1 and r["accepted"] == 1
