"""The simulated matching engine: one account's orders, balances, trades and trading counters.

The order endpoints live in :mod:`engine.exchange.order_endpoints`, the read-only queries in
:mod:`engine.exchange.queries`; this module holds the state they share and the steps every
order transaction goes through (``kraken-rate-limits.md`` s.2):

1. **Gateway checks** (:mod:`engine.exchange.params`): malformed arguments, unknown pair,
   deadline.  Refused there, nothing is charged.
2. **Rate check** (:meth:`MatchingEngine.transact`): with ``penalty`` the transaction's full
   penalty at the order's age *at arrival* (``age = now - aged_at``, strict bucket edges),
   it is refused with ``EOrder:Rate limit exceeded`` exactly when
   ``level(now) + penalty > max``; a refused transaction is not charged.
3. **Order checks** (tick size, minimums, post-only, open-order cap, funds, unknown order):
   a failure charges the *fixed* part only and changes nothing else.  Success charges the
   full penalty and applies the transaction.

The book: each pair has a market price ``p`` (in ticks, from its price path: the last
trade) and a quoted spread of ``spread`` ticks around it: ``bid = p - spread // 2`` and
``ask = bid + spread`` (default 1 tick: the tightest quote a liquid Kraken pair shows).
A buy limit at or above the ask, or a sell at or below the bid, takes liquidity on arrival
and fills in full at the ask (bid); a market order likewise.  Other limit orders rest; a
resting buy fills in full at its limit once the ask falls to it or below, a resting sell
once the bid rises to it or above (maker).  Post-only orders that would take are refused
(``EOrder:Post only order``): a post-only buy at the quoted bid rests.  Fees are 0.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from engine.exchange import penalties as pen
from engine.exchange import replies as ke
from engine.exchange.accounts import Account
from engine.exchange.counters import TickCounter
from engine.exchange.events import (
    AnyEvent,
    CancelReason,
    Event,
    LifecycleSubscriber,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    Subscriber,
    price_tick,
)
from engine.exchange.markets import ExchangeMarket as Market
from engine.exchange.markets import ExchangeMarkets
from engine.exchange.orders import Book, IdMaker, Order, order_info
from engine.exchange.params import OrderSpec, Reject, invalid, parse_deadline
from engine.exchange.stats import ExchangeStats
from engine.exchange.tiers import TierRules

__all__ = ["AGE_ROUNDING", "DEFAULT_SPREAD_TICKS", "REASONS", "MarketTrade", "MatchingEngine",
           "OwnTrade", "order_age"]

#: Seconds added to an order's age before bucketing, for float rounding only (1 ns).
AGE_ROUNDING = 1e-9

#: Quoted spread (ticks) by default: one tick between bid and ask.  Kraken publishes no
#: spread; one tick is what its liquid pairs (XBT/USD, ETH/USD) usually show.
DEFAULT_SPREAD_TICKS = 1

#: Recent market trades kept per pair (for the public ``Trades`` endpoint).
MARKET_TRADES_KEPT = 1000

_ZERO = Decimal(0)
_ONE = Decimal(1)

#: Kraken's ``reason`` text for orders that closed without filling.
REASONS: dict[CancelReason, str] = {
    CancelReason.REQUESTED: "User requested",
    CancelReason.CANCEL_ALL: "User requested",
    CancelReason.DEAD_MAN: "Dead man switch",
    CancelReason.REPLACED: "Order replaced",
    CancelReason.EXPIRED: "Order expired",
    CancelReason.IOC: "Unfilled IOC",
}


@attrs.frozen(slots=True)
class MarketTrade:
    """A trade on the pair's market (clock seconds, price in ticks, base volume)."""

    time: float
    ticks: int
    volume: Decimal
    side: str  # "b": the buyer took liquidity, "s": the seller did
    ordertype: str  # "l" limit, "m" market
    trade_id: int


@attrs.frozen(slots=True)
class OwnTrade:
    """One execution of the account's orders, as TradesHistory describes it."""

    txid: str
    order: Order
    price: Decimal
    volume: Decimal
    time: float
    maker: bool
    trade_id: int


