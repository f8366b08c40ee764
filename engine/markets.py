"""Tradable pairs: Kraken's names for them and the order-size rules that apply.

A :class:`Market` carries what Kraken's public ``AssetPairs`` endpoint publishes for a pair
and what an order must satisfy:

* ``tick_size`` (quote units): a limit price must be a whole multiple of it;
* ``ordermin`` (base units): the smallest order volume;
* ``costmin`` (quote units): the smallest ``volume * price``;
* ``pair_decimals`` / ``lot_decimals`` / ``cost_decimals``: decimals of price, volume, cost.

Kraken names a pair three ways: the WebSocket name ``"XBT/USD"`` (``name`` here, used as the
pair's key everywhere in orderpace), the ``altname`` ``"XBTUSD"`` and the REST key
``"XXBTZUSD"``.  :meth:`Markets.get` accepts any of them, case-insensitively.

``start_price`` (quote units) is not a Kraken field: it seeds the simulated exchange's random
walk.  The defaults are realistic values for early 2024.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

__all__ = ["DEFAULT_MARKETS", "Market", "Markets", "UnknownPair"]


class UnknownPair(ValueError):
    """A pair name that is none of the known markets' names."""

    def __init__(self, name: object, known: Iterable[str]) -> None:
        self.pair = name
        self.known = tuple(known)
        super().__init__(f"unknown pair {name!r}; known pairs: {', '.join(self.known) or 'none'}")


def _decimal(value: object) -> Decimal:
    """``value`` as a finite, non-negative :class:`Decimal` (strings keep their digits)."""
    if isinstance(value, Decimal):
        d = value
    else:
        try:
            d = Decimal(value if isinstance(value, str) else str(value))
        except (InvalidOperation, ValueError, TypeError):
            raise ValueError(f"not a decimal number: {value!r}") from None
    if not d.is_finite() or d < 0:
        raise ValueError(f"expected a finite decimal >= 0, got {value!r}")
    return d


@attrs.frozen(slots=True)
class Market:
    """One tradable pair and its order-size rules (see the module docstring for units)."""

    name: str  # WebSocket name, "XBT/USD"
    altname: str  # "XBTUSD"
    rest_name: str  # REST key, "XXBTZUSD"
    base: str  # asset code, "XXBT"
    quote: str  # asset code, "ZUSD"
    tick_size: Decimal = attrs.field(converter=_decimal)
    ordermin: Decimal = attrs.field(converter=_decimal)
    costmin: Decimal = attrs.field(converter=_decimal)
    pair_decimals: int
    lot_decimals: int
    start_price: float
    cost_decimals: int = 5

    def __attrs_post_init__(self) -> None:
        if self.tick_size <= 0:
            raise ValueError(f"{self.name}: tick_size must be > 0, got {self.tick_size}")
        if self.start_price <= 0:
            raise ValueError(f"{self.name}: start_price must be > 0, got {self.start_price}")

    @property
    def names(self) -> tuple[str, str, str]:
        """The three names Kraken uses for the pair: wsname, altname, REST name."""
        return (self.name, self.altname, self.rest_name)

    def format_price(self, price: Decimal) -> str:
        """``price`` with the pair's ``pair_decimals`` decimals, as Kraken prints it."""
        return f"{price:.{self.pair_decimals}f}"

    def format_volume(self, volume: Decimal) -> str:
        """``volume`` with the pair's ``lot_decimals`` decimals."""
        return f"{volume:.{self.lot_decimals}f}"

    def format_cost(self, cost: Decimal) -> str:
        """``cost`` (quote units) with the pair's ``cost_decimals`` decimals."""
        return f"{cost:.{self.cost_decimals}f}"

    def asset_pair_info(self) -> dict[str, Any]:
        """This pair's entry in Kraken's ``AssetPairs`` reply (fees: the simulator charges none)."""
        return {
            "altname": self.altname,
            "wsname": self.name,
            "aclass_base": "currency",
            "base": self.base,
            "aclass_quote": "currency",
            "quote": self.quote,
            "lot": "unit",
            "cost_decimals": self.cost_decimals,
            "pair_decimals": self.pair_decimals,
            "lot_decimals": self.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, 0.0]],
            "fees_maker": [[0, 0.0]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": str(self.ordermin),
            "costmin": str(self.costmin),
            "tick_size": str(self.tick_size),
            "status": "online",
        }

    @classmethod
    def from_asset_pair(
        cls, rest_name: str, info: Mapping[str, Any], *, start_price: float = 1.0
    ) -> Market:
        """A market from one entry of Kraken's ``AssetPairs`` result.

        ``tick_size`` defaults to ``10 ** -pair_decimals`` and ``ordermin``/``costmin`` to 0
        when the entry lacks them (older replies); ``wsname`` to ``altname``.
        """
        pair_decimals = int(info["pair_decimals"])
        altname = str(info.get("altname", rest_name))
        return cls(
            name=str(info.get("wsname") or altname),
            altname=altname,
            rest_name=rest_name,
            base=str(info["base"]),
            quote=str(info["quote"]),
            tick_size=info.get("tick_size") or Decimal(1).scaleb(-pair_decimals),
            ordermin=info.get("ordermin") or 0,
            costmin=info.get("costmin") or 0,
            pair_decimals=pair_decimals,
            lot_decimals=int(info["lot_decimals"]),
            cost_decimals=int(info.get("cost_decimals", 5)),
            start_price=start_price,
        )


