"""What Kraken does to a client that misbehaves, in the referee: lockout escalation per key
and the per-IP limit on public endpoints (issue 12, item 3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.exchange import SimulatedKraken
from engine.exchange.lockout import Lockout
from engine.exchange.public_limit import PublicLimit

from .simkit import call, err, flat, ok


def make(**kw: object) -> SimulatedKraken:
    return SimulatedKraken("intermediate", prices=flat(), **kw)  # type: ignore[arg-type]


def test_calls_past_the_limit_earn_a_temporary_lockout_then_it_lifts() -> None:
    x = make(lockout_after=3, lockout_seconds=60.0)
    for _ in range(10):  # TradesHistory costs 2: ten fill the intermediate max of 20
        ok(call(x, "TradesHistory", 0.0))
    assert [err(call(x, "Balance", 0.1)) for _ in range(3)] == [ke.API_RATE_LIMIT] * 3
    assert x.locked_until("sim") == pytest.approx(60.1)
    assert err(call(x, "Balance", 30.0)) == ke.TEMPORARY_LOCKOUT  # room again, still locked
    assert err(call(x, "AddOrder", 59.0, pair="XBTUSD", type="buy", ordertype="limit",
                    volume="0.01", price="50000.0")) == ke.TEMPORARY_LOCKOUT
    assert x.stats.penalty == {}  # a locked-out call is not charged
    ok(call(x, "Balance", 60.2))  # lifted
    assert x.locked_until("sim") is None


def test_a_client_that_backs_off_is_never_locked_out() -> None:
    x = make(lockout_after=2)
    for _ in range(10):
        ok(call(x, "TradesHistory", 0.0))
    assert err(call(x, "Balance", 0.0)) == ke.API_RATE_LIMIT
    ok(call(x, "Balance", 10.0))  # waited for the decay: admitted, the run of offences ends
    replies = [call(x, "TradesHistory", 10.0)["error"] for _ in range(4)]
    assert replies == [[], [], [ke.API_RATE_LIMIT], [ke.API_RATE_LIMIT]]  # 16 + 2 + 2 = 20
    assert x.locked_until("sim") == pytest.approx(10.0 + 900.0)  # two in a row: locked out


def test_lockouts_can_be_turned_off() -> None:
    x = make(lockout_after=0)
    for _ in range(10):
        ok(call(x, "TradesHistory", 0.0))
    assert all(err(call(x, "Balance", 0.0)) == ke.API_RATE_LIMIT for _ in range(50))


@given(st.lists(st.booleans(), max_size=60), st.integers(min_value=1, max_value=6))
def test_lockout_comes_exactly_after_n_refusals_in_a_row(calls: list[bool], after: int) -> None:
    """``True`` = a refused call, ``False`` = an admitted one (no time passes)."""
    lock = Lockout(after, 100.0)
    run = 0
    for refused in calls:
        if lock.locked(0.0):
            return  # from here on every call is refused as locked out
        if refused:
            run += 1
            lock.offended(0.0)
            assert lock.locked(0.0) == (run >= after)
        else:
            run = 0
            lock.admitted()
            assert not lock.locked(0.0)


def public(x: SimulatedKraken, endpoint: str, now: float, client: str | None) -> Any:
    return x.handle(endpoint, {}, key=None, now=now, client=client)


def test_public_calls_are_limited_per_address() -> None:
    x = make(public_rate=1.0, public_burst=3)
    assert [public(x, "Time", 0.0, "10.0.0.1")["error"] for _ in range(4)] == [
        [], [], [], [ke.TOO_MANY_REQUESTS]]
    ok(public(x, "Time", 0.0, "10.0.0.2"))  # another address: its own budget
    ok(public(x, "Time", 0.0, None))  # in process, no address: not limited
    assert err(public(x, "Ticker", 0.5, "10.0.0.1")) == ke.TOO_MANY_REQUESTS
    ok(public(x, "Ticker", 1.0, "10.0.0.1"))  # one unit released per second
    assert x.stats.errors[ke.TOO_MANY_REQUESTS] == 2


@given(st.lists(st.floats(min_value=0.0, max_value=0.5), max_size=80),
       st.floats(min_value=0.1, max_value=5.0), st.integers(min_value=1, max_value=20))
def test_public_limit_never_admits_more_than_burst_plus_rate_times_time(
    gaps: list[float], rate: float, burst: int,
) -> None:
    limit = PublicLimit(rate, burst)
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap
        if limit.admit("ip", now):
            admitted.append(now)
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            # requests admitted in [start, admitted[j]]: at most burst + rate * span (+ float)
            assert j - i + 1 <= burst + rate * (admitted[j] - start) + 1e-6
    if gaps and all(g >= 1.0 / rate for g in gaps[1:]):
        assert len(admitted) == len(gaps)  # a paced client is never refused
