"""Crash and restart in process: the invariants after recovery, at every kill point."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.streams import examples

from .harness import POINTS, crash_and_restart


def check(r: object, on_start: str) -> None:
    from .harness import Restart

    assert isinstance(r, Restart)
    assert r.run1_intents > 0
    assert r.run1_outcomes == r.run1_intents  # every intent of run 1: exactly one outcome
    assert r.run1_duplicate_outcomes == 0
    assert max(r.placed.values(), default=0) <= 1  # no cl_ord_id placed twice
    assert r.hand_open  # the order placed by hand with another key is untouched
    assert r.rate_limit_errors == 0
    if on_start == "cancel":
        # right after recovery: no open order of ours the engine does not know
        assert set(r.ours_open) <= r.engine_open
        assert r.report.cancelled == r.report.adopted
    else:
        assert set(r.ours_open) == r.adopted_for_strategy  # the strategy's own


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("on_start", ["cancel", "adopt"])
def test_a_kill_mid_burst_then_restart(tmp_path: Path, point: str, on_start: str) -> None:
    r = crash_and_restart(tmp_path / "j.sqlite", at=60, point=point, on_start=on_start)
    check(r, on_start)
    assert r.report.found_open > 0


# a whole run and a restart per example: a quarter of the profile's examples
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None,
          max_examples=examples(0.25))
@given(at=st.integers(1, 60), point=st.sampled_from(POINTS),
       on_start=st.sampled_from(["cancel", "adopt"]), seed=st.integers(0, 1000))
def test_property_kill_anywhere_restart_keeps_the_invariants(
    tmp_path_factory: pytest.TempPathFactory, at: int, point: str, on_start: str, seed: int,
) -> None:
    path = tmp_path_factory.mktemp("j") / "j.sqlite"
    r = crash_and_restart(path, at=at, point=point, on_start=on_start, seed=seed,
                          first_seconds=10.0, second_seconds=1.0)
    check(r, on_start)
