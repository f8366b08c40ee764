"""The strategy context and host: bookkeeping of orders, fills and positions; hooks; errors."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from engine.intents import AddOrderBatch, AmendOrder, CancelOrder, Side
from engine.run.backtest import BacktestConfig, run_backtest
from strategies import Fill, NoParams, OrderEvent, OrderUpdate, Strategy, Tick, param
from strategies.registry import Registry, StrategyInfo


def registry(*classes: type[Strategy[object]]) -> Registry:
    return Registry(StrategyInfo(c.name, "tests", f"tests:{c.__name__}", strategy=c)
                    for c in classes)


def run(cls: type[Strategy[object]], **kw: object) -> dict[str, object]:
    cfg = BacktestConfig(strategy=cls.name, **kw)  # type: ignore[arg-type]
    return run_backtest(cfg, registry=registry(cls)).summary.as_dict()


class Taker(Strategy[NoParams]):
    """Buys with marketable limit orders, many more than the open-order cap (60 on
    Starter): each fills on arrival, before the exchange's reply to the add."""

    name = "taker"
    description = "marketable buys every second"

    def start(self) -> None:
        self.fills: list[Fill] = []
        self._buy()

    def _buy(self) -> None:
        self.ctx.call_later(1.0, self._buy)
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        price = self.ctx.round_price(pair, mid * Decimal("1.01"), Side.SELL)
        vol = self.ctx.volume_for(pair, Decimal(10), mid)
        self.ctx.submit(self.ctx.limit_order(pair, Side.BUY, vol, price))

    def on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        assert self.ctx.order(fill.cl_ord_id) is None  # no longer live

    def stop(self) -> None:
        pair = self.ctx.pairs[0]
        self.ctx.report("taker", {
            "fills": len(self.fills),
            "position": str(self.ctx.position(pair)),
            "volume": str(sum((f.volume for f in self.fills), Decimal(0))),
            "cash_negative": self.ctx.cash(pair) < 0,
            "open": self.ctx.open_count(),
        })


def test_fills_before_the_ack_free_their_open_order_slot() -> None:
    s = run(Taker, tier="starter", pairs="XBT/USD", duration=200)
    r = s["strategy_report"]["taker"]  # type: ignore[index]
    assert r["fills"] >= 195  # far past the cap of 60: slots were freed
    assert r["position"] == r["volume"] and r["cash_negative"]
    assert r["open"] <= 1  # at most the buy submitted at the very end
    assert s["rate_limit_errors"] == 0 and s["unresolved"] == 0


@attrs.frozen(slots=True)
class QuoterParams:
    amend_every: float = param(3.0, "seconds", gt=0)


class Quoter(Strategy[QuoterParams]):
    """One resting bid, amended on a timer; records what the context says about it."""

    name = "quoter"
    description = "one bid, amended on a timer"
    params_type = QuoterParams

    def start(self) -> None:
        self.updates: list[OrderUpdate] = []
        self.ticks = 0
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        self.price = self.ctx.round_price(pair, mid * Decimal("0.98"), Side.BUY)
        order = self.ctx.limit_order(pair, Side.BUY, self.ctx.volume_for(pair, Decimal(50), mid),
                                     self.price)
        self.cid = order.cl_ord_id
        self.ctx.submit(order)
        view = self.ctx.order(self.cid)
        assert view is not None and view.pending and view.placed_at is None
        self.ctx.call_later(self.params.amend_every, self._amend)

    def _amend(self) -> None:
        view = self.ctx.order(self.cid)
        assert view is not None and not view.pending and view.txid is not None
        assert view.price == self.price
        self.price -= self.ctx.market(view.pair).tick_size
        self.ctx.submit(AmendOrder(self.cid, price=self.price))
        self.ctx.call_later(self.params.amend_every, self._amend)

    def on_tick(self, tick: Tick) -> None:
        assert self.ctx.mid(tick.pair) == tick.price
        self.ticks += 1

    def on_order_update(self, update: OrderUpdate) -> None:
        self.updates.append(update)

    def stop(self) -> None:
        super().stop()  # cancels the bid
        assert all(v.closing for v in self.ctx.open_orders())
        kinds = [type(u.outcome.intent).__name__ for u in self.updates if u.outcome]
        self.ctx.report("quoter", {
            "ticks": self.ticks, "amends": kinds.count("AmendOrder"),
            "all_outcomes": all(u.event is OrderEvent.OUTCOME for u in self.updates),
            "all_accepted": all(u.outcome is not None and u.outcome.ok for u in self.updates),
        })


