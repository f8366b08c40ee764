"""Sweeps: the plan is the cartesian product, checked before anything runs; the results do
not depend on the number of worker processes; ranking and the command line."""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

import engine.run.sweep as sweep_module
from engine.cli import command as cli
from engine.run.backtest import BacktestConfig, run_backtest
from engine.run.ranking import METRICS, RankBy, metric, parse_rank_by, rank
from engine.run.sweep import (
    MAX_RUNS,
    SweepAxis,
    SweepError,
    SweepRun,
    parse_axis,
    plan_sweep,
    run_sweep,
)

BASE = BacktestConfig(strategy="market-maker", duration=60.0)


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_two_by_two_in_two_processes_equals_the_runs_one_by_one() -> None:
    """``make test``'s sweep check: 2 x 2 runs of 60 s with ``--jobs 2`` give exactly the
    summaries of the same four runs done one at a time (wall time aside)."""
    plan = plan_sweep(BASE, [parse_axis("spread_bps=4,8"), parse_axis("seed=1,2")])
    assert len(plan) == 4
    parallel = run_sweep(plan, jobs=2)
    for run, config in zip(parallel, plan.configs, strict=True):
        alone = run_backtest(config)
        assert {k: v for k, v in run.summary.items() if k != "wall_seconds"} == \
            alone.summary.comparable()
        assert run.fills == sum(int(f["count"]) for f in alone.fills.values())
    assert [dict(r.point) for r in parallel] == [
        {"spread_bps": "4", "seed": "1"}, {"spread_bps": "4", "seed": "2"},
        {"spread_bps": "8", "seed": "1"}, {"spread_bps": "8", "seed": "2"}]
    assert parallel[0].summary["params"]["spread_bps"] == 4.0
    assert parallel[1].summary["seed"] == 2


axis_values = st.lists(st.integers(0, 50), min_size=1, max_size=3, unique=True)


@given(st.lists(axis_values, min_size=1, max_size=3))
def test_the_plan_is_the_product_first_axis_slowest(values: list[list[int]]) -> None:
    keys = ["seed", "spread_bps", "requote_bps"][:len(values)]
    axes = [SweepAxis(k, tuple(str(v + 1) for v in vs)) for k, vs in zip(keys, values,
                                                                        strict=True)]
    plan = plan_sweep(BASE, axes)
    assert len(plan) == math.prod(len(v) for v in values)
    points = [tuple(p[k] for k in keys) for p in plan.points]
    assert len(set(points)) == len(points)  # each combination once
    assert points == sorted(points, key=lambda p: tuple(
        axes[i].values.index(x) for i, x in enumerate(p)))
    for point, config in zip(plan.points, plan.configs, strict=True):
        assert config.seed == int(point["seed"])
        assert [s for s in config.settings if not s.startswith("seed")] == [
            f"{k}={point[k]}" for k in keys[1:]]


@pytest.mark.parametrize(("axes", "message"), [
    (["spread_bps"], "--sweep expects key=v1,v2"),
    (["=1,2"], "--sweep expects key=v1,v2"),
    (["spread_bps="], "give values separated by commas"),
    (["spread_bps=1,,2"], "give values separated by commas"),
    (["spread_bps=1,1"], "each value once"),
    (["seed=1..3,2"], "each value once"),
    (["seed=5..1"], "a range A..B"),
    (["seed=1..x"], "expected integers or A..B"),
    (["nope=1,2"], "not a parameter of market-maker nor a run setting"),
    (["spread_bps=1,2", "spread-bps=3"], "given twice"),
    (["spread_bps=wide,8"], "parameter 'spread_bps' expects a number"),
    (["spread_bps=-1,8"], "spread_bps=-1"),
    (["tier=pro,gold"], "--sweep run tier=gold: tier: unknown tier .gold."),
    (["duration=60,0"], "--sweep duration"),
    (["duration=60,1e12"], "duration must be at most"),
    (["seed=0..999", "spread_bps=1,2,3,4,5,6,7,8,9,10,11"], f"more than the {MAX_RUNS:,}"),
])
def test_a_bad_sweep_is_refused_before_anything_runs(
    axes: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sweep_module, "run_backtest", _refuse)
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_sweep(BASE, [parse_axis(a) for a in axes])


def _refuse(*_a: object, **_k: object) -> None:
    raise AssertionError("a run started")


def test_a_key_both_set_and_swept_is_refused() -> None:
    base = BacktestConfig(settings=("spread_bps=5",))
    with pytest.raises(SweepError, match="both --set and --sweep"):
        plan_sweep(base, [parse_axis("spread-bps=4,8")])


