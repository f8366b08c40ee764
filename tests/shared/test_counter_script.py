"""The counter script holds limiters' arithmetic: random sequences, the same answers.

Each example runs one sequence of ``try``/``force``/``saturate``/``resync`` steps, at
explicit times (forwards, sometimes backwards), through :class:`limiters.CounterSpec` and
through the Lua script on a real redis-server; charged/refused, the level and the wait
must agree, and a ``try`` never takes a level past the capacity.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from engine.shared.budget import counter_args
from engine.shared.scripts import COUNTER
from limiters import CounterSpec, CounterState
from limiters.counter import EPSILON

_n = itertools.count()


@pytest.fixture(scope="module")
def client(redis_server: object) -> Iterator[redis.Redis]:
    from engine.shared.server import LocalRedis

    assert isinstance(redis_server, LocalRedis)
    if not redis_server.running:
        redis_server.start()
    c = redis.Redis.from_url(redis_server.url)
    yield c
    c.close()


specs = st.builds(
    CounterSpec,
    maximum=st.sampled_from([15.0, 20.0, 60.0, 125.0, 180.0]),
    decay=st.sampled_from([0.33, 0.5, 1.0, 2.34, 3.75]),
    step=st.sampled_from([0.0, 0.0, 1.0, 2.0, 0.25]),
    margin=st.sampled_from([0.0, 1.0, 6.85, 8.0]),
)
steps = st.lists(st.tuples(
    st.sampled_from(["try", "try", "try", "try", "force", "saturate", "resync"]),
    st.floats(0.0, 1.0),  # the amount, as a share of the capacity
    st.one_of(st.floats(0.0, 3.0), st.just(0.0), st.floats(-1.0, 0.0)),  # dt, seconds
), min_size=1, max_size=40)


@given(spec=specs, seq=steps, start=st.floats(0.0, 2e9))
def test_script_matches_limiters(client: redis.Redis, spec: CounterSpec,
                                 seq: list[tuple[str, float, float]], start: float) -> None:
    key = f"test:counter:{next(_n)}"
    script = client.register_script(COUNTER)
    state: CounterState | None = None
    now = start
    for op, share, dt in seq:
        now = max(0.0, now + dt)
        if state is None:  # a new key: an empty counter as of the first step (both sides)
            state = CounterState.empty(now)
        amount = round(share * spec.capacity, 2)
        got = script(keys=[key], args=list(counter_args(op, spec, amount, now)))
        charged, wait, level = int(got[0]) == 1, float(got[1]), float(got[2])
        if op == "try":
            r = spec.try_charge(state, amount, now)
            state = r.state
            assert charged == r.charged
            assert wait == pytest.approx(r.wait, abs=1e-6)
            assert level <= spec.capacity + EPSILON or not charged
        elif op == "force":
            state = spec.charge(state, amount, now)
        elif op == "saturate":
            state = spec.saturate(state, now)
        else:
            state = spec.resync(state, amount, now)
        assert level == pytest.approx(state.level, abs=1e-9)
        if op == "try" and charged:
            assert level <= spec.capacity + EPSILON


def test_redis_time_is_the_clock(client: redis.Redis) -> None:
    """Without an explicit time the script reads Redis TIME: a full counter refuses, and
    its wait is what the decay needs."""
    spec = CounterSpec(10.0, 1.0)
    script = client.register_script(COUNTER)
    key = f"test:counter:{next(_n)}"
    got = script(keys=[key], args=list(counter_args("try", spec, 10.0, None)))
    assert int(got[0]) == 1
    got = script(keys=[key], args=list(counter_args("try", spec, 2.0, None)))
    assert int(got[0]) == 0
    assert 1.5 < float(got[1]) <= 2.0
    assert client.pttl(key) > 10_000  # it expires once empty (+10 s)
