"""The whole bench run: every workload x tier x limiter x seed, the micro-benchmarks, the
medians, the side-by-side ratios and the targets.

``quick`` runs one seed of short workloads and small micro-benchmarks (well under a
minute on two cores); the full run three seeds of ten simulated minutes per cell, and the
real 24-hour replay.  Cells run in ``jobs`` worker processes (micro-benchmarks run alone,
afterwards, so nothing competes with their timings).

Medians are over seeds; a ratio is computed per seed between two cells of that seed (same
exchange, same prices, same run of the suite), then its median is taken.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import attrs

from benchmarks import micro, nonces, shared_store, usercmd
from benchmarks.live_path import run_live_path
from benchmarks.runner import LIMITERS, limiter, run_cell
from benchmarks.workloads import WORKLOADS, workload
from limiters import Tier

__all__ = ["SuiteConfig", "machine", "run_suite"]

#: Figures aggregated per cell (medians over seeds).
METRICS = (
    "rate_limit_errors", "orders_per_min", "transactions_per_min", "queries_per_min",
    "wait_p50", "wait_p99", "cpu_us_per_intent", "wall_seconds", "intents",
)
ORDERPACE = "orderpace"
TARGET_UTILIZATION = 0.99
TARGET_THROUGHPUT = 100_000.0
TARGET_REPLAY_SECONDS = 30.0
#: The user's 24 h, 3-pair market-maker backtest, wall seconds (issue 16).
TARGET_USER_COMMAND_SECONDS = 10.0


@attrs.frozen(slots=True)
class SuiteConfig:
    """What to run.  Sizes are intents; ``replay`` simulated seconds (86 400: the real day)."""

    quick: bool
    seeds: tuple[int, ...]
    jobs: int
    tiers: tuple[str, ...] = tuple(t.value for t in Tier)
    workloads: tuple[str, ...] = tuple(w.name for w in WORKLOADS)
    limiters: tuple[str, ...] = tuple(s.name for s in LIMITERS)
    micro_intents: int = 20_000
    throughput_intents: int = 50_000
    micro_repeats: int = 5
    replay: float = micro.DAY
    replay_repeats: int = 3
    user_duration: float = micro.DAY
    user_repeats: int = 3
    before: str | None = None  # a checkout to time the user's command against, side by side

    @classmethod
    def for_mode(cls, quick: bool, jobs: int | None = None,
                 before: str | None = None) -> SuiteConfig:
        jobs = jobs if jobs is not None else max(1, min(2, os.cpu_count() or 1))
        if quick:
            return cls(quick=True, seeds=(1,), jobs=jobs, micro_intents=2_000,
                       throughput_intents=5_000, micro_repeats=3, replay=3_600.0,
                       replay_repeats=1, user_duration=120.0, user_repeats=1, before=before)
        return cls(quick=False, seeds=(1, 2, 3), jobs=jobs, before=before)


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python and OS of this machine."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(), "cpu_model": model,
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def _cell(task: tuple[str, str, str, int, float]) -> dict[str, Any]:
    name, tier, lim, seed, duration = task
    return run_cell(workload(name), tier, limiter(lim), seed=seed, duration=duration).as_dict()


def _tasks(cfg: SuiteConfig) -> list[tuple[str, str, str, int, float]]:
    tasks = [
        (w, t, lim, seed, workload(w).duration(cfg.quick))
        for w in cfg.workloads for t in cfg.tiers for lim in cfg.limiters for seed in cfg.seeds
    ]
    # the polling baselines take longest: start them first so the workers finish together
    slow = {"asyncio-throttle": 0, "ccxt-style": 1, "hummingbot-style": 2}
    return sorted(tasks, key=lambda t: slow.get(t[2], 9))


def run_cells(
    cfg: SuiteConfig, progress: Callable[[int, int, dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    """Every cell of ``cfg`` (in ``cfg.jobs`` processes); results in a stable order."""
    tasks = _tasks(cfg)
    out: list[dict[str, Any]] = []
    if cfg.jobs <= 1:
        results: Iterable[dict[str, Any]] = map(_cell, tasks)
        for i, r in enumerate(results, 1):
            out.append(r)
            if progress is not None:
                progress(i, len(tasks), r)
    else:
        with ProcessPoolExecutor(max_workers=min(cfg.jobs, len(tasks))) as pool:
            for i, r in enumerate(pool.map(_cell, tasks, chunksize=1), 1):
                out.append(r)
                if progress is not None:
                    progress(i, len(tasks), r)
    order = {(w.name, t, s.name): i for i, (w, t, s) in enumerate(
        (w, t.value, s) for w in WORKLOADS for t in Tier for s in LIMITERS)}
    return sorted(out, key=lambda r: (order[(r["workload"], r["tier"], r["limiter"])], r["seed"]))


def _median(values: Sequence[float | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return float(statistics.median(xs)) if xs else None


def aggregate(cells: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per workload x tier x limiter: medians over seeds (utilization per pair too)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for c in cells:
        groups.setdefault((c["workload"], c["tier"], c["limiter"]), []).append(c)
    rows = []
    for (w, t, lim), runs in groups.items():
        row: dict[str, Any] = {"workload": w, "tier": t, "limiter": lim, "seeds": len(runs)}
        for m in METRICS:
            row[m] = _median([r[m] for r in runs])
        keys = dict.fromkeys(k for r in runs for k in r["utilization"])
        row["utilization"] = {k: _median([r["utilization"].get(k) for r in runs]) for k in keys}
        row["rate_limit_errors_total"] = sum(r["rate_limit_errors"] for r in runs)
        errors: dict[str, int] = {}
        for r in runs:
            for e, n in r["errors"].items():
                errors[e] = errors.get(e, 0) + n
        row["errors_total"] = dict(sorted(errors.items()))
        row["unresolved_total"] = sum(r["unresolved"] for r in runs)
        row["failures"] = [r["failure"] for r in runs if r["failure"]]
        rows.append(row)
    return rows


def ratios(cells: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per workload x tier x contender: median over seeds of (contender / orderpace) for
    accepted orders and transactions per minute, utilization and CPU per intent -- each
    ratio taken between two cells of the same seed."""
    by = {(c["workload"], c["tier"], c["limiter"], c["seed"]): c for c in cells}
    keys = ("orders_per_min", "transactions_per_min", "utilization", "cpu_us_per_intent")
    groups: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for (w, t, lim, seed), c in by.items():
        base = by.get((w, t, ORDERPACE, seed))
        if lim == ORDERPACE or base is None:
            continue
        per = groups.setdefault((w, t, lim), {k: [] for k in keys})
        for k in keys:
            mine = c["utilization"]["overall"] if k == "utilization" else c[k]
            theirs = base["utilization"]["overall"] if k == "utilization" else base[k]
            if theirs:
                per[k].append(mine / theirs)
    return [{"workload": w, "tier": t, "limiter": lim, **{k: _median(v) for k, v in per.items()}}
            for (w, t, lim), per in groups.items()]