class Markets:
    """A set of markets, looked up by any of their names (case-insensitive)."""

    __slots__ = ("_by_alias", "_markets")

    def __init__(self, markets: Iterable[Market]) -> None:
        self._markets: tuple[Market, ...] = tuple(markets)
        self._by_alias: dict[str, Market] = {}
        for m in self._markets:
            for alias in {n.lower() for n in m.names}:
                other = self._by_alias.get(alias)
                if other is not None:
                    raise ValueError(f"pair name {alias!r} names both {other.name} and {m.name}")
                self._by_alias[alias] = m

    def get(self, name: str) -> Market:
        """The market named ``name`` (wsname, altname or REST name), else :class:`UnknownPair`."""
        m = self._by_alias.get(name.lower()) if isinstance(name, str) else None
        if m is None:
            raise UnknownPair(name, self.names)
        return m

    def find(self, name: str) -> Market | None:
        """Like :meth:`get`, but ``None`` for an unknown name."""
        return self._by_alias.get(name.lower()) if isinstance(name, str) else None

    @property
    def names(self) -> tuple[str, ...]:
        """The markets' WebSocket names, in order."""
        return tuple(m.name for m in self._markets)

    def __iter__(self) -> Iterator[Market]:
        return iter(self._markets)

    def __len__(self) -> int:
        return len(self._markets)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_alias

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Markets) and self._markets == other._markets

    def __hash__(self) -> int:
        return hash(self._markets)

    def __repr__(self) -> str:
        return f"Markets({', '.join(self.names)})"

    def subset(self, names: Iterable[str]) -> Markets:
        """The markets named in ``names`` (any alias), in that order."""
        return Markets(self.get(n) for n in names)

    def asset_pairs(self, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Kraken's ``AssetPairs`` result: REST name -> pair info, for ``names`` or all."""
        chosen = self._markets if names is None else tuple(self.get(n) for n in names)
        return {m.rest_name: m.asset_pair_info() for m in chosen}

    @classmethod
    def from_asset_pairs(
        cls,
        result: Mapping[str, Mapping[str, Any]],
        start_prices: Mapping[str, float] | None = None,
    ) -> Markets:
        """Markets from Kraken's ``AssetPairs`` ``result`` dict (REST name -> info).

        ``start_prices`` maps any pair name to a start price; otherwise a pair known to
        :data:`DEFAULT_MARKETS` keeps its default, and any other starts at 1.0.
        """
        given = {k.lower(): v for k, v in (start_prices or {}).items()}
        out: list[Market] = []
        for rest_name, info in result.items():
            names = (rest_name, str(info.get("altname", "")), str(info.get("wsname", "")))
            price = next((given[n.lower()] for n in names if n.lower() in given), None)
            if price is None:
                known = next((DEFAULT_MARKETS.find(n) for n in names if n in DEFAULT_MARKETS), None)
                price = known.start_price if known is not None else 1.0
            out.append(Market.from_asset_pair(rest_name, info, start_price=price))
        return cls(out)


#: XBT/USD, ETH/USD and SOL/USD with Kraken's published sizes (early 2024).
DEFAULT_MARKETS = Markets(
    (
        Market(
            name="XBT/USD", altname="XBTUSD", rest_name="XXBTZUSD", base="XXBT", quote="ZUSD",
            tick_size="0.1", ordermin="0.0001", costmin="0.5",
            pair_decimals=1, lot_decimals=8, start_price=60_000.0,
        ),
        Market(
            name="ETH/USD", altname="ETHUSD", rest_name="XETHZUSD", base="XETH", quote="ZUSD",
            tick_size="0.01", ordermin="0.002", costmin="0.5",
            pair_decimals=2, lot_decimals=8, start_price=3_000.0,
        ),
        Market(
            name="SOL/USD", altname="SOLUSD", rest_name="SOLUSD", base="SOL", quote="ZUSD",
            tick_size="0.01", ordermin="0.02", costmin="0.5",
            pair_decimals=2, lot_decimals=8, start_price=150.0,
        ),
    )
)