def _run(i: int, **summary: Any) -> SweepRun:
    full: dict[str, Any] = {"budget_utilization": {"overall": 0.5}, "outcomes": {},
                            "intents": 1, "rate_limit_errors": 0, "strategy_report": {}}
    full.update(summary)
    return SweepRun(i, {"seed": str(i)}, full, fills=summary.pop("fills", 0))


values_or_none = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))


@given(st.lists(values_or_none, min_size=1, max_size=12), st.booleans())
def test_rank_is_a_stable_sort_with_missing_values_last(
    pnls: list[float | None], descending: bool,
) -> None:
    runs = [_run(i, strategy_report={} if p is None else {"mm": {"pairs": {"X": {"pnl": p}}}})
            for i, p in enumerate(pnls)]
    ranked = rank(runs, RankBy("pnl", descending))
    assert sorted(r.index for r in ranked) == list(range(len(runs)))  # a permutation
    have = [metric(r, "pnl") for r in ranked if metric(r, "pnl") is not None]
    assert have == sorted(have, reverse=descending)  # type: ignore[type-var]
    n = len(have)
    assert all(metric(r, "pnl") is None for r in ranked[n:])  # missing last
    for a, b in itertools.pairwise(ranked):  # ties keep the plan's order
        if metric(a, "pnl") == metric(b, "pnl"):
            assert a.index < b.index


def test_rank_by_names_and_directions() -> None:
    assert parse_rank_by("budget_utilization") == RankBy("budget_utilization", True)
    assert parse_rank_by("rate_limit_errors") == RankBy("rate_limit_errors", False)
    assert parse_rank_by("fills:asc") == RankBy("fills", False)
    assert parse_rank_by("report.grid.fills") == RankBy("report.grid.fills", True)
    for bad in ("profit", "fills:up", "report."):
        with pytest.raises(SweepError, match="--rank-by"):
            parse_rank_by(bad)
    run = _run(0, strategy_report={"grid": {"fills": 7}, "m": {"pairs": {"XBT/USD": {
        "pnl": 1.5}, "ETH/USD": {"pnl": -0.5}}}})
    assert metric(run, "report.grid.fills") == 7.0 and metric(run, "pnl") == 1.0
    assert metric(run, "report.m.pairs.XBT/USD.pnl") == 1.5
    assert metric(run, "report.grid.nothing") is None
    assert set(METRICS) >= {"budget_utilization", "fills", "pnl", "rate_limit_errors"}


# -- the command line -------------------------------------------------------------------


def test_the_command_ranks_reports_and_prints_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    code = cli.main(["backtest", "--strategy", "grid", "--duration", "60", "--sweep",
                     "seed=1..3", "--jobs", "1", "--rank-by", "report.grid.fills",
                     "--report", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out.strip().splitlines()[-1])
    assert data["axes"] == {"seed": ["1", "2", "3"]}
    assert data["rank_by"] == "report.grid.fills:desc"
    values = [r["value"] for r in data["runs"]]
    assert values == sorted(values, reverse=True) and [r["rank"] for r in data["runs"]] == [
        1, 2, 3]
    for r in data["runs"]:
        assert r["summary"]["seed"] == int(r["point"]["seed"])
        assert r["value"] == r["summary"]["strategy_report"]["grid"]["fills"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv", "sweep.json",
                                                          "sweep.png"]
    with open(tmp_path / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["seed"] for row in rows] == [r["point"]["seed"] for r in data["runs"]]
    assert json.loads((tmp_path / "sweep.json").read_text())["runs"][0]["rank"] == 1


def test_the_command_prints_a_ranked_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["backtest", "--strategy", "grid", "--duration", "30", "--sweep",
                     "spacing_bps=5,20", "--jobs", "1", "--rank-by", "rate_limit_errors"])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert lines[0].strip() == "ranked by rate_limit_errors:asc"
    assert lines[1].split()[:3] == ["#", "spacing_bps", "intents"]
    assert [line.split()[1] for line in lines[2:4]] in (["5", "20"], ["20", "5"])


@pytest.mark.parametrize(("argv", "message"), [
    (["--sweep", "spread_bps=1,,2"], "give values separated by commas"),
    (["--sweep", "bogus=1"], "not a parameter of market-maker"),
    (["--sweep", "spread_bps=4", "--rank-by", "profit"], "--rank-by 'profit'"),
    (["--jobs", "2"], "--jobs and --rank-by go with --sweep"),
    (["--rank-by", "fills"], "--jobs and --rank-by go with --sweep"),
    (["--sweep", "spread_bps=4", "--jobs", "0"], "argument --jobs: expected a number of "
                                                 "processes >= 1"),
])
def test_command_usage_errors_come_before_any_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(sweep_module, "run_sweep", _refuse)
    import engine.run.backtest

    monkeypatch.setattr(engine.run.backtest, "run_backtest", _refuse)
    try:
        code = cli.main(["backtest", *argv])
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert message in err
