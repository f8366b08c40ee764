"""Orders on the simulated exchange: the order record, one pair's book, ids, Kraken shapes.

Prices are kept two ways: the exact :class:`~decimal.Decimal` limit the client sent, and
``ticks = price / tick_size`` (an int) for fast, exact comparison with the market price,
which the exchange also holds in ticks.  A resting buy fills once the ask falls to its
limit or below (``ask <= ticks``), a resting sell once the bid rises to its limit or above
(``bid >= ticks``).
:class:`Book` finds those orders with two heaps (best buy limit first, best sell
limit first) with lazy deletion: an amend or cancel leaves a stale heap entry behind, which
is skipped because its sequence number no longer matches the order's.
"""

from __future__ import annotations

import heapq
import itertools
from decimal import Decimal
from typing import Any, Protocol

from engine.exchange.markets import ExchangeMarket as Market

__all__ = ["Book", "IdMaker", "Order", "describe", "order_info"]

_ZERO = Decimal(0)


class IdMaker:
    """Kraken-looking ids (``"OABCDE-FGHIJ-KLMNOP"``), unique and deterministic per seed.

    The ``n``-th id (n = 1, 2, ...) is the 16 hex digits of ``(n * K + offset) mod 2**64``
    for an odd ``K`` and ``offset = seed * 0x2545F4914F6CDD1D mod 2**64``: a bijection, so
    ids never repeat within 2**64 of them.
    """

    __slots__ = ("_value",)

    _K = 0x9E3779B97F4A7C15  # odd: multiplication by it is a bijection mod 2**64

    def __init__(self, seed: int = 0) -> None:
        # the value of id 0: the offset; id n adds K n times, mod 2**64 (no multiplication)
        self._value = (seed * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF

    def next(self, prefix: str = "O") -> str:
        """A fresh id starting with ``prefix`` (``O`` orders, ``T`` amends)."""
        self._value = v = (self._value + self._K) & 0xFFFFFFFFFFFFFFFF
        h = v.to_bytes(8, "big").hex().upper()  # 16 hex digits, as f"{v:016X}"
        return f"{prefix}{h[:5]}-{h[5:10]}-{h[10:]}"


class Order:
    """One order's record (mutable, internal to the exchange).

    ``opened_at`` and ``aged_at`` are clock seconds: age for penalties is
    ``now - aged_at`` (creation, or the last amend).  ``reserved`` is the amount of the
    funding asset held for it (quote for buys: ``volume * price``; base for sells).
    """

    __slots__ = (
        "aged_at",
        "avg_price",
        "cl_ord_id",
        "closed_at",
        "expire_at",
        "market",
        "oflags",
        "opened_at",
        "ordertype",
        "price",
        "reason",
        "reserved",
        "seq",
        "side",
        "status",
        "ticks",
        "timeinforce",
        "txid",
        "userref",
        "vol_exec",
        "volume",
    )

    def __init__(  # positional in place(): keywords cost twice as much
        self, txid: str, market: Market, side: str, ordertype: str, volume: Decimal,
        price: Decimal | None, ticks: int, now: float, userref: int | None = None,
        cl_ord_id: str | None = None, oflags: str = "", timeinforce: str = "GTC",
        expire_at: float | None = None,
    ) -> None:
        self.txid = txid
        self.market = market
        self.side = side
        self.ordertype = ordertype
        self.volume = volume
        self.price = price
        self.ticks = ticks
        self.userref = userref
        self.cl_ord_id = cl_ord_id
        self.oflags = oflags
        self.timeinforce = timeinforce
        self.expire_at = expire_at
        self.opened_at = now
        self.aged_at = now
        self.status = "pending"
        self.seq = 0
        self.reserved = _ZERO
        self.closed_at: float | None = None
        self.reason: str | None = None
        self.avg_price: Decimal | None = None
        self.vol_exec = _ZERO

    @property
    def is_buy(self) -> bool:
        return self.side == "buy"

    @property
    def funding_asset(self) -> str:
        """The asset the order spends: quote for a buy, base for a sell."""
        return self.market.quote if self.side == "buy" else self.market.base

    def __repr__(self) -> str:
        return (
            f"Order({self.txid} {self.side} {self.volume} {self.market.name} "
            f"@ {self.ordertype} {self.price} {self.status})"
        )


class Book:
    """One pair's open orders, with fast lookup of those a price move crosses."""

    __slots__ = ("_buys", "_sells", "_seq", "market", "open")

    def __init__(self, market: Market) -> None:
        self.market = market
        self.open: dict[str, Order] = {}
        self._buys: list[tuple[int, int, Order]] = []  # (-ticks, seq, order): highest first
        self._sells: list[tuple[int, int, Order]] = []  # (ticks, seq, order): lowest first
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        return len(self.open)

    def _push(self, order: Order) -> None:
        order.seq = next(self._seq)
        if order.side == "buy":
            heapq.heappush(self._buys, (-order.ticks, order.seq, order))
        else:
            heapq.heappush(self._sells, (order.ticks, order.seq, order))
        if len(self._buys) + len(self._sells) > 2 * len(self.open) + 64:
            self._compact()

    def _compact(self) -> None:
        self._buys = [e for e in self._buys if self._live(e)]
        self._sells = [e for e in self._sells if self._live(e)]
        heapq.heapify(self._buys)
        heapq.heapify(self._sells)

    @staticmethod
    def _live(entry: tuple[int, int, Order]) -> bool:
        order = entry[2]
        return order.status == "open" and order.seq == entry[1]

    def add(self, order: Order) -> None:
        """Rest ``order`` (status becomes ``open``)."""
        order.status = "open"
        self.open[order.txid] = order
        self._push(order)

    def reprice(self, order: Order) -> None:
        """Re-index ``order`` after its limit changed (its old heap entry goes stale)."""
        self._push(order)

    def remove(self, order: Order) -> None:
        """Take ``order`` off the book (the caller sets its final status)."""
        del self.open[order.txid]
        order.seq = 0

    def reaches(self, bid: int, ask: int) -> bool:
        """Whether the best buy limit is at or above ``ask`` or the best sell limit at or
        below ``bid`` (ticks), stale heap entries included: a quick "maybe" before
        :meth:`crossed`, which skips them (a stale top only costs that call)."""
        buys, sells = self._buys, self._sells
        return bool((buys and buys[0][0] <= -ask) or (sells and sells[0][0] <= bid))

    def crossed(self, bid: int, ask: int) -> list[Order]:
        """Remove and return every order the quote ``bid``/``ask`` (ticks) reaches, best limit
        first: buys limited at or above the ask, sells at or below the bid."""
        out: list[Order] = []
        # Heap keys: buys hold -ticks (reached while -key >= ask, i.e. key <= -ask);
        # sells hold ticks (reached while key <= bid).
        for heap, bound in ((self._buys, -ask), (self._sells, bid)):
            while heap:
                entry = heap[0]
                if not self._live(entry):
                    heapq.heappop(heap)
                    continue
                if entry[0] > bound:
                    break
                heapq.heappop(heap)
                order = entry[2]
                self.remove(order)
                out.append(order)
        return out


class _Describable(Protocol):
    @property
    def market(self) -> Market: ...
    @property
    def side(self) -> str: ...
    @property
    def ordertype(self) -> str: ...
    @property
    def volume(self) -> Decimal: ...
    @property
    def price(self) -> Decimal | None: ...


def describe(order: _Describable) -> str:
    """Kraken's one-line ``descr.order``: ``"buy 1.25000000 XBTUSD @ limit 37500.0"``."""
    m = order.market
    text = f"{order.side} {m.format_volume(order.volume)} {m.altname} @ {order.ordertype}"
    if order.price is not None:
        text += f" {m.format_price(order.price)}"
    return text


def order_info(order: Order, epoch: float) -> dict[str, Any]:
    """The order as Kraken's OpenOrders / ClosedOrders / QueryOrders describe it."""
    m = order.market
    cost = (order.avg_price or _ZERO) * order.vol_exec
    info: dict[str, Any] = {
        "refid": None,
        "userref": order.userref if order.userref is not None else 0,
        "status": order.status,
        "opentm": epoch + order.opened_at,
        "starttm": 0,
        "expiretm": epoch + order.expire_at if order.expire_at is not None else 0,
        "descr": {
            "pair": m.altname,
            "type": order.side,
            "ordertype": order.ordertype,
            "price": m.format_price(order.price if order.price is not None else _ZERO),
            "price2": "0",
            "leverage": "none",
            "order": describe(order),
            "close": "",
        },
        "vol": m.format_volume(order.volume),
        "vol_exec": m.format_volume(order.vol_exec),
        "cost": m.format_cost(cost),
        "fee": m.format_cost(_ZERO),
        "price": m.format_price(order.avg_price or _ZERO),
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": order.oflags,
        "timeinforce": order.timeinforce,
    }
    if order.cl_ord_id is not None:
        info["cl_ord_id"] = order.cl_ord_id
    if order.closed_at is not None:
        info["closetm"] = epoch + order.closed_at
        info["reason"] = order.reason
    return info
