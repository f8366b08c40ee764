"""``burst``: a load generator that offers far more adds than the budget allows.

On each pair it offers ``orders_per_second`` new limit orders, ``distance_bps`` away from
mid (so they rest and do not fill), alternating sides at random, for as long as fewer than
``max_open_orders`` of its orders are live (queued, in flight or resting) on that pair;
offers made at the cap are skipped and counted.  Each add carries a ``deadline``
``add_deadline`` seconds ahead (0: none), so adds the budget cannot send in time expire.
Once acknowledged, each order is cancelled at a random age drawn uniformly from
``cancel_age`` (``LOW..HIGH`` seconds): young cancels are Kraken's dearest transaction.

All randomness comes from the run's seeded ``ctx.rng``: a run is repeatable.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.intents import AddOrder, CancelOrder, Side
from strategies.base import OrderUpdate, Strategy
from strategies.params import param

__all__ = ["Burst", "BurstParams"]

_BPS = Decimal("0.0001")


@attrs.frozen(slots=True)
class BurstParams:
    """Parameters of :class:`Burst` (units in each help line)."""

    orders_per_second: float = param(20.0, "adds offered per second, per pair", gt=0, le=1000)
    max_open_orders: int = param(40, "live orders per pair (queued, in flight or resting)", ge=1)
    cancel_age: tuple[float, float] = param(
        (1.0, 30.0), "cancel each order at a random age in this range (seconds)", ge=0
    )
    distance_bps: float = param(200.0, "order price distance from mid (bps)", gt=0, lt=10_000)
    order_notional: float = param(50.0, "size of each order (quote currency)", gt=0)
    add_deadline: float = param(5.0, "an add still queued after this long expires (s; 0: never)",
                                ge=0)


class Burst(Strategy[BurstParams]):
    """Adds at a fixed offered rate up to a cap; each cancelled at a random age."""

    name = "burst"
    description = (
        "load generator: offers far more adds than the budget allows and cancels each at a "
        "random seeded age"
    )
    params_type = BurstParams

    def start(self) -> None:
        p = self.params
        self._interval = 1.0 / p.orders_per_second
        self._distance = Decimal(str(p.distance_bps)) * _BPS
        self._notional = Decimal(str(p.order_notional))
        self.offered = self.skipped = self.cancels = 0
        for pair in self.ctx.pairs:
            self._offer(pair)

    def _offer(self, pair: str) -> None:
        p = self.params
        self.ctx.call_later(self._interval, lambda: self._offer(pair))
        mid = self.ctx.mid(pair)
        if mid is None:
            return
        self.offered += 1
        if self.ctx.open_count(pair) >= p.max_open_orders:
            self.skipped += 1
            return
        side = Side.BUY if self.ctx.rng.random() < 0.5 else Side.SELL
        sign = -1 if side is Side.BUY else 1
        price = self.ctx.round_price(pair, mid * (1 + sign * self._distance), side)
        volume = self.ctx.volume_for(pair, self._notional, mid)
        deadline = self.ctx.now() + p.add_deadline if p.add_deadline > 0 else None
        self.ctx.submit(self.ctx.limit_order(pair, side, volume, price, deadline=deadline))

    def on_order_update(self, update: OrderUpdate) -> None:
        out = update.outcome
        if out is None or not out.ok or not isinstance(out.intent, AddOrder):
            return
        cid = out.intent.cl_ord_id
        lo, hi = self.params.cancel_age
        self.ctx.call_later(self.ctx.rng.uniform(lo, hi), lambda: self._cancel(cid))

    def _cancel(self, cid: str) -> None:
        live = self.ctx.order(cid)
        if live is not None and not live.closing:
            self.ctx.submit(CancelOrder(cid))
            self.cancels += 1

    def stop(self) -> None:
        super().stop()
        self.ctx.report("burst", {
            "offered": self.offered, "skipped_at_cap": self.skipped, "cancels": self.cancels,
        })
