"""One order implementation, two wire formats (issue 13, item 4).

A random mix of REST and WebSocket v2 order actions charges the per-account, per-pair
trading counter -- and changes the book -- exactly as the REST-only replay of the same
actions does: one counter per account and pair, whichever transport an action took.  And
every ``ratecount`` the executions feed publishes is the exchange's own level for that pair
at that moment.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.exchange import PriceTick, SimulatedKraken
from engine.exchange.wsv2.translate import ws_error

from .simkit import flat
from .wskit import WsKit

PAIRS = ("XBT/USD", "ETH/USD")
SYMBOL = {"XBT/USD": "BTC/USD", "ETH/USD": "ETH/USD"}
PRICE = {"XBT/USD": (59_000, 0.1), "ETH/USD": (2_900, 0.01)}  # a resting buy, the tick

Action = tuple[str, float, dict[str, Any]]


@st.composite
def actions(draw: st.DrawFn) -> list[tuple[Action, bool]]:
    """(kind, gap in seconds, arguments) and whether it goes over WebSocket."""
    out: list[tuple[Action, bool]] = []
    n = draw(st.integers(1, 16))
    afters = 0
    for i in range(n):
        gap = draw(st.sampled_from([0.0, 0.3, 1.0, 2.5, 4.9, 5.0, 7.0, 12.0, 40.0]))
        kind = draw(st.sampled_from(
            ["add", "add", "add", "amend", "edit", "cancel", "batch_add", "batch_cancel",
             "cancel_all", "cancel_after", "flood"]))
        if kind == "cancel_after":
            afters += 1
            if afters > 4:  # REST charges it on the API counter: keep the key well inside
                kind = "add"
        args: dict[str, Any] = {
            "pair": draw(st.sampled_from(PAIRS)),
            "ticks": draw(st.integers(-3, 3)),
            "target": draw(st.integers(0, 40)),
            "targets": draw(st.lists(st.integers(0, 40), min_size=2, max_size=3)),
            "size": draw(st.integers(2, 4)),
            "by": draw(st.sampled_from(["txid", "cl_ord_id", "userref"])),
            "timeout": draw(st.sampled_from([0, 1, 3, 30])),
            "id": f"c{i}",
            "taker": draw(st.booleans()) and kind == "add",
        }
        out.append(((kind, gap, args), draw(st.booleans())))
    return out


class Runner:
    """Runs actions on one exchange, each over REST or WebSocket as told."""

    def __init__(self) -> None:
        self.x = SimulatedKraken("starter", prices=flat(), decay_step=2.0, decay_phase=0.7)
        self.kit = WsKit(self.x)
        self.placed: list[tuple[str, str, str, int]] = []  # (txid, cl_ord_id, pair, userref)
        self.errors: list[str] = []

    def _price(self, pair: str, ticks: int, taker: bool) -> str:
        base, tick = PRICE[pair]
        if taker:
            base = 70_000 if pair == "XBT/USD" else 4_000
        return f"{base + ticks * tick:.2f}"

    def _pick(self, index: int) -> tuple[str, str, str, int] | None:
        return self.placed[index % len(self.placed)] if self.placed else None

    def run(self, action: Action, ws: bool, now: float) -> None:
        kind, _gap, a = action
        getattr(self, kind)(a, ws, now)

    def _rest(self, endpoint: str, now: float, **params: Any) -> dict[str, Any]:
        reply = self.x.handle(endpoint, params, key="sim", now=now)
        self.errors.append(reply["error"][0] if reply["error"] else "")
        return reply

    def _ws(self, method: str, now: float, **params: Any) -> list[dict[str, Any]]:
        replies = self.kit.call(method, now, **params)
        self.errors.extend(r.get("error", "") for r in replies[:1])
        return replies

    def _order(self, a: dict[str, Any], cid: str) -> dict[str, Any]:
        return {"price": self._price(a["pair"], a["ticks"], a["taker"]), "cid": cid,
                "userref": a["target"] % 3}

    def add(self, a: dict[str, Any], ws: bool, now: float) -> None:
        o = self._order(a, a["id"])
        if ws:
            replies = self._ws("add_order", now, order_type="limit", side="buy",
                               order_qty="0.01", limit_price=o["price"],
                               symbol=SYMBOL[a["pair"]], cl_ord_id=o["cid"])
            txid = replies[0].get("result", {}).get("order_id")
        else:
            reply = self._rest("AddOrder", now, pair=a["pair"], type="buy", ordertype="limit",
                               volume="0.01", price=o["price"], cl_ord_id=o["cid"])
            txid = reply.get("result", {}).get("txid", [None])[0]
        if txid:
            self.placed.append((txid, o["cid"], a["pair"], 0))

    def flood(self, a: dict[str, Any], ws: bool, now: float) -> None:
        """Twelve adds at once: with the cancels' penalties, enough to meet the maximum."""
        for j in range(12):
            self.add({**a, "id": f"{a['id']}f{j}", "ticks": a["ticks"] - j}, ws, now)

    def batch_add(self, a: dict[str, Any], ws: bool, now: float) -> None:
        cids = [f"{a['id']}b{j}" for j in range(a["size"])]
        prices = [self._price(a["pair"], a["ticks"] - j, False) for j in range(a["size"])]
        ref = a["target"] % 3 + 1
        if ws:
            orders = [{"order_type": "limit", "side": "buy", "order_qty": 0.01,
                       "limit_price": p, "order_userref": ref} for p in prices]
            replies = self._ws("batch_add", now, symbol=SYMBOL[a["pair"]], orders=orders)
            txids = [o["order_id"] for o in replies[0].get("result", [])]
        else:
            orders = [{"type": "buy", "ordertype": "limit", "volume": "0.01", "price": p,
                       "userref": ref} for p in prices]
            reply = self._rest("AddOrderBatch", now, pair=a["pair"], orders=orders)
            txids = [o["txid"] for o in reply.get("result", {}).get("orders", [])]
        if txids:  # all or nothing
            self.placed += [(t, c, a["pair"], ref) for t, c in zip(txids, cids, strict=True)]

    def amend(self, a: dict[str, Any], ws: bool, now: float) -> None:
        target = self._pick(a["target"])
        if target is None:
            return
        price = self._price(target[2], a["ticks"], False)
        if ws:
            self._ws("amend_order", now, order_id=target[0], limit_price=price)
        else:
            self._rest("AmendOrder", now, txid=target[0], limit_price=price)

    def edit(self, a: dict[str, Any], ws: bool, now: float) -> None:
        target = self._pick(a["target"])
        if target is None:
            return
        price = self._price(target[2], a["ticks"], False)
        if ws:
            replies = self._ws("edit_order", now, order_id=target[0],
                               symbol=SYMBOL[target[2]], limit_price=price)
            new = replies[0].get("result", {}).get("order_id")
        else:
            reply = self._rest("EditOrder", now, txid=target[0], pair=target[2], price=price)
            new = reply.get("result", {}).get("txid")
        if new:
            self.placed.append((new, target[1], target[2], 0))

    def cancel(self, a: dict[str, Any], ws: bool, now: float) -> None:
        target = self._pick(a["target"])
        if target is None:
            return
        by = a["by"]
        if ws:
            field, ident = {"txid": ("order_id", target[0]), "cl_ord_id": ("cl_ord_id",
                            target[1]), "userref": ("order_userref", target[3])}[by]
            self._ws("cancel_order", now, **{field: [ident]})
        elif by == "txid":
            self._rest("CancelOrder", now, txid=target[0])
        elif by == "cl_ord_id":
            self._rest("CancelOrder", now, cl_ord_id=target[1])
        else:
            self._rest("CancelOrder", now, txid=target[3])

    def batch_cancel(self, a: dict[str, Any], ws: bool, now: float) -> None:
        ids = [t[0] for i in a["targets"] if (t := self._pick(i)) is not None]
        if len(ids) < 2:
            return
        if ws:
            self._ws("batch_cancel", now, orders=ids)
        else:
            self._rest("CancelOrderBatch", now, orders=ids)

    def cancel_all(self, _a: dict[str, Any], ws: bool, now: float) -> None:
        if ws:
            self._ws("cancel_all", now)
        else:
            self._rest("CancelAll", now)

    def cancel_after(self, a: dict[str, Any], ws: bool, now: float) -> None:
        if ws:
            self._ws("cancel_all_orders_after", now, timeout=a["timeout"])
        else:
            self._rest("CancelAllOrdersAfter", now, timeout=a["timeout"])

    def state(self, now: float) -> dict[str, Any]:
        snap = self.x.snapshot(now)
        return {
            "penalty": dict(self.x.stats.penalty),
            "levels": {p: self.x.trading_level(p, now) for p in PAIRS},
            "open": snap["open"], "aged_at": snap["aged_at"],
            "closed": snap["closed"], "dead_man_at": snap["dead_man_at"],
            "errors": [ws_error(e) for e in self.errors],  # fields named in v2's words
        }


