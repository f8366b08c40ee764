"""``grid``: a ladder of resting orders around the start price, replaced as they fill.

At the start, each pair gets ``levels`` buys below mid and ``levels`` sells above it,
``spacing_bps`` apart (level ``i`` at ``mid * (1 -/+ i * spacing)``), each worth
``order_notional`` quote units, placed with AddOrderBatch (up to 15 orders a request).
When a buy at price ``p`` fills, a sell goes up at ``p * (1 + spacing)``; when a sell
fills, a buy goes down at ``p * (1 - spacing)``: the classic grid that earns the spacing
on every round trip while the price oscillates.  Orders refused or expired are placed
again on the next tick.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.clordid import new_cl_ord_id
from engine.intents import AddOrder, AddOrderBatch, Side
from strategies.base import Fill, OrderUpdate, Strategy, Tick
from strategies.params import param

__all__ = ["Grid", "GridParams"]

_BPS = Decimal("0.0001")
_BATCH_MAX = 15


@attrs.frozen(slots=True)
class GridParams:
    """Parameters of :class:`Grid` (units in each help line)."""

    levels: int = param(5, "orders on each side of mid, per pair", ge=1, le=50)
    spacing_bps: float = param(10.0, "distance between neighbouring levels (bps)", gt=0)
    order_notional: float = param(500.0, "size of each order (quote currency)", gt=0)
    post_only: bool = param(True, "send orders as post-only (maker) orders")


class Grid(Strategy[GridParams]):
    """A ladder of orders, each replaced on the other side as it fills."""

    name = "grid"
    description = (
        "ladder of buy and sell orders around mid, each replaced on the other side as it fills"
    )
    params_type = GridParams

    def start(self) -> None:
        p = self.params
        self._spacing = Decimal(str(p.spacing_bps)) * _BPS
        self._notional = Decimal(str(p.order_notional))
        self._retry: list[AddOrder] = []  # refused orders, placed again on the next tick
        self.fills = 0
        for pair in self.ctx.pairs:
            mid = self.ctx.mid(pair)
            if mid is None:
                continue
            ladder = []
            for i in range(1, p.levels + 1):
                for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
                    price = self.ctx.round_price(pair, mid * (1 + sign * i * self._spacing), side)
                    ladder.append(self._order(pair, side, price, mid))
            for k in range(0, len(ladder), _BATCH_MAX):
                chunk = ladder[k:k + _BATCH_MAX]
                self.ctx.submit(chunk[0] if len(chunk) == 1 else AddOrderBatch(chunk))

    def _order(self, pair: str, side: Side, price: Decimal, mid: Decimal) -> AddOrder:
        volume = self.ctx.volume_for(pair, self._notional, mid)
        return self.ctx.limit_order(pair, side, volume, price, post_only=self.params.post_only)

    def on_fill(self, fill: Fill) -> None:
        self.fills += 1
        if fill.side is Side.BUY:
            side, price = Side.SELL, fill.price * (1 + self._spacing)
        else:
            side, price = Side.BUY, fill.price * (1 - self._spacing)
        price = self.ctx.round_price(fill.pair, price, side)
        self.ctx.submit(self._order(fill.pair, side, price, fill.price))

    def on_order_update(self, update: OrderUpdate) -> None:
        out = update.outcome
        if out is None or out.ok:
            return
        intent = out.intent
        orders = intent.orders if isinstance(intent, AddOrderBatch) else (
            (intent,) if isinstance(intent, AddOrder) else ()
        )
        for o in orders:
            if out.error is None or "never sent" not in out.error:
                self._retry.append(attrs.evolve(o, cl_ord_id=new_cl_ord_id(), deadline=None))

    def on_tick(self, tick: Tick) -> None:
        if not self._retry:
            return
        retry, self._retry = self._retry, []
        for o in retry:
            if o.pair != tick.pair:
                self._retry.append(o)
                continue
            mid = tick.price
            crosses = o.price is not None and (
                (o.side is Side.BUY and o.price >= mid) or (o.side is Side.SELL and o.price <= mid)
            )
            if not crosses:  # a level the price has passed is dropped
                self.ctx.submit(o)

    def stop(self) -> None:
        super().stop()
        self.ctx.report("grid", {"fills": self.fills})
