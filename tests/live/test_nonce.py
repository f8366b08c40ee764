"""Nonces: strictly increasing per key, whatever the wall clock does."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

from engine.venues.kraken_rest.nonce import MAX_NONCE, NonceExhausted, NonceSource, WallClockNonces


class SteppingWall:
    """A wall clock (UNIX seconds) the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_milliseconds_of_wall_time_by_default() -> None:
    source = WallClockNonces(SteppingWall(1616492376.594))
    assert source.take("k") == 1616492376594


def test_microseconds_when_asked() -> None:
    source = WallClockNonces(SteppingWall(1616492376.5), per_second=1_000_000)
    assert source.take("k") == 1616492376500000


def test_wall_clock_stepping_back_never_lowers_the_nonce() -> None:
    wall = SteppingWall(1000.0)
    source = WallClockNonces(wall)
    first = source.take("k")
    wall.now = 990.0  # NTP steps the clock back 10 s
    second = source.take("k")
    third = source.take("k")
    assert first < second < third
    assert second == first + 1
    wall.now = 1001.0  # the clock catches up: nonces follow it again
    assert source.take("k") == 1_001_000


def test_same_millisecond_gives_consecutive_nonces() -> None:
    source = WallClockNonces(SteppingWall(5.0))
    assert [source.take("k") for _ in range(3)] == [5000, 5001, 5002]


def test_keys_are_independent() -> None:
    wall = SteppingWall(5.0)
    source = WallClockNonces(wall)
    assert source.take("a") == 5000
    assert source.take("a") == 5001
    assert source.take("b") == 5000


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0])
def test_broken_wall_clock_still_increases(bad: float) -> None:
    wall = SteppingWall(5.0)
    source = WallClockNonces(wall)
    first = source.take("k")
    wall.now = bad
    assert source.take("k") == first + 1


def test_exhaustion_past_unsigned_64_bits() -> None:
    source = WallClockNonces(SteppingWall(MAX_NONCE / 1000 + 1e9))
    with pytest.raises(NonceExhausted):
        source.take("k")


@pytest.mark.parametrize("per_second", [0, -1, True, 1.5])
def test_per_second_validated(per_second: object) -> None:
    with pytest.raises(ValueError, match="per_second"):
        WallClockNonces(per_second=per_second)  # type: ignore[arg-type]


def test_is_a_nonce_source() -> None:
    assert isinstance(WallClockNonces(), NonceSource)


async def test_many_concurrent_calls_are_unique_and_increasing() -> None:
    source = WallClockNonces()  # the real wall clock
    order: list[int] = []

    async def one() -> None:
        await asyncio.sleep(0)
        order.append(await source.next_nonce("k"))

    await asyncio.gather(*(one() for _ in range(1000)))
    assert len(set(order)) == 1000
    assert order == sorted(order)


def test_threads_get_unique_nonces() -> None:
    source = WallClockNonces(SteppingWall(7.0))
    got: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [source.take("k") for _ in range(500)]
        assert mine == sorted(mine)
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(7000, 9000))