def test_order_views_follow_acks_and_amends() -> None:
    s = run(Quoter, pairs="ETH/USD", duration=60, settings=("amend_every=7",))
    r = s["strategy_report"]["quoter"]  # type: ignore[index]
    assert s["failure"] is None
    assert r["ticks"] >= 59 and r["amends"] == 8  # at 7, 14, ..., 56 s
    assert r["all_outcomes"] and r["all_accepted"]
    assert s["outcomes"] == {"accepted": 10, "rejected": 0, "expired": 0, "coalesced": 0,
                            "failed": 0}  # the add, 8 amends, the cancel at stop


class Crasher(Strategy[NoParams]):
    name = "crasher"
    description = "raises on its tenth tick"

    def start(self) -> None:
        self.n = 0

    def on_tick(self, tick: Tick) -> None:
        self.n += 1
        if self.n == 10:
            raise RuntimeError("boom")


def test_a_strategy_exception_stops_the_run_with_a_clear_failure() -> None:
    s = run(Crasher, duration=600)
    assert s["failure"] == "strategy 'crasher' failed in on_tick: RuntimeError: boom"
    assert float(s["simulated_seconds"]) < 60  # type: ignore[arg-type]


class CancelUnknown(Strategy[NoParams]):
    name = "cancel-unknown"
    description = "cancels an order that does not exist"

    def start(self) -> None:
        self.ctx.submit(CancelOrder("no-such-order"))


def test_engine_refusal_at_submit_is_reported_as_failure() -> None:
    s = run(CancelUnknown, duration=30)
    assert "failed in start" in str(s["failure"]) and "unknown order" in str(s["failure"])


def test_timer_callbacks_stop_with_the_strategy() -> None:
    class Ticker(Strategy[NoParams]):
        name = "ticker"
        description = "counts timer callbacks"

        def start(self) -> None:
            self.calls = 0
            self._next()

        def _next(self) -> None:
            self.calls += 1
            self.ctx.call_later(1.0, self._next)

        def stop(self) -> None:
            self.ctx.report("calls", self.calls)

    s = run(Ticker, duration=50)
    assert s["strategy_report"] == {"calls": 51}  # t = 0, 1, ..., 50


@pytest.mark.parametrize("cls", [Taker, Quoter])
def test_strategy_classes_have_names(cls: type[Strategy[object]]) -> None:
    assert cls.name and cls.description


def test_a_strategy_whose_constructor_raises() -> None:
    class Broken(Strategy[NoParams]):
        name = "broken"
        description = "cannot be built"

        def __init__(self, ctx: object) -> None:
            raise ValueError("no way")

    s = run(Broken, duration=10)
    assert s["failure"] == "strategy 'broken' failed in __init__: ValueError: no way"
    assert s["intents"] == 0 and s["unresolved"] == 0


class Batcher(Strategy[NoParams]):
    """Places a ladder with one AddOrderBatch and reads what the context says about it."""

    name = "batcher"
    description = "one batch add, then looks at its orders"

    def start(self) -> None:
        pair = self.ctx.pairs[0]
        mid = self.ctx.mid(pair)
        assert mid is not None
        orders = [self.ctx.limit_order(pair, Side.BUY, self.ctx.volume_for(pair, Decimal(50), mid),
                                       self.ctx.round_price(pair, mid * Decimal(0.9 - i / 100),
                                                            Side.BUY), post_only=True)
                  for i in range(3)]
        self.ids = [o.cl_ord_id for o in orders]
        self.ctx.submit(AddOrderBatch(orders))
        self.ctx.call_later(5.0, self._look)

    def _look(self) -> None:
        views = [self.ctx.order(i) for i in self.ids]
        by_txid = [self.ctx.order(v.txid) if v is not None and v.txid else None for v in views]
        self.ctx.report("batch", {
            "txids": [v.txid if v is not None else None for v in views],
            "found_by_txid": [v is not None and v.cl_ord_id == i
                              for v, i in zip(by_txid, self.ids, strict=True)],
            "open": self.ctx.open_count(),
        })


def test_batch_placed_orders_show_their_txids_in_the_context() -> None:
    """Issue 9: the context kept a second book and lost the txids of batch-placed orders."""
    s = run(Batcher, pairs="XBT/USD", duration=10)
    r = s["strategy_report"]["batch"]  # type: ignore[index]
    assert all(isinstance(t, str) and t for t in r["txids"]), r
    assert r["found_by_txid"] == [True, True, True] and r["open"] == 3
