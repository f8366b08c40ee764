"""Trading-counter penalties as the referee charges them: age at arrival, batches, CancelAll."""

from __future__ import annotations

import math

import pytest

from engine import kraken_errors as ke
from engine.exchange import CancelReason, OrderCancelled

from .simkit import AMEND, CANCEL, EDIT, add, call, err, expected_penalty, make, ok, txid

AGES = [0.0, 4.999, 5.0, 9.999, 10.0, 14.999, 15.0, 44.999, 45.0, 89.999, 90.0,
        299.999, 300.0, 1000.0]


def charged(x: object, pair: str = "XBT/USD") -> float:
    return x.stats.penalty.get(pair, 0.0)  # type: ignore[attr-defined]


@pytest.mark.parametrize("age", AGES)
@pytest.mark.parametrize(
    ("endpoint", "table"), [("AmendOrder", AMEND), ("EditOrder", EDIT), ("CancelOrder", CANCEL)]
)
def test_penalty_by_age_at_arrival_with_strict_bucket_edges(
    endpoint: str, table: tuple[int, ...], age: float
) -> None:
    x = make("pro")
    t = txid(add(x, 0.0))
    params: dict[str, str] = {"txid": t}
    if endpoint == "AmendOrder":
        params["limit_price"] = "50001.0"
    elif endpoint == "EditOrder":
        params |= {"pair": "XBT/USD", "price": "50001.0"}
    before_charged, before_level = charged(x), x.trading_level("XBT/USD", age)
    ok(x.handle(endpoint, params, key="sim", now=age))
    want = expected_penalty(table, age)
    assert charged(x) - before_charged == want
    assert x.trading_level("XBT/USD", age) == pytest.approx(before_level + want)


@pytest.mark.parametrize(("age", "want"), [(4.999, 8), (5.0, 6), (299.999, 1), (300.0, 0)])
def test_age_is_measured_from_the_exchanges_arrival_times(age: float, want: int) -> None:
    x = make("pro")
    t = txid(add(x, 1000.0))
    ok(call(x, "CancelOrder", 1000.0 + age, txid=t))
    assert charged(x) - 1 == want


def test_documented_example_add_amend_after_7s_cancel_36s_later_totals_8() -> None:
    x = make("starter")
    t = txid(add(x, 0.0))  # +1
    ok(call(x, "AmendOrder", 7.0, txid=t, limit_price="50000.1"))  # +1 +2
    ok(call(x, "CancelOrder", 43.0, txid=t))  # 36 s after the amend: +4
    assert charged(x) == 8
    assert x.peak_levels()["trading"]["XBT/USD"] == 4  # 1 decays away; then 3; then 4


def test_amend_keeps_the_txid_and_restarts_the_age() -> None:
    x = make("pro")
    t = txid(add(x, 0.0))
    ok(call(x, "AmendOrder", 20.0, txid=t, order_qty="0.02"))
    assert list(x.open_orders()) == [t]
    assert x.open_orders()[t]["vol"] == "0.02000000"
    ok(call(x, "CancelOrder", 22.0, txid=t))  # age 2 s since the amend: 8
    assert charged(x) == 1 + 1 + 8


def test_edit_replaces_the_txid_and_restarts_the_age() -> None:
    x = make("pro")
    t = txid(add(x, 0.0, userref="7"))
    r = ok(call(x, "EditOrder", 100.0, txid=t, pair="XBTUSD", volume="0.03"))
    assert r["originaltxid"] == t and r["txid"] != t and r["orders_cancelled"] == 1
    assert list(x.open_orders()) == [r["txid"]]
    assert x.open_orders()[r["txid"]]["userref"] == 0  # Kraken: the old userref is not kept
    ok(call(x, "CancelOrder", 103.0, txid=r["txid"]))  # age 3 s since the edit: 8
    assert charged(x) == 1 + 1 + 8  # the edit at age 100 s: 1 + 1


@pytest.mark.parametrize("n", range(2, 16))
def test_add_batch_costs_half_rounded_up(n: int) -> None:
    x = make("pro")
    orders = [{"type": "buy", "ordertype": "limit", "volume": "0.01", "price": f"{50000 + i}.0"}
              for i in range(n)]
    r = ok(call(x, "AddOrderBatch", 0.0, pair="XBT/USD", orders=orders))
    assert len(r["orders"]) == n and all("txid" in o for o in r["orders"])
    assert charged(x) == math.ceil(n / 2)
    assert x.open_order_count("XBT/USD") == n


