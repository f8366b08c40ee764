"""The decaying counter: examples, bad input, and hypothesis properties of CounterSpec."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limiters.counter import EPSILON, ChargeResult, CounterSpec, CounterState
from limiters.errors import CostExceedsCapacity, InvalidAmount

TOL = 1e-9

# -- strategies -------------------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn, stepped: bool | None = None) -> CounterSpec:
    """Counter specs, continuous or stepped, with or without a margin."""
    maximum = draw(st.floats(1.0, 500.0))
    decay = draw(st.floats(0.01, 100.0))
    if stepped is None:
        stepped = draw(st.booleans())
    step = draw(st.floats(0.01, 10.0)) if stepped else 0.0
    margin = draw(st.one_of(st.just(0.0), st.floats(0.0, 0.9 * maximum)))
    return CounterSpec(maximum, decay, step, margin)


starts = st.floats(1e4, 1e5)  # clock readings are >= 0: room for steps back from here
forward = st.floats(0.0, 30.0)
any_direction = st.floats(-30.0, 30.0)
fractions = st.floats(0.0, 1.0)


@st.composite
def histories(draw: st.DrawFn, spec: CounterSpec, backwards: bool = True) -> CounterState:
    """A state reached by a mix of charges, try_charges, saturations and resyncs."""
    now = draw(starts)
    state = CounterState.empty(now)
    for _ in range(draw(st.integers(0, 8))):
        now += draw(any_direction if backwards else forward)
        op = draw(st.sampled_from(["try", "try", "charge", "saturate", "resync"]))
        if op == "try":
            state = spec.try_charge(state, draw(fractions) * spec.capacity, now).state
        elif op == "charge":
            state = spec.charge(state, draw(fractions) * 2 * spec.maximum, now)
        elif op == "saturate":
            state = spec.saturate(state, now)
        else:
            state = spec.resync(state, draw(fractions) * 1.5 * spec.maximum, now)
    return state


# -- construction and bad input ---------------------------------------------------------


def test_capacity_and_with_margin() -> None:
    spec = CounterSpec(125, 2.34)
    assert (spec.step, spec.margin, spec.capacity) == (0.0, 0.0, 125)
    narrower = spec.with_margin(6.85)
    assert narrower == CounterSpec(125, 2.34, 0.0, 6.85)
    assert narrower.capacity == pytest.approx(118.15)
    with pytest.raises(InvalidAmount, match=r"^margin must be below the maximum 125"):
        spec.with_margin(125)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        *[({"maximum": v}, "maximum") for v in [0, -1.0, math.nan, math.inf, True, "15"]],
        *[({"decay": v}, "decay") for v in [0, -0.5, math.nan, math.inf, -math.inf, False]],
        *[({"step": v}, "step") for v in [-1.0, math.nan, math.inf, True, "2"]],
        *[({"margin": v}, "margin") for v in [-0.1, math.nan, math.inf, True, None]],
        ({"margin": 15.0}, "margin"),
        ({"margin": 15.5}, "margin"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"maximum": 15.0, "decay": 0.33, **kwargs}
    with pytest.raises(InvalidAmount, match=f"^{field} must be "):
        CounterSpec(**args)  # type: ignore[arg-type]


def test_margin_just_below_the_maximum_is_allowed() -> None:
    spec = CounterSpec(15, 0.33, margin=14.5)
    assert spec.capacity == pytest.approx(0.5)


@pytest.mark.parametrize("level", [-1.0, math.nan, math.inf, True, "1"])
def test_bad_state_level_is_refused(level: object) -> None:
    with pytest.raises(InvalidAmount, match=r"^level must be "):
        CounterState(level)  # type: ignore[arg-type]


SPEC = CounterSpec(20, 1.0, margin=2.0)  # capacity 18
STATE = CounterState(10.0, 5.0, 5.0)
BAD_NUMBERS: list[object] = [math.nan, math.inf, -math.inf, True, False, "1", None]

# method, arguments (STATE is put first), the field the message must start with
BAD_CALLS: list[tuple[str, tuple[object, ...], str]] = [
    *[(m, (v, 6.0), "cost") for m in ["try_charge", "charge", "fits", "time_until_fits"]
      for v in [*BAD_NUMBERS, -1.0, -1e-300]],
    *[(m, (1.0, v), "now") for m in ["try_charge", "charge", "fits", "time_until_fits"]
      for v in BAD_NUMBERS],
    *[(m, (v,), "now") for m in ["advance", "level", "saturate"] for v in BAD_NUMBERS],
    *[("resync", (v, 6.0), "level") for v in [*BAD_NUMBERS, -0.5]],
    *[("resync", (1.0, v), "now") for v in BAD_NUMBERS],
]


@pytest.mark.parametrize(
    ("method", "args", "field"), BAD_CALLS, ids=[f"{m}{a!r}" for m, a, _ in BAD_CALLS]
)
def test_bad_numbers_are_refused_naming_the_field(
    method: str, args: tuple[object, ...], field: str
) -> None:
    with pytest.raises(InvalidAmount) as info:
        getattr(SPEC, method)(STATE, *args)
    assert str(info.value).startswith(f"{field} must be ")
    assert info.value.name == field


@pytest.mark.parametrize("method", ["try_charge", "fits", "time_until_fits"])
@pytest.mark.parametrize("cost", [18.001, 20, 1e12])
def test_costs_above_capacity_can_never_fit(method: str, cost: float) -> None:
    with pytest.raises(CostExceedsCapacity) as info:
        getattr(SPEC, method)(STATE, cost, 6.0)
    assert str(info.value).startswith(f"cost {cost:g} can never fit")
    assert (info.value.capacity, info.value.maximum) == (18.0, 20.0)


def test_check_cost() -> None:
    assert SPEC.check_cost(18) == 18.0
    assert SPEC.check_cost(18 + EPSILON / 2) == pytest.approx(18.0)
    assert SPEC.check_cost(0) == 0.0
    with pytest.raises(CostExceedsCapacity):
        SPEC.check_cost(18.0001)


def test_charge_is_unconditional() -> None:
    state = SPEC.charge(STATE, 100.0, 5.0)
    assert SPEC.level(state, 5.0) == 110.0


@pytest.mark.parametrize("now", [-1e6, -3.5, -1e-9, -0.0 - 1e-300])
def test_negative_times_are_refused(now: float) -> None:
    with pytest.raises(InvalidAmount, match=r"^now must be >= 0"):
        SPEC.charge(CounterState.empty(0.0), 3, now)
    with pytest.raises(InvalidAmount, match=r"^now must be >= 0"):
        SPEC.try_charge(CounterState.empty(0.0), 3, now)


@pytest.mark.parametrize("now", [0, 0.0, 7, 1e9])
def test_any_finite_time_from_zero_is_fine(now: float) -> None:
    state = SPEC.charge(CounterState.empty(now), 3, now)
    assert SPEC.level(state, now) == 3.0
    assert SPEC.level(state, now + 1) == pytest.approx(2.0)


# -- examples ---------------------------------------------------------------------------


def test_continuous_decay() -> None:
    spec = CounterSpec(10, 2.0)
    state = spec.charge(CounterState.empty(0.0), 10, 0.0)
    expected = {0.0: 10.0, 0.5: 9.0, 1.0: 8.0, 4.999: 0.002, 5.0: 0.0, 1000.0: 0.0}
    for t, level in expected.items():
        assert spec.level(state, t) == pytest.approx(level, abs=TOL)
    assert spec.advance(state, 1.0) == CounterState(8.0, 1.0, 1.0)


def test_stepped_decay_is_released_a_step_at_a_time() -> None:
    spec = CounterSpec(10, 1.0, step=2.0)
    state = spec.charge(CounterState.empty(0.0), 10, 0.0)
    expected = {0.0: 10, 1.999: 10, 2.0: 8, 3.999: 8, 4.0: 6, 9.0: 2, 10.0: 0, 1e6: 0}
    for t, level in expected.items():
        assert spec.level(state, t) == level
    assert spec.advance(state, 5.0) == CounterState(6.0, 5.0, 4.0)


def test_stepped_charge_keeps_the_grid_when_the_level_covers_a_step() -> None:
    spec = CounterSpec(20, 1.0, step=2.0)
    state = spec.charge(CounterState.empty(0.0), 10, 0.0)
    state = spec.charge(state, 1, 3.0)  # level 8 >= one step's release (2): no partial step lost
    assert state == CounterState(9.0, 3.0, 2.0)
    assert spec.level(state, 3.999) == 9.0
    assert spec.level(state, 4.0) == 7.0


def test_stepped_charge_on_a_nearly_empty_counter_restarts_the_step() -> None:
    # Regression: with the anchor kept on the grid the model said 0.1 at t=2, but an
    # exchange ticking at 0.5, 2.5, ... spent its 0.5 s tick on 0.1 units and still holds 2.
    spec = CounterSpec(100, 1.0, step=2.0)
    state = spec.charge(CounterState.empty(0.0), 0.1, 0.0)
    state = spec.charge(state, 2.0, 1.5)
    assert state == CounterState(2.1, 1.5, 1.5)
    assert spec.level(state, 2.0) == pytest.approx(2.1)
    assert spec.level(state, 3.499) == pytest.approx(2.1)
    assert spec.level(state, 3.5) == pytest.approx(0.1)


def test_try_charge() -> None:
    first = SPEC.try_charge(CounterState.empty(0.0), 18, 0.0)
    assert first == ChargeResult(True, CounterState(18.0, 0.0, 0.0), 0.0)
    second = SPEC.try_charge(first.state, 4, 1.0)
    assert not second.charged
    assert second.state == CounterState(17.0, 1.0, 1.0)
    assert second.wait == pytest.approx(3.0)
    third = SPEC.try_charge(second.state, 4, 1.0 + second.wait)
    assert third.charged
    assert SPEC.level(third.state, 4.0) == pytest.approx(18.0)


@pytest.mark.parametrize(
    ("spec", "level", "cost", "wait"),
    [
        (CounterSpec(10, 2.0), 10.0, 4.0, 2.0),
        (CounterSpec(10, 2.0, margin=1.0), 10.0, 4.0, 2.5),
        (CounterSpec(10, 2.0), 5.0, 5.0, 0.0),
        (CounterSpec(10, 1.0, step=2.0), 10.0, 1.0, 2.0),
        (CounterSpec(10, 1.0, step=2.0), 10.0, 2.0, 2.0),
        (CounterSpec(10, 1.0, step=2.0), 10.0, 3.0, 4.0),
        (CounterSpec(10, 1.0, step=2.0, margin=1.0), 10.0, 3.0, 4.0),
        (CounterSpec(10, 1.0, step=2.0, margin=1.5), 10.0, 3.0, 6.0),
        (CounterSpec(60, 1.0), 60.0, 8.0, 8.0),
    ],
)
def test_time_until_fits_examples(
    spec: CounterSpec, level: float, cost: float, wait: float
) -> None:
    state = CounterState(level, 100.0, 100.0)
    assert spec.time_until_fits(state, cost, 100.0) == pytest.approx(wait)


def test_wait_is_measured_from_now_even_when_now_is_behind_the_state() -> None:
    # Regression: the wait used to be measured from the state's time, so a caller whose
    # clock had stepped back armed its timer too early and was refused again.
    spec = CounterSpec(10, 1.0)
    state = spec.charge(CounterState.empty(100.0), 10, 100.0)
    wait = spec.time_until_fits(state, 1, 90.0)
    assert wait == pytest.approx(11.0)
    assert spec.fits(state, 1, 90.0 + wait)
    assert not spec.fits(state, 1, 90.0 + wait - 0.001)
    assert spec.try_charge(state, 1, 90.0).wait == wait
    assert spec.time_until_fits(state, 0, 90.0) == 0.0


@pytest.mark.parametrize("now", [1e5, 1.234567e6, 3.3e6, 8.64e7, 1.7e9])
@pytest.mark.parametrize("decay", [0.33, 3.75, 100.0])
def test_wait_is_exact_at_large_times(now: float, decay: float) -> None:
    # Regression: at large times ``now + wait`` rounded to a moment a few ulps too early
    # (refused again with a wait too small to move the clock: a livelock in virtual time).
    spec = CounterSpec(6000, decay, margin=0.5)
    state = spec.charge(CounterState.empty(now), 6000, now)
    for cost in (1.0, 2.5, 7.0, 99.9, 1234.5):
        wait = spec.time_until_fits(state, cost, now)
        assert spec.try_charge(state, cost, now + wait).charged
        assert not spec.fits(state, cost, now + wait - 0.001)


def test_saturate_and_resync() -> None:
    spec = CounterSpec(20, 1.0, margin=2.0)
    state = spec.charge(CounterState.empty(0.0), 5, 0.0)
    saturated = spec.saturate(state, 1.0)
    assert saturated == CounterState(20.0, 1.0, 1.0)
    assert spec.time_until_fits(saturated, 1, 1.0) == pytest.approx(3.0)  # margin 2 + cost 1
    over = spec.charge(state, 100, 0.0)
    assert spec.saturate(over, 0.0).level == 105.0  # never lowers a higher level
    assert spec.resync(over, 4.0, 2.0) == CounterState(4.0, 2.0, 2.0)
    later = spec.charge(CounterState.empty(9.0), 5, 9.0)
    assert spec.resync(later, 4.0, 2.0) == CounterState(4.0, 9.0, 9.0)  # time never goes back
    assert spec.saturate(later, 2.0) == CounterState(20.0, 9.0, 9.0)


# -- properties -------------------------------------------------------------------------


@given(data=st.data(), spec=specs(), backwards=st.booleans())
def test_try_charge_never_exceeds_capacity(
    data: st.DataObject, spec: CounterSpec, backwards: bool
) -> None:
    now = data.draw(starts)
    state = CounterState.empty(now)
    for _ in range(data.draw(st.integers(1, 25))):
        now += data.draw(any_direction if backwards else forward)
        cost = data.draw(fractions) * spec.capacity
        before = spec.level(state, now)
        result = spec.try_charge(state, cost, now)
        state = result.state
        after = spec.level(state, now)
        assert 0.0 <= after <= spec.capacity + EPSILON
        assert 0.0 <= state.level <= spec.capacity + EPSILON
        if result.charged:
            assert result.wait == 0.0
            assert after == pytest.approx(before + cost, rel=1e-12, abs=TOL)
        else:
            assert after == before
            assert result.wait > 0.0
            assert result.wait == spec.time_until_fits(state, cost, now)


def test_time_until_fits_at_a_large_time_with_a_fine_step() -> None:
    """Found by hypothesis: at t = 65536 s a 10 ms step edge rounds differently from the
    given state's anchor and from the state advanced to ``now``; the wait must fit both."""
    spec = CounterSpec(maximum=1.0, decay=50.0, step=0.01)
    state = CounterState(level=1.5, time=65536.0, anchor=65536.0)
    now = 65536.0 + 0.015625
    wait = spec.time_until_fits(state, 0.5, now)
    assert spec.fits(state, 0.5, now + wait)
    assert spec.try_charge(state, 0.5, now + wait).charged
    assert not spec.fits(state, 0.5, now + wait - 0.001)


