"""``twap``: a parent order on each pair, sliced into child limit orders over a window.

The parent is ``notional`` quote units of ``side`` per pair, fixed in base units at the
start price.  The window (``window`` seconds, or the whole run less ``finish_lead``) is cut
into ``slices`` equal intervals.  At the start of slice ``k`` the schedule wants
``(k + 1) / slices`` of the parent done:

* the child resting from the previous slice (if any) is **amended** to the new passive
  price (``offset_bps`` inside mid) and to the volume still behind schedule;
* with no child resting, a new child limit order carries that volume.

Every child and amend carries a ``deadline`` at the next slice, so an intent the budget
could not send in time expires instead of going out stale; the next slice catches up.
``finish_lead`` seconds before the window ends, whatever is left is swept: the resting
child is amended to a marketable price (``cross_bps`` through mid) or, with none resting,
an IOC limit order at that price is sent, with the window's end as its deadline.  So the
parent finishes on time even when the budget is tight; any shortfall (volume not done by
the end) is reported in the summary under ``twap``.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import attrs

from engine.intents import AmendOrder, Side
from strategies.base import Fill, OrderUpdate, Strategy
from strategies.params import param

__all__ = ["Twap", "TwapParams"]

_BPS = Decimal("0.0001")


@attrs.frozen(slots=True)
class TwapParams:
    """Parameters of :class:`Twap` (units in each help line)."""

    side: Side = param(Side.BUY, "side of the parent order")  # noqa: RUF009 -- attrs field
    notional: float = param(25_000.0, "parent order size per pair (quote currency)", gt=0)
    window: float = param(
        0.0, "seconds to execute over; 0: the whole run less finish_lead", ge=0
    )
    slices: int = param(20, "number of child slices", ge=1, le=10_000)
    offset_bps: float = param(2.0, "passive child price: this far inside mid (bps)", ge=0)
    cross_bps: float = param(20.0, "final sweep price: this far through mid (bps)", gt=0)
    finish_lead: float = param(
        15.0, "seconds before the window's end at which the remainder is swept", gt=0
    )


class _Parent:
    """One pair's parent order."""

    __slots__ = ("child", "done", "filled", "sent_sweep", "target")

    def __init__(self, target: Decimal) -> None:
        self.target = target  # base units
        self.filled = Decimal(0)
        self.child: str | None = None  # cl_ord_id of the resting child
        self.done = False
        self.sent_sweep = False


