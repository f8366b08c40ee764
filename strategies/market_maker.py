"""``market-maker``: two-sided quotes around mid on every pair, kept close to the price.

On each pair the strategy keeps one bid at ``mid * (1 - spread_bps / 1e4)`` and one ask at
``mid * (1 + spread_bps / 1e4)`` (rounded away from mid to the pair's tick), each worth
``order_notional`` quote units.  When mid has moved ``requote_bps`` or more from where the
quotes were last set, both are moved: with an **AmendOrder** when the quote is live (the
engine folds it into a still-queued add, or replaces an older queued amend), and with a
**cancel and replace** when an amend is refused.  A filled quote is replaced on the next
tick.

Inventory: when the pair's position is worth ``max_inventory`` quote units or more, the
side that would add to it is pulled (cancelled) until fills bring it back under.

This makes the strategy heavy on amends and cancels of young orders -- the costly part of
Kraken's penalty table -- which is what the engine's pacing has to absorb.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.intents import AddOrder, AmendOrder, CancelOrder, Side
from engine.outcomes import Status
from strategies.base import Fill, OrderEvent, OrderUpdate, Strategy, Tick
from strategies.params import param

__all__ = ["MarketMaker", "MarketMakerParams"]

_BPS = Decimal("0.0001")


@attrs.frozen(slots=True)
class MarketMakerParams:
    """Parameters of :class:`MarketMaker` (units in each help line)."""

    spread_bps: float = param(8.0, "distance of each quote from mid (basis points)", gt=0, lt=5000)
    requote_bps: float = param(
        2.0, "move both quotes when mid moved this far since the last requote (bps)", gt=0
    )
    order_notional: float = param(500.0, "size of each quote (quote currency, e.g. USD)", gt=0)
    max_inventory: float = param(
        5000.0, "pull the side adding to a position worth this much (quote currency)", gt=0
    )
    post_only: bool = param(True, "send quotes as post-only (maker) orders")


class _Quotes:
    """One pair's quoting state."""

    __slots__ = ("anchor", "ids", "prices")

    def __init__(self) -> None:
        self.anchor: Decimal | None = None  # mid at the last requote
        self.ids: dict[Side, str | None] = {Side.BUY: None, Side.SELL: None}
        self.prices: dict[Side, Decimal] = {}  # the price last asked for, per side


