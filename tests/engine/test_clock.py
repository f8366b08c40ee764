"""Clocks: the virtual clock's time jumps, timers, determinism, deadlock; the real clock."""

from __future__ import annotations

import asyncio
import functools
import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.clock import DEFAULT_EPOCH, Clock, RealClock, VirtualClock, VirtualTimeDeadlock

HOUR = 3600.0


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(VirtualClock(), Clock)
    assert isinstance(RealClock(), Clock)


def test_virtual_clock_start_epoch_and_wall() -> None:
    clock = VirtualClock()
    assert clock.now() == 0.0
    assert clock.epoch == DEFAULT_EPOCH == 1_704_067_200.0  # 2024-01-01T00:00:00Z
    assert clock.wall() == DEFAULT_EPOCH
    other = VirtualClock(start=12.5, epoch=1_000.0)
    assert other.now() == 12.5
    assert other.wall() == 1_012.5
    assert repr(other) == "VirtualClock(now=12.500000)"


def test_sleep_jumps_virtual_time_and_wall_follows() -> None:
    clock = VirtualClock(start=10.0, epoch=1_000_000.0)
    seen: list[tuple[float, float]] = []

    async def main() -> str:
        assert asyncio.get_running_loop() is clock.loop
        assert asyncio.get_running_loop().time() == clock.now()
        await asyncio.sleep(HOUR)
        seen.append((clock.now(), clock.wall()))
        await asyncio.sleep(0)
        seen.append((clock.now(), clock.wall()))
        return "done"

    assert clock.run(main()) == "done"
    assert seen == [(10.0 + HOUR, 1_000_010.0 + HOUR)] * 2


def test_a_thousand_sleepers_wake_at_their_own_virtual_times() -> None:
    clock = VirtualClock()
    rng = random.Random(7)
    durations = [rng.uniform(0.0, 5 * HOUR) for _ in range(1000)]
    woke: dict[int, float] = {}

    async def sleeper(i: int) -> None:
        await asyncio.sleep(durations[i])
        woke[i] = clock.now()

    async def main() -> None:
        await asyncio.gather(*(sleeper(i) for i in range(len(durations))))

    clock.run(main())
    assert len(woke) == 1000
    for i, t in woke.items():
        assert t == pytest.approx(durations[i], abs=1e-6)
        assert t >= durations[i] - 1e-9
    assert clock.now() == pytest.approx(max(durations), abs=1e-6)
    order = sorted(woke, key=woke.__getitem__)
    assert order == sorted(range(1000), key=durations.__getitem__)


def test_sleeps_longer_than_a_day_are_exact() -> None:
    # asyncio caps one select() timeout at a day: the clock must keep jumping.
    clock = VirtualClock()

    async def main() -> float:
        await asyncio.sleep(3 * 24 * HOUR + 0.25)
        return clock.now()

    assert clock.run(main()) == 3 * 24 * HOUR + 0.25


def test_call_at_runs_callbacks_in_time_order_at_their_time() -> None:
    clock = VirtualClock(start=100.0)
    fired: list[tuple[str, float]] = []

    def record(name: str) -> None:
        fired.append((name, clock.now()))

    async def main() -> None:
        done = asyncio.get_running_loop().create_future()
        for name, when in [("e", 150.0), ("a", 101.0), ("c", 130.0), ("b", 120.5), ("d", 140.0)]:
            clock.call_at(when, functools.partial(record, name))
        clock.call_at(200.0, lambda: done.set_result(None))
        await done

    clock.run(main())
    assert fired == [("a", 101.0), ("b", 120.5), ("c", 130.0), ("d", 140.0), ("e", 150.0)]
    assert clock.now() == 200.0