@given(data=st.data(), spec=specs())
def test_time_until_fits_is_exact(data: st.DataObject, spec: CounterSpec) -> None:
    state = data.draw(histories(spec))
    now = state.time + data.draw(any_direction)
    cost = data.draw(fractions) * spec.capacity
    wait = spec.time_until_fits(state, cost, now)
    assert wait >= 0.0
    assert spec.fits(state, cost, now + wait)
    assert spec.try_charge(state, cost, now + wait).charged
    if wait == 0.0:
        assert spec.fits(state, cost, now)
    else:
        assert not spec.fits(state, cost, now)
        assert spec.try_charge(state, cost, now).wait == wait
    if wait > 0.001:
        assert not spec.fits(state, cost, now + wait - 0.001)


@given(data=st.data(), spec=specs())
def test_time_stepping_back_never_lowers_the_level(data: st.DataObject, spec: CounterSpec) -> None:
    state = data.draw(histories(spec))
    back = state.time - data.draw(st.floats(0.0, 1e4))
    assert spec.advance(state, back) == spec.advance(state, state.time)
    assert spec.level(state, back) == spec.level(state, state.time) == state.level
    # and going back then forward again is the same as going forward once
    later = state.time + data.draw(forward)
    assert spec.level(spec.advance(state, back), later) == spec.level(state, later)