@given(actions())
def test_a_mix_of_rest_and_ws_charges_exactly_what_rest_alone_does(
    plan: list[tuple[Action, bool]],
) -> None:
    mixed, rest_only = Runner(), Runner()
    seen_levels: list[tuple[str, float, float]] = []
    events: list[Any] = []
    event_time: list[float] = []

    def record(event: Any) -> None:
        events.append(event)
        event_time.append(event.time)

    # registered before the feed: it hears each event just before the feed publishes it
    mixed.x.subscribe(record, lifecycle=True)

    def check(message: dict[str, Any]) -> None:  # the feed's number is the exchange's own
        for item in message["data"]:
            pair = "XBT/USD" if item["symbol"] == "BTC/USD" else item["symbol"]
            level = mixed.x.trading_level(pair, event_time[-1])
            seen_levels.append((pair, item["ratecount"], level))

    mixed.kit.d.feed.subscribe(99, _ratecounter(), check, 0.0)
    now = 0.0
    for action, ws in plan:
        now += action[1]
        mixed.run(action, ws, now)
        rest_only.run(action, False, now)
        assert mixed.state(now) == rest_only.state(now)
    now += 100.0  # every dead-man switch and decay step due by then
    mixed.x.advance(now)
    rest_only.x.advance(now)
    assert mixed.state(now) == rest_only.state(now)
    order_events = sum(1 for e in events if not isinstance(e, PriceTick))
    assert len(seen_levels) >= order_events  # every order event was published, and checked
    for _pair, published, level in seen_levels:
        assert published == round(level, 6)


def _ratecounter() -> Any:
    from engine.exchange.wsv2 import ExecutionsOptions

    return ExecutionsOptions(snap_orders=False, ratecounter=True)
