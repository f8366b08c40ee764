"""The summary: every outcome status is reported, zeros included, in a fixed order."""

from __future__ import annotations

import json
from typing import Any

from engine.run.summary import Summary, all_outcomes

STATUSES = ["accepted", "rejected", "expired", "coalesced", "failed"]


def summary(outcomes: dict[str, int]) -> Summary:
    fields: dict[str, Any] = {
        "strategy": "grid", "tier": "intermediate", "pairs": ("XBT/USD",), "seed": 1,
        "duration": 60.0, "params": {}, "intents": sum(outcomes.values()),
        "sent": 0, "outcomes": outcomes, "unresolved": 0, "requests": {}, "errors": {},
        "rate_limit_errors": 0, "budget_utilization": {"overall": 0.0}, "counters": {},
        "queue_wait": {"p50": None, "p99": None, "max": None}, "strategy_report": {},
        "simulated_seconds": 60.0, "wall_seconds": 0.1,
    }
    return Summary(**fields)


def test_all_outcomes_fills_in_zeros_in_status_order() -> None:
    assert all_outcomes({}) == dict.fromkeys(STATUSES, 0)
    got = all_outcomes({"rejected": 2, "accepted": 5})
    assert list(got) == STATUSES and got["accepted"] == 5 and got["failed"] == 0


def test_an_unknown_key_is_kept_after_the_statuses() -> None:
    assert list(all_outcomes({"other": 1})) == [*STATUSES, "other"]


def test_the_json_has_all_five_statuses() -> None:
    s = summary({"accepted": 3, "coalesced": 1})
    d = json.loads(s.to_json())
    assert d["outcomes"] == {"accepted": 3, "rejected": 0, "expired": 0, "coalesced": 1,
                             "failed": 0}
    assert list(d["outcomes"]) == STATUSES


def test_the_table_lists_only_the_statuses_that_happened() -> None:
    text = summary({"accepted": 3, "coalesced": 1}).render()
    assert "outcomes           accepted 3, coalesced 1\n" in text
    assert "outcomes           none" in summary({}).render()
