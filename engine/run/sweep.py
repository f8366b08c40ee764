"""Sweeps: one backtest per point of a cartesian product of settings, in worker processes.

``--sweep key=v1,v2,...`` (repeatable) names an *axis*: a strategy parameter (any ``--set``
name; ranges written ``LOW..HIGH``, since the comma separates values) or one of the run
settings :data:`RUN_KEYS` -- ``tier``, ``seed`` (integers, or ``A..B`` for every seed from
``A`` to ``B``) and ``duration`` (seconds).  The runs are the product of the axes, the
first axis varying slowest; each is the base configuration (the other flags, ``--set``)
with that point's values.

:func:`plan_sweep` builds and checks every run's :class:`~engine.run.backtest.BacktestConfig`
and parameters before anything runs (a bad axis or value is a :class:`SweepError` naming
it); :func:`run_sweep` runs them in ``jobs`` worker processes (a ``spawn`` pool: nothing
but the configuration crosses; each run is determined by it, so the results do not depend
on ``jobs``; Ctrl-C stops the workers at once) and returns one :class:`SweepRun` per
point, in plan order.  :mod:`engine.run.ranking` orders them by a metric.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import structlog

from engine.numbers import BadNumber, parse_real, parse_whole
from engine.run.backtest import BacktestConfig, BacktestError, run_backtest
from strategies.params import ParameterError, describe_params, parse_params
from strategies.registry import Registry, discover

__all__ = [
    "MAX_RUNS",
    "RUN_KEYS",
    "SweepAxis",
    "SweepError",
    "SweepPlan",
    "SweepRun",
    "parse_axis",
    "plan_sweep",
    "run_sweep",
]

#: Run settings a sweep may vary (besides strategy parameters).
RUN_KEYS = ("tier", "seed", "duration")
#: Most runs one sweep may hold: a larger product is refused before anything runs.
MAX_RUNS = 10_000
#: Most seeds one ``A..B`` range may name.
_MAX_SEED_RANGE = 1_000


class SweepError(BacktestError):
    """A sweep that cannot start: a malformed axis, a bad value, too many runs."""


def _key(name: str) -> str:
    """A parameter name as the strategy declares it (``spread-bps`` is ``spread_bps``)."""
    return name.strip().replace("-", "_")


@attrs.frozen(slots=True)
class SweepAxis:
    """One ``--sweep key=v1,v2,...``: the key and its values, as texts, in order."""

    key: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.key}={','.join(self.values)}"


def parse_axis(text: str) -> SweepAxis:
    """``key=v1,v2,...`` as a :class:`SweepAxis`; :class:`SweepError` when malformed (no
    ``=``, no key, an empty value, a value twice).  ``seed=A..B`` names every seed from A
    to B.  Values are checked against the strategy and run settings by :func:`plan_sweep`."""
    key, sep, rest = text.partition("=")
    key = _key(key)
    if not sep or not key:
        raise SweepError(f"--sweep expects key=v1,v2,..., got {text!r}")
    values = tuple(v.strip() for v in rest.split(","))
    if not rest.strip() or any(not v for v in values):
        raise SweepError(f"--sweep {key}: give values separated by commas, got {rest!r}")
    if key == "seed":
        values = tuple(itertools.chain.from_iterable(_seeds(v) for v in values))
    if len(set(values)) != len(values):
        raise SweepError(f"--sweep {key}: each value once, got {','.join(values)}")
    return SweepAxis(key, values)


def _seeds(text: str) -> list[str]:
    low, dots, high = text.partition("..")
    if not dots:
        return [text]
    try:
        a, b = parse_whole(low), parse_whole(high)
    except BadNumber:
        raise SweepError(f"--sweep seed: expected integers or A..B, got {text!r}") from None
    if not a <= b < a + _MAX_SEED_RANGE:
        raise SweepError(f"--sweep seed: a range A..B with A <= B and at most "
                         f"{_MAX_SEED_RANGE} seeds, got {text!r}")
    return [str(s) for s in range(a, b + 1)]


@attrs.frozen(slots=True)
class SweepPlan:
    """Every run of a sweep: ``points[i]`` (axis key -> value text) runs ``configs[i]``."""

    base: BacktestConfig
    axes: tuple[SweepAxis, ...]
    points: tuple[Mapping[str, str], ...]
    configs: tuple[BacktestConfig, ...]

    def __len__(self) -> int:
        return len(self.configs)


def _run_setting(key: str, value: str) -> Any:
    """A run setting's value from its text (a tier's name is parsed by the config)."""
    if key == "tier":
        return value
    try:
        if key == "seed":
            return parse_whole(value, what="an integer seed")
        return parse_real(value, unit="seconds", gt=0)
    except (BadNumber, ValueError) as e:
        raise SweepError(f"--sweep {key}: {e}") from None


def plan_sweep(
    base: BacktestConfig, axes: Sequence[SweepAxis], *, registry: Registry | None = None,
) -> SweepPlan:
    """Every run of ``axes`` over ``base``, checked (see the module docstring).

    Raises :class:`SweepError` for an axis twice, a key that is neither a parameter of the
    strategy nor in :data:`RUN_KEYS`, a key also given with ``--set``, a product of more
    than :data:`MAX_RUNS` runs, or a value its run or the strategy refuses.
    """
    if not axes:
        raise SweepError("a sweep needs at least one --sweep key=v1,v2,...")
    reg = registry if registry is not None else discover()
    strategy_type = reg.load(base.strategy)
    params = {p.name for p in describe_params(strategy_type.params_type)}
    fixed = {_key(s.partition("=")[0]) for s in base.settings}
    seen: set[str] = set()
    for axis in axes:
        if axis.key in seen:
            raise SweepError(f"--sweep {axis.key} is given twice; list its values once")
        seen.add(axis.key)
        if axis.key in fixed:
            raise SweepError(f"{axis.key} is both --set and --sweep; choose one")
        if axis.key not in params and axis.key not in RUN_KEYS:
            known = ", ".join([*sorted(params), *RUN_KEYS])
            raise SweepError(f"--sweep {axis.key}: not a parameter of {base.strategy} nor a "
                             f"run setting; known: {known}")
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_RUNS:
        raise SweepError(f"the sweep holds {total:,} runs, more than the {MAX_RUNS:,} allowed")
    points: list[dict[str, str]] = []
    configs: list[BacktestConfig] = []
    for values in itertools.product(*(a.values for a in axes)):
        point = dict(zip((a.key for a in axes), values, strict=True))
        configs.append(_config(base, point, strategy_type))
        points.append(point)
    return SweepPlan(base, tuple(axes), tuple(points), tuple(configs))


def _config(base: BacktestConfig, point: Mapping[str, str], strategy_type: Any) -> BacktestConfig:
    """``base`` with ``point``'s values; its parameters parsed now (refusals name the axis)."""
    changes: dict[str, Any] = {k: _run_setting(k, v) for k, v in point.items() if k in RUN_KEYS}
    changes["settings"] = (*base.settings,
                           *(f"{k}={v}" for k, v in point.items() if k not in RUN_KEYS))
    where = ", ".join(f"{k}={v}" for k, v in point.items())
    try:
        config = attrs.evolve(base, **changes)
        parse_params(strategy_type.params_type, config.settings, strategy=config.strategy)
    except (BacktestError, ParameterError) as e:
        raise SweepError(f"--sweep run {where}: {e}") from None
    return config


