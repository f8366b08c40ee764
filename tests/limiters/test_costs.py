"""REST API-counter cost of each endpoint (kraken-rate-limits.md section 1)."""

from __future__ import annotations

import pytest

from limiters.costs import (
    API_COSTS,
    ORDER_ENDPOINTS,
    PUBLIC_ENDPOINTS,
    PUBLIC_RATE_PER_SECOND,
    api_cost,
    is_public,
)
from limiters.errors import LimiterError, UnknownEndpoint

COST_2 = ["Ledgers", "QueryLedgers", "TradesHistory", "QueryTrades", "OpenOrders", "ClosedOrders"]
COST_0 = [
    "AddOrder",
    "AddOrderBatch",
    "AmendOrder",
    "EditOrder",
    "CancelOrder",
    "CancelOrderBatch",
    "CancelAll",
]
COST_1 = [
    "Balance",
    "BalanceEx",
    "TradeBalance",
    "QueryOrders",
    "CancelAllOrdersAfter",
    "OpenPositions",
    "TradeVolume",
    "GetWebSocketsToken",
]

TABLE = [(name, 2) for name in COST_2] + [(name, 0) for name in COST_0]
TABLE += [(name, 1) for name in COST_1]


@pytest.mark.parametrize(("endpoint", "cost"), TABLE)
def test_endpoint_cost(endpoint: str, cost: int) -> None:
    assert api_cost(endpoint) == cost
    assert not is_public(endpoint)


def test_table_is_exactly_the_documented_endpoints() -> None:
    assert dict(TABLE) == API_COSTS
    assert set(COST_0) == ORDER_ENDPOINTS


@pytest.mark.parametrize(
    "endpoint", ["", "addorder", "ADDORDER", "Ledger", "Withdraw", "Ticker", "Time", " Balance"]
)
def test_unknown_endpoint(endpoint: str) -> None:
    with pytest.raises(UnknownEndpoint) as info:
        api_cost(endpoint)
    assert info.value.endpoint == endpoint
    assert repr(endpoint) in str(info.value)
    assert isinstance(info.value, LimiterError)


@pytest.mark.parametrize(
    "endpoint",
    ["Time", "SystemStatus", "Assets", "AssetPairs", "Ticker", "Depth", "OHLC", "Trades", "Spread"],
)
def test_public_endpoints_are_not_on_the_key_counter(endpoint: str) -> None:
    assert is_public(endpoint)
    assert endpoint not in API_COSTS


def test_public_rate() -> None:
    assert PUBLIC_RATE_PER_SECOND == 1.0
    assert not PUBLIC_ENDPOINTS & set(API_COSTS)
