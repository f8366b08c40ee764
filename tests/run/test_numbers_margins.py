"""Properties of the one family of number checks and of the margin bounds."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from engine.numbers import BadNumber, parse_real, parse_whole, positive_decimal, real, whole
from engine.run.backtest import BacktestConfig, BacktestError
from engine.run.live_config import (
    LOOPBACK_JITTER,
    LiveConfig,
    LiveError,
    MarginTooLarge,
    limiter_settings,
    limiter_settings_for,
)
from engine.run.margins import MIN_DECAY_STEP, margin_problem, room
from limiters import LimiterSettings, Tier

finite = st.floats(allow_nan=False, allow_infinity=False)
anything = st.one_of(st.floats(), st.integers(), st.booleans(), st.text(max_size=5),
                     st.none())
bound = st.one_of(st.none(), st.floats(-1e6, 1e6))


def refusal(fn: Callable[[], object], kind: type[Exception]) -> Exception | None:
    """The ``kind`` exception ``fn`` raised, or None when it returned."""
    try:
        fn()
    except kind as e:
        return e
    return None


@given(anything, bound, bound, bound)
def test_real_accepts_exactly_the_finite_numbers_within_the_bounds(
    value: object, ge: float | None, gt: float | None, le: float | None,
) -> None:
    ok = (isinstance(value, int | float) and not isinstance(value, bool)
          and math.isfinite(value)
          and (ge is None or value >= ge) and (gt is None or value > gt)
          and (le is None or value <= le))
    e = refusal(lambda: real(value, "x", unit="seconds", ge=ge, gt=gt, le=le), BadNumber)
    assert (e is None) == ok
    if e is not None:
        assert str(e).startswith("x must be ") and repr(value) in str(e)
    else:
        assert real(value, "x", ge=ge, gt=gt, le=le) == float(value)  # type: ignore[arg-type]


@given(st.one_of(finite, st.just(math.inf), st.just(-math.inf), st.just(math.nan)), bound)
def test_parsing_text_agrees_with_checking_the_number(value: float, gt: float | None) -> None:
    text = repr(value)
    checked = refusal(lambda: real(value, "x", gt=gt), BadNumber)
    parsed = refusal(lambda: parse_real(text, gt=gt), BadNumber)
    assert (checked is None) == (parsed is None)
    if parsed is not None:
        assert repr(text) in str(parsed) and str(parsed).startswith("expected ")
    else:
        assert parse_real(text, gt=gt) == value


@given(st.integers(), st.one_of(st.none(), st.integers(-100, 100)))
def test_whole_numbers_and_their_text(value: int, ge: int | None) -> None:
    ok = ge is None or value >= ge
    assert (refusal(lambda: whole(value, "n", ge=ge), BadNumber) is None) == ok
    assert (refusal(lambda: parse_whole(str(value), ge=ge), BadNumber) is None) == ok
    with pytest.raises(BadNumber):
        whole(True, "n")


@given(st.one_of(st.text(max_size=12), st.integers(), st.floats(), st.booleans()))
def test_positive_decimal_is_finite_and_positive_or_none(value: object) -> None:
    d = positive_decimal(value)
    if d is not None:
        assert d.is_finite() and d > 0
        assert isinstance(value, str | int) and not isinstance(value, bool)


tiers = st.sampled_from(list(Tier))
seconds = st.one_of(st.just(0.0), st.floats(MIN_DECAY_STEP, 200.0))


@pytest.mark.parametrize("step", [1e-309, 5e-324, 1e-9, 0.0009])
def test_a_decay_step_below_a_millisecond_is_refused_not_an_overflow(step: float) -> None:
    """Found by the property below: a subnormal step overflowed ``ceil(jitter / step)``."""
    with pytest.raises(LiveError, match=r"decay_step must be 0 \(continuous\) or at least 0\.001"):
        LiveConfig(decay_step=step)
    with pytest.raises(BacktestError, match=r"decay_step must be 0 \(continuous\) or at least"):
        BacktestConfig(decay_step=step)


@given(tiers, st.one_of(st.none(), seconds), st.one_of(st.none(), seconds))
def test_live_config_is_refused_exactly_when_the_margins_leave_no_room(
    tier: Tier, step: float | None, jitter: float | None,
) -> None:
    """A config is accepted iff both counters keep room for their costliest request; a
    refusal names largest values that are themselves accepted."""
    fits = margin_problem(tier, limiter_settings_for(step, jitter)) is None
    e = refusal(lambda: LiveConfig(tier=tier, decay_step=step, jitter=jitter), MarginTooLarge)
    assert (e is None) == fits
    if e is None:
        cfg = LiveConfig(tier=tier, decay_step=step, jitter=jitter)
        assert limiter_settings(cfg) == limiter_settings_for(step, jitter)
        return
    assert isinstance(e, MarginTooLarge)
    kept = {"decay_step": step, "jitter": jitter}
    assert e.value == kept[e.setting] and e.largest < e.value
    kept[e.setting] = e.largest
    if e.jitter_largest is not None:  # both too large: the step first, then the jitter
        assert e.setting == "decay_step" and jitter is not None
        assert e.jitter_largest < jitter
        kept["jitter"] = e.jitter_largest
    fixed = LiveConfig(tier=tier, **kept)  # the largest values named are accepted
    assert margin_problem(tier, limiter_settings(fixed)) is None


@given(tiers, st.floats(0.001, 100.0), st.floats(0.0, 0.2))
def test_the_largest_decay_step_is_tight_to_the_millisecond(
    tier: Tier, step: float, jitter: float,
) -> None:
    r = room(tier)
    assume(jitter + LOOPBACK_JITTER <= r - 0.01)
    e = refusal(lambda: LiveConfig(tier=tier, decay_step=step, jitter=jitter), MarginTooLarge)
    assert (e is None) == (step <= r)
    if isinstance(e, MarginTooLarge):
        assert e.setting == "decay_step" and e.jitter_largest is None
        assert r - 0.001 <= e.largest <= r


@given(tiers, st.one_of(st.just(0.0), st.floats(MIN_DECAY_STEP, 100.0)), st.floats(0.0, 100.0))
def test_backtest_config_checks_the_same_margins(tier: Tier, step: float,
                                                 jitter: float) -> None:
    fits = margin_problem(tier, LimiterSettings.matching(step, jitter)) is None
    e = refusal(lambda: BacktestConfig(tier=tier, decay_step=step, jitter=jitter,
                                       duration=1.0), BacktestError)
    assert (e is None) == fits
    if e is not None:
        assert "too large for the" in str(e) and "the largest it allows" in str(e)
