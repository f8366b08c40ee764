"""Bench-only strategies: loads the built-in strategies do not generate.

* :class:`Saturate` keeps ``depth`` AddOrders outstanding (queued or in flight) on each
  of its pairs, forever: the add budget is always the bottleneck.  Each add is an IOC limit
  order ``distance_bps`` away from mid on the passive side, so it never fills and never
  rests (Kraken cancels an IOC order that does not cross at once): no open-order cap, no
  cancel penalty, only the add penalty (+1 each).
* :class:`OrdersAndQueries` is :class:`~strategies.burst.Burst` plus private queries
  (OpenOrders 2, Balance 1, QueryOrders 1, ClosedOrders 2 units on the API counter) offered
  at ``queries_per_second``, at most ``max_queries`` outstanding: the trading counter and
  the API counter are both under pressure at once.

Both are driven by the run's seeded ``ctx.rng``: a run is repeatable.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.intents import (
    AddOrder,
    Intent,
    QueryBalance,
    QueryClosedOrders,
    QueryOpenOrders,
    QueryOrders,
    Side,
)
from strategies.base import OrderUpdate, Strategy
from strategies.burst import Burst, BurstParams
from strategies.params import param

__all__ = ["OrderQueryParams", "OrdersAndQueries", "Saturate", "SaturateParams"]

_BPS = Decimal("0.0001")
_SIMPLE = (QueryOpenOrders, QueryBalance, QueryClosedOrders)
_QUERIES = (*_SIMPLE, QueryOrders)


@attrs.frozen(slots=True)
class SaturateParams:
    """Parameters of :class:`Saturate` (units in each help line)."""

    depth: int = param(20, "adds kept outstanding per pair (queued or in flight)", ge=1, le=1000)
    distance_bps: float = param(
        500.0, "IOC price this far from mid on the passive side (bps): never fills", gt=0,
        lt=10_000,
    )
    order_notional: float = param(50.0, "size of each order (quote currency)", gt=0)


class Saturate(Strategy[SaturateParams]):
    """Always ``depth`` IOC adds outstanding per pair: a pure add-rate load."""

    name = "saturate"
    description = "keeps a fixed number of non-filling IOC adds outstanding on each pair"
    params_type = SaturateParams

    def start(self) -> None:
        self._distance = Decimal(str(self.params.distance_bps)) * _BPS
        self._notional = Decimal(str(self.params.order_notional))
        self.adds = 0
        for pair in self.ctx.pairs:
            for _ in range(self.params.depth):
                self._add(pair)

    def _add(self, pair: str) -> None:
        mid = self.ctx.mid(pair)
        if mid is None:
            return
        side = Side.BUY if self.ctx.rng.random() < 0.5 else Side.SELL
        sign = -1 if side is Side.BUY else 1
        price = self.ctx.round_price(pair, mid * (1 + sign * self._distance), side)
        volume = self.ctx.volume_for(pair, self._notional, mid)
        self.ctx.submit(self.ctx.limit_order(pair, side, volume, price, ioc=True))
        self.adds += 1

    def on_order_update(self, update: OrderUpdate) -> None:
        out = update.outcome
        if out is not None and isinstance(out.intent, AddOrder):
            self._add(out.intent.pair)  # one resolved, one more offered

    def stop(self) -> None:
        self.ctx.report("saturate", {"adds": self.adds})


@attrs.frozen(slots=True)
class OrderQueryParams(BurstParams):
    """:class:`~strategies.burst.BurstParams` plus the query load (units in each help)."""

    queries_per_second: float = param(1.0, "private queries offered per second", gt=0, le=100)
    max_queries: int = param(4, "queries outstanding at most; offers beyond are skipped", ge=1)


class OrdersAndQueries(Burst):
    """:class:`~strategies.burst.Burst` with a stream of private queries beside it."""

    name = "orders-and-queries"
    description = "burst-style adds and cancels plus OpenOrders/Balance/QueryOrders polling"
    params_type = OrderQueryParams

    def start(self) -> None:
        super().start()
        p = self.params
        assert isinstance(p, OrderQueryParams)
        self._query_interval = 1.0 / p.queries_per_second
        self._max_queries = p.max_queries
        self.queries = self.queries_skipped = self._outstanding = 0
        self._next = 0
        self._query()

    def _query(self) -> None:
        self.ctx.call_later(self._query_interval, self._query)
        if self._outstanding >= self._max_queries:
            self.queries_skipped += 1
            return
        intent: Intent = _SIMPLE[self._next % len(_SIMPLE)]()
        self._next += 1
        if self._next % 4 == 0:  # every fourth: QueryOrders on one of our own orders
            known = [o.txid for o in self.ctx.open_orders() if o.txid is not None]
            if known:
                intent = QueryOrders((known[0],))
        self.ctx.submit(intent)
        self._outstanding += 1
        self.queries += 1

    def on_order_update(self, update: OrderUpdate) -> None:
        out = update.outcome
        if out is not None and isinstance(out.intent, _QUERIES):
            self._outstanding -= 1
            return
        super().on_order_update(update)

    def stop(self) -> None:
        super().stop()
        self.ctx.report("queries", {"offered": self.queries, "skipped": self.queries_skipped})
