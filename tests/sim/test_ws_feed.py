"""The executions feed tells the whole story, in order (issue 13, item 4).

Replaying what a subscription was sent -- its snapshot, then its updates -- rebuilds the
account's open orders exactly as the exchange holds them, after every action and whatever
happened: adds over REST and WebSocket, amends, edits, cancels, batches, IOC and taker
orders, resting orders filled by the market, GTD expiries and the dead-man switch.  Every
subscription numbers its messages 1, 2, 3, ...; one that asked ``order_status: false`` never
sees ``pending_new`` or ``amended``; one that joins late starts from its snapshot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.exchange import SimulatedKraken
from engine.exchange.times import rfc3339
from engine.exchange.wsv2 import STATUS_ONLY, ExecutionsOptions

from .simkit import flat
from .wskit import WsKit

#: XBT/USD walks 60000 -> 59000 -> 61000 and back, one step a second: resting orders fill.
PATH = [(float(t), 60_000.0 + 1000.0 * ((t // 4) % 3 - 1)) for t in range(0, 400)]


def rebuild(messages: list[dict[str, Any]]) -> tuple[dict[str, tuple[Decimal, Decimal]], list[int]]:
    """Open orders (order_id -> (qty, limit)) and sequence numbers from a subscription's
    messages."""
    book: dict[str, tuple[Decimal, Decimal]] = {}
    seqs: list[int] = []
    for m in messages:
        if m.get("channel") != "executions":
            continue
        seqs.append(m["sequence"])
        for item in m["data"]:
            kind, oid = item["exec_type"], item["order_id"]
            if kind == "new":  # live (pending_new is not yet)
                book[oid] = (Decimal(repr(item["order_qty"])),
                             Decimal(repr(item.get("limit_price", 0))))
            elif kind == "amended":
                book[oid] = (Decimal(repr(item["order_qty"])), Decimal(repr(item["limit_price"])))
            elif kind in ("filled", "canceled", "expired"):
                book.pop(oid, None)
    return book, seqs


def held(x: SimulatedKraken) -> dict[str, tuple[Decimal, Decimal]]:
    return {t: (o.volume, o.price or Decimal(0)) for t, o in x.engine.open.items()}


@st.composite
def plans(draw: st.DrawFn) -> list[tuple[str, float, int, bool]]:
    n = draw(st.integers(1, 25))
    kinds = st.sampled_from(["rest", "limit", "taker", "ioc", "gtd", "amend", "edit",
                             "cancel", "batch", "cancel_all", "dead_man", "join"])
    return [(draw(kinds), draw(st.sampled_from([0.0, 0.5, 1.0, 3.0, 6.0])),
             draw(st.integers(-5, 5)), draw(st.booleans())) for _ in range(n)]


@given(plans())
def test_replaying_the_feed_rebuilds_the_open_orders(
    plan: list[tuple[str, float, int, bool]],
) -> None:
    x = SimulatedKraken("pro", prices={**flat(), "XBT/USD": PATH}, decay_step=2.0)
    kit = WsKit(x)
    kit.call("subscribe", 0.0, connection=1, channel="executions")
    kit.call("subscribe", 0.0, connection=2, channel="executions", order_status=False,
             ratecounter=True)
    late: int | None = None
    now = 0.0
    for kind, gap, k, ws in plan:
        now += gap
        x.advance(now)
        price = f"{59_500 + 100 * k}.0"
        ids = list(x.engine.open)
        target = ids[k % len(ids)] if ids else "OUNKNOWN"
        if kind == "join" and late is None:
            late = 3
            kit.call("subscribe", now, connection=late, channel="executions")
        elif kind in ("limit", "taker", "ioc", "gtd"):
            extra: dict[str, Any] = {
                "taker": {"limit_price": "62000.0"}, "ioc": {"time_in_force": "ioc"},
                "gtd": {"time_in_force": "gtd", "expire_time": rfc3339(x.epoch + now + 5)},
            }.get(kind, {})
            args = {"order_type": "limit", "side": "buy", "order_qty": 0.01,
                    "limit_price": price, "symbol": "BTC/USD", **extra}
            if ws:
                kit.call("add_order", now, **args)
            else:
                rest = {"pair": "XBT/USD", "type": "buy", "ordertype": "limit",
                        "volume": "0.01", "price": args["limit_price"]}
                if "time_in_force" in extra:
                    rest["timeinforce"] = extra["time_in_force"].upper()
                if kind == "gtd":
                    rest["expiretm"] = "+5"
                x.handle("AddOrder", rest, key="sim", now=now)
        elif kind == "rest":
            x.handle("AddOrder", {"pair": "ETH/USD", "type": "sell", "ordertype": "limit",
                                  "volume": "0.01", "price": "3100.00"}, key="sim", now=now)
        elif kind == "amend":
            kit.call("amend_order", now, order_id=target, limit_price=price,
                     order_qty=f"0.0{abs(k) + 1}")
        elif kind == "edit":
            x.handle("EditOrder", {"txid": target, "pair": "XBT/USD", "price": price},
                     key="sim", now=now)
        elif kind == "cancel":
            kit.call("cancel_order", now, order_id=[target])
        elif kind == "batch":
            kit.call("batch_add", now, symbol="BTC/USD", orders=[
                {"order_type": "limit", "side": "sell", "order_qty": 0.01,
                 "limit_price": f"{61_500 + 10 * j}.0"} for j in range(3)])
        elif kind == "cancel_all":
            x.handle("CancelAll", {}, key="sim", now=now)
        elif kind == "dead_man":
            kit.call("cancel_all_orders_after", now, timeout=1 + abs(k) % 3)
        truth = held(x)
        for conn in (1, 2) + ((late,) if late is not None else ()):
            book, seqs = rebuild(kit.sent[conn])
            if conn == 2:  # open / close transitions only: amends are not its business
                assert book.keys() == truth.keys(), (conn, kind)
            else:
                assert book == truth, (conn, kind)
            assert seqs == list(range(1, len(seqs) + 1))
    x.advance(now + 30.0)  # dead-man switches, expiries and fills still due
    assert rebuild(kit.sent[1])[0] == held(x)
    assert rebuild(kit.sent[2])[0].keys() == held(x).keys()
    for item in kit.updates(2):
        assert item["exec_type"] in STATUS_ONLY
        assert "ratecount" in item
    assert all("ratecount" not in item for item in kit.updates(1))


def test_a_late_subscriber_starts_from_its_snapshot() -> None:
    x = SimulatedKraken("intermediate", prices=flat())
    kit = WsKit(x)
    kit.call("add_order", 0.0, order_type="limit", side="buy", order_qty=0.01,
             limit_price=59_000, symbol="BTC/USD", cl_ord_id="early")
    x.handle("AddOrder", {"pair": "ETH/USD", "type": "sell", "ordertype": "limit",
                          "volume": "0.01", "price": "3100.00", "userref": 7},
             key="sim", now=0.5)
    taker = kit.call("add_order", 0.6, order_type="limit", side="buy", order_qty=0.01,
                     limit_price=61_000, symbol="BTC/USD")[0]["result"]["order_id"]
    replies = kit.call("subscribe", 1.0, connection=5, channel="executions", snap_trades=True)
    ack, snapshot = replies
    assert ack["result"] == {"channel": "executions", "maxratecount": 125, "snapshot": True}
    assert snapshot["type"] == "snapshot" and snapshot["sequence"] == 1
    orders = [i for i in snapshot["data"] if i["exec_type"] == "new"]
    trades = [i for i in snapshot["data"] if i["exec_type"] == "trade"]
    assert {(i["symbol"], i.get("cl_ord_id"), i["order_userref"]) for i in orders} == {
        ("BTC/USD", "early", 0), ("ETH/USD", None, 7)}
    assert [(t["order_id"], t["last_price"], t["liquidity_ind"]) for t in trades] == [
        (taker, 60_000.1, "t")]
    assert rebuild(replies)[0] == held(x)
    none = kit.call("subscribe", 1.0, connection=6, channel="executions", snap_orders=False)
    assert none[0]["result"]["snapshot"] is False and len(none) == 1


def test_subscription_options_are_checked() -> None:
    assert ExecutionsOptions.parse({"channel": "executions"}) == ExecutionsOptions()
    assert ExecutionsOptions.parse({"snapshot": False}).snap_orders is False
    kit = WsKit(SimulatedKraken("starter", prices=flat()))
    for bad in ({"ratecounter": "yes"}, {"snap_orders": 1}, {"order_status": None}):
        reply = kit.one("subscribe", 0.0, channel="executions", **bad)
        assert reply["error"] == f"EGeneral:Invalid arguments:{next(iter(bad))}"
        assert reply["status"] == "error" and reply["channel"] == "executions"
    reply = kit.one("subscribe", 0.0, channel="executions", symbol=["BTC/USD"])
    assert reply["error"] == "Unsupported field: 'symbol' for the given msg type: subscribe"
    assert len(kit.d.feed) == 0
