"""The mark in every cl_ord_id: derived from the account and the journal, made by default
once a journal is open, and what lets recovery find our orders even when the journal lost
their rows -- while hand orders (a cl_ord_id of another form, or none) are left alone."""

from __future__ import annotations

import contextvars
import uuid
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.clock import VirtualClock
from engine.clordid import MARK, carries, new_cl_ord_id
from engine.core import Engine
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder
from engine.journal.marks import mark_for
from engine.journal.reconcile import plan
from engine.journal.session import Journal
from engine.venues.simulated import SimulatedVenue
from tests.journal.test_reconcile import info, state


def test_the_mark_is_stable_per_account_and_journal(tmp_path: Path) -> None:
    a = mark_for("api.kraken.com", tmp_path / "j.sqlite")
    assert a == mark_for("api.kraken.com", tmp_path / "." / "j.sqlite")  # same file
    assert len(a) == 8 and int(a, 16) < 2**31
    assert a != mark_for("api.kraken.com", tmp_path / "other.sqlite")
    assert a != mark_for("127.0.0.1:9", tmp_path / "j.sqlite")


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_marked_ids_are_uuid4_in_kraken_long_form_and_carry_the_mark(n: int) -> None:
    mark = format(n, "08x")

    def make() -> tuple[str, str]:
        MARK.set(mark)
        return new_cl_ord_id(), AddOrder("XBT/USD", "buy", "0.01", 100.0).cl_ord_id

    before = MARK.get()
    for cid in contextvars.copy_context().run(make):
        u = uuid.UUID(cid)
        assert str(u) == cid and u.version == 4 and carries(cid, mark)
    assert MARK.get() is before  # set in that context only
    other = format((n + 1) % 2**31, "08x")
    assert not carries(other + new_cl_ord_id()[8:], mark)


def test_hand_ids_do_not_carry_it() -> None:
    mark = "1234abcd"
    assert not carries("1234abcd", mark)  # free text (18 characters at most): never
    assert not carries("1234abcd-hand-order", mark)
    assert not carries("1234abcd" + uuid.uuid4().hex[8:], mark)  # short form: never
    assert not carries(None, mark)
    assert carries("1234ABCD-0000-4000-8000-000000000000", mark)  # Kraken may upper-case


def test_a_marked_order_the_journal_never_recorded_is_ours() -> None:
    mark = "0badcafe"
    marked = f"{mark}-1111-4111-8111-111111111111"
    orders = {"T1": info(marked), "T2": info("hand-1"), "T3": info(str(uuid.uuid4())),
              "T4": {"opentm": 1.0, "descr": {}}}
    p = plan(state(), orders, {}, now_wall=200.0, add_wait=6.0, mark=mark)
    assert [o.txid for o in p.ours_open] == ["T1"] and p.foreign == ("T2", "T3", "T4")
    p = plan(state(), orders, {}, now_wall=200.0, add_wait=6.0)  # without the mark
    assert p.ours_open == () and len(p.foreign) == 4


def test_a_lost_journal_still_finds_its_marked_orders_and_leaves_hand_orders(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    clock = VirtualClock()
    exchange = SimulatedKraken(tier="intermediate", seed=3)
    exchange.add_key("hand")
    out: dict[str, Any] = {}

    async def main() -> None:
        hand = SimulatedVenue(exchange, clock, key="hand", latency=0.01)
        hand_txids = []
        for extra in ({"cl_ord_id": "hand-order-1"}, {"cl_ord_id": str(uuid.uuid4())}, {}):
            reply = await hand.request("AddOrder", {
                "pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
                "price": "30000.0", **extra})
            assert not reply["error"], reply
            hand_txids.extend(reply["result"]["txid"])
        j1 = Journal(path, clock=clock, account="sim", key_id="k")
        async with Engine(SimulatedVenue(exchange, clock, latency=0.01), clock=clock,
                          observer=j1.recorder) as e1:
            placed = [await e1.submit(AddOrder("XBT/USD", "buy", "0.01", 31000.0 + i))
                      for i in range(2)]
            assert all(o.ok for o in placed)
        j1.writer.close()  # a crash (its lock freed by its death) -- then the file is lost
        j1.lock.release()
        for p in tmp_path.iterdir():
            p.unlink()
        j2 = Journal(path, clock=clock, account="sim", key_id="k")
        async with Engine(SimulatedVenue(exchange, clock, latency=0.01), clock=clock,
                          observer=j2.recorder) as e2:
            report = await j2.recover(e2, on_start="cancel")
        j2.close()
        out.update(report=report, hand=hand_txids, placed={o.txid for o in placed})

    clock.run(main())
    report = out["report"]
    assert report.found_open == report.cancelled == 2
    assert report.foreign == 3
    assert set(exchange.open_orders()) == set(out["hand"])