def test_cancelled_timers_never_fire_and_do_not_move_time() -> None:
    clock = VirtualClock()
    fired: list[str] = []

    async def main() -> None:
        keep = clock.call_at(5.0, lambda: fired.append("keep"))
        drop = clock.call_at(3.0, lambda: fired.append("drop"))
        late = clock.call_at(1000.0, lambda: fired.append("late"))
        drop.cancel()
        late.cancel()
        assert drop.cancelled()
        assert not keep.cancelled()
        await asyncio.sleep(10.0)

    clock.run(main())
    assert fired == ["keep"]
    assert clock.now() == 10.0


def test_a_timer_in_the_past_fires_at_once() -> None:
    clock = VirtualClock(start=50.0)
    fired: list[float] = []

    async def main() -> None:
        clock.call_at(10.0, lambda: fired.append(clock.now()))
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    clock.run(main())
    assert fired == [50.0]


def test_sleep_until() -> None:
    clock = VirtualClock()
    seen: list[float] = []

    async def main() -> None:
        await clock.sleep_until(42.0)
        seen.append(clock.now())
        await clock.sleep_until(7.0)  # already past: returns at once
        seen.append(clock.now())
        await clock.sleep_until(42.0)
        seen.append(clock.now())

    clock.run(main())
    assert seen == [42.0, 42.0, 42.0]


@given(start=st.floats(-1e6, 1e9), delays=st.lists(st.floats(0.0, 1e5), min_size=1, max_size=5))
def test_sleep_until_never_wakes_early(start: float, delays: list[float]) -> None:
    clock = VirtualClock(start=start)

    async def main() -> None:
        for delay in delays:
            when = clock.now() + delay
            await clock.sleep_until(when)
            assert clock.now() >= when

    clock.run(main())


@pytest.mark.parametrize("start", [2.0**24 - 5.0, 1.7e9, -1e9])
def test_timers_fire_at_large_virtual_times(start: float) -> None:
    # Regression: asyncio runs a timer once ``when < time() + 1e-9``; past 2**24 s the
    # 1 ns vanishes in the addition, the due timer never ran and the loop spun forever.
    clock = VirtualClock(start=start)
    woke: list[float] = []

    async def main() -> None:
        for _ in range(10):
            when = clock.now() + 1.0
            await clock.sleep_until(when)
            woke.append(clock.now() - when)
        await asyncio.sleep(1e-6)

    clock.run(main())
    assert woke == [0.0] * 10
    assert clock.now() == pytest.approx(start + 10.0, abs=1e-5)


def test_timers_a_fraction_of_a_nanosecond_apart_run_at_their_own_time() -> None:
    clock = VirtualClock(start=1.0)
    fired: list[tuple[float, float]] = []

    def record(when: float) -> None:
        fired.append((when, clock.now()))

    async def main() -> None:
        done = asyncio.get_running_loop().create_future()
        for when in (2.0, 2.0 + 4e-10, 2.0 + 8e-10):
            clock.call_at(when, functools.partial(record, when))
        clock.call_at(3.0, lambda: done.set_result(None))
        await done

    clock.run(main())
    assert [w for w, _ in fired] == [2.0, 2.0 + 4e-10, 2.0 + 8e-10]
    assert all(now == when for when, now in fired)


def trace(seed: int) -> list[tuple[float, int, int]]:
    """(time, task, step) events of a seeded workload with many ties in time."""
    clock = VirtualClock()
    rng = random.Random(seed)
    plans = [[rng.choice([0.0, 0.5, 1.0, 2.5]) for _ in range(5)] for _ in range(50)]
    events: list[tuple[float, int, int]] = []

    async def worker(i: int) -> None:
        for j, delay in enumerate(plans[i]):
            await asyncio.sleep(delay)
            events.append((clock.now(), i, j))

    async def main() -> None:
        await asyncio.gather(*(worker(i) for i in range(len(plans))))

    clock.run(main())
    return events


def test_runs_are_deterministic() -> None:
    first = trace(3)
    assert first == trace(3)
    assert [t for t, _, _ in first] == sorted(t for t, _, _ in first)
    assert first != trace(4)


