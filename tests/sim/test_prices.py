"""Price paths: the seeded random walk and Kraken trade-history CSV files."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from engine.clock import DEFAULT_EPOCH
from engine.exchange import (
    BadTradeRow,
    OrderFilled,
    RandomWalk,
    SimulatedKraken,
    Trade,
    load_trades_csv,
    parse_trades,
    trade_path,
)

from .simkit import add, flat, txid


def first(walk: RandomWalk, n: int) -> list[tuple[float, float]]:
    return list(itertools.islice(walk, n))


def test_random_walk_is_deterministic_per_seed_and_name() -> None:
    a = first(RandomWalk(100.0, seed=7, name="XBT/USD"), 200)
    assert a == first(RandomWalk(100.0, seed=7, name="XBT/USD"), 200)
    assert a != first(RandomWalk(100.0, seed=8, name="XBT/USD"), 200)
    assert a != first(RandomWalk(100.0, seed=7, name="ETH/USD"), 200)
    assert [t for t, _ in a[:3]] == [0.0, 1.0, 2.0] and a[0][1] == 100.0
    assert all(p > 0 for _, p in a)


def test_random_walk_steps_are_small_log_steps() -> None:
    path = first(RandomWalk(60000.0, seed=1, volatility=2e-4, interval=0.5, t0=10.0), 1000)
    assert path[1][0] == 10.5
    ratios = [b / a for (_, a), (_, b) in itertools.pairwise(path)]
    assert max(abs(r - 1) for r in ratios) < 2e-3  # 10 sigma
    assert first(RandomWalk(5.0, volatility=0.0), 3) == [(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)]


@pytest.mark.parametrize(
    "kwargs", [{"start": 0.0}, {"start": 1.0, "interval": 0.0}, {"start": 1.0, "volatility": -1}]
)
def test_random_walk_refuses_bad_settings(kwargs: dict[str, float]) -> None:
    start = kwargs.pop("start")
    with pytest.raises(ValueError, match="bad random walk"):
        RandomWalk(start, **kwargs)  # type: ignore[arg-type]


def test_exchange_prices_are_deterministic_per_seed() -> None:
    def price_after(seed: int) -> Decimal:
        x = SimulatedKraken(seed=seed)
        x.advance(500.0)
        return x.price("XBT/USD")

    assert price_after(3) == price_after(3)
    assert price_after(3) != price_after(4)
    x = SimulatedKraken(seed=3)
    assert x.price("XBT/USD") == Decimal("60000.0")
    x.advance(500.0)
    assert x.price("XBT/USD") % Decimal("0.1") == 0  # on the tick grid


def test_parse_trades_reads_kraken_trade_history_rows() -> None:
    lines = ["1704067200,42000.1,0.5\n", "\n", "1704067201.5,42001.0,0.00100000\n"]
    assert parse_trades(lines) == [
        Trade(1704067200.0, 42000.1, 0.5), Trade(1704067201.5, 42001.0, 0.001)]


@pytest.mark.parametrize(
    ("line", "why"),
    [("1,2", "3 columns"), ("1,2,3,4", "3 columns"), ("a,2,3", "not a number"),
     ("1,nan,3", "not finite"), ("1,-2,3", "price must be > 0"), ("1,2,-3", "volume >= 0"),
     ("0.5,2,3", "backwards")],
)
def test_parse_trades_names_the_bad_line(line: str, why: str) -> None:
    with pytest.raises(BadTradeRow, match=why) as info:
        parse_trades(["1,1,1", line])
    assert info.value.line_no == 2
    assert isinstance(info.value, ValueError)


def test_csv_replay_drives_fills(tmp_path: Path) -> None:
    csv = tmp_path / "XBTUSD.csv"
    e = DEFAULT_EPOCH
    csv.write_text(f"{e - 5},60000.0,1\n{e + 10},59000.04,0.1\n{e + 20},61000.0,0.2\n")
    trades = load_trades_csv(csv)
    assert len(trades) == 3
    path = trade_path(trades, epoch=e)
    assert list(path) == [(-5.0, 60000.0), (10.0, 59000.04), (20.0, 61000.0)]
    x = SimulatedKraken(prices={**flat(), "XBTUSD": path})
    events: list[object] = []
    x.subscribe(events.append)
    t = txid(add(x, 0.0, price="59500.0"))
    x.advance(9.0)
    assert x.open_order_count("XBT/USD") == 1
    x.advance(10.0)
    assert x.price("XBT/USD") == Decimal("59000.0")  # rounded to the tick grid
    fills = [ev for ev in events if isinstance(ev, OrderFilled)]
    assert [(f.txid, f.time, f.price) for f in fills] == [(t, 10.0, Decimal("59500.0"))]
    x.advance(1000.0)
    assert x.price("XBT/USD") == Decimal("61000.0")  # the last price stays after the path
    assert x.next_event_time() == float("inf")


def test_bad_ticks_in_a_price_path_are_refused() -> None:
    with pytest.raises(ValueError, match="bad price tick"):
        SimulatedKraken(prices={"XBT/USD": [(0.0, float("nan"))]})