@given(data=st.data(), spec=specs())
def test_level_never_negative_and_never_rises_without_a_charge(
    data: st.DataObject, spec: CounterSpec
) -> None:
    state = data.draw(histories(spec))
    t1 = state.time + data.draw(any_direction)
    t2 = t1 + data.draw(forward)
    assert spec.level(state, t1) >= 0.0
    assert 0.0 <= spec.level(state, t2) <= spec.level(state, t1)
    drained = state.time + state.level / spec.decay + 2 * spec.step + 1.0
    assert spec.level(state, drained) == 0.0


@given(data=st.data(), spec=specs(), cost=st.floats(0.0, 1e3))
def test_charge_adds_the_cost_at_the_same_instant(
    data: st.DataObject, spec: CounterSpec, cost: float
) -> None:
    state = data.draw(histories(spec))
    now = state.time + data.draw(any_direction)
    before = spec.level(state, now)
    charged = spec.charge(state, cost, now)
    assert spec.level(charged, now) == pytest.approx(before + cost, rel=1e-12, abs=TOL)
    assert charged.time == max(now, state.time)


@given(data=st.data(), spec=specs())
def test_saturate(data: st.DataObject, spec: CounterSpec) -> None:
    state = data.draw(histories(spec))
    now = state.time + data.draw(any_direction)
    saturated = spec.saturate(state, now)
    t = max(now, state.time)
    assert saturated.time == saturated.anchor == t
    assert spec.level(saturated, now) == max(spec.level(state, now), spec.maximum)
    if spec.level(state, now) <= spec.maximum:
        cost = data.draw(fractions) * spec.capacity
        excess = spec.maximum + cost - spec.capacity  # margin + cost, rounded as the model does
        wait = spec.time_until_fits(saturated, cost, t)
        if excess <= EPSILON:
            assert wait == 0.0
        elif spec.step == 0.0:
            assert wait == pytest.approx(excess / spec.decay, rel=1e-9, abs=TOL)
        else:
            steps = math.ceil((excess - EPSILON) / (spec.decay * spec.step))
            assert wait == pytest.approx(steps * spec.step, rel=1e-9, abs=TOL)


