"""Price paths for the simulated exchange: a seeded random walk, or recorded trades.

A price path is any iterable of ``(time, price)`` pairs: ``time`` in clock seconds
(non-decreasing), ``price`` in quote units (> 0).  The exchange consumes it lazily, one
tick at a time, as its clock advances; a finite path leaves the last price in force.

* :class:`RandomWalk`: geometric Brownian steps, one every ``interval`` seconds:
  ``p[k] = p[k-1] * exp(volatility * z[k])`` with ``z[k]`` standard normal drawn from a
  :class:`random.Random` seeded by ``(seed, name)``, so each pair's path is the same in
  every run with the same seed (string seeding does not depend on ``PYTHONHASHSEED``).
  The default volatility, 2e-4 per 1 s step, is about 110 % a year -- lively BTC.
* :func:`load_trades_csv` reads Kraken's downloadable trade history (one file per pair,
  rows ``timestamp,price,volume``, UNIX seconds, no header) and :func:`trade_path` turns
  the trades into a path on the clock (``time = timestamp - epoch``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from engine.exchange.times import DEFAULT_EPOCH

__all__ = [
    "DEFAULT_VOLATILITY",
    "BadTradeRow",
    "PricePath",
    "RandomWalk",
    "Trade",
    "load_trades_csv",
    "parse_trades",
    "trade_path",
]

#: A price path: ``(clock seconds, price)`` pairs, times non-decreasing.
PricePath = Iterable[tuple[float, float]]

#: Standard deviation of the log-price step per tick (2e-4 per second ~ 110 %/year).
DEFAULT_VOLATILITY = 2e-4


class RandomWalk:
    """An endless, seeded geometric random walk starting at ``start`` at time ``t0``.

    Tick ``k`` (k = 0, 1, ...) is at ``t0 + k * interval`` seconds; tick 0 is ``start``.
    """

    __slots__ = ("interval", "name", "seed", "start", "t0", "volatility")

    def __init__(
        self, start: float, *, seed: int | str = 0, name: str = "", interval: float = 1.0,
        volatility: float = DEFAULT_VOLATILITY, t0: float = 0.0,
    ) -> None:
        if not (start > 0 and interval > 0 and volatility >= 0) or math.isinf(start):
            raise ValueError(
                f"bad random walk: start={start} interval={interval} volatility={volatility}"
            )
        self.start = float(start)
        self.seed = seed
        self.name = name
        self.interval = float(interval)
        self.volatility = float(volatility)
        self.t0 = float(t0)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        rng = random.Random(f"{self.seed}:{self.name}")
        gauss, exp, sigma = rng.gauss, math.exp, self.volatility
        price, t0, dt = self.start, self.t0, self.interval
        k = 0
        while True:
            yield (t0 + k * dt, price)
            k += 1
            price *= exp(sigma * gauss(0.0, 1.0))

    def __repr__(self) -> str:
        return (
            f"RandomWalk(start={self.start:g}, seed={self.seed!r}, name={self.name!r}, "
            f"interval={self.interval:g}, volatility={self.volatility:g})"
        )


class BadTradeRow(ValueError):
    """A line of a trade-history CSV that is not ``timestamp,price,volume``."""

    def __init__(self, line_no: int, line: str, why: str) -> None:
        self.line_no = line_no
        super().__init__(f"trade history line {line_no}: {why}: {line.strip()!r}")


@attrs.frozen(slots=True)
class Trade:
    """One recorded trade: ``timestamp`` (UNIX seconds), ``price`` (quote), ``volume`` (base)."""

    timestamp: float
    price: float
    volume: float


def parse_trades(lines: Iterable[str]) -> list[Trade]:
    """Trades from Kraken trade-history CSV lines; blank lines are skipped.

    Each row must have three finite numbers, ``price > 0``, ``volume >= 0``, and timestamps
    must not decrease; otherwise :class:`BadTradeRow` names the line.
    """
    trades: list[Trade] = []
    last = -math.inf
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = line.strip().split(",")
        if len(cells) != 3:
            raise BadTradeRow(no, line, f"expected 3 columns, got {len(cells)}")
        try:
            ts, price, volume = (float(c) for c in cells)
        except ValueError:
            raise BadTradeRow(no, line, "not a number") from None
        if not all(map(math.isfinite, (ts, price, volume))):
            raise BadTradeRow(no, line, "not finite")
        if price <= 0 or volume < 0:
            raise BadTradeRow(no, line, "price must be > 0 and volume >= 0")
        if ts < last:
            raise BadTradeRow(no, line, "timestamp goes backwards")
        last = ts
        trades.append(Trade(ts, price, volume))
    return trades


def load_trades_csv(path: str | Path) -> list[Trade]:
    """Trades from a Kraken trade-history CSV file (see :func:`parse_trades`)."""
    with open(path, encoding="ascii") as f:
        return parse_trades(f)


def trade_path(trades: Iterable[Trade], *, epoch: float = DEFAULT_EPOCH) -> PricePath:
    """The trades as a price path on a clock whose ``now() == 0`` is UNIX time ``epoch``."""
    return [(t.timestamp - epoch, t.price) for t in trades]