def test_wait_for_times_out_in_virtual_time() -> None:
    clock = VirtualClock()

    async def main() -> tuple[float, str]:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(HOUR), timeout=5.0)
        timed_out_at = clock.now()
        result = await asyncio.wait_for(asyncio.sleep(2.0, result="ok"), timeout=5.0)
        return timed_out_at, result

    assert clock.run(main()) == (5.0, "ok")
    assert clock.now() == 7.0


def test_wait_for_a_never_set_future_times_out_instead_of_deadlocking() -> None:
    clock = VirtualClock()

    async def main() -> float:
        never = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(never, timeout=30.0)
        return clock.now()

    assert clock.run(main()) == 30.0


def test_deadlock_is_reported() -> None:
    clock = VirtualClock(start=1.0)

    async def waiter(fut: asyncio.Future[None]) -> None:
        await fut

    async def main() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await asyncio.gather(waiter(never), waiter(never), asyncio.sleep(5.0))

    with pytest.raises(VirtualTimeDeadlock, match="nothing is ready to run and no timer"):
        clock.run(main())
    assert clock.now() == 6.0  # the sleeper finished first; time did not run away

    # the clock is still usable: a new loop, time carries on
    async def after() -> float:
        await asyncio.sleep(1.0)
        return clock.now()

    assert clock.run(after()) == 7.0


def test_consecutive_runs_share_the_timeline() -> None:
    clock = VirtualClock()

    async def nap(seconds: float) -> float:
        await asyncio.sleep(seconds)
        return clock.now()

    assert clock.run(nap(10.0)) == 10.0
    assert clock.run(nap(5.0)) == 15.0


def test_a_timer_armed_before_run_fires_during_it() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    clock.call_at(3.0, lambda: fired.append(clock.now()))

    async def main() -> None:
        await asyncio.sleep(4.0)

    clock.run(main())
    assert fired == [3.0]


# -- RealClock ----------------------------------------------------------------------------


async def test_real_clock_reads_the_running_loop() -> None:
    clock = RealClock()
    loop = asyncio.get_running_loop()
    assert clock.loop is loop
    before = loop.time()
    now = clock.now()
    assert before <= now <= loop.time()
    assert abs(clock.wall() - time.time()) < 1.0
    assert repr(clock) == "RealClock()"


async def test_real_clock_sleep_until_and_call_at() -> None:
    loop = asyncio.get_running_loop()
    clock = RealClock(loop)
    assert clock.loop is loop
    when = clock.now() + 0.02
    await clock.sleep_until(when)
    assert clock.now() >= when - 1e-6  # asyncio may run a timer up to 1 ns early

    start = clock.now()
    await clock.sleep_until(start - 10.0)  # in the past: no wait
    assert clock.now() - start < 0.5

    fired = loop.create_future()
    handle = clock.call_at(clock.now() + 0.01, lambda: fired.set_result(clock.now()))
    assert isinstance(handle, asyncio.TimerHandle)
    dropped: list[int] = []
    clock.call_at(clock.now() + 0.005, lambda: dropped.append(1)).cancel()
    fired_at = await asyncio.wait_for(fired, timeout=5.0)
    assert fired_at >= handle.when() - 1e-6
    assert dropped == []


def test_real_clock_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        RealClock().now()


@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=60))
def test_timers_due_at_one_moment_run_in_the_order_armed(plan: list[tuple[int, bool]]) -> None:
    """Whatever else was armed and cancelled before, equal times run first armed, first run
    (asyncio's heap alone orders by time, and ties by its layout)."""
    clock = VirtualClock()
    ran: list[int] = []

    async def main() -> None:
        armed = []
        for i, (when, cancel) in enumerate(plan):
            h = clock.call_at(float(when), functools.partial(ran.append, i))
            if cancel:
                h.cancel()
            else:
                armed.append((when, i))
        await asyncio.sleep(5.0)
        assert ran == [i for _, i in sorted(armed)]

    clock.run(main())