class Twap(Strategy[TwapParams]):
    """Time-weighted execution of a parent order per pair."""

    name = "twap"
    description = (
        "parent order per pair sliced into child limit orders over a window; finishes on "
        "time and reports any shortfall"
    )
    params_type = TwapParams

    def start(self) -> None:
        p = self.params
        now = self.ctx.now()
        window = p.window
        if window <= 0:
            if self.ctx.end is None:
                raise ValueError("twap: window=0 needs a run with an end; set window=SECONDS")
            window = self.ctx.end - now - p.finish_lead
        if window <= 0:
            raise ValueError(f"twap: the window ({window:g} s) leaves no time to trade")
        self._start = now
        self._window = window
        self._step = window / p.slices
        self._sweep_at = now + window
        self._end = self._sweep_at + p.finish_lead
        self._parents: dict[str, _Parent] = {}
        notional = Decimal(str(p.notional))
        for pair in self.ctx.pairs:
            mid = self.ctx.mid(pair)
            if mid is None:
                continue
            self._parents[pair] = _Parent(self.ctx.volume_for(pair, notional, mid))
        for k in range(p.slices):
            self.ctx.call_at(now + k * self._step, functools.partial(self._slice, k))
        self.ctx.call_at(self._sweep_at, self._sweep)
        self.ctx.call_at(self._end, self._finish)

    # -- schedule ------------------------------------------------------------------------

    def _behind(self, parent: _Parent, fraction: Decimal) -> Decimal:
        return parent.target * fraction - parent.filled

    def _price(self, pair: str, mid: Decimal, bps: Decimal, aggressive: bool) -> Decimal:
        """``bps`` through mid (``aggressive``) or inside it, rounded the same way."""
        side = self.params.side
        # a buy goes above mid to cross and below to rest; a sell the other way round
        up = (side is Side.BUY) == aggressive
        price = mid * (1 + (bps if up else -bps) * _BPS)
        return self.ctx.round_price(pair, price, Side.SELL if up else Side.BUY)

    def _slice(self, k: int) -> None:
        p = self.params
        frac = Decimal(k + 1) / Decimal(p.slices)
        deadline = self._start + (k + 1) * self._step
        for pair, parent in self._parents.items():
            mid = self.ctx.mid(pair)
            if parent.done or mid is None:
                continue
            volume = self._behind(parent, frac)
            m = self.ctx.market(pair)
            price = self._price(pair, mid, Decimal(str(p.offset_bps)), aggressive=False)
            if volume < m.ordermin or volume * price < m.costmin:
                continue  # too small for one order: carried into the next slice
            volume = self._lot(pair, volume)
            live = self.ctx.order(parent.child) if parent.child else None
            if live is not None and not live.closing and not live.pending:
                self.ctx.submit(AmendOrder(live.cl_ord_id, price=price, volume=volume,
                                           deadline=deadline))
            elif live is None:
                order = self.ctx.limit_order(pair, p.side, volume, price, deadline=deadline)
                self.ctx.submit(order)
                parent.child = order.cl_ord_id

    def _sweep(self) -> None:
        p = self.params
        for pair, parent in self._parents.items():
            mid = self.ctx.mid(pair)
            if parent.done or mid is None:
                continue
            volume = self._lot(pair, parent.target - parent.filled)
            m = self.ctx.market(pair)
            price = self._price(pair, mid, Decimal(str(p.cross_bps)), aggressive=True)
            if volume < m.ordermin or volume * price < m.costmin:
                continue
            parent.sent_sweep = True
            live = self.ctx.order(parent.child) if parent.child else None
            if live is not None and not live.closing and not live.pending:
                self.ctx.submit(AmendOrder(live.cl_ord_id, price=price, volume=volume,
                                           deadline=self._end))
            elif live is None:
                order = self.ctx.limit_order(pair, p.side, volume, price, ioc=True,
                                             deadline=self._end)
                self.ctx.submit(order)
                parent.child = order.cl_ord_id
            # a pending child (add still unacknowledged) is left to fill or be cancelled

    def _finish(self) -> None:
        for parent in self._parents.values():
            parent.done = True
        super().stop()  # cancel whatever still rests
        self._report()

    def _lot(self, pair: str, volume: Decimal) -> Decimal:
        lot = Decimal(1).scaleb(-self.ctx.market(pair).lot_decimals)
        return volume.quantize(lot)

    # -- hooks ---------------------------------------------------------------------------

    def on_fill(self, fill: Fill) -> None:
        parent = self._parents.get(fill.pair)
        if parent is None:
            return
        parent.filled += fill.volume
        if parent.child == fill.cl_ord_id:
            parent.child = None
        if parent.filled >= parent.target:
            parent.done = True

    def on_order_update(self, update: OrderUpdate) -> None:
        for parent in self._parents.values():
            child = parent.child
            if child is not None and child == update.cl_ord_id and self.ctx.order(child) is None:
                parent.child = None  # refused, expired or closed: the next slice re-adds

    def stop(self) -> None:
        super().stop()
        self._report()

    def _report(self) -> None:
        out = {}
        for pair, parent in self._parents.items():
            short = max(Decimal(0), parent.target - parent.filled)
            out[pair] = {
                "side": self.params.side.value,
                "target": float(parent.target),
                "filled": float(parent.filled),
                "shortfall": float(short),
                "shortfall_pct": round(float(short / parent.target * 100), 3),
            }
        self.ctx.report("twap", out)