class MarketMaker(Strategy[MarketMakerParams]):
    """Two-sided quoting with amends, cancel-and-replace and an inventory limit."""

    name = "market-maker"
    description = (
        "two-sided quotes around mid on each pair, amended as mid moves, pulled at the "
        "inventory limit"
    )
    params_type = MarketMakerParams

    def start(self) -> None:
        p = self.params
        self._spread = Decimal(str(p.spread_bps)) * _BPS
        self._requote = Decimal(str(p.requote_bps)) * _BPS
        self._notional = Decimal(str(p.order_notional))
        self._max_inv = Decimal(str(p.max_inventory))
        self._state = {pair: _Quotes() for pair in self.ctx.pairs}
        self.amends = self.replacements = self.pulls = self.fills = 0
        self.adopted = 0
        for pair in self.ctx.pairs:
            self._take_over(pair)
        for pair in self.ctx.pairs:
            mid = self.ctx.mid(pair)
            if mid is not None:
                self._requote_pair(pair, mid)

    # -- hooks ---------------------------------------------------------------------------

    def on_tick(self, tick: Tick) -> None:
        q = self._state.get(tick.pair)
        if q is None:
            return
        mid = tick.price
        moved = q.anchor is None or abs(mid - q.anchor) >= self._requote * q.anchor
        if moved or q.ids[Side.BUY] is None or q.ids[Side.SELL] is None:
            self._requote_pair(tick.pair, mid, move=moved)

    def on_fill(self, fill: Fill) -> None:
        q = self._state.get(fill.pair)
        if q is not None and q.ids.get(fill.side) == fill.cl_ord_id:
            q.ids[fill.side] = None  # replaced on the next tick
        self.fills += 1

    def on_order_update(self, update: OrderUpdate) -> None:
        out = update.outcome
        if update.event is OrderEvent.CLOSED:
            self._drop(update.cl_ord_id)
            return
        if out is None or out.ok:
            return
        intent = out.intent
        if isinstance(intent, AddOrder):
            self._drop(intent.cl_ord_id)  # refused or expired: placed again on the next tick
        elif isinstance(intent, AmendOrder) and out.status is Status.REJECTED:
            self._replace(intent.order_id)

    def stop(self) -> None:
        super().stop()
        pnl = {}
        for pair in self.ctx.pairs:
            mid = self.ctx.mid(pair) or Decimal(0)
            pos = self.ctx.position(pair)
            pnl[pair] = {
                "position": float(pos),
                "pnl": round(float(self.ctx.cash(pair) + pos * mid), 2),
            }
        self.ctx.report("market_maker", {
            "fills": self.fills, "amends": self.amends, "replacements": self.replacements,
            "pulls": self.pulls, "adopted": self.adopted, "pairs": pnl,
        })

    # -- quoting -------------------------------------------------------------------------

    def _target(self, pair: str, mid: Decimal, side: Side) -> Decimal:
        off = self._spread if side is Side.SELL else -self._spread
        return self.ctx.round_price(pair, mid * (1 + off), side)

    def _allowed(self, pair: str, mid: Decimal, side: Side) -> bool:
        inv = self.ctx.position(pair) * mid
        return inv < self._max_inv if side is Side.BUY else inv > -self._max_inv

    def _requote_pair(self, pair: str, mid: Decimal, *, move: bool = True) -> None:
        q = self._state[pair]
        if move:
            q.anchor = mid
        for side in (Side.BUY, Side.SELL):
            cid = q.ids[side]
            live = self.ctx.order(cid) if cid is not None else None
            if live is None or live.closing:
                q.ids[side] = cid = None
            if not self._allowed(pair, mid, side):
                if cid is not None:
                    self.ctx.submit(CancelOrder(cid))
                    q.ids[side] = None
                    self.pulls += 1
                continue
            price = self._target(pair, mid if move or q.anchor is None else q.anchor, side)
            if cid is None:
                self._add(pair, side, price, mid)
            elif move and price != q.prices.get(side):
                self.ctx.submit(AmendOrder(cid, price=price))
                q.prices[side] = price
                self.amends += 1

    def _take_over(self, pair: str) -> None:
        """Orders already open as this strategy's (adopted after a restart): the newest per
        side becomes that side's quote (amended from now on), the others are cancelled."""
        q = self._state[pair]
        for view in reversed(self.ctx.open_orders(pair)):
            if view.side is None or view.closing:
                continue
            if q.ids[view.side] is None:
                q.ids[view.side] = view.cl_ord_id
                if view.price is not None:
                    q.prices[view.side] = view.price
                self.adopted += 1
            else:
                self.ctx.submit(CancelOrder(view.cl_ord_id))

    def _add(self, pair: str, side: Side, price: Decimal, mid: Decimal) -> None:
        q = self._state[pair]
        volume = self.ctx.volume_for(pair, self._notional, mid)
        order = self.ctx.limit_order(pair, side, volume, price, post_only=self.params.post_only)
        self.ctx.submit(order)
        q.ids[side] = order.cl_ord_id
        q.prices[side] = price

    def _drop(self, cl_ord_id: str | None) -> None:
        for q in self._state.values():
            for side, cid in q.ids.items():
                if cid is not None and cid == cl_ord_id:
                    q.ids[side] = None

    def _replace(self, cl_ord_id: str) -> None:
        """An amend was refused: cancel the order if still live, and quote anew."""
        for pair, q in self._state.items():
            for side, cid in q.ids.items():
                if cid != cl_ord_id:
                    continue
                live = self.ctx.order(cid)
                if live is not None and not live.closing:
                    self.ctx.submit(CancelOrder(cid))
                q.ids[side] = None
                mid = self.ctx.mid(pair)
                if mid is not None and self._allowed(pair, mid, side):
                    self._add(pair, side, self._target(pair, mid, side), mid)
                    self.replacements += 1
                return
