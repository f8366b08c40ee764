"""engine.markets: lookup by any Kraken name, UnknownPair, AssetPairs in and out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.markets import DEFAULT_MARKETS, Market, Markets, UnknownPair


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("XBT/USD", "XBT/USD"), ("xbtusd", "XBT/USD"), ("XXBTZUSD", "XBT/USD"),
        ("eth/usd", "ETH/USD"), ("ETHUSD", "ETH/USD"), ("XETHZUSD", "ETH/USD"),
        ("SOL/USD", "SOL/USD"), ("solusd", "SOL/USD"),
    ],
)
def test_get_accepts_every_kraken_name(name: str, expected: str) -> None:
    assert DEFAULT_MARKETS.get(name).name == expected
    assert name in DEFAULT_MARKETS


def test_unknown_pair_is_a_value_error_naming_the_pair_and_the_known_ones() -> None:
    with pytest.raises(UnknownPair) as info:
        DEFAULT_MARKETS.get("DOGE/EUR")
    assert isinstance(info.value, ValueError)
    assert "DOGE/EUR" in str(info.value)
    for known in ("XBT/USD", "ETH/USD", "SOL/USD"):
        assert known in str(info.value)
    assert DEFAULT_MARKETS.find("DOGE/EUR") is None


@pytest.mark.parametrize(
    ("pair", "tick", "ordermin", "start"),
    [("XBT/USD", "0.1", "0.0001", 60000.0), ("ETH/USD", "0.01", "0.002", 3000.0),
     ("SOL/USD", "0.01", "0.02", 150.0)],
)
def test_default_markets_have_realistic_sizes(
    pair: str, tick: str, ordermin: str, start: float
) -> None:
    m = DEFAULT_MARKETS.get(pair)
    assert m.tick_size == Decimal(tick)
    assert m.ordermin == Decimal(ordermin)
    assert m.costmin == Decimal("0.5")
    assert m.start_price == start
    assert m.quote == "ZUSD"


def test_iteration_len_and_names() -> None:
    assert [m.name for m in DEFAULT_MARKETS] == ["XBT/USD", "ETH/USD", "SOL/USD"]
    assert len(DEFAULT_MARKETS) == 3
    assert DEFAULT_MARKETS.names == ("XBT/USD", "ETH/USD", "SOL/USD")
    assert DEFAULT_MARKETS.subset(["solusd"]).names == ("SOL/USD",)


def test_asset_pairs_round_trip() -> None:
    rendered = DEFAULT_MARKETS.asset_pairs()
    assert set(rendered) == {"XXBTZUSD", "XETHZUSD", "SOLUSD"}
    xbt = rendered["XXBTZUSD"]
    assert xbt["wsname"] == "XBT/USD" and xbt["altname"] == "XBTUSD"
    assert xbt["tick_size"] == "0.1" and xbt["ordermin"] == "0.0001"
    assert xbt["pair_decimals"] == 1 and xbt["lot_decimals"] == 8
    assert Markets.from_asset_pairs(rendered) == DEFAULT_MARKETS


def test_from_asset_pairs_defaults_missing_fields_and_start_prices() -> None:
    result = {
        "ADAUSD": {"altname": "ADAUSD", "wsname": "ADA/USD", "base": "ADA", "quote": "ZUSD",
                   "pair_decimals": 6, "lot_decimals": 8},
    }
    m = Markets.from_asset_pairs(result).get("ADA/USD")
    assert m.tick_size == Decimal("0.000001")
    assert m.ordermin == 0 and m.start_price == 1.0
    priced = Markets.from_asset_pairs(result, start_prices={"adausd": 0.45})
    assert priced.get("ADAUSD").start_price == 0.45


def test_duplicate_names_and_bad_values_are_refused() -> None:
    m = DEFAULT_MARKETS.get("XBT/USD")
    with pytest.raises(ValueError, match="names both"):
        Markets([m, m])
    with pytest.raises(ValueError, match="tick_size must be > 0"):
        Market(name="A/B", altname="AB", rest_name="AB", base="A", quote="B", tick_size="0",
               ordermin="1", costmin="1", pair_decimals=1, lot_decimals=1, start_price=1.0)
    with pytest.raises(ValueError, match="finite decimal"):
        Market(name="A/B", altname="AB", rest_name="AB", base="A", quote="B", tick_size="nan",
               ordermin="1", costmin="1", pair_decimals=1, lot_decimals=1, start_price=1.0)
