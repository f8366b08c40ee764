"""The pure reconcile rules, case by case, and the counter seeding arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.core import Engine
from engine.journal.reader import CounterRow, IntentRow, JournalState, OrderRow, RunRow
from engine.journal.reconcile import lookups, plan
from engine.journal.recovery import seed_counters
from tests.core.doubles import ScriptedVenue


def state(unresolved: tuple[IntentRow, ...] = (), orders: tuple[OrderRow, ...] = (),
          known: frozenset[str] = frozenset(), counters: dict[str, CounterRow] | None = None,
          runs: tuple[RunRow, ...] = (RunRow(1, 0.0, None, 1, None),)) -> JournalState:
    return JournalState(runs, orders, unresolved, known, counters or {}, {})


def intent(kind: str, ids: str, requests: int = 1, last: float | None = 100.0,
           hid: int = 1) -> IntentRow:
    return IntentRow(1, hid, kind, "mm", tuple(ids.split()), "XBT/USD", 99.0, requests, last)


def info(cid: str, opentm: float = 50.0) -> dict[str, Any]:
    return {"cl_ord_id": cid, "opentm": opentm, "vol": "0.01", "vol_exec": "0.00",
            "descr": {"pair": "XBTUSD", "type": "buy", "price": "60000.0"}}


def test_only_the_journals_orders_are_ours() -> None:
    s = state(known=frozenset({"a"}))
    p = plan(s, {"T1": info("a"), "T2": info("hand"), "T3": {"opentm": 1}}, {},
             now_wall=200.0, add_wait=6.0)
    assert [o.txid for o in p.ours_open] == ["T1"] and p.foreign == ("T2", "T3")


def test_an_add_is_decided_by_the_exchange_or_by_its_deadline() -> None:
    add = intent("AddOrder", "a")
    s = state((add,), known=frozenset({"a"}))
    assert lookups(s, {}) == ["a"]
    assert lookups(s, {"T1": info("a")}) == []
    early = plan(s, {}, {"a": None}, now_wall=103.0, add_wait=6.0)
    assert early.undecided == (add,) and early.wait_until == 106.0
    late = plan(s, {}, {"a": None}, now_wall=107.0, add_wait=6.0)
    assert late.resolved[0].status == "failed" and late.resolved[0].sent
    found = plan(s, {}, {"a": ("T9", "closed")}, now_wall=103.0, add_wait=6.0)
    assert (found.resolved[0].status, found.resolved[0].txid) == ("accepted", "T9")
    final = plan(s, {}, {"a": None}, now_wall=103.0, add_wait=6.0, final=True)
    assert final.resolved[0].status == "failed" and not final.undecided


def test_unsent_cancels_amends_and_queries_each_get_one_outcome() -> None:
    s = state((intent("AddOrder", "x", requests=0, hid=1),
               intent("CancelOrder", "a", hid=2), intent("CancelOrder", "b", hid=3),
               intent("AmendOrder", "a", hid=4), intent("QueryOpenOrders", "", hid=5)),
              known=frozenset({"a", "b", "x"}))
    p = plan(s, {"T1": info("a")}, {}, now_wall=200.0, add_wait=6.0)
    got = {r.hid: (r.status, r.sent) for r in p.resolved}
    assert got == {1: ("failed", False), 2: ("failed", True), 3: ("accepted", True),
                   4: ("failed", True), 5: ("failed", True)}


def test_a_journaled_resting_order_not_open_is_gone_and_age_counts_from_the_last_amend() -> None:
    orders = (OrderRow("a", 1, "T1", "XBT/USD", "buy", "1", "1", "open", 80.0, "mm"),
              OrderRow("b", 1, "T2", "XBT/USD", "buy", "1", "1", "open", 10.0, "mm"))
    s = state(orders=orders, known=frozenset({"a", "b", "T1", "T2"}))
    p = plan(s, {"T1": info("a", opentm=50.0)}, {}, now_wall=200.0, add_wait=6.0)
    assert p.gone == ("b",)
    assert p.ours_open[0].placed_wall == 80.0 and p.ours_open[0].strategy == "mm"


@pytest.mark.parametrize(("journal", "expect"), [
    (None, 125.0),  # no journal: the maximum
    ("fresh", 0.0),  # a new journal, no earlier run: nothing to seed
    ("level", 100.0 - 2.34 * 10.0),  # the journaled level decayed over 10 s
    ("other-pair", 125.0),  # earlier runs, no level for the pair: the maximum
])
def test_counters_start_from_the_journal_decayed_to_now(journal: str | None,
                                                        expect: float) -> None:
    clock = VirtualClock()
    s: JournalState | None = None
    if journal == "fresh":
        s = state(runs=())
    elif journal == "level":
        s = state(counters={"XBT/USD": CounterRow("XBT/USD", 100.0, clock.wall() - 10.0)})
    elif journal == "other-pair":
        s = state(counters={"ETH/USD": CounterRow("ETH/USD", 100.0, clock.wall())})

    async def main() -> None:
        async with Engine(ScriptedVenue(clock), clock=clock) as engine:
            seed_counters(engine, s, now_wall=clock.wall())
            assert engine.trading_level("XBT/USD") == pytest.approx(expect)

    clock.run(main())


def test_every_key_of_a_pool_starts_its_api_counter_from_the_journal() -> None:
    clock = VirtualClock()
    now = clock.wall()
    s = state(counters={"api": CounterRow("api", 10.0, now),
                        "api:k1": CounterRow("api:k1", 10.0, now),
                        "api:k2": CounterRow("api:k2", 12.0, now - 2.0)})

    async def main() -> None:
        async with Engine(ScriptedVenue(clock), clock=clock, key_id="k1",
                          key_ids=["k1", "k2"]) as engine:
            seeded = seed_counters(engine, s, now_wall=now)
            decay = engine.profile.api.decay
            assert engine.api_level() == pytest.approx(10.0)
            assert engine.budget.api_level("k2", clock.now()) == pytest.approx(12.0 - 2 * decay)
            assert set(seeded) >= {"api", "api:k1", "api:k2"}

    clock.run(main())