#: One tape entry: :class:`MarketTrade`'s fields in its order.
_TapeEntry = tuple[float, int, Decimal, str, str, int]


def order_age(order: Order, now: float) -> float:
    """Seconds since the order was created or last amended, at arrival ``now``.

    :data:`AGE_ROUNDING` is added so that float error in ``now - aged_at`` (for example
    ``5.1 - 0.1 = 4.999999999999999``) cannot push an order back into a costlier bucket.
    """
    return max(0.0, now - order.aged_at) + AGE_ROUNDING


class MatchingEngine:
    """Orders, balances, trades and per-pair trading counters of one account.

    Times are clock seconds (UNIX = ``epoch + now``); prices held in ticks of the pair.
    """

    def __init__(
        self, *, rules: TierRules, markets: ExchangeMarkets, account: Account,
        stats: ExchangeStats, subscribers: list[Subscriber], decay_step: float = 0.0,
        decay_phase: float = 0.0, epoch: float = 0.0, seed: int = 0,
        closed_history: int = 10_000, spread: int = DEFAULT_SPREAD_TICKS,
        lifecycle_subscribers: list[LifecycleSubscriber] | None = None,
    ) -> None:
        self.rules = rules
        self.markets = markets
        self.account = account
        self.stats = stats
        self.epoch = epoch
        self.decay_step = decay_step
        self.decay_phase = decay_phase
        self.spread = spread
        self._half_spread = spread // 2
        self.books: dict[str, Book] = {m.name: Book(m) for m in markets}
        self.counters: dict[str, TickCounter] = {}
        self.open: dict[str, Order] = {}
        self.by_cl_ord_id: dict[str, Order] = {}
        self.closed: OrderedDict[str, Order] = OrderedDict()
        self.closed_history = closed_history
        self.prices: dict[str, int] = {}  # market price (last trade) per pair, in ticks
        # the tape per pair: MarketTrade fields as plain tuples (one per price tick, so
        # cheap to keep); :meth:`market_trades` builds the value objects when asked
        self.tape: dict[str, deque[_TapeEntry]] = {
            m.name: deque(maxlen=MARKET_TRADES_KEPT) for m in markets
        }
        self.trades: OrderedDict[str, OwnTrade] = OrderedDict()
        self.trades_of: dict[str, list[str]] = {}  # order txid -> its trade txids
        self.dead_man_at: float | None = None
        self._expiries: list[tuple[float, int, Order]] = []
        self._expiry_seq = itertools.count()
        self._trade_ids = itertools.count(1)
        self.ids = IdMaker(seed)
        self._subs = subscribers
        self._life: list[LifecycleSubscriber] = (
            lifecycle_subscribers if lifecycle_subscribers is not None else [])

    # -- counters ------------------------------------------------------------------------

    def counter(self, market: Market, now: float) -> TickCounter:
        """The pair's trading counter (created empty at its first use)."""
        c = self.counters.get(market.name)
        if c is None:
            c = TickCounter(
                self.rules.trading_max, self.rules.trading_decay,
                step=self.decay_step, phase=self.decay_phase, start=now,
            )
            self.counters[market.name] = c
        return c

    def charge(self, market: Market, units: float, now: float) -> None:
        """Add ``units`` to the pair's trading counter (unconditionally) and the tallies."""
        if units:
            self.counter(market, now).charge(units, now)
            self.stats.charged(market.name, units)

    def transact(
        self, market: Market, units: float, fixed: float, now: float, check: Callable[[], None]
    ) -> None:
        """Steps 2 and 3 of the module docstring: rate check, order checks, charge."""
        counter = self.counter(market, now)
        if not counter.fits(units, now):
            raise Reject(ke.ORDER_RATE_LIMIT)
        try:
            check()
        except Reject:
            self.charge(market, fixed, now)
            raise
        if units:  # self.charge(market, units, now), the counter already in hand
            counter.charge(units, now)
            self.stats.charged(market.name, units)

    def trading_level(self, market: Market, now: float) -> float:
        """The pair's trading-counter level at ``now`` (0 if never charged)."""
        c = self.counters.get(market.name)
        return c.level(now) if c is not None else 0.0

    # -- prices and events ---------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Whether anyone subscribes to events (events are not built otherwise)."""
        return bool(self._subs or self._life)

    def emit(self, event: Event) -> None:
        """Tell every subscriber (lifecycle subscribers too)."""
        for callback in tuple(self._subs):
            callback(event)
        for life in tuple(self._life):
            life(event)

    def emit_lifecycle(self, event: AnyEvent) -> None:
        """Tell the lifecycle subscribers only (:class:`OrderPlaced`, :class:`OrderAmended`)."""
        for life in tuple(self._life):
            life(event)

    def bid_ticks(self, market: Market) -> int:
        """Best bid (ticks): ``p - spread // 2``, at least one tick."""
        return max(1, self.prices[market.name] - self.spread // 2)

    def ask_ticks(self, market: Market) -> int:
        """Best ask (ticks): ``bid + spread``."""
        return self.bid_ticks(market) + self.spread

    def market_trades(self, pair: str) -> list[MarketTrade]:
        """The pair's kept market trades (wsname), oldest first."""
        return [MarketTrade(*entry) for entry in self.tape[pair]]

    def price(self, market: Market) -> Decimal:
        """The pair's market price, its last trade (quote units)."""
        return market.tick_size * self.prices[market.name]

    def quote(self, market: Market) -> tuple[Decimal, Decimal]:
        """``(bid, ask)`` in quote units."""
        return (market.tick_size * self.bid_ticks(market),
                market.tick_size * self.ask_ticks(market))

    def set_price(self, market: Market, ticks: int, t: float) -> None:
        """The price moved to ``ticks`` at ``t``: record the market trade, fill every resting
        order the new quote reaches."""
        name = market.name
        prices = self.prices
        before = prices.get(name)
        prices[name] = ticks
        if before is not None:
            self.tape[name].append(
                (t, ticks, _ONE, "s" if ticks < before else "b", "l", next(self._trade_ids)))
        bid = ticks - self._half_spread  # bid_ticks and ask_ticks, inline (per tick)
        if bid < 1:
            bid = 1
        ask = bid + self.spread
        subs = self._subs
        if subs or self._life:
            size = market.tick_size
            # quote units: size * ticks, size * bid, size * ask (with a one-tick spread the
            # bid is the price, and size * ask == size * bid + size exactly: decimals)
            last = size * ticks
            low = last if bid == ticks else size * bid
            event = price_tick(name, last, t, low, low + size if ask == bid + 1 else size * ask)
            if len(subs) == 1 and not self._life:
                subs[0](event)
            else:
                self.emit(event)
        book = self.books[name]
        if book.open and book.reaches(bid, ask):
            for order in book.crossed(bid, ask):
                self.unindex(order)
                assert order.price is not None
                self.fill(order, order.price, t, maker=True)

    # -- order lifecycle -----------------------------------------------------------------

    def ticks_of(self, market: Market, price: Decimal) -> int:
        return int(price / market.tick_size)

    def spec_ticks(self, spec: OrderSpec) -> int:
        """A limit order's price in ticks (computed once per spec; its price is set)."""
        ticks = spec.ticks
        if ticks is None:
            assert spec.price is not None
            ticks = spec.ticks = int(spec.price / spec.market.tick_size)
        return ticks

    def takes(self, side: str, ticks: int, market: Market) -> bool:
        """Whether a limit at ``ticks`` on ``side`` takes liquidity now (crosses the quote)."""
        if side == "buy":
            return ticks >= self.ask_ticks(market)
        return ticks <= self.bid_ticks(market)

    def taker_price(self, side: str, market: Market) -> Decimal:
        """What an order taking liquidity pays: the ask for a buy, the bid for a sell."""
        bid, ask = self.quote(market)
        return ask if side == "buy" else bid

    def place(self, spec: OrderSpec, now: float) -> Order:
        """A new order: fill it if it takes, cancel an IOC that does not, else rest it."""
        m = spec.market
        order = Order(
            self.ids.next("O"), m, spec.side, spec.ordertype, spec.volume, spec.price,
            self.spec_ticks(spec) if spec.price is not None else 0, now,
            spec.userref, spec.cl_ord_id, spec.oflags, spec.timeinforce, spec.expire_at,
        )
        if self._life:
            self.emit_lifecycle(OrderPlaced(
                order.txid, m.name, order.side, order.ordertype, order.volume, order.price, now,
                order.cl_ord_id, order.userref, order.timeinforce, spec.post_only,
                order.expire_at,
            ))
        if spec.ordertype == "market" or self.takes(order.side, order.ticks, m):
            self.fill(order, self.taker_price(order.side, m), now, maker=False)
        elif spec.timeinforce == "IOC":
            self.close(order, now, CancelReason.IOC)
        else:
            self.rest(order)
        return order

    def rest(self, order: Order) -> None:
        assert order.price is not None
        amount = order.volume * order.price if order.side == "buy" else order.volume
        order.reserved = amount
        self.account.reserve(order.funding_asset, amount)
        self.books[order.market.name].add(order)
        self.open[order.txid] = order
        if order.cl_ord_id is not None:
            self.by_cl_ord_id[order.cl_ord_id] = order
        if order.expire_at is not None:
            heapq.heappush(self._expiries, (order.expire_at, next(self._expiry_seq), order))

    def unindex(self, order: Order) -> None:
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
            gone, _ = self.closed.popitem(last=False)
            self.trades_of.pop(gone, None)

    def amended(self, order: Order, now: float) -> None:
        """Tell lifecycle subscribers that ``order`` was amended in place at ``now``."""
        if self._life:
            self.emit_lifecycle(OrderAmended(
                order.txid, order.market.name, order.side, order.volume, order.price, now,
                order.cl_ord_id, order.userref, "post" in order.oflags.split(","),
            ))

    def _record_trade(self, order: Order, price: Decimal, now: float,
                      maker: bool) -> OwnTrade:
        m = order.market
        trade_id = next(self._trade_ids)
        own = OwnTrade(self.ids.next("T"), order, price, order.volume, now, maker, trade_id)
        self.trades[own.txid] = own
        self.trades_of.setdefault(order.txid, []).append(own.txid)
        if len(self.trades) > self.closed_history:
            self.trades.popitem(last=False)
        side = ("b" if order.is_buy else "s") if not maker else ("s" if order.is_buy else "b")
        self.tape[m.name].append((
            now, self.ticks_of(m, price), order.volume, side,
            "m" if order.ordertype == "market" else "l", trade_id))
        return own

    def fill(self, order: Order, price: Decimal, now: float, *, maker: bool) -> None:
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
        own = self._record_trade(order, price, now, maker)
        self._archive(order)
        if self.listening:
            self.emit(OrderFilled(
                order.txid, m.name, order.side, price, vol, now,
                order.cl_ord_id, order.userref, maker, order.ordertype, own.txid,
                own.trade_id,
            ))

    def close(self, order: Order, now: float, reason: CancelReason) -> None:
        order.status, order.closed_at, order.reason = "canceled", now, REASONS[reason]
        self._archive(order)
        if self.listening:
            self.emit(OrderCancelled(
                order.txid, order.market.name, order.side, now, reason,
                order.cl_ord_id, order.userref,
            ))

    def cancel(self, order: Order, now: float, reason: CancelReason) -> None:
        self.unindex(order)
        self.close(order, now, reason)

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
            self.cancel_everything(t, CancelReason.DEAD_MAN)
        exp = self._expiries
        while exp and exp[0][0] <= t:
            _, _, order = heapq.heappop(exp)
            if order.status == "open" and order.expire_at is not None and order.expire_at <= t:
                self.cancel(order, t, CancelReason.EXPIRED)

    # -- request helpers -----------------------------------------------------------------

    def market_of(self, params: Mapping[str, Any]) -> Market:
        """The ``pair`` parameter's market (invalid if missing, EQuery if unknown)."""
        name = params.get("pair")
        if not isinstance(name, str) or not name:
            raise invalid("pair")
        m = self.markets.find(name)
        if m is None:
            raise Reject(ke.UNKNOWN_ASSET_PAIR)
        return m

    def check_deadline(self, params: Mapping[str, Any], now: float) -> None:
        if params.get("deadline") not in (None, ""):
            parse_deadline(params["deadline"], self.epoch + now)

    def resolve(self, ident: object) -> list[Order]:
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

    def check_terms(self, spec: OrderSpec) -> None:
        """Tick size, minimums and post-only of a new order (``EOrder`` errors)."""
        m = spec.market
        if spec.price is not None and spec.price % m.tick_size:
            raise Reject(ke.TICK_SIZE)
        if spec.volume < m.ordermin:
            raise Reject(ke.ORDER_MINIMUM)
        price = spec.price if spec.price is not None else self.taker_price(spec.side, m)
        if spec.volume * price < m.costmin:
            raise Reject(ke.COST_MINIMUM)
        if spec.post_only and spec.price is not None and self.takes(
            spec.side, self.spec_ticks(spec), m
        ):
            raise Reject(ke.POST_ONLY_ORDER)

    def need(self, spec: OrderSpec) -> tuple[str, Decimal]:
        """Funding asset and amount an order needs: ``volume * price`` quote, or base volume."""
        m = spec.market
        if spec.side == "sell":
            return m.base, spec.volume
        price = spec.price if spec.price is not None else self.taker_price("buy", m)
        return m.quote, spec.volume * price

    def would_rest(self, spec: OrderSpec) -> bool:
        """Whether a new order would rest on the book (limit, not IOC, not taking)."""
        if spec.ordertype != "limit" or spec.timeinforce == "IOC" or spec.price is None:
            return False
        return not self.takes(spec.side, self.spec_ticks(spec), spec.market)

    def check_new(self, specs: list[OrderSpec]) -> None:
        """Order checks of new orders on one pair: terms, open-order cap, funds.

        Only orders that would rest count toward the cap (market, IOC and taking orders
        execute at once and never occupy a slot).
        """
        for spec in specs:
            self.check_terms(spec)
        resting = sum(1 for spec in specs if self.would_rest(spec))
        book = self.books[specs[0].market.name]
        if resting and len(book) + resting > self.rules.max_open_orders:
            raise Reject(ke.ORDERS_LIMIT)
        needs: dict[str, Decimal] = {}
        for spec in specs:
            asset, amount = self.need(spec)
            needs[asset] = needs.get(asset, _ZERO) + amount
            if needs[asset] > self.account.available(asset):
                raise Reject(ke.INSUFFICIENT_FUNDS)

    def check_cl_ord_ids(self, specs: Iterable[OrderSpec]) -> None:
        seen: set[str] = set()
        for spec in specs:
            cid = spec.cl_ord_id
            if cid is not None:
                if cid in seen or cid in self.by_cl_ord_id:
                    raise invalid("cl_ord_id")
                seen.add(cid)

    def check_replacement(self, old: Order, spec: OrderSpec) -> None:
        """Order checks of an amended or edited order: terms, and funds net of its own hold."""
        self.check_terms(spec)
        asset, amount = self.need(spec)
        if amount - old.reserved > self.account.available(asset):
            raise Reject(ke.INSUFFICIENT_FUNDS)

    # -- cancels ----------------------------------------------------------------------

    def cancel_units(self, orders: Iterable[Order], now: float) -> dict[str, float]:
        """Cancel penalty per pair of cancelling ``orders`` at ``now``."""
        units: dict[str, float] = {}
        for o in orders:
            name = o.market.name
            units[name] = units.get(name, 0.0) + pen.CANCEL.at(order_age(o, now))
        return units

    def cancel_and_charge(
        self, orders: Iterable[Order], units: Mapping[str, float], now: float,
        reason: CancelReason,
    ) -> None:
        for name, u in units.items():
            self.charge(self.markets.get(name), u, now)
        for o in orders:
            self.cancel(o, now, reason)

    def cancel_everything(self, now: float, reason: CancelReason) -> int:
        """Cancel every open order; each pair charged its batch penalty, capped at the max."""
        orders = list(self.open.values())
        units = self.cancel_units(orders, now)
        capped = {n: min(u, self.rules.trading_max) for n, u in units.items()}
        self.cancel_and_charge(orders, capped, now, reason)
        return len(orders)

    # -- read-only views -----------------------------------------------------------------

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
            "trades": len(self.trades),
        }
