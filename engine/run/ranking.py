"""Ranking a sweep's runs by a metric, and the table a person reads.

``--rank-by METRIC[:asc|:desc]`` names one of :data:`METRICS` or ``report.PATH``, a number
the strategy reported (``ctx.report``), found by dotted path in its report
(``report.grid.fills``, ``report.market_maker.pairs.XBT/USD.pnl``).  Runs are sorted best
first: highest first, except the metrics where lower is better (errors, refusals, waits:
:data:`LOWER_IS_BETTER`); ``:asc`` / ``:desc`` overrides.  A run without the metric (it
failed, or its strategy does not report it) sorts last; ties keep the plan's order.

Metrics (from each run's summary):

* ``budget_utilization``: overall trading penalty charged / the most the rules allowed;
* ``fills``: orders the exchange executed (all pairs);
* ``pnl``: the sum of every number the strategy reported under a key ``pnl`` (the
  market-maker reports one per pair; quote currency);
* ``intents``, ``sent``, ``accepted``, ``rejected``, ``expired``, ``coalesced``,
  ``failed``, ``unresolved``, ``rate_limit_errors``: counts;
* ``queue_wait_p50``, ``queue_wait_p99``: seconds from submit to send;
* ``wall_seconds``: the run's wall time (not repeatable).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from engine.run.sweep import SweepError, SweepRun

__all__ = ["LOWER_IS_BETTER", "METRICS", "RankBy", "metric", "parse_rank_by", "rank",
           "render_table"]


def _pnl(report: object) -> float | None:
    """Sum of every number under a key ``pnl`` anywhere in ``report``; None if none."""
    found: list[float] = []

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                if k == "pnl" and isinstance(v, int | float) and not isinstance(v, bool):
                    found.append(float(v))
                else:
                    walk(v)
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v)

    walk(report)
    return sum(found) if found else None


def _outcome(name: str) -> Callable[[SweepRun], float | None]:
    return lambda r: float(r.summary.get("outcomes", {}).get(name, 0))


def _wait(q: str) -> Callable[[SweepRun], float | None]:
    def get(r: SweepRun) -> float | None:
        v = r.summary.get("queue_wait", {}).get(q)
        return None if v is None else float(v)

    return get


def _field(name: str) -> Callable[[SweepRun], float | None]:
    return lambda r: float(r.summary[name]) if r.summary.get(name) is not None else None


#: Metric name -> how to read it from a run.
METRICS: dict[str, Callable[[SweepRun], float | None]] = {
    "budget_utilization": lambda r: float(r.summary["budget_utilization"]["overall"]),
    "fills": lambda r: float(r.fills),
    "pnl": lambda r: _pnl(r.summary.get("strategy_report")),
    "intents": _field("intents"),
    "sent": _field("sent"),
    **{s: _outcome(s) for s in ("accepted", "rejected", "expired", "coalesced", "failed")},
    "unresolved": _field("unresolved"),
    "rate_limit_errors": _field("rate_limit_errors"),
    "queue_wait_p50": _wait("p50"),
    "queue_wait_p99": _wait("p99"),
    "wall_seconds": _field("wall_seconds"),
}

#: Metrics where less is better: sorted lowest first unless ``:desc`` is given.
LOWER_IS_BETTER = frozenset({"rejected", "expired", "failed", "unresolved",
                             "rate_limit_errors", "queue_wait_p50", "queue_wait_p99",
                             "wall_seconds"})


@attrs.frozen(slots=True)
class RankBy:
    """A metric (a :data:`METRICS` name or ``report.PATH``) and whether higher is better."""

    name: str
    descending: bool

    def __str__(self) -> str:
        return f"{self.name}:{'desc' if self.descending else 'asc'}"


def parse_rank_by(text: str) -> RankBy:
    """``METRIC[:asc|:desc]`` as a :class:`RankBy`; :class:`SweepError` for an unknown one."""
    name, _, order = text.strip().partition(":")
    if order not in ("", "asc", "desc"):
        raise SweepError(f"--rank-by {text!r}: the order after ':' is asc or desc")
    if name not in METRICS and not (name.startswith("report.") and len(name) > 7):
        raise SweepError(f"--rank-by {name!r}: expected one of {', '.join(METRICS)}, "
                         "or report.PATH (a number the strategy reports)")
    descending = (order == "desc") if order else name not in LOWER_IS_BETTER
    return RankBy(name, descending)


def metric(run: SweepRun, name: str) -> float | None:
    """``name``'s value for ``run``; None when the run does not have it."""
    if name in METRICS:
        try:
            return METRICS[name](run)
        except (KeyError, TypeError, ValueError):
            return None
    node: Any = run.summary.get("strategy_report", {})
    for part in _path(name.removeprefix("report.")):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


def _path(path: str) -> list[str]:
    """``a.b.XBT/USD.c`` -> ``[a, b, XBT/USD, c]`` (pair names hold no dots here)."""
    return path.split(".")


def rank(runs: Sequence[SweepRun], by: RankBy) -> list[SweepRun]:
    """``runs`` best first by ``by`` (module docstring); stable for ties."""
    have = [r for r in runs if metric(r, by.name) is not None]
    missing = [r for r in runs if metric(r, by.name) is None]

    def key(r: SweepRun) -> float:
        v = metric(r, by.name)
        assert v is not None
        return -v if by.descending else v

    return sorted(have, key=key) + missing


def _shown(v: float | None, name: str) -> str:
    if v is None:
        return "-"
    if name == "budget_utilization":
        return f"{100 * v:.1f}%"
    if name.startswith("queue_wait") or name == "wall_seconds":
        return f"{v:.3f}"
    return f"{v:,.0f}" if v == int(v) and abs(v) < 1e15 else f"{v:,.2f}"


def render_table(ranked: Sequence[SweepRun], keys: Sequence[str], by: RankBy) -> str:
    """The ranked runs as an aligned text table: rank, the swept values, key figures, the
    ranking metric; a failed run's row ends with its failure."""
    shown = ["intents", "accepted", "rate_limit_errors", "budget_utilization", "fills"]
    if any(metric(r, "pnl") is not None for r in ranked):
        shown.append("pnl")
    if by.name not in shown:
        shown.append(by.name)
    heads = ["#", *keys, *("rl_errors" if m == "rate_limit_errors" else
                           "utilization" if m == "budget_utilization" else m for m in shown)]
    rows = [[str(i), *(r.point[k] for k in keys), *(_shown(metric(r, m), m) for m in shown)]
            for i, r in enumerate(ranked, 1)]
    widths = [max(len(h), *(len(row[c]) for row in rows)) for c, h in enumerate(heads)]
    first = len(keys) + 1

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < first else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [f"  ranked by {by}", "  " + line(heads)]
    for r, row in zip(ranked, rows, strict=True):
        out.append("  " + line(row) + (f"  FAILED: {r.failure}" if r.failure else ""))
    return "\n".join(out)
