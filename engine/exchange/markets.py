"""The referee's own table of tradable pairs and assets (what Kraken's AssetPairs and Assets
publish), independent of the engine's ``engine.markets``.

A pair is named three ways by Kraken -- the WebSocket name ``"XBT/USD"`` (``name``, the key
used everywhere in the exchange), the ``altname`` ``"XBTUSD"`` and the REST key
``"XXBTZUSD"`` -- and Kraken also accepts the ``BTC`` spelling of XBT (``"BTC/USD"``);
:meth:`ExchangeMarkets.find` accepts any of them, in any case.  Order rules per pair:

* ``tick_size`` (quote units): a limit price must be a whole multiple of it;
* ``ordermin`` (base units): the smallest order volume;
* ``costmin`` (quote units): the smallest ``volume * price``;
* ``pair_decimals`` / ``lot_decimals`` / ``cost_decimals``: decimals printed for prices,
  volumes and costs.

``start_price`` (quote units) seeds the random walk; it is not a Kraken field.  Markets
built elsewhere (the engine's :class:`engine.markets.Market`, say) are adopted
*structurally* by :func:`exchange_markets`: any object with these attributes will do, so
the referee imports nothing from the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

__all__ = [
    "ASSETS",
    "DEFAULT_MARKETS",
    "AssetInfo",
    "ExchangeMarket",
    "ExchangeMarkets",
    "UnknownMarket",
    "asset_info",
    "exchange_markets",
]


class UnknownMarket(ValueError):
    """A pair name that none of the exchange's markets carries."""

    def __init__(self, name: object, known: Iterable[str]) -> None:
        self.pair = name
        super().__init__(f"unknown pair {name!r}; known pairs: {', '.join(known) or 'none'}")


def _dec(value: object) -> Decimal:
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite() or d < 0:
        raise ValueError(f"expected a finite decimal >= 0, got {value!r}")
    return d


@attrs.frozen(slots=True)
class ExchangeMarket:
    """One pair and its order rules (see the module docstring for names and units)."""

    name: str
    altname: str
    rest_name: str
    base: str
    quote: str
    tick_size: Decimal = attrs.field(converter=_dec)
    ordermin: Decimal = attrs.field(converter=_dec)
    costmin: Decimal = attrs.field(converter=_dec)
    pair_decimals: int
    lot_decimals: int
    start_price: float
    cost_decimals: int = 5
    aliases: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.tick_size <= 0 or not self.start_price > 0:
            raise ValueError(f"{self.name}: tick_size and start_price must be > 0")

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the pair answers to."""
        return (self.name, self.altname, self.rest_name, *self.aliases)

    def format_price(self, price: Decimal) -> str:
        return f"{price:.{self.pair_decimals}f}"

    def format_volume(self, volume: Decimal) -> str:
        return f"{volume:.{self.lot_decimals}f}"

    def format_cost(self, cost: Decimal) -> str:
        return f"{cost:.{self.cost_decimals}f}"

    def asset_pair_info(self) -> dict[str, Any]:
        """This pair's entry in Kraken's ``AssetPairs`` result (no fees are charged)."""
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


class ExchangeMarkets:
    """The exchange's markets, found by any of their names (case-insensitive)."""

    __slots__ = ("_by_alias", "_markets")

    def __init__(self, markets: Iterable[ExchangeMarket]) -> None:
        self._markets: tuple[ExchangeMarket, ...] = tuple(markets)
        self._by_alias: dict[str, ExchangeMarket] = {}
        for m in self._markets:
            for alias in {n.lower() for n in m.names}:
                other = self._by_alias.get(alias)
                if other is not None and other is not m:
                    raise ValueError(f"pair name {alias!r} names both {other.name} and {m.name}")
                self._by_alias[alias] = m

    def find(self, name: object) -> ExchangeMarket | None:
        """The market named ``name``, or None."""
        return self._by_alias.get(name.strip().lower()) if isinstance(name, str) else None

    def get(self, name: object) -> ExchangeMarket:
        """The market named ``name``, else :class:`UnknownMarket`."""
        m = self.find(name)
        if m is None:
            raise UnknownMarket(name, self.names)
        return m

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self._markets)

    def __iter__(self) -> Iterator[ExchangeMarket]:
        return iter(self._markets)

    def __len__(self) -> int:
        return len(self._markets)

    def __contains__(self, name: object) -> bool:
        return self.find(name) is not None

    def __repr__(self) -> str:
        return f"ExchangeMarkets({', '.join(self.names)})"

    def asset_pairs(self, chosen: Iterable[ExchangeMarket] | None = None) -> dict[str, Any]:
        """Kraken's ``AssetPairs`` result: REST name -> pair info."""
        return {m.rest_name: m.asset_pair_info() for m in (chosen or self._markets)}

    def assets(self) -> tuple[str, ...]:
        """Asset codes the markets trade, in order of first appearance."""
        seen: dict[str, None] = {}
        for m in self._markets:
            seen.setdefault(m.base)
            seen.setdefault(m.quote)
        return tuple(seen)