@given(data=st.data(), spec=specs(), level=st.floats(0.0, 1e3))
def test_resync_adopts_the_level_then_decays_from_it(
    data: st.DataObject, spec: CounterSpec, level: float
) -> None:
    state = data.draw(histories(spec))
    now = state.time + data.draw(any_direction)
    synced = spec.resync(state, level, now)
    t = max(now, state.time)
    assert synced == CounterState(level, t, t)
    assert spec.level(synced, now) == level
    if spec.step == 0.0:
        d = data.draw(forward)
        expected = max(0.0, level - spec.decay * d)
    else:
        k = data.draw(st.integers(0, 5))
        d = (k + 0.5) * spec.step  # mid-step: away from the edges
        expected = max(0.0, level - spec.decay * spec.step * k)
    assert spec.level(synced, t + d) == pytest.approx(expected, rel=1e-9, abs=1e-6)


# -- the stepped model against a reference exchange -----------------------------------------


class ReferenceExchange:
    """What Kraken is documented to do with decay "every couple of seconds": every ``step``
    seconds, at ticks ``phase + k*step``, the counter drops by ``decay*step`` (never below
    0).  A tick at the very moment of a charge happens before it."""

    def __init__(self, decay: float, step: float, phase: float, start: float) -> None:
        self.drop = decay * step
        self.step = step
        self.phase = phase
        self.time = start
        self.level = 0.0

    def _last_tick(self, t: float) -> int:
        return math.floor((t - self.phase) / self.step)

    def level_at(self, t: float) -> float:
        assert t >= self.time
        ticks = self._last_tick(t) - self._last_tick(self.time)
        return max(0.0, self.level - ticks * self.drop)

    def charge(self, cost: float, t: float) -> None:
        self.level = self.level_at(t) + cost
        self.time = t


