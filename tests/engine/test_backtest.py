"""The backtest runner: configuration checks, the summary's figures, recording, determinism."""

from __future__ import annotations

import json
import math

import pytest
import structlog.testing

from engine.run.backtest import (
    DEFAULT_DURATION,
    DEFAULT_PAIRS,
    MAX_DURATION,
    BacktestConfig,
    BacktestError,
    run_backtest,
)
from engine.run.summary import percentile
from limiters import Tier
from strategies.params import InvalidParameter, UnknownParameter
from strategies.registry import UnknownStrategy

CONTRACT_KEYS = {
    "intents", "sent", "outcomes", "rate_limit_errors", "budget_utilization",
    "simulated_seconds", "wall_seconds",
}


def test_defaults_are_the_documented_ones() -> None:
    cfg = BacktestConfig()
    assert cfg.strategy == "market-maker" and cfg.tier is Tier.INTERMEDIATE
    assert cfg.pairs == DEFAULT_PAIRS == ("XBT/USD", "ETH/USD")
    assert cfg.duration == DEFAULT_DURATION == 3600.0 and cfg.seed == 1
    assert cfg.decay_step == 2.0 and 0 < cfg.jitter < cfg.decay_step


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": 0}, "duration must be > 0"),
        ({"duration": -5.0}, "duration must be > 0"),
        ({"duration": math.nan}, "duration must be a finite number"),
        ({"duration": "60"}, "duration must be a finite number"),
        ({"duration": 1e12}, r"duration must be at most 2,592,000 seconds \(30 days\)"),
        ({"duration": MAX_DURATION + 1}, "duration must be at most"),
        ({"jitter": -0.1}, "jitter must be >= 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"pairs": "DOGE/USD"}, "unknown pair 'DOGE/USD'"),
        ({"pairs": ""}, "at least one pair"),
        ({"pairs": "XBT/USD,XBT/USD"}, "each pair once"),
        ({"pairs": "XBT/USD,xbtusd"}, "each pair once"),
        ({"tier": "gold"}, "unknown tier 'gold'"),
    ],
)
def test_bad_config_is_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(BacktestError, match=match):
        BacktestConfig(**kwargs)  # type: ignore[arg-type]


def test_pairs_and_tier_are_normalised() -> None:
    cfg = BacktestConfig(pairs=" XBT/USD , solusd ", tier="PRO")
    assert cfg.pairs == ("XBT/USD", "SOL/USD") and cfg.tier is Tier.PRO


def test_unknown_strategy_and_bad_parameters_fail_before_running() -> None:
    with pytest.raises(UnknownStrategy):
        run_backtest(BacktestConfig(strategy="nope"))
    with pytest.raises(InvalidParameter, match="'spread_bps' expects a number"):
        run_backtest(BacktestConfig(settings=("spread_bps=wide",)))
    with pytest.raises(UnknownParameter, match="no parameter 'spreed'"):
        run_backtest(BacktestConfig(settings=("spreed=3",)))


@pytest.fixture(scope="module")
def recorded():  # type: ignore[no-untyped-def]
    return run_backtest(BacktestConfig(duration=300, seed=3, record=True))


def test_summary_has_the_contract_keys(recorded) -> None:  # type: ignore[no-untyped-def]
    d = recorded.summary.as_dict()
    assert set(d) >= CONTRACT_KEYS
    assert list(d)[:7] == ["intents", "sent", "outcomes", "rate_limit_errors",
                           "budget_utilization", "simulated_seconds", "wall_seconds"]
    assert set(d["budget_utilization"]) == {"overall", "XBT/USD", "ETH/USD"}
    assert all(0 <= v <= 1 for v in d["budget_utilization"].values())
    assert sum(d["outcomes"].values()) == d["intents"]
    assert d["simulated_seconds"] >= 300 and d["wall_seconds"] > 0
    assert json.loads(recorded.summary.to_json()) == json.loads(json.dumps(d))