@pytest.mark.parametrize("n", [0, 1, 16])
def test_add_batch_outside_2_to_15_is_refused_uncharged(n: int) -> None:
    x = make("pro")
    orders = [{"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "50000.0"}] * n
    assert err(call(x, "AddOrderBatch", 0.0, pair="XBT/USD", orders=orders)) == (
        f"{ke.INVALID_ARGUMENTS}:orders"
    )
    assert charged(x) == 0 and x.open_order_count("XBT/USD") == 0


def test_add_batch_with_one_bad_order_is_rejected_whole_and_charged_its_fixed_part() -> None:
    x = make("pro")
    orders = [{"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "50000.0"},
              {"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "50000.05"},
              {"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "50000.1"}]
    assert err(call(x, "AddOrderBatch", 0.0, pair="XBT/USD", orders=orders)) == ke.TICK_SIZE
    assert charged(x) == 2 and x.open_order_count("XBT/USD") == 0


def test_add_batch_refused_over_the_max_and_not_charged() -> None:
    x = make("starter")
    for _ in range(59):
        ok(add(x, 0.0, ordertype="market", price=None, volume="0.0001"))
    orders = [{"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "50000.0"}] * 3
    assert err(call(x, "AddOrderBatch", 0.0, pair="XBT/USD", orders=orders)) == (
        ke.ORDER_RATE_LIMIT
    )
    assert charged(x) == 59


def test_cancel_batch_is_accepted_past_the_max() -> None:
    x = make("starter")
    ids = [txid(add(x, 0.0, price=f"{50000 + i}.0")) for i in range(50)]
    r = ok(call(x, "CancelOrderBatch", 1.0, orders=ids))  # 50 orders aged 1 s: 50 * 8
    assert r == {"count": 50}
    assert charged(x) == 50 + 400
    assert x.trading_level("XBT/USD", 1.0) == pytest.approx(49 + 400)
    assert x.open_order_count("XBT/USD") == 0
    assert err(add(x, 1.0)) == ke.ORDER_RATE_LIMIT
    assert x.peak_levels()["trading"]["XBT/USD"] == pytest.approx(449)


def test_cancel_batch_takes_at_most_50_ids() -> None:
    x = make("pro")
    t = txid(add(x, 0.0))
    assert err(call(x, "CancelOrderBatch", 1.0, orders=[t] * 51)) == (
        f"{ke.INVALID_ARGUMENTS}:orders"
    )
    assert err(call(x, "CancelOrderBatch", 1.0, orders=[])) == f"{ke.INVALID_ARGUMENTS}:orders"
    assert x.open_order_count("XBT/USD") == 1


def test_single_cancel_is_refused_when_its_penalty_does_not_fit() -> None:
    x = make("starter")
    t = txid(add(x, 0.0))
    for _ in range(54):
        ok(add(x, 0.0, ordertype="market", price=None, volume="0.0001"))
    # level 55; a cancel at age 0 costs 8 > 5 free
    assert err(call(x, "CancelOrder", 0.0, txid=t)) == ke.ORDER_RATE_LIMIT
    assert x.open_order_count("XBT/USD") == 1 and charged(x) == 55
    # at 3 s: level 52 + 8 = 60 fits exactly
    ok(call(x, "CancelOrder", 3.0, txid=t))
    assert x.trading_level("XBT/USD", 3.0) == pytest.approx(60)


def test_cancel_all_charges_each_pair_its_batch_penalty_capped_at_the_max() -> None:
    x = make("starter")
    for i in range(10):
        add(x, 0.0, price=f"{50000 + i}.0")
    add(x, 0.0, pair="ETH/USD", price="2000.00")
    add(x, 0.0, pair="ETH/USD", price="2000.01")
    r = ok(call(x, "CancelAll", 0.0))
    assert r == {"count": 12}
    assert charged(x, "XBT/USD") == 10 + 60  # 10 * 8 = 80, capped at 60
    assert charged(x, "ETH/USD") == 2 + 16
    assert x.open_orders() == {}


def test_dead_man_switch_cancels_everything_when_it_fires() -> None:
    x = make("pro")
    events: list[object] = []
    x.subscribe(events.append)
    t = txid(add(x, 0.0))
    r = ok(call(x, "CancelAllOrdersAfter", 0.0, timeout="60"))
    assert r == {"currentTime": "2024-01-01T00:00:00Z", "triggerTime": "2024-01-01T00:01:00Z"}
    assert x.api_level("sim", 0.0) == 1
    ok(call(x, "CancelAllOrdersAfter", 30.0, timeout=60))  # re-armed: now fires at 90
    x.advance(89.9)
    assert x.open_order_count("XBT/USD") == 1
    assert x.next_event_time() <= 90.0
    x.advance(90.5)
    assert x.open_order_count("XBT/USD") == 0
    cancels = [e for e in events if isinstance(e, OrderCancelled)]
    assert [(c.txid, c.reason, c.time) for c in cancels] == [(t, CancelReason.DEAD_MAN, 90.0)]
    assert charged(x) == 1 + 1  # aged 90 s at the trigger: 1


def test_dead_man_switch_disarmed_by_timeout_zero() -> None:
    x = make("pro")
    add(x, 0.0)
    ok(call(x, "CancelAllOrdersAfter", 0.0, timeout="10"))
    assert ok(call(x, "CancelAllOrdersAfter", 5.0, timeout="0"))["triggerTime"] == "0"
    x.advance(100.0)
    assert x.open_order_count("XBT/USD") == 1
    assert err(call(x, "CancelAllOrdersAfter", 100.0, timeout="-1")) == (
        f"{ke.INVALID_ARGUMENTS}:timeout"
    )


def test_stepped_decay_releases_on_the_exchanges_ticks() -> None:
    x = make("starter", decay_step=2.0, decay_phase=0.0)
    for _ in range(60):
        ok(add(x, 0.1, ordertype="market", price=None, volume="0.0001"))
    assert err(add(x, 1.999)) == ke.ORDER_RATE_LIMIT  # continuous decay would allow it
    assert x.trading_level("XBT/USD", 1.999) == 60
    ok(add(x, 2.0, ordertype="market", price=None, volume="0.0001"))  # tick at 2.0: -2
    assert x.trading_level("XBT/USD", 2.0) == 59
    assert x.trading_level("XBT/USD", 3.9) == 59
    assert x.trading_level("XBT/USD", 4.0) == 57


def test_order_check_failures_charge_the_fixed_part_only() -> None:
    x = make("pro")
    t = txid(add(x, 0.0))
    assert err(add(x, 0.0, price="50000.05")) == ke.TICK_SIZE  # +1
    assert err(call(x, "AmendOrder", 0.0, txid=t, limit_price="50000.05")) == ke.TICK_SIZE
    assert err(call(x, "EditOrder", 0.0, txid=t, pair="XBT/USD", price="1.05")) == ke.TICK_SIZE
    assert charged(x) == 1 + 1 + 1 + 1
    assert x.open_orders()[t]["descr"]["price"] == "50000.0"


def test_unknown_order_charges_the_fixed_part_where_the_pair_is_known() -> None:
    x = make("pro")
    assert err(call(x, "AmendOrder", 0.0, txid="OAAAAA-BBBBB-CCCCCC", order_qty="1")) == (
        ke.UNKNOWN_ORDER
    )
    assert x.stats.penalty == {}  # an id never seen names no pair
    assert err(call(x, "EditOrder", 0.0, txid="OAAAAA-BBBBB-CCCCCC", pair="ETH/USD",
                    volume="1")) == ke.UNKNOWN_ORDER
    assert charged(x, "ETH/USD") == 1
    t = txid(add(x, 0.0))
    ok(call(x, "CancelOrder", 1.0, txid=t))
    assert err(call(x, "AmendOrder", 2.0, txid=t, order_qty="1")) == ke.UNKNOWN_ORDER
    assert charged(x) == 1 + 8 + 1  # the closed order's pair pays the amend's fixed part
    assert err(call(x, "CancelOrder", 3.0, txid=t)) == ke.UNKNOWN_ORDER
    assert charged(x) == 10  # a cancel's fixed part is 0


def test_float_error_in_the_age_does_not_push_an_order_into_a_costlier_bucket() -> None:
    t0 = 4002.353689016469
    assert (t0 + 300.0) - t0 < 300.0  # what floats do
    x = make("pro")
    t = txid(add(x, t0))
    ok(call(x, "CancelOrder", t0 + 300.0, txid=t))
    assert charged(x) == 1 + 0  # the ">= 300 s" bucket: the order is 300 s old
