"""The command a user runs, timed as the user sees it, and where its time goes.

The README's performance figures quote this, not a workload of the bench's own::

    orderpace backtest --strategy market-maker --pairs XBT/USD,ETH/USD,SOL/USD \\
                       --duration 86400 --json

* :func:`user_command` -- wall and CPU seconds of that command run as a child process
  (``python -m engine``: start-up and imports included), the intents it submitted and
  CPU µs per intent (``cpu seconds / intents``).  ``src`` runs another checkout's code (a
  directory holding its ``engine/``), so a before/after is measured side by side in one run.
* :func:`compare` -- medians of :func:`user_command` over repeats, alternated with another
  checkout's when given; a shorter ``duration`` is scaled to a day as ``start + (wall -
  start) x 86400 / duration``, ``start`` the wall time of a 1-second run (start-up).
* :func:`split` -- the same backtest in-process under :mod:`cProfile`: own time per part,
  as µs per intent of the *unprofiled* CPU time (each part's share of the profiled time x
  the measured µs per intent).  Parts, by where the code lives: ``scheduler`` (the engine:
  ``engine/core``, ``limiters``, intents and outcomes), ``simulated exchange``
  (``engine/exchange`` and the simulated venue), ``strategy`` (``strategies/``),
  ``sampler`` (everything under :meth:`engine.run.sampling.Sampler._sample`, attributed
  down the call graph in proportion to calls' time), ``event loop`` (asyncio and the
  virtual clock) and ``other`` (the run loop, attrs, the standard library).

``python -m benchmarks.usercmd [--duration S] [--repeats N] [--before DIR] [--json]``
prints both, with ``--before`` the same command from ``DIR`` alternated with this
checkout's (medians), so that machine load hits both alike.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["COMMAND_ARGS", "PARTS", "compare", "render", "split", "user_command"]

#: The user's command, after ``orderpace`` (``--duration`` is appended).
COMMAND_ARGS = ("backtest", "--strategy", "market-maker", "--pairs", "XBT/USD,ETH/USD,SOL/USD",
                "--json")
PAIRS = ("XBT/USD", "ETH/USD", "SOL/USD")
DAY = 86_400.0
PARTS = ("scheduler", "simulated exchange", "strategy", "sampler", "event loop", "other")
_ROOT = Path(__file__).resolve().parent.parent
_SAMPLE = "_sample"

_Key = tuple[str, int, str]


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def user_command(duration: float, src: str | Path | None = None) -> dict[str, Any]:
    """One run of the user's command over ``duration`` simulated seconds (module docstring)."""
    cwd = Path(src) if src is not None else _ROOT
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    argv = [sys.executable, "-m", "engine", *COMMAND_ARGS, "--duration", f"{duration:g}"]
    cpu0, t0 = _child_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _child_cpu() - cpu0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    intents = int(summary["intents"])
    return {"duration": duration, "wall_seconds": wall, "cpu_seconds": cpu, "intents": intents,
            "cpu_us_per_intent": 1e6 * cpu / intents if intents else None,
            "rate_limit_errors": summary["rate_limit_errors"],
            "budget_utilization": summary["budget_utilization"]["overall"]}


def _part(key: _Key) -> str | None:
    path, _line, _func = key
    if path == "~" or path.startswith("<"):
        return None  # a builtin: charged to its callers' parts
    p = path.replace(os.sep, "/")
    if "/strategies/" in p:
        return "strategy"
    if "/engine/exchange/" in p or p.endswith("/engine/venues/simulated.py"):
        return "simulated exchange"
    if ("/engine/core/" in p or "/limiters/" in p
            or p.endswith(("/engine/intents.py", "/engine/outcomes.py", "/engine/markets.py",
                           "/engine/numbers.py", "/engine/kraken_errors.py"))):
        return "scheduler"
    if "/asyncio/" in p or p.endswith(("/selectors.py", "/engine/clock.py")):
        return "event loop"
    return "other"


def _own_by_part(stats: dict[_Key, Any]) -> defaultdict[str, float]:
    """Own time per part; a builtin's goes to its callers' parts, in proportion."""
    out: defaultdict[str, float] = defaultdict(float)
    for key, (_cc, _nc, tt, _ct, callers) in stats.items():
        part = _part(key)
        if part is not None:
            out[part] += tt
            continue
        total = sum(edge[2] for edge in callers.values()) or 1.0
        for caller, edge in callers.items():
            out[_part(caller) or "other"] += tt * edge[2] / total
    return out


def _sampler_by_part(stats: dict[_Key, Any]) -> defaultdict[str, float]:
    """Own time spent under ``Sampler._sample``, per part where the code lives.

    Walks down the call graph from ``_sample``: a callee's time on an edge counts in the
    share of its caller's time that was the sampler's."""
    callees: dict[_Key, list[tuple[_Key, Any]]] = {}
    for key, (_cc, _nc, _tt, _ct, callers) in stats.items():
        for caller, edge in callers.items():
            callees.setdefault(caller, []).append((key, edge))
    out: defaultdict[str, float] = defaultdict(float)
    roots = [k for k in stats if k[2] == _SAMPLE and k[0].endswith("sampling.py")]

    def walk(key: _Key, frac: float, depth: int) -> None:
        if depth > 40 or frac < 1e-6:
            return
        for callee, (_cc, _nc, tt, ct) in callees.get(key, ()):
            out[_part(callee) or _part(key) or "other"] += tt * frac
            total_ct = stats[callee][3]
            if total_ct > 0:
                walk(callee, frac * ct / total_ct, depth + 1)

    for root in roots:
        out[_part(root) or "other"] += stats[root][2]
        walk(root, 1.0, 0)
    return out