def test_counters_come_from_the_exchange(recorded) -> None:  # type: ignore[no-untyped-def]
    c = recorded.summary.counters
    assert c["XBT/USD"]["max"] == 125 and c["api"]["max"] == 20
    for pair in ("XBT/USD", "ETH/USD"):
        assert 0 < c[pair]["mean"] <= c[pair]["peak"] <= 125
    # the market maker sends only order requests: the API counter is never charged
    assert c["api"]["peak"] == 0


def test_requests_are_recorded(recorded) -> None:  # type: ignore[no-untyped-def]
    reqs = recorded.requests
    assert len(reqs) >= recorded.summary.sent > 0  # a retried intent sends twice
    assert [r.time for r in reqs] == sorted(r.time for r in reqs)
    assert {r.action for r in reqs} <= {"add", "amend", "cancel", "edit"}
    assert {r.outcome for r in reqs} <= {"accepted", "rejected", "expired", "failed"}
    for r in reqs:
        assert r.level_after == pytest.approx(r.level_before + r.cost)
        assert r.level_after <= 125 and r.pair in ("XBT/USD", "ETH/USD")


def test_samples_and_waits_are_recorded(recorded) -> None:  # type: ignore[no-untyped-def]
    samples = recorded.samples
    assert samples[0].time == 0 and samples[-1].time >= 300
    assert len(samples) >= 300
    assert all(set(s.trading) == {"XBT/USD", "ETH/USD"} for s in samples)
    assert list(recorded.waits) == sorted(recorded.waits)
    assert recorded.summary.queue_wait["p99"] == pytest.approx(
        percentile(recorded.waits, 99))


def test_same_seed_same_summary() -> None:
    cfg = BacktestConfig(strategy="burst", tier="starter", duration=120, seed=11)
    a, b = run_backtest(cfg).summary, run_backtest(cfg).summary
    assert a.comparable() == b.comparable()
    c = run_backtest(BacktestConfig(strategy="burst", tier="starter", duration=120,
                                    seed=12)).summary
    assert c.comparable() != a.comparable()


def test_nothing_recorded_by_default() -> None:
    r = run_backtest(BacktestConfig(strategy="grid", duration=60))
    assert r.requests == () and r.samples == () and r.waits == ()


def test_progress_is_reported() -> None:
    seen = []
    run_backtest(BacktestConfig(strategy="grid", duration=100), progress=seen.append)
    assert seen[0].simulated == 0 and seen[-1].stopping
    assert [p.simulated for p in seen[:3]] == [0, 1, 2]
    assert all(p.duration == 100 for p in seen)


def test_render_shows_the_table(recorded) -> None:  # type: ignore[no-untyped-def]
    text = recorded.summary.render()
    for needle in ("market-maker on XBT/USD, ETH/USD", "intents", "outcomes", "requests",
                   "rate-limit errors", "XBT/USD", "api", "overall", "queue wait", "p99"):
        assert needle in text


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 99) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([0.0, 10.0], 99) == pytest.approx(9.9)


def test_thirty_days_is_the_longest_duration() -> None:
    assert MAX_DURATION == 30 * 86_400
    assert BacktestConfig(duration=MAX_DURATION).duration == MAX_DURATION


def test_every_outcome_status_is_in_the_summary() -> None:
    s = run_backtest(BacktestConfig(strategy="grid", duration=30)).summary
    assert list(s.outcomes) == ["accepted", "rejected", "expired", "coalesced", "failed"]
    assert s.as_dict()["outcomes"]["failed"] == 0


def test_log_decisions_emits_the_engines_decision_events() -> None:
    with structlog.testing.capture_logs() as logs:
        run_backtest(BacktestConfig(strategy="grid", duration=5, log_decisions=True))
    decisions = [e for e in logs if e["event"] == "decision"]
    assert decisions and all(e["log_level"] == "debug" for e in decisions)
    assert {"pair", "kind", "hid"} <= set(decisions[0])
    with structlog.testing.capture_logs() as quiet:
        run_backtest(BacktestConfig(strategy="grid", duration=5))
    assert not [e for e in quiet if e["event"] == "decision"]