#: XBT/USD, ETH/USD and SOL/USD with Kraken's published sizes (early 2024).
DEFAULT_MARKETS = ExchangeMarkets((
    ExchangeMarket("XBT/USD", "XBTUSD", "XXBTZUSD", "XXBT", "ZUSD", "0.1", "0.0001", "0.5",
                   1, 8, 60_000.0, aliases=("BTC/USD", "BTCUSD")),
    ExchangeMarket("ETH/USD", "ETHUSD", "XETHZUSD", "XETH", "ZUSD", "0.01", "0.002", "0.5",
                   2, 8, 3_000.0),
    ExchangeMarket("SOL/USD", "SOLUSD", "SOLUSD", "SOL", "ZUSD", "0.01", "0.02", "0.5",
                   2, 8, 150.0),
))

_FIELDS = ("name", "altname", "rest_name", "base", "quote", "tick_size", "ordermin", "costmin",
           "pair_decimals", "lot_decimals", "start_price", "cost_decimals")


def exchange_markets(markets: object) -> ExchangeMarkets:
    """``markets`` as :class:`ExchangeMarkets`: itself, or any iterable of objects carrying
    the fields of :class:`ExchangeMarket` (read by attribute name, nothing imported)."""
    if isinstance(markets, ExchangeMarkets):
        return markets
    if not isinstance(markets, Iterable):
        raise TypeError(f"expected markets, got {markets!r}")
    out: list[ExchangeMarket] = []
    for m in markets:
        if isinstance(m, ExchangeMarket):
            out.append(m)
            continue
        try:
            fields = {f: getattr(m, f) for f in _FIELDS}
        except AttributeError as e:
            raise TypeError(f"not a market: {m!r} ({e})") from None
        known = DEFAULT_MARKETS.find(fields["name"])
        aliases = known.aliases if known is not None and known.rest_name == fields[
            "rest_name"] else ()
        out.append(ExchangeMarket(**fields, aliases=aliases))
    return ExchangeMarkets(out)


@attrs.frozen(slots=True)
class AssetInfo:
    """One asset as Kraken's ``Assets`` endpoint describes it."""

    code: str
    altname: str
    decimals: int
    display_decimals: int

    def info(self) -> dict[str, Any]:
        return {"aclass": "currency", "altname": self.altname, "decimals": self.decimals,
                "display_decimals": self.display_decimals, "status": "enabled"}


#: Assets of the default markets (Kraken's codes, altnames and decimals).
ASSETS: Mapping[str, AssetInfo] = {
    "XXBT": AssetInfo("XXBT", "XBT", 10, 5),
    "XETH": AssetInfo("XETH", "ETH", 10, 5),
    "SOL": AssetInfo("SOL", "SOL", 10, 5),
    "ZUSD": AssetInfo("ZUSD", "USD", 4, 2),
    "ZEUR": AssetInfo("ZEUR", "EUR", 4, 2),
}


def asset_info(code: str) -> AssetInfo:
    """``code``'s entry: from :data:`ASSETS`, else derived (``X``/``Z`` prefixes of 4-letter
    codes dropped for the altname; ``Z`` codes are fiat with 4 decimals, others 10)."""
    known = ASSETS.get(code)
    if known is not None:
        return known
    alt = code[1:] if len(code) == 4 and code[0] in "XZ" else code
    fiat = len(code) == 4 and code[0] == "Z"
    return AssetInfo(code, alt, 4 if fiat else 10, 2 if fiat else 5)