def targets(rows: Sequence[dict[str, Any]], micro_results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured figure (reported, never asserted)."""
    mine = [r for r in rows if r["limiter"] == ORDERPACE]
    errors = sum(r["rate_limit_errors_total"] for r in mine)
    saturating = {w.name for w in WORKLOADS if w.saturating}
    util = {f"{r['workload']}/{r['tier']}": r["utilization"]["overall"]
            for r in mine if r["workload"] in saturating}
    worst = min(util.values()) if util else None
    thr = micro_results["throughput"]["intents_per_second"]
    replay = micro_results["replay"]
    user = micro_results["user_command"]
    user_wall = user["now"]["wall_seconds_24h"]
    return [
        {"target": "orderpace: zero rate-limit errors on every workload (all tiers, seeds)",
         "measured": errors, "met": errors == 0},
        {"target": f">= {TARGET_UTILIZATION:.0%} budget utilization on saturating workloads",
         "measured": worst, "detail": util,
         "met": worst is not None and worst >= TARGET_UTILIZATION},
        {"target": f">= {TARGET_THROUGHPUT:,.0f} intents/s through scheduler + simulated "
                   "exchange", "measured": thr, "met": thr >= TARGET_THROUGHPUT},
        {"target": f"24 h market-maker replay (3 pairs) < {TARGET_REPLAY_SECONDS:.0f} s",
         "measured": replay["wall_seconds_24h"], "extrapolated": replay["extrapolated"],
         "met": replay["wall_seconds_24h"] < TARGET_REPLAY_SECONDS},
        {"target": "the user's command, 24 h market-maker backtest on 3 pairs (wall, start-up "
                   f"included) <= {TARGET_USER_COMMAND_SECONDS:.0f} s",
         "measured": user_wall, "extrapolated": user["duration"] < micro.DAY,
         "met": user_wall <= TARGET_USER_COMMAND_SECONDS},
    ]


def run_micro(cfg: SuiteConfig) -> dict[str, Any]:
    """The micro-benchmarks, sized by ``cfg``."""
    n, r = cfg.micro_intents, cfg.micro_repeats
    return {
        "scheduler": micro.scheduler_cost(n, r),
        "memory": micro.memory_per_queued_intent(n),
        "throughput": micro.throughput(cfg.throughput_intents, r),
        "profile": micro.profile_throughput(n),
        "replay": micro.replay_24h(cfg.replay, cfg.replay_repeats),
        "user_command": usercmd.compare(cfg.user_duration, cfg.user_repeats, cfg.before),
        "user_split": usercmd.split(cfg.user_duration),
    }


def run_suite(
    cfg: SuiteConfig, progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    command: str = "",
) -> dict[str, Any]:
    """Everything: cells, aggregates, ratios, micro-benchmarks, targets, machine."""
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    cells = run_cells(cfg, progress)
    cells_wall = time.perf_counter() - t0
    micro_results = run_micro(cfg)
    live_path = run_live_path(cfg.quick)
    rows = aggregate(cells)
    return {
        "mode": "quick" if cfg.quick else "full",
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": time.perf_counter() - t0,
        "cells_wall_seconds": cells_wall,
        "machine": machine(),
        "config": {
            "seeds": list(cfg.seeds), "jobs": cfg.jobs, "tiers": list(cfg.tiers),
            "limiters": {s.name: s.description for s in LIMITERS if s.name in cfg.limiters},
            "workloads": {w.name: {"description": w.description,
                                   "duration": w.duration(cfg.quick),
                                   "pairs": list(w.pairs),
                                   "strategies": [s.name for s in w.strategies],
                                   "saturating": w.saturating}
                          for w in WORKLOADS if w.name in cfg.workloads},
        },
        "targets": targets(rows, micro_results),
        "results": rows,
        "ratios": ratios(cells),
        "micro": micro_results,
        "live_path": live_path,
        "nonces": nonces.run_nonces(cfg.quick),
        "shared_store": shared_store.run_shared_store(cfg.quick),
        "cells": cells,
    }
