"""The summary of a run (backtest or live): one JSON-ready object, and the table a person
reads; the :class:`OutcomeTally` every run keeps, and the helpers every run uses to fill it
(:func:`rate_limit_errors`, :func:`params_of`, :func:`percentile`).

Figures and their sources (a backtest's; a live run reads the same keys from what its
client saw, see :mod:`engine.run.live`):

* ``intents``: intents the strategy submitted; ``sent``: those that reached the wire at
  least once; ``outcomes``: terminal status -> count, always all five statuses in this
  order -- ``accepted``, ``rejected``, ``expired``, ``coalesced``, ``failed`` -- zeros
  included; ``unresolved``: intents without a terminal outcome at the end (0 in a healthy
  run).
* ``requests``: requests the simulated exchange received, by endpoint; ``errors``: every
  error string it replied, by string; ``rate_limit_errors``: the sum of those that are
  rate-limit errors (``engine.kraken_errors.RATE_LIMIT_ERRORS``, Throttled included).
  These come from the exchange's own counts: it is the referee.
* ``budget_utilization``: per pair, trading penalty charged / ``max + decay * seconds``
  from the pair's first request to its last; ``"overall"`` sums both over pairs.
* ``counters``: per pair (and ``"api"`` for the key's API counter): the exchange's
  ``max``, the ``peak`` level reached and the ``mean`` level over the run (sampled at a
  fixed interval of simulated time), in counter units.
* ``queue_wait``: seconds from submit to first send, over sent intents: p50, p99, max.
* ``simulated_seconds`` (virtual clock at the end, drain included) and ``wall_seconds``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from engine import kraken_errors as ke
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder
from engine.outcomes import Handle, Outcome, Status
from strategies.params import describe_params

__all__ = [
    "OutcomeTally",
    "Summary",
    "all_outcomes",
    "jsonable",
    "params_of",
    "percentile",
    "rate_limit_errors",
]


#: Intents that are order transactions (on the trading counter); the rest are queries,
#: batch cancels and the dead-man switch.
_ORDER_TX = (AddOrder, AddOrderBatch, AmendOrder, EditOrder, CancelOrder)


class OutcomeTally:
    """Running tallies over a run's outcomes: counts by status, how many were sent, the
    queue wait of each sent one (seconds), and of the accepted ones how many orders were
    placed (an AddOrderBatch counts its orders), order transactions (adds, amends, edits,
    cancels) and other requests (``queries``).  ``by_hid`` keeps every outcome when asked."""

    __slots__ = ("by_hid", "orders", "outcomes", "queries", "resolved", "sent",
                 "transactions", "waits")

    def __init__(self, keep: bool = False) -> None:
        self.outcomes: Counter[str] = Counter()
        self.sent = 0
        self.resolved = 0
        self.orders = self.transactions = self.queries = 0
        self.waits: list[float] = []
        self.by_hid: dict[int, Outcome] | None = {} if keep else None

    def add(self, outcome: Outcome, hid: int = 0) -> None:
        self.resolved += 1
        self.outcomes[outcome.status.value] += 1
        if outcome.sent_at is not None:
            self.sent += 1
            self.waits.append(outcome.sent_at - outcome.queued_at)
        if self.by_hid is not None:
            self.by_hid[hid] = outcome
        if outcome.status is not Status.ACCEPTED:
            return
        intent = outcome.intent
        if isinstance(intent, AddOrder):
            self.orders += 1
        elif isinstance(intent, AddOrderBatch):
            self.orders += len(intent.orders)
        if isinstance(intent, _ORDER_TX):
            self.transactions += 1
        else:
            self.queries += 1

    def observe(self, handle: Handle, outcome: Outcome) -> None:
        """:meth:`add`, as a strategy host's outcome observer."""
        self.add(outcome, handle.id)

    def queue_wait(self) -> dict[str, float | None]:
        """p50, p99 and max of the queue waits (seconds; None when nothing was sent)."""
        waits = sorted(self.waits)
        return {"p50": percentile(waits, 50), "p99": percentile(waits, 99),
                "max": waits[-1] if waits else None}


def rate_limit_errors(errors: Mapping[str, int]) -> int:
    """How many of ``errors`` (error string -> count) are rate-limit errors
    (:func:`engine.kraken_errors.is_rate_limit_error`: Throttled included)."""
    return sum(n for e, n in errors.items() if ke.is_rate_limit_error(e))


def params_of(params: Any) -> dict[str, Any]:
    """A strategy's parameters object as JSON-ready ``name -> value``, in declared order."""
    return {p.name: jsonable(getattr(params, p.name)) for p in describe_params(type(params))}


