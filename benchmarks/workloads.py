"""The five bench workloads: which strategies run, on which pairs, for how long.

Each :class:`Workload` is a list of :class:`StrategySpec` sharing one API key (one
account on the simulated exchange).  Durations are simulated seconds: ``full`` for the
suite, ``quick`` for ``--quick`` (and the ``make test`` smoke check).

1. ``saturate`` -- saturating adds on one pair (:class:`~benchmarks.loads.Saturate`);
2. ``burst`` -- adds offered at 20/s per pair, each cancelled at a random age of 1-30 s
   (age-dependent cancel penalties: 8 units when younger than 5 s);
3. ``market-maker`` -- two-sided quotes re-quoted with AmendOrder on three pairs;
4. ``orders+queries`` -- burst-style orders plus private queries (trading counter and
   API counter together);
5. ``shared-key`` -- market-maker (3 pairs), burst (XBT/USD) and twap (ETH/USD) sharing
   one key.

``saturating`` marks the workloads whose offered load always exceeds the budget, where
the target is >= 99% budget utilization.
"""

from __future__ import annotations

from typing import Any

import attrs

from benchmarks.loads import OrdersAndQueries, Saturate
from strategies.base import Strategy
from strategies.burst import Burst
from strategies.market_maker import MarketMaker
from strategies.twap import Twap

__all__ = ["WORKLOADS", "StrategySpec", "Workload", "workload"]

XBT, ETH, SOL = "XBT/USD", "ETH/USD", "SOL/USD"


@attrs.frozen(slots=True)
class StrategySpec:
    """One strategy of a workload: its class, ``key=value`` parameters and pairs."""

    strategy: type[Strategy[Any]]
    pairs: tuple[str, ...]
    settings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.strategy.name


@attrs.frozen(slots=True)
class Workload:
    """A named set of strategies on one key; ``full`` / ``quick`` durations in seconds."""

    name: str
    description: str
    strategies: tuple[StrategySpec, ...]
    full: float
    quick: float
    saturating: bool = False

    @property
    def pairs(self) -> tuple[str, ...]:
        """Every pair any of its strategies trades, in first-seen order."""
        seen: dict[str, None] = {}
        for s in self.strategies:
            seen.update(dict.fromkeys(s.pairs))
        return tuple(seen)

    def duration(self, quick: bool) -> float:
        return self.quick if quick else self.full


def _spec(strategy: type[Strategy[Any]], pairs: tuple[str, ...], *settings: str) -> StrategySpec:
    return StrategySpec(strategy, pairs, tuple(settings))


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "saturate", "saturating IOC adds on one pair (20 outstanding)",
        (_spec(Saturate, (XBT,)),), full=600.0, quick=10.0, saturating=True,
    ),
    Workload(
        "burst", "adds at 20/s per pair, each cancelled at a random age of 1-30 s",
        (_spec(Burst, (XBT, ETH)),), full=600.0, quick=10.0, saturating=True,
    ),
    Workload(
        "market-maker", "two-sided quotes re-quoted with AmendOrder on three pairs",
        (_spec(MarketMaker, (XBT, ETH, SOL)),), full=600.0, quick=10.0,
    ),
    Workload(
        "orders+queries", "burst-style orders on one pair plus 1 private query/s",
        (_spec(OrdersAndQueries, (XBT,)),), full=600.0, quick=10.0,
    ),
    Workload(
        "shared-key", "market-maker (3 pairs) + burst (XBT/USD) + twap (ETH/USD) on one key",
        (
            _spec(MarketMaker, (XBT, ETH, SOL)),
            _spec(Burst, (XBT,), "orders_per_second=10"),
            _spec(Twap, (ETH,), "slices=40"),
        ),
        full=600.0, quick=20.0,  # twap sweeps 15 s before the end: 20 s leaves it a window
    ),
)


def workload(name: str) -> Workload:
    """The workload called ``name`` (:class:`KeyError` listing the names otherwise)."""
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(f"unknown workload {name!r}; known: {', '.join(w.name for w in WORKLOADS)}")
