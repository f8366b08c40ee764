"""Every built-in strategy, 10 simulated minutes on every tier: no rate-limit error, every
intent terminal, and the behaviour each one is for."""

from __future__ import annotations

import pytest

from engine.run.backtest import BacktestConfig, BacktestResult, run_backtest

STRATEGIES = ("market-maker", "twap", "grid", "burst")
TIERS = ("starter", "intermediate", "pro")

_cache: dict[tuple[str, str], BacktestResult] = {}


def backtest(strategy: str, tier: str) -> BacktestResult:
    key = (strategy, tier)
    if key not in _cache:
        _cache[key] = run_backtest(BacktestConfig(strategy=strategy, tier=tier, duration=600))
    return _cache[key]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_rate_limit_error_and_every_intent_terminal(strategy: str, tier: str) -> None:
    s = backtest(strategy, tier).summary
    assert s.failure is None
    assert s.rate_limit_errors == 0, s.errors
    assert s.unresolved == 0
    assert s.intents > 0 and sum(s.outcomes.values()) == s.intents
    assert s.outcomes.get("failed", 0) == 0
    assert 0 < s.sent <= s.intents
    assert 0.0 < s.budget_utilization["overall"] <= 1.0
    assert s.simulated_seconds >= 600.0
    for pair in s.pairs:
        assert s.counters[pair]["peak"] <= s.counters[pair]["max"]


@pytest.mark.parametrize("tier", TIERS)
def test_market_maker_amends_and_cancels(tier: str) -> None:
    s = backtest("market-maker", tier).summary
    assert s.requests["AmendOrder"] > 10 * s.requests["AddOrder"]
    r = backtest("market-maker", tier)
    # its quotes are pulled at the end: cancelled (unless a fill took one first), none left
    assert s.requests.get("CancelOrder", 0) >= 1
    assert r.open_at_end == dict.fromkeys(s.pairs, 0)
    report = s.strategy_report["market_maker"]
    assert report["amends"] > 0 and set(report["pairs"]) == set(s.pairs)


def test_market_maker_uses_the_budget_where_it_is_tight() -> None:
    assert backtest("market-maker", "starter").summary.budget_utilization["overall"] > 0.8


@pytest.mark.parametrize("tier", TIERS)
def test_twap_finishes_on_time_without_shortfall(tier: str) -> None:
    s = backtest("twap", tier).summary
    for pair in s.pairs:
        r = s.strategy_report["twap"][pair]
        assert r["filled"] == r["target"] and r["shortfall"] == 0.0


def test_twap_on_a_tight_budget_still_finishes() -> None:
    cfg = BacktestConfig(strategy="twap", tier="starter", duration=600,
                         settings=("slices=600", "offset_bps=0"), record=True)
    r = run_backtest(cfg)
    s = r.summary
    assert s.rate_limit_errors == 0 and s.unresolved == 0
    assert s.outcomes.get("expired", 0) > 0  # slices the budget could not send in time
    assert max(q.time for q in r.requests) <= cfg.duration
    for pair in s.pairs:
        assert s.strategy_report["twap"][pair]["shortfall"] == 0.0


def test_twap_reports_a_shortfall() -> None:
    # selling more XBT than the simulated account holds (100,000): the exchange refuses
    # the children once the balance is spent, and the rest is reported as shortfall
    s = run_backtest(BacktestConfig(strategy="twap", duration=300, pairs="XBT/USD",
                                    settings=("notional=2e10", "side=sell"))).summary
    assert s.rate_limit_errors == 0 and s.unresolved == 0
    assert s.errors.get("EOrder:Insufficient funds", 0) > 0
    r = s.strategy_report["twap"]["XBT/USD"]
    assert r["side"] == "sell" and 0 < r["filled"] <= 100_000
    assert r["shortfall"] == pytest.approx(r["target"] - r["filled"])
    assert r["shortfall_pct"] > 50


@pytest.mark.parametrize("tier", TIERS)
def test_grid_places_a_ladder_in_batches(tier: str) -> None:
    s = backtest("grid", tier).summary
    assert s.requests["AddOrderBatch"] == len(s.pairs)


@pytest.mark.parametrize("tier", TIERS)
def test_burst_offers_more_than_the_budget_allows(tier: str) -> None:
    s = backtest("burst", tier).summary
    assert s.outcomes["expired"] > s.outcomes["accepted"] / 2
    assert s.budget_utilization["overall"] > 0.9
    report = s.strategy_report["burst"]
    assert report["offered"] > s.intents and report["cancels"] > 0