@attrs.frozen(slots=True)
class SweepRun:
    """One run's outcome: its ``point`` (axis key -> value text), its summary as JSON
    (:meth:`~engine.run.summary.Summary.as_dict`) and its fills (count, all pairs)."""

    index: int
    point: Mapping[str, str]
    summary: Mapping[str, Any]
    fills: int

    @property
    def failure(self) -> str | None:
        failure = self.summary.get("failure")
        return None if failure is None else str(failure)


def _one(task: tuple[int, BacktestConfig]) -> tuple[int, dict[str, Any], int]:
    """One run, in a worker: its index, its summary as JSON and its fill count."""
    index, config = task
    result = run_backtest(config)
    fills = sum(int(f["count"]) for f in result.fills.values())
    return index, result.summary.as_dict(), fills


def _init_worker(level: int) -> None:
    """A worker logs what the parent would (structlog at ``level`` to stderr) and leaves
    Ctrl-C to the parent, which stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


def run_sweep(
    plan: SweepPlan, *, jobs: int, progress: Callable[[int, int], None] | None = None,
    log_level: int = logging.ERROR,
) -> list[SweepRun]:
    """Run every point of ``plan`` in ``jobs`` processes (1: in this one); ``progress(done,
    total)`` after each.  Results in plan order, whatever ``jobs``.  An interruption
    (Ctrl-C) stops the workers at once and propagates."""
    total = len(plan)
    out: dict[int, tuple[dict[str, Any], int]] = {}
    tasks = list(enumerate(plan.configs))
    workers = max(1, min(jobs, total))
    if workers == 1:
        results: Iterable[tuple[int, dict[str, Any], int]] = map(_one, tasks)
        for i, summary, fills in results:
            out[i] = (summary, fills)
            if progress is not None:
                progress(len(out), total)
    else:
        pool = multiprocessing.get_context("spawn").Pool(
            workers, initializer=_init_worker, initargs=(log_level,))
        try:
            for i, summary, fills in pool.imap_unordered(_one, tasks):
                out[i] = (summary, fills)
                if progress is not None:
                    progress(len(out), total)
        except BaseException:
            pool.terminate()
            raise
        else:
            pool.close()
        finally:
            pool.join()
    return [SweepRun(i, plan.points[i], *out[i]) for i in range(total)]
