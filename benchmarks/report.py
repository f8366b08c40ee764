"""Writing a bench run: ``latest.json``, ``latest.md`` and ``latest.png``.

The JSON holds everything (every cell, medians, ratios, micro-benchmarks, targets,
machine).  The markdown is what a person reads: targets, one table per workload, the
side-by-side ratios, the micro-benchmarks and the notes on how each baseline is set up.
The chart (utilization and rate-limit errors per limiter and workload) needs the optional
``report`` extra (matplotlib); without it the chart is skipped and the reason returned.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs

from benchmarks import usercmd
from benchmarks.live_path import markdown_rows
from benchmarks.nonces import render_nonces
from benchmarks.shared_store import render_shared_store

__all__ = ["Written", "render_markdown", "write_chart", "write_results"]

NOTES = """\
* **Referee.** Rate-limit errors and budget utilization are the simulated exchange's own
  counts (`engine/sim`): errors are replies `EAPI:Rate limit exceeded`, `EOrder:Rate limit
  exceeded`, `EOrder:Orders limit exceeded`, `EService:Throttled`, `EGeneral:Too many
  requests`; utilization is trading penalty charged / (max + decay x seconds from the pair's
  first request to its last), summed over pairs.  The exchange releases decay every 2 s at a
  seeded phase; the network adds 50 ms + U(0, 20 ms) each way (the backtest's defaults).
* **Reading the columns.** *Orders accepted/min* counts new orders placed (AddOrder accepted);
  *order transactions* adds amends, edits and cancels.  Where a baseline's amends are refused,
  the market-maker cancels and re-adds, so its orders/min *rises* with its errors.  A cancel
  refused twice (the client's one retry) leaves the order resting: the strategies do not
  cancel it again, so over ten minutes a baseline's burst load fills its 40 live-order cap
  with stuck orders and stalls -- which is why its accepted orders and utilization fall.
  Utilization slightly above 100% is possible: the exchange releases decay in 2 s ticks, and
  a tick just after a pair's first request frees up to decay x 2 s more than the continuous
  formula allows.  *Wait* is from submit to first send, over intents sent.
* **Clock.** Every cell runs on the virtual clock, which also creeps 1 ns per event-loop
  iteration like a real clock (`benchmarks/clock.py`): under a frozen clock aiolimiter
  livelocks when float rounding leaves a waiter 1e-14 units short (its wake-up timer lands on
  the same instant, over and over); a real loop's time moves on and so does this one.
* **orderpace** uses a rate model matching the exchange (`LimiterSettings.matching(2 s,
  20 ms)`, as backtests run); **orderpace-live** the safe live margins
  (`LimiterSettings.live()`: 2 s unseen decay, 0.5 s jitter, 1 unit).  Both keep 10% (at
  least 8 units) of each pair's budget for cancels, so adds alone can never use it: on
  `saturate` (adds only) that reserve plus the model's 2 s-tick margin is the whole gap to
  100% (a check run with `cancel_reserve=0, min_cancel_reserve=0`: 99.4-99.7%, 0 errors).
* **asyncio-throttle** (the real library, 1.0.2): one `Throttler(rate_limit=1, period=1/decay)`
  per pair for order endpoints, one per key for private queries at the API decay.  The library
  reads `time.monotonic()` itself; its module's `time` is pointed at the running loop's clock
  for the run (on a real loop that *is* `time.monotonic()`), nothing else changed.  It polls
  every 10 ms per waiting request: hence its CPU per intent.
* **aiolimiter** (the real library, 1.3.0): `AsyncLimiter(max, max/decay)` per pair and one per
  key for private queries, one unit per request.  It uses `loop.time()` and `loop.call_at`.
* **ccxt-style** is a faithful re-creation, not ccxt's code: ccxt's leaky-bucket throttle
  (tokens from 0, capacity 1, refill 1/rateLimit per ms, 1 ms poll, FIFO, one per exchange
  instance) with Kraken's `rateLimit` 1000 ms and ccxt's Kraken costs (AddOrder, AmendOrder,
  EditOrder, CancelOrder and batches 0; Balance, OpenOrders, ClosedOrders, QueryOrders 3;
  Ledgers, TradesHistory 6).  Order calls therefore go unpaced, as in ccxt.
* **hummingbot-style** is a faithful re-creation, not hummingbot's code: `AsyncThrottler`
  semantics (sliding windows, 5% safety margin on the window, 0.1 s re-check) with hummingbot's
  Kraken limits, 60 s windows sized max + 60 x decay: private pool 35/50/80; AddOrder and
  CancelOrder 120/265/405 each, per key (not per pair); Balance, OpenOrders, QueryOrders weigh 2.
  Hummingbot defines no AmendOrder, EditOrder, batch or ClosedOrders limit for Kraken: here they
  get the shape of their nearest sibling (AddOrder's, or OpenOrders').
* **Baselines' client.** Each baseline runs the same strategies through a thin client
  (`benchmarks/client.py`): it awaits an order's add before amending or cancelling it, honours
  deadlines with `asyncio.wait_for` around the limiter, and retries a rate-limited request once
  (the engine's policy).  Strategies sharing a key each get their own limiter, as separate bots
  on one key would; orderpace runs one engine for the key.
* **CPU per intent** is the process CPU time of the whole cell (strategies, limiter, simulated
  exchange) / intents submitted; cells run in parallel worker processes (one per core).
"""


@attrs.frozen(slots=True)
class Written:
    """Files written to ``directory``; ``chart_skipped`` says why the PNG is missing."""

    directory: Path
    files: tuple[str, ...]
    chart_skipped: str | None = None


def _num(x: float | None, fmt: str = ".1f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, fmt)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _int(x: float | None) -> str:
    return "-" if x is None else f"{round(x):,}"


def _target_rows(data: dict[str, Any]) -> list[str]:
    out = ["| target | measured | met |", "|---|---|---|"]
    for t in data["targets"]:
        m = t["measured"]
        if isinstance(m, float) and m <= 1.0 and "utilization" in t["target"]:
            shown = _pct(m) + " (worst saturating cell)"
        elif "intents/s" in t["target"]:
            shown = f"{m:,.0f} intents/s"
        elif "replay" in t["target"] or "command" in t["target"]:
            shown = f"{m:.1f} s" + (" (extrapolated from a shorter replay)"
                                     if t.get("extrapolated") else "")
        else:
            shown = f"{m}"
        out.append(f"| {t['target']} | {shown} | {'yes' if t['met'] else '**no**'} |")
    return out


def _workload_tables(data: dict[str, Any]) -> list[str]:
    out: list[str] = []
    workloads = data["config"]["workloads"]
    for name, info in workloads.items():
        rows = [r for r in data["results"] if r["workload"] == name]
        out.append(f"### {name}: {info['description']}")
        out.append("")
        out.append(f"{info['duration']:g} simulated s, pairs {', '.join(info['pairs'])}"
                   f"{' (saturating)' if info['saturating'] else ''}.")
        out.append("")
        out.append("| tier | limiter | rate-limit errors | orders accepted/min | "
                   "order transactions accepted/min | budget utilization | wait p50 (s) | "
                   "wait p99 (s) | CPU µs/intent |")
        out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|")
        for r in rows:
            out.append(
                f"| {r['tier']} | {r['limiter']} | {_int(r['rate_limit_errors'])} | "
                f"{_num(r['orders_per_min'])} | {_num(r['transactions_per_min'])} | "
                f"{_pct(r['utilization'].get('overall'))} | "
                f"{_num(r['wait_p50'], '.2f')} | {_num(r['wait_p99'], '.2f')} | "
                f"{_num(r['cpu_us_per_intent'], '.0f')} |"
            )
        out.append("")
    return out


def _ratio_table(data: dict[str, Any]) -> list[str]:
    tiers = data["config"]["tiers"]
    out = [
        "Accepted orders per minute, then budget utilization, each ÷ orderpace's, measured "
        "per seed in this run (median over seeds).",
        "",
        "| workload | limiter | " + " | ".join(f"orders/min {t}" for t in tiers) + " | "
        + " | ".join(f"utilization {t}" for t in tiers) + " |",
        "|---|---|" + "--:|" * (2 * len(tiers)),
    ]
    by = {(r["workload"], r["tier"], r["limiter"]): r for r in data["ratios"]}
    pairs = dict.fromkeys((r["workload"], r["limiter"]) for r in data["ratios"])
    for w, lim in pairs:
        cells = [_num(by.get((w, t, lim), {}).get("orders_per_min"), ".2f") for t in tiers]
        cells += [_num(by.get((w, t, lim), {}).get("utilization"), ".2f") for t in tiers]
        out.append(f"| {w} | {lim} | " + " | ".join(cells) + " |")
    return out


def _micro_rows(data: dict[str, Any]) -> list[str]:
    m = data["micro"]
    s, mem, thr, rep = m["scheduler"], m["memory"], m["throughput"], m["replay"]
    us = s["us_per_intent"]
    out = [
        "| figure | value |", "|---|---|",
        f"| scheduler alone, submit → send → outcome (instant venue, {s['intents']:,} IOC adds, "
        f"{s['tier']}) | {us['orderpace']:.1f} µs/intent |",
        f"| same intents through aiolimiter + thin client / no limiter, side by side | "
        f"{us['aiolimiter']:.1f} / {us['none']:.1f} µs/intent (orderpace ÷ aiolimiter = "
        f"{s['ratio_orderpace_to_aiolimiter']:.2f}) |",
        f"| submit() alone (queueing, engine paced) | {s['submit_us']:.1f} µs/intent |",
        f"| memory per queued intent (tracemalloc; the intent object itself excluded) | "
        f"{mem['bytes_per_queued_intent']:.0f} B (+ {mem['bytes_per_intent_object']:.0f} B "
        "for the AddOrder) |",
        f"| throughput, scheduler + simulated exchange, virtual time ({thr['intents']:,} "
        f"IOC adds, {thr['tier']}) | {thr['intents_per_second']:,.0f} intents/s |",
        f"| simulated exchange alone (AddOrder called directly) | "
        f"{thr['exchange_alone_us_per_request']:.1f} µs/request |",
        f"| 24 h market-maker replay, 3 pairs | {rep['wall_seconds_24h']:.1f} s"
        + (f" (extrapolated from {rep['simulated_seconds']:g} s)" if rep["extrapolated"] else "")
        + f"; {rep['rate_limit_errors']} rate-limit errors, utilization "
        f"{_pct((rep['budget_utilization'] or {}).get('overall'))} |",
        "",
        "The user's command, timed as a user runs it (a child process, start-up included); "
        "side by side with `--before DIR` when given; and where its CPU time goes:",
        "",
        usercmd.render(m["user_command"], m["user_split"]),
        "",
        f"Medians of {s['repeats']} runs (replay: {rep['repeats']}).  Where the throughput run "
        "spends its time (cProfile, own time):",
        "",
        "| function | calls/intent | own time | cumulative |",
        "|---|--:|--:|--:|",
    ]
    for row in m["profile"]["top"][:10]:
        out.append(f"| `{row['function']}` | {row['calls_per_intent']:.2f} | "
                   f"{_pct(row['own_share'])} | {_pct(row['cumulative_share'])} |")
    return out


def render_markdown(data: dict[str, Any]) -> str:
    """The run as markdown (see the module docstring)."""
    mc = data["machine"]
    lines = [
        f"# orderpace bench ({data['mode']})",
        "",
        f"Run {data['started']} on {mc['nproc']} x {mc['cpu_model']}, Python {mc['python']} "
        f"({mc['platform']}); {data['wall_seconds']:.0f} s wall.  Reproduce: "
        f"`{data['command']}`.  Seeds {', '.join(map(str, data['config']['seeds']))}; "
        "figures are medians over seeds.",
        "",
        "## Targets (reported, not asserted)",
        "",
        *_target_rows(data),
        "",
        "## Workloads",
        "",
        *_workload_tables(data),
        "## Side by side",
        "",
        *_ratio_table(data),
        "",
        "## Live path: REST vs WebSocket (orderpace live over loopback)",
        "",
        *markdown_rows(data.get("live_path", [])),
        "",
        "## Micro-benchmarks",
        "",
        *_micro_rows(data),
        "",
        *render_nonces(data.get("nonces")),
        *render_shared_store(data.get("shared_store")),
        "## How each contender is set up",
        "",
        NOTES,
    ]
    return "\n".join(lines)


def write_chart(data: dict[str, Any], path: Path) -> str | None:
    """Utilization and errors per limiter and workload as a PNG; the reason if skipped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ("chart skipped: matplotlib is not installed "
                "(pip install 'orderpace[report]' to get latest.png)")
    workloads = list(data["config"]["workloads"])
    limiters = list(data["config"]["limiters"])
    rows = data["results"]

    def values(key: str, agg: str) -> list[list[float]]:
        out = []
        for lim in limiters:
            series = []
            for w in workloads:
                cells = [r for r in rows if r["workload"] == w and r["limiter"] == lim]
                if key == "utilization":
                    xs = [r["utilization"].get("overall") or 0.0 for r in cells]
                else:
                    xs = [float(r["rate_limit_errors"] or 0.0) for r in cells]
                series.append((sum(xs) / len(xs) if agg == "mean" else sum(xs)) if xs else 0.0)
            out.append(series)
        return out

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    width = 0.8 / max(1, len(limiters))
    xs = range(len(workloads))
    for i, (lim, util, errs) in enumerate(zip(limiters, values("utilization", "mean"),
                                              values("errors", "sum"), strict=True)):
        offs = [x - 0.4 + width * (i + 0.5) for x in xs]
        ax1.bar(offs, [100 * u for u in util], width, label=lim)
        ax2.bar(offs, errs, width, label=lim)
    ax1.set_ylabel("budget utilization, % (mean over tiers)")
    ax1.axhline(99, color="grey", linewidth=0.8, linestyle="--")
    ax1.legend(ncol=4, fontsize="small", loc="lower right")
    ax2.set_ylabel("rate-limit errors (sum over tiers)")
    ax2.set_yscale("symlog", linthresh=1)
    ax2.set_xticks(list(xs), workloads)
    fig.suptitle(f"orderpace bench ({data['mode']}): medians over seeds, referee's counts")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


def write_results(data: dict[str, Any], directory: str | Path) -> Written:
    """Write ``latest.json``, ``latest.md`` and (with matplotlib) ``latest.png``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(data, indent=1, default=str) + "\n",
                                     encoding="utf-8")
    (out / "latest.md").write_text(render_markdown(data) + "\n", encoding="utf-8")
    files: list[str] = ["latest.json", "latest.md"]
    skipped = write_chart(data, out / "latest.png")
    if skipped is None:
        files.append("latest.png")
    return Written(out, tuple(files), skipped)

