"""The simulated matching engine: one account's orders, balances and trading counters.

Order endpoints live here; the read-only queries in :mod:`engine.exchange.queries`.

Every order transaction goes through the same three steps (``kraken-rate-limits.md`` s.2):

1. **Gateway checks** (:mod:`engine.exchange.params`): malformed arguments, unknown pair,
   deadline.  Refused here, nothing is charged.
2. **Rate check**: with ``penalty`` the transaction's full penalty at the order's age *at
   arrival* (``age = now - aged_at``, strict bucket edges), it is refused with
   ``EOrder:Rate limit exceeded`` exactly when ``level(now) + penalty > max``; a refused
   transaction is not charged.  CancelOrderBatch, CancelAll and the dead-man switch are
   never refused (they may push the level past the max).
3. **Order checks** (tick size, minimums, post-only, open-order cap, funds, unknown order
   for amend/edit): a failure charges the *fixed* part only (AddOrder 1, AddOrderBatch
   ``ceil(n/2)``, AmendOrder 1, EditOrder 1, CancelOrder 0) and changes nothing else.
   Success charges the full penalty and applies the transaction.

Undocumented choices, all conservative (they charge at least what Kraken might):

* CancelAll charges each pair ``min(sum of the removed orders' cancel penalties, max)``;
  the dead-man switch, when it fires, charges the same.
* An amend of an unknown id charges its fixed part to the pair of the order the id last
  named (a filled or cancelled order); an id never seen charges nothing (no pair).
* ``EOrder:Orders limit exceeded`` is an order check: the fixed part is charged.
* ``validate=true`` runs every check but the rate check and charges nothing.

Prices: the market price of a pair is one number (no spread), held in ticks.  A limit
order that crosses it on arrival (buy limit >= price, sell limit <= price) and every market
order fill at once, in full, at the market price (taker); a resting order fills in full at
its limit when the price reaches it (maker).  IOC orders that do not cross are cancelled.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from engine import kraken_errors as ke
from engine.exchange.accounts import Account
from engine.exchange.counters import TickCounter
from engine.exchange.events import (
    CancelReason,
    Event,
    OrderCancelled,
    OrderFilled,
    PriceTick,
    Subscriber,
)
from engine.exchange.orders import Book, IdMaker, Order, describe, order_info
from engine.exchange.params import (
    OrderSpec,
    Reject,
    invalid,
    parse_bool,
    parse_deadline,
    parse_decimal,
    parse_oflags,
    parse_order_spec,
    parse_userref,
    parse_volume,
    rfc3339,
)
from engine.exchange.stats import ExchangeStats
from engine.markets import Market, Markets
from limiters.penalties import (
    BATCH_ADD_MAX,
    BATCH_ADD_MIN,
    BATCH_CANCEL_MAX,
    PENALTIES,
    Transaction,
    add_batch_penalty,
)
from limiters.tiers import TierLimits

__all__ = ["ADD_PENALTY", "AGE_ROUNDING", "MatchingEngine"]

#: AddOrder's penalty (fixed, no age part): kraken-rate-limits.md s.2.
ADD_PENALTY = 1

#: Seconds added to an order's age before bucketing, for float rounding only (1 ns).
AGE_ROUNDING = 1e-9

_AMEND = PENALTIES[Transaction.AMEND]
_EDIT = PENALTIES[Transaction.EDIT]
_CANCEL = PENALTIES[Transaction.CANCEL]
_ZERO = Decimal(0)

#: Kraken's ``reason`` text for orders that closed without filling.
_REASONS: dict[CancelReason, str] = {
    CancelReason.REQUESTED: "User requested",
    CancelReason.CANCEL_ALL: "User requested",
    CancelReason.DEAD_MAN: "Dead man switch",
    CancelReason.REPLACED: "Order replaced",
    CancelReason.EXPIRED: "Order expired",
    CancelReason.IOC: "Unfilled IOC",
}


class MatchingEngine:
    """Orders, balances and per-pair trading counters of one account.

    Methods named after endpoints take the request ``params`` and the arrival ``now``
    (clock seconds) and return Kraken's ``result``, or raise :class:`Reject`.
    """

    def __init__(
        self, *, limits: TierLimits, markets: Markets, account: Account, stats: ExchangeStats,
        subscribers: list[Subscriber], decay_step: float = 0.0, decay_phase: float = 0.0,
        epoch: float = 0.0, seed: int = 0, closed_history: int = 10_000,
    ) -> None:
        self.limits = limits
        self.markets = markets
        self.account = account
        self.stats = stats
        self.epoch = epoch
        self.decay_step = decay_step
        self.decay_phase = decay_phase
        self.books: dict[str, Book] = {m.name: Book(m) for m in markets}
        self.counters: dict[str, TickCounter] = {}
        self.open: dict[str, Order] = {}
        self.by_cl_ord_id: dict[str, Order] = {}
        self.closed: OrderedDict[str, Order] = OrderedDict()
        self.closed_history = closed_history
        self.prices: dict[str, int] = {}  # market price per pair, in ticks
        self.dead_man_at: float | None = None
        self._expiries: list[tuple[float, int, Order]] = []
        self._expiry_seq = itertools.count()
        self._ids = IdMaker(seed)
        self._subs = subscribers

    # -- counters ------------------------------------------------------------------------

    def counter(self, market: Market, now: float) -> TickCounter:
        """The pair's trading counter (created empty at its first use)."""
        c = self.counters.get(market.name)
        if c is None:
            c = TickCounter(
                self.limits.trading_max, self.limits.trading_decay,
                step=self.decay_step, phase=self.decay_phase, start=now,
            )
            self.counters[market.name] = c
        return c

    def _charge(self, market: Market, units: float, now: float) -> None:
        if units:
            self.counter(market, now).charge(units, now)
            self.stats.charged(market.name, units)

    def _transact(
        self, market: Market, units: float, fixed: float, now: float, check: Callable[[], None]
    ) -> None:
        """Steps 2 and 3 of the module docstring: rate check, order checks, charge."""
        if not self.counter(market, now).fits(units, now):
            raise Reject(ke.ORDER_RATE_LIMIT)
        try:
            check()
        except Reject:
            self._charge(market, fixed, now)
            raise
        self._charge(market, units, now)

    # -- prices and events ---------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        for callback in tuple(self._subs):
            callback(event)

    def price(self, market: Market) -> Decimal:
        """The pair's market price (quote units)."""
        return market.tick_size * self.prices[market.name]

    def set_price(self, market: Market, ticks: int, t: float) -> None:
        """The price moved to ``ticks`` at ``t``: fill every resting order it reaches."""
        self.prices[market.name] = ticks
        if self._subs:
            self._emit(PriceTick(market.name, market.tick_size * ticks, t))
        for order in self.books[market.name].crossed(ticks):
            self._unindex(order)
            assert order.price is not None
            self._fill(order, order.price, t, maker=True)

    # -- order lifecycle -----------------------------------------------------------------

    def _ticks(self, market: Market, price: Decimal) -> int:
        return int(price / market.tick_size)

    def _place(self, spec: OrderSpec, now: float) -> Order:
        m = spec.market
        order = Order(
            txid=self._ids.next("O"), market=m, side=spec.side, ordertype=spec.ordertype,
            volume=spec.volume, price=spec.price,
            ticks=self._ticks(m, spec.price) if spec.price is not None else 0, now=now,
            userref=spec.userref, cl_ord_id=spec.cl_ord_id, oflags=spec.oflags,
            timeinforce=spec.timeinforce, expire_at=spec.expire_at,
        )
        if spec.ordertype == "market" or order.crosses(self.prices[m.name]):
            self._fill(order, self.price(m), now, maker=False)
        elif spec.timeinforce == "IOC":
            self._close(order, now, CancelReason.IOC)
        else:
            self._rest(order)
        return order

    def _rest(self, order: Order) -> None:
        assert order.price is not None
        amount = order.volume * order.price if order.is_buy else order.volume
        order.reserved = amount
        self.account.reserve(order.funding_asset, amount)
        self.books[order.market.name].add(order)
        self.open[order.txid] = order
        if order.cl_ord_id is not None:
            self.by_cl_ord_id[order.cl_ord_id] = order
        if order.expire_at is not None:
            heapq.heappush(self._expiries, (order.expire_at, next(self._expiry_seq), order))

    def _unindex(self, order: Order) -> None:
        """Forget an open order (its book entry, ids and reservation)."""
        book = self.books[order.market.name]
        if order.txid in book.open:
            book.remove(order)
        self.open.pop(order.txid, None)
        if order.cl_ord_id is not None and self.by_cl_ord_id.get(order.cl_ord_id) is order:
            del self.by_cl_ord_id[order.cl_ord_id]
        if order.reserved:
            self.account.release(order.funding_asset, order.reserved)
            order.reserved = _ZERO

    def _archive(self, order: Order) -> None:
        self.closed[order.txid] = order
        if len(self.closed) > self.closed_history:
            self.closed.popitem(last=False)

    def _fill(self, order: Order, price: Decimal, now: float, *, maker: bool) -> None:
        m, vol = order.market, order.volume
        cost = vol * price
        if order.is_buy:
            self.account.transfer(m.quote, -cost)
            self.account.transfer(m.base, vol)
        else:
            self.account.transfer(m.base, -vol)
            self.account.transfer(m.quote, cost)
        order.vol_exec, order.avg_price = vol, price
        order.status, order.closed_at = "closed", now
        self._archive(order)
        if self._subs:
            self._emit(OrderFilled(
                order.txid, m.name, order.side, price, vol, now,
                order.cl_ord_id, order.userref, maker,
            ))

    def _close(self, order: Order, now: float, reason: CancelReason) -> None:
        order.status, order.closed_at, order.reason = "canceled", now, _REASONS[reason]
        self._archive(order)
        if self._subs:
            self._emit(OrderCancelled(
                order.txid, order.market.name, order.side, now, reason,
                order.cl_ord_id, order.userref,
            ))

    def _cancel(self, order: Order, now: float, reason: CancelReason) -> None:
        self._unindex(order)
        self._close(order, now, reason)

    # -- timers (dead-man switch, GTD expiry) --------------------------------------------

    def next_timer(self) -> float | None:
        """Clock time of the next dead-man or expiry event, if any."""
        exp = self._expiries
        while exp and exp[0][2].status != "open":
            heapq.heappop(exp)
        t = exp[0][0] if exp else None
        if self.dead_man_at is not None and (t is None or self.dead_man_at < t):
            return self.dead_man_at
        return t

    def fire_timers(self, t: float) -> None:
        """Run the dead-man switch and expiries due at or before ``t`` (at time ``t``)."""
        if self.dead_man_at is not None and self.dead_man_at <= t:
            self.dead_man_at = None
            self._cancel_everything(t, CancelReason.DEAD_MAN)
        exp = self._expiries
        while exp and exp[0][0] <= t:
            _, _, order = heapq.heappop(exp)
            if order.status == "open" and order.expire_at is not None and order.expire_at <= t:
                self._cancel(order, t, CancelReason.EXPIRED)

    # -- request helpers -----------------------------------------------------------------

    def _market(self, params: Mapping[str, Any]) -> Market:
        name = params.get("pair")
        if not isinstance(name, str) or not name:
            raise invalid("pair")
        m = self.markets.find(name)
        if m is None:
            raise Reject(ke.UNKNOWN_ASSET_PAIR)
        return m

    def _deadline(self, params: Mapping[str, Any], now: float) -> None:
        if params.get("deadline") not in (None, ""):
            parse_deadline(params["deadline"], self.epoch + now)

    def _resolve(self, ident: object) -> list[Order]:
        """Open orders named by ``ident``: a txid, a userref (all its orders) or a cl_ord_id."""
        if isinstance(ident, Mapping):
            ident = ident.get("txid", ident.get("cl_ord_id"))
        if isinstance(ident, bool):
            return []
        if isinstance(ident, int):
            return [o for o in self.open.values() if o.userref == ident]
        if not isinstance(ident, str):
            return []
        order = self.open.get(ident) or self.by_cl_ord_id.get(ident)
        if order is not None:
            return [order]
        try:
            ref = int(ident)
        except ValueError:
            return []
        return [o for o in self.open.values() if o.userref == ref]

    def _check_terms(self, spec: OrderSpec) -> None:
        """Tick size, minimums and post-only of a new order (``EOrder`` errors)."""
        m = spec.market
        if spec.price is not None and spec.price % m.tick_size:
            raise Reject(ke.TICK_SIZE)
        if spec.volume < m.ordermin:
            raise Reject(ke.ORDER_MINIMUM)
        price = spec.price if spec.price is not None else self.price(m)
        if spec.volume * price < m.costmin:
            raise Reject(ke.COST_MINIMUM)
        if spec.post_only and spec.price is not None:
            ticks = self._ticks(m, spec.price)
            market_ticks = self.prices[m.name]
            if (ticks >= market_ticks) if spec.side == "buy" else (ticks <= market_ticks):
                raise Reject(ke.POST_ONLY_ORDER)

    def _need(self, spec: OrderSpec) -> tuple[str, Decimal]:
        """Funding asset and amount an order needs: ``volume * price`` quote, or base volume."""
        m = spec.market
        if spec.side == "sell":
            return m.base, spec.volume
        price = spec.price if spec.price is not None else self.price(m)
        return m.quote, spec.volume * price

    def _would_rest(self, spec: OrderSpec) -> bool:
        """Whether a new order would rest on the book (limit, not IOC, not crossing)."""
        if spec.ordertype != "limit" or spec.timeinforce == "IOC" or spec.price is None:
            return False
        ticks, market = self._ticks(spec.market, spec.price), self.prices[spec.market.name]
        return ticks < market if spec.side == "buy" else ticks > market

    def _check_new(self, specs: list[OrderSpec]) -> None:
        """Order checks of new orders on one pair: terms, open-order cap, funds.

        Only orders that would rest count toward the cap (market, IOC and marketable
        orders execute at once and never occupy a slot).
        """
        for spec in specs:
            self._check_terms(spec)
        resting = sum(1 for spec in specs if self._would_rest(spec))
        book = self.books[specs[0].market.name]
        if resting and len(book) + resting > self.limits.max_open_orders:
            raise Reject(ke.ORDERS_LIMIT)
        needs: dict[str, Decimal] = {}
        for spec in specs:
            asset, amount = self._need(spec)
            needs[asset] = needs.get(asset, _ZERO) + amount
            if needs[asset] > self.account.available(asset):
                raise Reject(ke.INSUFFICIENT_FUNDS)

    def _check_cl_ord_ids(self, specs: Iterable[OrderSpec]) -> None:
        seen: set[str] = set()
        for spec in specs:
            cid = spec.cl_ord_id
            if cid is not None:
                if cid in seen or cid in self.by_cl_ord_id:
                    raise invalid("cl_ord_id")
                seen.add(cid)

    def _check_replacement(self, old: Order, spec: OrderSpec) -> None:
        """Order checks of an amended or edited order: terms, and funds net of its own hold."""
        self._check_terms(spec)
        asset, amount = self._need(spec)
        if amount - old.reserved > self.account.available(asset):
            raise Reject(ke.INSUFFICIENT_FUNDS)

    # -- order endpoints -----------------------------------------------------------------

    def add_order(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """AddOrder: +1 (fixed), charged even when the order checks fail."""
        market = self._market(params)
        self.stats.touch(market.name, now)
        self._deadline(params, now)
        spec = parse_order_spec(params, market, now=now, epoch=self.epoch)
        self._check_cl_ord_ids((spec,))
        if parse_bool(params.get("validate", False), "validate"):
            self._check_new([spec])
            return {"descr": {"order": describe(spec)}}
        self._transact(market, ADD_PENALTY, ADD_PENALTY, now, lambda: self._check_new([spec]))
        order = self._place(spec, now)
        return {"descr": {"order": describe(order)}, "txid": [order.txid]}

    def add_order_batch(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """AddOrderBatch: 2..15 orders of one pair, ``ceil(n/2)`` (fixed); all or nothing."""
        market = self._market(params)
        self.stats.touch(market.name, now)
        self._deadline(params, now)
        raw = params.get("orders")
        if (
            not isinstance(raw, list | tuple)
            or not BATCH_ADD_MIN <= len(raw) <= BATCH_ADD_MAX
            or not all(isinstance(o, Mapping) for o in raw)
        ):
            raise invalid("orders")
        specs: list[OrderSpec] = []
        for entry in raw:
            if entry.get("pair") not in (None, "") and self.markets.find(entry["pair"]) != market:
                raise invalid("pair")
            specs.append(parse_order_spec(entry, market, now=now, epoch=self.epoch))
        self._check_cl_ord_ids(specs)
        if parse_bool(params.get("validate", False), "validate"):
            self._check_new(specs)
            return {"orders": [{"descr": {"order": describe(s)}} for s in specs]}
        units = add_batch_penalty(len(specs))
        self._transact(market, units, units, now, lambda: self._check_new(specs))
        placed = [self._place(s, now) for s in specs]
        return {"orders": [{"txid": o.txid, "descr": {"order": describe(o)}} for o in placed]}

    def amend_order(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """AmendOrder: in place, same txid; 1 + age part; the order's age restarts."""
        self._deadline(params, now)
        txid, cid = params.get("txid"), params.get("cl_ord_id")
        if (txid is None) == (cid is None):
            raise invalid("txid")
        order = self.open.get(txid) if isinstance(txid, str) else (
            self.by_cl_ord_id.get(cid) if isinstance(cid, str) else None
        )
        qty = params.get("order_qty")
        limit = params.get("limit_price")
        if qty in (None, "") and limit in (None, ""):
            raise invalid("order_qty")
        post_only = parse_bool(params.get("post_only", False), "post_only")
        if order is None:
            gone = self.closed.get(txid) if isinstance(txid, str) else None
            if gone is not None:
                self.stats.touch(gone.market.name, now)
                self._transact(gone.market, _AMEND.fixed, _AMEND.fixed, now, _unknown_order)
            raise Reject(ke.UNKNOWN_ORDER)
        m = order.market
        self.stats.touch(m.name, now)
        volume = parse_volume(qty, m, "order_qty") if qty not in (None, "") else order.volume
        price = parse_decimal(limit, "limit_price") if limit not in (None, "") else order.price
        spec = OrderSpec(
            market=m, side=order.side, ordertype=order.ordertype, volume=volume, price=price,
            oflags="post" if post_only or "post" in order.oflags.split(",") else "",
        )
        units = _AMEND.at(_age(order, now))
        self._transact(m, units, _AMEND.fixed, now, lambda: self._check_replacement(order, spec))
        self._unindex(order)
        order.volume, order.price = volume, price
        order.ticks = self._ticks(m, price) if price is not None else 0
        order.aged_at = now
        if order.crosses(self.prices[m.name]):
            self._fill(order, self.price(m), now, maker=False)
        else:
            self._rest(order)
        return {"amend_id": self._ids.next("T")}

    def edit_order(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """EditOrder: cancel and replace with a new txid; 1 + age part; the age restarts."""
        market = self._market(params)
        self.stats.touch(market.name, now)
        self._deadline(params, now)
        if params.get("cl_ord_id") is not None:
            raise invalid("cl_ord_id")  # EditOrder has no cl_ord_id support
        ident = params.get("txid")
        if ident in (None, ""):
            raise invalid("txid")
        found = [o for o in self._resolve(ident) if o.market is market]
        volume = params.get("volume")
        price = params.get("price")
        new_volume = parse_volume(volume, market) if volume not in (None, "") else None
        new_price = parse_decimal(price, "price") if price not in (None, "") else None
        newref = params.get("newuserref")
        new_userref = parse_userref(newref, "newuserref") if newref not in (None, "") else None
        validate = parse_bool(params.get("validate", False), "validate")
        if len(found) != 1:
            if not validate:
                self._transact(market, _EDIT.fixed, _EDIT.fixed, now, _unknown_order)
            raise Reject(ke.UNKNOWN_ORDER)
        old = found[0]
        oflags = params.get("oflags")
        spec = OrderSpec(
            market=market, side=old.side, ordertype=old.ordertype,
            volume=new_volume if new_volume is not None else old.volume,
            price=new_price if new_price is not None else old.price,
            userref=new_userref if new_userref is not None else old.userref,
            cl_ord_id=old.cl_ord_id,
            oflags=parse_oflags(oflags, old.ordertype) if oflags is not None else old.oflags,
            timeinforce=old.timeinforce, expire_at=old.expire_at,
        )
        if validate:
            self._check_replacement(old, spec)
            return {"descr": {"order": describe(spec)}, "status": "ok"}
        units = _EDIT.at(_age(old, now))
        self._transact(market, units, _EDIT.fixed, now, lambda: self._check_replacement(old, spec))
        self._cancel(old, now, CancelReason.REPLACED)
        new = self._place(spec, now)
        result: dict[str, Any] = {
            "descr": {"order": describe(new)},
            "txid": new.txid,
            "originaltxid": old.txid,
            "volume": market.format_volume(new.volume),
            "price": market.format_price(new.price or _ZERO),
            "price2": "0",
            "orders_cancelled": 1,
        }
        if new_userref is not None:
            result["newuserref"] = new_userref
        return result

    def cancel_order(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """CancelOrder (by txid, userref or cl_ord_id): the cancel penalty by age (fixed 0)."""
        txid, cid = params.get("txid"), params.get("cl_ord_id")
        if (txid in (None, "")) == (cid in (None, "")):
            raise invalid("txid")
        orders = self._resolve(txid if txid not in (None, "") else cid)
        if not orders:
            raise Reject(ke.UNKNOWN_ORDER)
        units = self._cancel_units(orders, now)
        for name in units:
            self.stats.touch(name, now)
        for name, u in units.items():
            if not self.counter(self.markets.get(name), now).fits(u, now):
                raise Reject(ke.ORDER_RATE_LIMIT)
        self._cancel_and_charge(orders, units, now, CancelReason.REQUESTED)
        return {"count": len(orders)}

    def cancel_order_batch(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """CancelOrderBatch (1..50 ids): the sum of the cancel penalties, never refused."""
        ids: list[object] = []
        for field in ("orders", "cl_ord_ids"):
            raw = params.get(field)
            if raw is None:
                continue
            if not isinstance(raw, list | tuple):
                raise invalid(field)
            ids.extend(raw)
        if not 1 <= len(ids) <= BATCH_CANCEL_MAX:
            raise invalid("orders")
        orders: dict[str, Order] = {}
        for ident in ids:
            for o in self._resolve(ident):
                orders[o.txid] = o
        if not orders:
            raise Reject(ke.UNKNOWN_ORDER)
        chosen = list(orders.values())
        units = self._cancel_units(chosen, now)
        for name in units:
            self.stats.touch(name, now)
        self._cancel_and_charge(chosen, units, now, CancelReason.REQUESTED)
        return {"count": len(chosen)}

    def cancel_all(self, now: float) -> dict[str, Any]:
        """CancelAll: every open order; each pair charged its batch penalty, capped at max."""
        for name in {o.market.name for o in self.open.values()}:
            self.stats.touch(name, now)
        return {"count": self._cancel_everything(now, CancelReason.CANCEL_ALL)}

    def cancel_all_after(self, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        """CancelAllOrdersAfter: arm (``timeout`` s) or disarm (0) the dead-man switch."""
        raw = params.get("timeout")
        try:
            timeout = int(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else -1
        except ValueError:
            timeout = -1
        if timeout < 0:
            raise invalid("timeout")
        wall = self.epoch + now
        self.dead_man_at = now + timeout if timeout else None
        return {
            "currentTime": rfc3339(wall),
            "triggerTime": rfc3339(wall + timeout) if timeout else "0",
        }

    def _cancel_units(self, orders: Iterable[Order], now: float) -> dict[str, float]:
        units: dict[str, float] = {}
        for o in orders:
            name = o.market.name
            units[name] = units.get(name, 0.0) + _CANCEL.at(_age(o, now))
        return units

    def _cancel_and_charge(
        self, orders: Iterable[Order], units: Mapping[str, float], now: float,
        reason: CancelReason,
    ) -> None:
        for name, u in units.items():
            self._charge(self.markets.get(name), u, now)
        for o in orders:
            self._cancel(o, now, reason)

    def _cancel_everything(self, now: float, reason: CancelReason) -> int:
        orders = list(self.open.values())
        units = self._cancel_units(orders, now)
        capped = {n: min(u, self.limits.trading_max) for n, u in units.items()}
        self._cancel_and_charge(orders, capped, now, reason)
        return len(orders)

    # -- read-only views -----------------------------------------------------------------

    def trading_level(self, market: Market, now: float) -> float:
        """The pair's trading-counter level at ``now`` (0 if never charged)."""
        c = self.counters.get(market.name)
        return c.level(now) if c is not None else 0.0

    def snapshot(self, now: float) -> dict[str, Any]:
        """Everything a request may change, as plain data (for before/after comparisons)."""
        return {
            "open": {t: order_info(o, self.epoch) for t, o in self.open.items()},
            "aged_at": {t: o.aged_at for t, o in self.open.items()},
            "closed": list(self.closed),
            "balances": dict(self.account.balances),
            "reserved": {a: v for a, v in self.account.reserved.items() if v},
            "trading": {n: lv for n, c in self.counters.items() if (lv := c.level(now)) > 0},
            "dead_man_at": self.dead_man_at,
        }


def _unknown_order() -> None:
    raise Reject(ke.UNKNOWN_ORDER)


def _age(order: Order, now: float) -> float:
    """Seconds since the order was created or last amended, at arrival ``now``.

    :data:`AGE_ROUNDING` is added so that float error in ``now - aged_at`` (for example
    ``5.1 - 0.1 = 4.999999999999999``) cannot push an order back into a costlier bucket.
    """
    return max(0.0, now - order.aged_at) + AGE_ROUNDING