def jsonable(value: Any) -> Any:
    """A parameter value as JSON: tuples as lists, scalars as they are, the rest as text."""
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of ``values`` by linear interpolation; None if empty.

    ``values`` must be sorted.
    """
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    pos = (len(values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    frac = pos - lo
    return float(values[lo] + (values[hi] - values[lo]) * frac)


def all_outcomes(counts: Mapping[str, int]) -> dict[str, int]:
    """``counts`` by terminal status with every :class:`~engine.outcomes.Status`, in the
    enum's order (accepted, rejected, expired, coalesced, failed), 0 where none; a key
    that is no status is kept after them."""
    out = {s.value: int(counts.get(s.value, 0)) for s in Status}
    out.update((k, int(v)) for k, v in counts.items() if k not in out)
    return out


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


@attrs.frozen(slots=True)
class Summary:
    """What a backtest reports (see the module docstring for each figure's meaning)."""

    strategy: str
    tier: str
    pairs: tuple[str, ...]
    seed: int
    duration: float | None  # simulated (backtest) or configured (live) seconds; None: open-ended
    params: Mapping[str, Any]
    intents: int
    sent: int
    outcomes: Mapping[str, int] = attrs.field(converter=all_outcomes)
    unresolved: int
    requests: Mapping[str, int]
    errors: Mapping[str, int]
    rate_limit_errors: int
    budget_utilization: Mapping[str, float]
    counters: Mapping[str, Mapping[str, float]]
    queue_wait: Mapping[str, float | None]
    strategy_report: Mapping[str, Any]
    simulated_seconds: float
    wall_seconds: float
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the contract keys first, then the details."""
        return {
            "intents": self.intents,
            "sent": self.sent,
            "outcomes": dict(self.outcomes),
            "rate_limit_errors": self.rate_limit_errors,
            "budget_utilization": {k: round(v, 6) for k, v in self.budget_utilization.items()},
            "simulated_seconds": round(self.simulated_seconds, 6),
            "wall_seconds": round(self.wall_seconds, 3),
            "strategy": self.strategy,
            "tier": self.tier,
            "pairs": list(self.pairs),
            "seed": self.seed,
            "duration": self.duration,
            "params": dict(self.params),
            "unresolved": self.unresolved,
            "requests": dict(self.requests),
            "errors": dict(self.errors),
            "counters": {k: {n: round(x, 4) for n, x in v.items()}
                         for k, v in self.counters.items()},
            "queue_wait": {k: _r(v, 6) for k, v in self.queue_wait.items()},
            "strategy_report": dict(self.strategy_report),
            "failure": self.failure,
        }

    def to_json(self) -> str:
        """One line of JSON (keys in a fixed order)."""
        return json.dumps(self.as_dict(), separators=(",", ":"), default=str)

    def comparable(self) -> dict[str, Any]:
        """:meth:`as_dict` without ``wall_seconds``: equal for two runs with the same seed."""
        d = self.as_dict()
        d.pop("wall_seconds")
        return d

    # -- the human table -----------------------------------------------------------------

    def render(self) -> str:
        """The summary as an aligned text table."""
        rows: list[tuple[str, str]] = []
        rows.append(("strategy", f"{self.strategy} on {', '.join(self.pairs)}"))
        rows.append(("tier / seed", f"{self.tier} / {self.seed}"))
        rows.append(("simulated", f"{self.simulated_seconds:,.1f} s "
                                  f"(wall {self.wall_seconds:.2f} s)"))
        if self.params:
            rows.append(("params", ", ".join(f"{k}={v}" for k, v in self.params.items())))
        rows.append(("intents", f"{self.intents:,} submitted, {self.sent:,} sent"
                     + (f", {self.unresolved} UNRESOLVED" if self.unresolved else "")))
        rows.append(("outcomes", ", ".join(f"{k} {v:,}" for k, v in self.outcomes.items()
                                           if v) or "none"))
        rows.append(("requests", ", ".join(f"{k} {v:,}" for k, v in self.requests.items())
                     or "none"))
        rows.append(("rate-limit errors", f"{self.rate_limit_errors}"))
        other = {k: v for k, v in self.errors.items() if v}
        if other:
            rows.append(("exchange errors", ", ".join(f"{k} x{v}" for k, v in other.items())))
        lines = [f"  {k:<18} {v}" for k, v in rows]
        lines.append("")
        lines.append(f"  {'counter':<10} {'max':>7} {'peak':>8} {'mean':>8} {'mean%':>6} "
                     f"{'utilization':>11}")
        for name, c in self.counters.items():
            util = self.budget_utilization.get(name)
            mean_pct = 100 * c["mean"] / c["max"] if c["max"] else 0.0
            lines.append(
                f"  {name:<10} {c['max']:>7g} {c['peak']:>8.2f} {c['mean']:>8.2f} "
                f"{mean_pct:>5.1f}% {'' if util is None else f'{100 * util:10.1f}%':>11}"
            )
        overall = self.budget_utilization.get("overall")
        if overall is not None:
            lines.append(f"  {'overall':<10} {'':>7} {'':>8} {'':>8} {'':>6} "
                         f"{100 * overall:10.1f}%")
        lines.append("")
        qw = self.queue_wait
        if qw.get("p50") is not None:
            lines.append(f"  queue wait         p50 {_ms(qw['p50'])}, p99 {_ms(qw['p99'])}, "
                         f"max {_ms(qw['max'])}")
        for key, value in self.strategy_report.items():
            lines.append(f"  {key:<18} {json.dumps(value, default=str)}")
        if self.failure:
            lines.append(f"  FAILED             {self.failure}")
        return "\n".join(lines)


def _ms(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"
