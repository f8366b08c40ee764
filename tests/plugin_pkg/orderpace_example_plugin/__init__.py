"""A minimal third-party strategy: one small order per pair, cancelled and placed again.

Every ``interval`` seconds it cancels its resting order on each pair (if any) and places a
new one ``distance_bps`` below mid.  Registered as ``example`` by the metadata that
:func:`orderpace_example_plugin.dist.install` writes.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.intents import CancelOrder, Side
from strategies import Strategy, param


@attrs.frozen(slots=True)
class ExampleParams:
    """Parameters of :class:`Example`."""

    interval: float = param(20.0, "seconds between replacements", gt=0)
    distance_bps: float = param(50.0, "order price below mid (bps)", gt=0)


class Example(Strategy[ExampleParams]):
    """Place, cancel, place again."""

    name = "example"
    description = "example plugin: one small bid per pair, replaced every interval"
    params_type = ExampleParams

    def start(self) -> None:
        self.placed = 0
        self._cycle()

    def _cycle(self) -> None:
        self.ctx.call_later(self.params.interval, self._cycle)
        for order in self.ctx.open_orders():
            if not order.closing:
                self.ctx.submit(CancelOrder(order.cl_ord_id))
        for pair in self.ctx.pairs:
            mid = self.ctx.mid(pair)
            if mid is None:
                continue
            price = self.ctx.round_price(
                pair, mid * (1 - Decimal(str(self.params.distance_bps)) / 10_000), Side.BUY
            )
            volume = self.ctx.volume_for(pair, Decimal(20), mid)
            self.ctx.submit(self.ctx.limit_order(pair, Side.BUY, volume, price))
            self.placed += 1

    def stop(self) -> None:
        super().stop()
        self.ctx.report("example", {"placed": self.placed})


class NotAStrategy:
    """Registered by the broken-plugin tests: not a Strategy subclass."""
