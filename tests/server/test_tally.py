"""The server's tally: requests and errors per key, public, unknown key, in total."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.exchange.server.tally import RATE_LIMIT_ERRORS, Tally, error_code

KEYS = {"alpha-key": "secret-of-alpha", "alpha-two": "secret-of-two", "beta": "secret-b"}


def test_counts_by_key_in_order_public_and_unknown() -> None:
    t = Tally(KEYS)
    t.record("alpha-two", ["EAPI:Rate limit exceeded"])
    t.record("alpha-two", [])
    t.record(None, ["EGeneral:Too many requests"])
    t.record("stranger", ["EAPI:Invalid key"])
    t.record("beta", ["EService:Throttled:1700000000"])
    snap = t.snapshot()
    assert [k["key"] for k in snap["keys"]] == ["alph...", "alph...", "beta..."]  # given order
    assert snap["keys"][0] == {"key": "alph...", "requests": 0, "errors": {},
                               "rate_limit_errors": 0}
    assert snap["keys"][1]["requests"] == 2 and snap["keys"][1]["rate_limit_errors"] == 1
    assert snap["keys"][2]["errors"] == {"EService:Throttled": 1}  # the time dropped
    assert snap["public"]["rate_limit_errors"] == 1
    assert snap["unknown_key"] == {"requests": 1, "errors": {"EAPI:Invalid key": 1},
                                   "rate_limit_errors": 0}
    assert (snap["requests"], snap["rate_limit_errors"], snap["in_flight"]) == (5, 3, 0)
    shown = repr(t) + repr(snap)
    assert not any(s in shown for s in KEYS.values())  # it holds no secret
    assert "alpha-key" not in shown and "stranger" not in shown  # nor a whole key


def test_a_key_added_later_is_counted_from_then() -> None:
    keys = dict(KEYS)
    t = Tally(keys)
    t.record("gamma", [])
    keys["gamma"] = "secret-g"
    t.record("gamma", [])
    snap = t.snapshot()
    assert snap["keys"][-1]["requests"] == 1 and snap["unknown_key"]["requests"] == 1


def test_error_code() -> None:
    assert error_code("EService:Throttled:17") == "EService:Throttled"
    assert error_code("EGeneral:Invalid arguments:volume") == "EGeneral:Invalid arguments:volume"
    assert "EService:Throttled" in RATE_LIMIT_ERRORS and "EAPI:Invalid key" not in RATE_LIMIT_ERRORS


requests = st.lists(st.tuples(
    st.sampled_from([None, "alpha-key", "alpha-two", "beta", "stranger"]),
    st.lists(st.sampled_from(["EAPI:Rate limit exceeded", "EOrder:Orders limit exceeded",
                              "EService:Throttled:5", "EOrder:Unknown order"]), max_size=2)),
    max_size=40)


@given(requests)
def test_the_total_is_the_sum_of_its_parts(seen: list[tuple[str | None, list[str]]]) -> None:
    t = Tally(KEYS)
    for key, errors in seen:
        t.record(key, errors)
    snap = t.snapshot()
    parts = [*snap["keys"], snap["public"], snap["unknown_key"]]
    assert snap["requests"] == len(seen) == sum(p["requests"] for p in parts)
    assert snap["rate_limit_errors"] == sum(p["rate_limit_errors"] for p in parts) == sum(
        1 for _k, errors in seen for e in errors if e != "EOrder:Unknown order")
    assert sum(snap["errors"].values()) == sum(len(e) for _k, e in seen)
