"""Gates and bookkeeping: exact refusal thresholds (hypothesis), unchanged state after a
refusal, nonces, the concurrency throttle and the referee's statistics."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.exchange import SimulatedKraken

from .simkit import AMEND, CANCEL, EDIT, add, call, err, expected_penalty, make, ok, txid

EDGE = 1e-6  # model and exchange may disagree on which side of max a float lands this close

# -- the trading counter refuses exactly when level + penalty > max --------------------------

STARTER_MAX, STARTER_DECAY, STARTER_CAP = 60.0, 1.0, 60


class Model:
    """The test's own expectation of one pair's trading counter and open orders."""

    def __init__(self, step: float, phase: float) -> None:
        self.step, self.phase = step, phase
        self.level, self.t = 0.0, 0.0
        self.aged: dict[str, float] = {}  # open txid -> creation / last amend arrival

    def advance(self, t: float) -> None:
        if self.step == 0:
            self.level = max(0.0, self.level - STARTER_DECAY * (t - self.t))
        else:
            k = math.floor((self.t - self.phase) / self.step) + 1
            while self.phase + k * self.step <= t + 1e-12:
                self.level = max(0.0, self.level - STARTER_DECAY * self.step)
                k += 1
        self.t = t


KINDS = [  # repeated kinds are drawn more often
    "add", "add", "market", "batch", "amend", "amend", "amend", "edit", "edit", "cancel",
    "cancel", "cancel_batch", "add*16", "market*16",
]
OPS = st.lists(
    st.tuples(
        # quarter seconds since the previous request: bursts at one instant are common, so
        # the counter and the open-order cap are reached often
        st.one_of(st.just(0), st.integers(0, 40)),
        st.sampled_from(KINDS),
        st.integers(0, 1000),  # which open order, for amend / edit / cancel
    ),
    min_size=10, max_size=60,
).map(  # "kind*8": eight of that request at one instant
    lambda ops: [
        (d if i == 0 else 0, kind.split("*")[0], pick)
        for d, kind, pick in ops
        for i in range(int(kind.split("*")[1]) if "*" in kind else 1)
    ]
)


def _request(x: SimulatedKraken, m: Model, kind: str, pick: int, t: float, n: int) -> tuple[
    dict[str, Any] | None, float, float, bool, int
]:
    """Send one request; return (reply, penalty, fixed part, never refused, orders added)."""
    ids = list(m.aged)
    target = ids[pick % len(ids)] if ids else None
    price = f"{40000 + n % 5000}.0"
    if kind == "add":
        return add(x, t, price=price), 1, 1, False, 1
    if kind == "market":
        return add(x, t, ordertype="market", price=None, volume="0.0001"), 1, 1, False, 0
    if kind == "batch":
        orders = [{"type": "buy", "ordertype": "limit", "volume": "0.01", "price": price}] * 3
        return call(x, "AddOrderBatch", t, pair="XBT/USD", orders=orders), 2, 2, False, 3
    if target is None:
        return None, 0, 0, False, 0
    age = t - m.aged[target]
    if kind == "amend":
        reply = call(x, "AmendOrder", t, txid=target, limit_price=price)
        return reply, expected_penalty(AMEND, age), 1, False, 0
    if kind == "edit":
        reply = call(x, "EditOrder", t, txid=target, pair="XBT/USD", price=price)
        return reply, expected_penalty(EDIT, age), 1, False, 0
    if kind == "cancel":
        return call(x, "CancelOrder", t, txid=target), expected_penalty(CANCEL, age), 0, False, 0
    chosen = ids[: 1 + pick % 3]
    units = sum(expected_penalty(CANCEL, t - m.aged[i]) for i in chosen)
    return call(x, "CancelOrderBatch", t, orders=chosen), units, 0, True, 0


@given(ops=OPS, step=st.sampled_from([0.0, 2.0]))
def test_trading_counter_refuses_exactly_when_level_plus_penalty_exceeds_max(
    ops: list[tuple[int, str, int]], step: float
) -> None:
    x = make("starter", decay_step=step, decay_phase=0.5)
    m = Model(step, 0.5)
    t = 0.0
    for n, (dq, kind, pick) in enumerate(ops):
        t += dq / 4
        m.advance(t)
        reply, penalty, fixed, never_refused, added = _request(x, m, kind, pick, t, n)
        if reply is None:
            continue
        # quarter-second times and decay 1/s keep every level exact in floats: no tolerance
        over = m.level + penalty - STARTER_MAX
        refused = reply["error"] == [ke.ORDER_RATE_LIMIT]
        assert refused == (over > 0 and not never_refused), (kind, m.level, penalty, reply)
        if refused:
            pass
        elif reply["error"]:
            assert reply["error"] == [ke.ORDERS_LIMIT], reply
            assert len(m.aged) + added > STARTER_CAP
            m.level += fixed
        else:
            m.level += penalty
            result = reply["result"]
            if kind == "add":
                m.aged[result["txid"][0]] = t
            elif kind == "batch":
                m.aged.update((o["txid"], t) for o in result["orders"])
            elif kind == "amend":
                m.aged[list(m.aged)[pick % len(m.aged)]] = t
            elif kind == "edit":
                del m.aged[result["originaltxid"]]
                m.aged[result["txid"]] = t
            elif kind == "cancel":
                del m.aged[list(m.aged)[pick % len(m.aged)]]
            elif kind == "cancel_batch":
                for i in list(m.aged)[: 1 + pick % 3]:
                    del m.aged[i]
        assert x.trading_level("XBT/USD", t) == m.level
        assert set(x.open_orders()) == set(m.aged)


# -- the API counter refuses exactly when level + cost > max ---------------------------------

API_COST = {"Balance": 1, "OpenOrders": 2, "ClosedOrders": 2, "QueryOrders": 1, "AddOrder": 0}


@given(
    ops=st.lists(
        st.tuples(st.integers(0, 12), st.sampled_from(sorted(API_COST))), min_size=1,
        max_size=80,
    ),
    tier=st.sampled_from(["starter", "intermediate", "pro"]),
)
def test_api_counter_refuses_exactly_when_level_plus_cost_exceeds_max(
    ops: list[tuple[int, str]], tier: str
) -> None:
    api_max, decay = {"starter": (15, 0.33), "intermediate": (20, 0.5), "pro": (20, 1.0)}[tier]
    x = make(tier)
    level, t = 0.0, 0.0
    for dq, endpoint in ops:
        dt = dq / 4
        t += dt
        level = max(0.0, level - decay * dt)
        cost = API_COST[endpoint]
        if endpoint == "AddOrder":
            reply = add(x, t, ordertype="market", price=None, volume="0.0001")
        elif endpoint == "QueryOrders":
            reply = call(x, endpoint, t, txid="nope")  # charged even though it fails
        else:
            reply = call(x, endpoint, t)
        refused = reply["error"] == [ke.API_RATE_LIMIT]
        if abs(level + cost - api_max) > EDGE:
            assert refused == (level + cost > api_max)
        if not refused:
            level += cost
        assert x.api_level("sim", t) == pytest.approx(level, abs=1e-6)


# -- a refused request leaves the state unchanged (but for the documented fixed part) --------

REFUSALS: list[tuple[str, dict[str, Any], int]] = [  # endpoint, params, fixed part charged
    ("AddOrder", {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "volume": "nan",
                  "price": "50000.0"}, 0),
    ("AddOrder", {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "volume": "0.01",
                  "price": "50000.05"}, 1),
    ("AddOrder", {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "volume": "0.01",
                  "price": "65000.0", "oflags": "post"}, 1),
    ("AddOrder", {"pair": "NOPE", "type": "buy", "ordertype": "market", "volume": "1"}, 0),
    ("AddOrder", {"pair": "XBT/USD", "type": "buy", "ordertype": "market",
                  "volume": "1000000"}, 1),
    ("AddOrderBatch", {"pair": "XBT/USD", "orders": [
        {"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "1.0"}] * 16}, 0),
    ("AmendOrder", {"txid": "@", "limit_price": "50000.05"}, 1),
    ("EditOrder", {"txid": "@", "pair": "XBT/USD", "price": "70000.0", "oflags": "post"}, 1),
    ("EditOrder", {"txid": "@", "pair": "XBT/USD", "price": "-1"}, 0),
    ("CancelOrder", {"txid": "OAAAAA-BBBBB-CCCCCC"}, 0),
    ("QueryOrders", {"txid": "OAAAAA-BBBBB-CCCCCC"}, 0),
    ("Balance", {"nonce": "0"}, 0),
    ("Nonsense", {}, 0),
]


def _comparable(snap: dict[str, Any]) -> dict[str, Any]:
    snap = dict(snap)
    snap.pop("api")  # a processed private call is charged on the API counter (cost 0 or 1)
    return snap


@given(ops=OPS.map(lambda o: o[:25]), which=st.integers(0, len(REFUSALS) - 1),
       dq=st.integers(0, 8))
def test_a_refused_request_changes_nothing_but_the_fixed_part(
    ops: list[tuple[int, str, int]], which: int, dq: int
) -> None:
    x = make("starter")
    m = Model(0.0, 0.0)
    t = 0.0
    for n, (d, kind, pick) in enumerate(ops):
        t += d / 4
        m.aged = dict.fromkeys(x.open_orders(), 0.0)
        _request(x, m, kind, pick, t, n)
    ok(call(x, "Balance", t, nonce="10"))
    t += dq / 4
    endpoint, params, fixed = REFUSALS[which]
    if params.get("txid") == "@":
        open_ids = list(x.open_orders())
        if not open_ids:
            return
        params = {**params, "txid": open_ids[0]}
    before = x.snapshot(t)
    reply = x.handle(endpoint, params, key="sim", now=t)
    assert reply["error"], reply
    after = x.snapshot(t)
    if reply["error"] != [ke.ORDER_RATE_LIMIT] and fixed:
        level_before = before["trading"].get("XBT/USD", 0.0)
        assert after["trading"]["XBT/USD"] == pytest.approx(level_before + fixed)
        if level_before:
            after["trading"]["XBT/USD"] = level_before
        else:
            del after["trading"]["XBT/USD"]
    assert _comparable(after) == _comparable(before)


def test_a_rate_limited_request_changes_nothing() -> None:
    x = make("starter")
    t = txid(add(x, 0.0))
    for _ in range(59):
        add(x, 0.0, ordertype="market", price=None, volume="0.0001")
    before = x.snapshot(0.0)
    for endpoint, params in [
        ("AddOrder", {"pair": "XBT/USD", "type": "buy", "ordertype": "limit", "volume": "1",
                      "price": "1.0"}),
        ("AmendOrder", {"txid": t, "limit_price": "50000.05"}),
        ("EditOrder", {"txid": t, "pair": "XBTUSD", "volume": "0.02"}),
        ("CancelOrder", {"txid": t}),
    ]:
        assert err(x.handle(endpoint, params, key="sim", now=0.0)) == ke.ORDER_RATE_LIMIT
    assert x.snapshot(0.0) == before


# -- nonces ----------------------------------------------------------------------------------


def test_nonces_must_increase() -> None:
    x = make()
    ok(call(x, "Balance", 0.0, nonce="100"))
    ok(call(x, "Balance", 0.0, nonce="101"))
    for bad in ("101", "100", "5", "x", "-1", str(2**64)):
        assert err(call(x, "Balance", 0.0, nonce=bad)) == ke.INVALID_NONCE
    ok(call(x, "Balance", 0.0, nonce=1000))
    ok(call(x, "Balance", 0.0))  # no nonce (in-process call): no check
    assert x.api_level("sim", 0.0) == 4  # refused nonces are not charged


def test_nonce_window_tolerates_small_reordering_but_never_reuse() -> None:
    x = make(nonce_window=5)
    ok(call(x, "Balance", 0.0, nonce="100"))
    ok(call(x, "Balance", 0.0, nonce="98"))
    assert err(call(x, "Balance", 0.0, nonce="98")) == ke.INVALID_NONCE
    ok(call(x, "Balance", 0.0, nonce="95"))
    assert err(call(x, "Balance", 0.0, nonce="94")) == ke.INVALID_NONCE
    assert err(call(x, "Balance", 0.0, nonce="100")) == ke.INVALID_NONCE


def test_nonces_are_per_key() -> None:
    x = make()
    x.add_key("other")
    ok(call(x, "Balance", 0.0, nonce="100"))
    ok(call(x, "Balance", 0.0, key="other", nonce="50"))


# -- concurrency throttle --------------------------------------------------------------------


def test_throttled_when_too_many_requests_are_in_flight() -> None:
    x = make(max_concurrent=2, processing_time=1.25)
    ok(call(x, "Balance", 0.0))
    ok(call(x, "Balance", 0.5))
    error = err(call(x, "Balance", 1.0))
    assert error == f"{ke.THROTTLED}:{math.ceil(x.epoch + 1.25)}"
    assert ke.throttled_until(error) == x.epoch + 2
    assert x.api_level("sim", 1.0) == pytest.approx(2 - 0.33)  # refused: not charged
    ok(call(x, "Balance", 1.25))  # the first request has completed
    ok(call(x, "Time", 1.25, key=None))  # public calls are not per key
    x.add_key("other")
    ok(call(x, "Balance", 1.3, key="other"))  # nor are other keys' slots
    assert x.stats.errors[ke.THROTTLED] == 1


def test_default_is_never_throttled() -> None:
    x = make()
    for _ in range(100):
        ok(call(x, "Time", 0.0, key=None))
        assert not any(e.startswith(ke.THROTTLED) for e in x.handle(
            "CancelAllOrdersAfter", {"timeout": "0"}, key="sim", now=0.0)["error"]
            if e != ke.API_RATE_LIMIT)


# -- statistics ------------------------------------------------------------------------------


def test_statistics_are_the_referees_own() -> None:
    x = make("starter")
    ok(call(x, "Time", 0.0, key=None))
    t = txid(add(x, 10.0))
    add(x, 10.0, price="1.05")  # tick size: +1
    ok(call(x, "CancelOrder", 20.0, txid=t))  # age 10: +5
    ok(add(x, 30.0, pair="ETH/USD", price="2000.00"))
    err(call(x, "Nonsense", 31.0))
    s = x.stats
    assert s.requests == {"Time": 1, "AddOrder": 3, "CancelOrder": 1, "Nonsense": 1}
    assert s.errors == {ke.TICK_SIZE: 1, ke.UNKNOWN_METHOD: 1}
    assert s.penalty == {"XBT/USD": 7, "ETH/USD": 1}
    assert s.first_request == {"XBT/USD": 10.0, "ETH/USD": 30.0}
    assert s.last_request == {"XBT/USD": 20.0, "ETH/USD": 30.0}
    util = x.budget_utilization()
    assert util["XBT/USD"] == pytest.approx(7 / (60 + 1.0 * 10))
    assert util["ETH/USD"] == pytest.approx(1 / 60)
    assert util["overall"] == pytest.approx(8 / 130)
    assert x.peak_levels()["trading"] == {"XBT/USD": 5.0, "ETH/USD": 1.0}
    assert s.as_dict()["penalty"] == {"XBT/USD": 7, "ETH/USD": 1}


def test_summary_is_json_ready() -> None:
    import json

    x = make("starter")
    add(x, 0.0)
    summary = json.loads(json.dumps(x.summary()))
    assert summary["requests"] == {"AddOrder": 1}
    assert summary["open_orders"] == {"XBT/USD": 1, "ETH/USD": 0, "SOL/USD": 0}
    assert summary["peak"]["trading"] == {"XBT/USD": 1.0}
    assert summary["budget_utilization"]["overall"] == pytest.approx(1 / 60)


def test_a_nonce_refused_by_the_api_counter_is_not_consumed() -> None:
    x = make("starter")
    for i in range(15):
        ok(call(x, "Balance", 0.0, nonce=str(i + 1)))
    assert err(call(x, "Balance", 0.0, nonce="100")) == ke.API_RATE_LIMIT
    ok(call(x, "Balance", 10.0, nonce="100"))  # still fresh