def split(duration: float, cpu_us_per_intent: float | None = None) -> dict[str, Any]:
    """µs per intent per part of the user's backtest over ``duration`` (module docstring);
    ``cpu_us_per_intent`` scales the shares (default: this run's own, unprofiled)."""
    import structlog

    from engine.run.backtest import BacktestConfig, run_backtest

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    cfg = BacktestConfig(strategy="market-maker", pairs=PAIRS, duration=duration, seed=1)
    if cpu_us_per_intent is None:
        c0 = time.process_time()
        plain = run_backtest(cfg)
        cpu_us_per_intent = 1e6 * (time.process_time() - c0) / max(1, plain.summary.intents)
    prof = cProfile.Profile()
    prof.enable()
    result = run_backtest(cfg)
    prof.disable()
    stats: dict[_Key, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    own = _own_by_part(stats)
    sampled = _sampler_by_part(stats)
    parts: defaultdict[str, float] = defaultdict(float)
    for part, t in own.items():
        parts[part] += max(0.0, t - sampled.get(part, 0.0))
    parts["sampler"] = sum(sampled.values())
    total = sum(parts.values()) or 1.0
    return {
        "duration": duration, "intents": result.summary.intents,
        "cpu_us_per_intent": cpu_us_per_intent, "profiled_seconds": total,
        "us_per_intent": {p: cpu_us_per_intent * parts.get(p, 0.0) / total for p in PARTS},
        "share": {p: parts.get(p, 0.0) / total for p in PARTS},
    }


def compare(duration: float, repeats: int, before: str | Path | None) -> dict[str, Any]:
    """The user's command ``repeats`` times, alternating with ``before``'s when given."""
    runs: dict[str, list[dict[str, Any]]] = {"now": []}
    if before is not None:
        runs["before"] = []
    for _ in range(repeats):
        runs["now"].append(user_command(duration))
        if before is not None:
            runs["before"].append(user_command(duration, before))
    out: dict[str, Any] = {"duration": duration, "repeats": repeats}
    for name, rs in runs.items():
        wall = statistics.median(r["wall_seconds"] for r in rs)
        if duration < DAY:  # start-up once, the rest scaled to a day
            start = user_command(1.0, before if name == "before" else None)["wall_seconds"]
            day = start + max(0.0, wall - start) * DAY / duration
        else:
            day = wall * DAY / duration
        out[name] = {
            "wall_seconds": wall, "wall_seconds_24h": day, "extrapolated": duration < DAY,
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
            "intents": rs[-1]["intents"],
            "cpu_us_per_intent": statistics.median(r["cpu_us_per_intent"] for r in rs),
            "rate_limit_errors": rs[-1]["rate_limit_errors"],
            "budget_utilization": rs[-1]["budget_utilization"],
            "runs": rs,
        }
    return out


def render(cmp: dict[str, Any], parts: dict[str, Any] | None) -> str:
    """Markdown: the command side by side with ``before``, and the split."""
    d = cmp["duration"]
    lines = [f"`orderpace {' '.join(COMMAND_ARGS)} --duration {d:g}` "
             f"(medians of {cmp['repeats']}, alternated)", "",
             "| code | wall s | CPU s | intents | CPU µs/intent | wall s, 24 h |",
             "|---|--:|--:|--:|--:|--:|"]
    for name in ("before", "now"):
        r = cmp.get(name)
        if r is not None:
            day = f"{r['wall_seconds_24h']:.1f}" + (" (scaled)" if r["extrapolated"] else "")
            lines.append(f"| {name} | {r['wall_seconds']:.2f} | {r['cpu_seconds']:.2f} | "
                         f"{r['intents']:,} | {r['cpu_us_per_intent']:.0f} | {day} |")
    if parts is not None:
        lines += ["", f"Where it goes (cProfile own time over {parts['duration']:g} s, scaled "
                  f"to {parts['cpu_us_per_intent']:.0f} CPU µs/intent):", "",
                  "| part | µs/intent | share |", "|---|--:|--:|"]
        for p in PARTS:
            lines.append(f"| {p} | {parts['us_per_intent'][p]:.0f} | "
                         f"{100 * parts['share'][p]:.0f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.usercmd", description=__doc__)
    ap.add_argument("--duration", type=float, default=86_400.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--before", metavar="DIR", help="a checkout of the code to compare with")
    ap.add_argument("--split", type=float, default=None, metavar="S",
                    help="profile S simulated seconds for the split (default: --duration)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    cmp = compare(a.duration, a.repeats, a.before)
    parts = split(a.split if a.split is not None else a.duration)
    if a.json:
        print(json.dumps({"command": cmp, "split": parts}, default=str))
    else:
        print(render(cmp, parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