def dyadic(numerator: st.SearchStrategy[int], denominator: int) -> st.SearchStrategy[float]:
    """Multiples of 1/denominator (a power of two): exact in float arithmetic."""
    return numerator.map(lambda n: n / denominator)


@given(
    data=st.data(),
    step=dyadic(st.integers(1, 32), 8),  # 0.125 .. 4 s
    decay=dyadic(st.integers(1, 40), 8),  # 0.125 .. 5 u/s
    maximum=st.integers(5, 200),
    start=dyadic(st.integers(0, 12800), 64),
)
def test_stepped_model_is_conservative_at_any_phase(
    data: st.DataObject, step: float, decay: float, maximum: int, start: float
) -> None:
    spec = CounterSpec(maximum, decay, step=step)
    continuous = CounterSpec(maximum, decay)
    phase = data.draw(st.integers(0, int(step * 64) - 1)) / 64
    exchange = ReferenceExchange(decay, step, phase, start)
    model = CounterState.empty(start)
    smooth = CounterState.empty(start)
    now = start
    unconditional = data.draw(st.booleans())
    cost_grid = dyadic(st.integers(0, maximum * 4), 4)
    for _ in range(data.draw(st.integers(1, 40))):
        # probe between requests, then send one
        for probe in data.draw(st.lists(dyadic(st.integers(0, 64 * 6), 64), max_size=3)):
            t = now + probe
            assert spec.level(model, t) >= exchange.level_at(t) - TOL
            assert continuous.level(smooth, t) + decay * step >= exchange.level_at(t) - TOL
        now += data.draw(dyadic(st.integers(0, 64 * 6), 64))
        cost = data.draw(cost_grid)
        if unconditional:
            model = spec.charge(model, cost, now)
            charged = True
        else:
            result = spec.try_charge(model, cost, now)
            model, charged = result.state, result.charged
        if charged:
            exchange.charge(cost, now)
            smooth = continuous.charge(smooth, cost, now)
        assert spec.level(model, now) >= exchange.level_at(now) - TOL
        assert continuous.level(smooth, now) + decay * step >= exchange.level_at(now) - TOL


def test_reference_counterexample_phase() -> None:
    # The hand-found case behind the anchor fix, through the reference model.
    exchange = ReferenceExchange(1.0, 2.0, 0.5, 0.0)
    exchange.charge(0.1, 0.0)
    exchange.charge(2.0, 1.5)
    assert exchange.level_at(2.0) == 2.0
    assert exchange.level_at(2.5) == 0.0

