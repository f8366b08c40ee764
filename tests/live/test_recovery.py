"""RecoveringVenue: settling fate-unknown adds and cancels by lookup, never by blind resend.

A scripted venue plays the exchange: it keeps an order book (open and closed, by txid with
each order's cl_ord_id) and, per call, either answers, places the order and then fails the
transport (a lost reply), or fails without placing.  Time is a fake wall clock moved by the
venue's ``sleep``, so the waits for deadlines cost nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine import kraken_errors as ke
from engine.venues.base import Reply, TransportError
from engine.venues.kraken_rest.recovery import RecoveringVenue, RecoverySettings, is_uncertain

Action = Callable[["Scripted", str, Mapping[str, Any]], Reply]


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0
        self.slept: list[float] = []

    def wall(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def place(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    """What the exchange does with an add: place it (or each batch entry)."""
    orders = params["orders"] if endpoint == "AddOrderBatch" else [params]
    txids = []
    for o in orders:
        txid = f"O{next(v.ids):05d}-AAAAA-BBBBBB"
        v.open[txid] = {"cl_ord_id": o.get("cl_ord_id"), "status": "open",
                        "descr": {"order": f"buy {o.get('volume', '1')} XBTUSD"}}
        txids.append(txid)
    if endpoint == "AddOrderBatch":
        return {"error": [], "result": {"orders": [{"txid": t} for t in txids]}}
    return {"error": [], "result": {"txid": txids}}


def lost_after_placing(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    place(v, endpoint, params)
    raise TransportError("ReadTimeout", endpoint=endpoint, sent=True)


def lost_unplaced(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    raise TransportError("RemoteProtocolError", endpoint=endpoint, sent=True)


def not_sent(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    raise TransportError("ConnectError", endpoint=endpoint, sent=False)


def unavailable(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    return {"error": [ke.UNAVAILABLE]}


def cancel(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    ident = params.get("txid") or params.get("cl_ord_id")
    for txid, info in list(v.open.items()):
        if ident in (txid, info["cl_ord_id"]):
            del v.open[txid]
            v.closed[txid] = {**info, "status": "canceled"}
            return {"error": [], "result": {"count": 1}}
    return {"error": [ke.UNKNOWN_ORDER]}


def cancel_then_lose(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
    cancel(v, endpoint, params)
    raise TransportError("ReadTimeout", endpoint=endpoint, sent=True)


class Scripted:
    """A venue with an order book; ``script[endpoint]`` lists actions for its next calls."""

    def __init__(self, clock: Clock, **script: list[Action]) -> None:
        self.clock = clock
        self.script = {k: list(v) for k, v in script.items()}
        self.open: dict[str, dict[str, Any]] = {}
        self.closed: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.ids = itertools.count(1)
        self.lookup_failures = 0

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        self.calls.append((endpoint, dict(params)))
        queue = self.script.get(endpoint)
        if queue:
            return queue.pop(0)(self, endpoint, params)
        if endpoint in ("OpenOrders", "ClosedOrders"):
            if self.lookup_failures:
                self.lookup_failures -= 1
                raise TransportError("ReadTimeout", endpoint=endpoint, sent=True)
            book = self.open if endpoint == "OpenOrders" else self.closed
            cid = params.get("cl_ord_id")
            chosen = {t: i for t, i in book.items() if cid is None or i["cl_ord_id"] == cid}
            key = "open" if endpoint == "OpenOrders" else "closed"
            return {"error": [], "result": {key: chosen}}
        if endpoint in ("AddOrder", "AddOrderBatch"):
            return place(self, endpoint, params)
        if endpoint == "CancelOrder":
            return cancel(self, endpoint, params)
        return {"error": [], "result": {}}

    async def aclose(self) -> None:
        return None

    def sent(self, endpoint: str) -> int:
        return sum(1 for e, _ in self.calls if e == endpoint)

    def orders_with(self, cl_ord_id: str) -> int:
        books = (*self.open.values(), *self.closed.values())
        return sum(1 for i in books if i["cl_ord_id"] == cl_ord_id)


SETTINGS = RecoverySettings(add_deadline=5.0, skew=1.0, lookup_retry_delay=0.5)
ADD = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "1", "price": "10",
       "cl_ord_id": "a1"}


def make(clock: Clock, venue: Scripted, **kw: Any) -> RecoveringVenue:
    kw.setdefault("settings", SETTINGS)
    return RecoveringVenue(venue, wall=clock.wall, sleep=clock.sleep, **kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# -- adds ----------------------------------------------------------------------------------


async def test_a_plain_add_gets_a_deadline_and_passes(clock: Clock) -> None:
    venue = Scripted(clock)
    reply = await make(clock, venue).request("AddOrder", ADD)
    assert reply["result"]["txid"]
    _, params = venue.calls[0]
    assert params["deadline"].startswith("2023-11-14T22:13:25")  # wall + 5 s, RFC 3339
    assert params["cl_ord_id"] == "a1"


async def test_lost_reply_of_a_placed_add_is_found_not_resent(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_after_placing])
    paced: list[tuple[str, int]] = []

    async def pace(endpoint: str, cost: int) -> None:
        paced.append((endpoint, cost))

    rv = make(clock, venue, pace=pace)
    reply = await rv.request("AddOrder", ADD)
    assert reply["error"] == []
    txid = next(iter(venue.open))
    assert reply["result"]["txid"] == [txid]
    assert reply["result"]["orderpace_recovered"]["found"] is True
    assert venue.sent("AddOrder") == 1 and venue.orders_with("a1") == 1
    assert paced == [("OpenOrders", 2)]  # found open at once: one lookup, 2 units
    assert clock.slept == []
    assert rv.stats["add.found"] == 1 and rv.extra_requests == {"OpenOrders": 1}


async def test_found_among_closed_orders(clock: Clock) -> None:
    def placed_then_filled(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
        place(v, endpoint, params)
        txid, info = v.open.popitem()
        v.closed[txid] = {**info, "status": "closed"}
        raise TransportError("ReadTimeout", endpoint=endpoint, sent=True)

    venue = Scripted(clock, AddOrder=[placed_then_filled])
    reply = await make(clock, venue).request("AddOrder", ADD)
    assert reply["result"]["txid"] == [next(iter(venue.closed))]
    assert reply["result"]["orderpace_recovered"]["status"] == "closed"
    assert venue.sent("AddOrder") == 1


async def test_not_found_waits_for_its_deadline_then_resends_once(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_unplaced])
    rv = make(clock, venue)
    start = clock.t
    reply = await rv.request("AddOrder", ADD)
    assert reply["error"] == [] and venue.orders_with("a1") == 1
    assert venue.sent("AddOrder") == 2
    # looked up at once, then again only after deadline (5 s) + skew (1 s) had passed
    assert clock.t - start == pytest.approx(6.0, abs=0.01)
    first, second = (p for e, p in venue.calls if e == "AddOrder")
    assert second["deadline"] > first["deadline"]  # a fresh deadline for the resend
    assert rv.stats["add.resent"] == 1
    assert rv.extra_requests["AddOrder"] == 1


async def test_the_original_arriving_late_is_found_before_any_resend(clock: Clock) -> None:
    # Not there at the first lookup, placed before the deadline (a slow network): the
    # lookup after the deadline finds it; nothing is resent.
    venue = Scripted(clock, AddOrder=[lost_unplaced])
    rv = make(clock, venue)
    real_sleep = clock.sleep

    async def sleep_and_arrive(seconds: float) -> None:
        place(venue, "AddOrder", ADD)
        await real_sleep(seconds)

    rv._sleep = sleep_and_arrive
    reply = await rv.request("AddOrder", ADD)
    assert reply["error"] == [] and venue.sent("AddOrder") == 1
    assert venue.orders_with("a1") == 1


async def test_with_the_callers_deadline_not_found_means_expired(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_unplaced])
    rv = make(clock, venue)
    params = {**ADD, "deadline": "2023-11-14T22:13:30.000+00:00"}  # 10 s ahead
    reply = await rv.request("AddOrder", params)
    assert reply["error"] == [ke.DEADLINE_ELAPSED]
    assert reply["result"]["orderpace_recovered"]["found"] is False
    assert venue.sent("AddOrder") == 1 and venue.orders_with("a1") == 0
    assert clock.t >= 1_700_000_010.0 + SETTINGS.skew
    assert rv.stats["add.expired"] == 1


async def test_no_resend_allowed_means_certainly_not_placed(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_unplaced])
    rv = make(clock, venue, settings=RecoverySettings(resend=False))
    with pytest.raises(TransportError, match="not placed") as info:
        await rv.request("AddOrder", ADD)
    assert info.value.sent is False
    assert venue.sent("AddOrder") == 1


async def test_second_loss_after_the_resend_is_not_resent_again(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_unplaced, lost_unplaced])
    with pytest.raises(TransportError) as info:
        await make(clock, venue).request("AddOrder", ADD)
    assert info.value.sent is False and venue.sent("AddOrder") == 2


async def test_failed_lookups_decide_nothing(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_after_placing])
    venue.lookup_failures = 99
    rv = make(clock, venue)
    with pytest.raises(TransportError, match="lookup failed") as info:
        await rv.request("AddOrder", ADD)
    assert info.value.sent is True  # fate still unknown: the engine marks it unknown
    assert venue.sent("AddOrder") == 1  # never resent on a failed lookup
    assert venue.sent("OpenOrders") == SETTINGS.lookup_attempts
    assert rv.stats["add.undecided"] == 1


async def test_a_lookup_failure_then_success(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_after_placing])
    venue.lookup_failures = 1
    reply = await make(clock, venue).request("AddOrder", ADD)
    assert reply["error"] == [] and venue.sent("AddOrder") == 1
    assert clock.slept == [SETTINGS.lookup_retry_delay]


async def test_not_sent_is_resent_at_once(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[not_sent])
    reply = await make(clock, venue).request("AddOrder", ADD)
    assert reply["error"] == [] and venue.sent("AddOrder") == 2
    assert venue.sent("OpenOrders") == 0 and clock.slept == []


@pytest.mark.parametrize("placed", [True, False])
async def test_unavailable_reply_is_settled_like_a_lost_one(clock: Clock, placed: bool) -> None:
    def unavailable_maybe_placed(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
        if placed:
            place(v, endpoint, params)
        return {"error": [ke.UNAVAILABLE]}

    venue = Scripted(clock, AddOrder=[unavailable_maybe_placed])
    reply = await make(clock, venue).request("AddOrder", ADD)
    assert reply["error"] == [] and venue.orders_with("a1") == 1
    assert venue.sent("AddOrder") == (1 if placed else 2)


async def test_refusals_pass_through_untouched(clock: Clock) -> None:
    def refused(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
        return {"error": [ke.ORDER_RATE_LIMIT]}

    venue = Scripted(clock, AddOrder=[refused])
    reply = await make(clock, venue).request("AddOrder", ADD)
    assert reply == {"error": [ke.ORDER_RATE_LIMIT]}
    assert venue.calls == [("AddOrder", venue.calls[0][1])]


async def test_an_add_without_cl_ord_id_is_not_recovered(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_after_placing])
    params = {k: v for k, v in ADD.items() if k != "cl_ord_id"}
    with pytest.raises(TransportError):
        await make(clock, venue).request("AddOrder", params)
    assert venue.sent("OpenOrders") == 0


async def test_a_validate_only_add_is_simply_resent(clock: Clock) -> None:
    venue = Scripted(clock, AddOrder=[lost_unplaced])
    reply = await make(clock, venue).request("AddOrder", {**ADD, "validate": True})
    assert reply["error"] == [] and venue.sent("AddOrder") == 2
    assert venue.sent("OpenOrders") == 0


# -- batches -------------------------------------------------------------------------------


def batch(*cids: str) -> dict[str, Any]:
    return {"pair": "XBTUSD", "orders": [
        {"type": "buy", "ordertype": "limit", "volume": "1", "price": "10", "cl_ord_id": c}
        for c in cids
    ]}


async def test_batch_lost_after_placing_is_found_in_order(clock: Clock) -> None:
    venue = Scripted(clock, AddOrderBatch=[lost_after_placing])
    reply = await make(clock, venue).request("AddOrderBatch", batch("b1", "b2", "b3"))
    by_cid = {i["cl_ord_id"]: t for t, i in venue.open.items()}
    assert [o["txid"] for o in reply["result"]["orders"]] == [by_cid[c] for c in
                                                              ("b1", "b2", "b3")]
    assert venue.sent("AddOrderBatch") == 1


async def test_batch_not_placed_is_resent_once_after_its_deadline(clock: Clock) -> None:
    venue = Scripted(clock, AddOrderBatch=[lost_unplaced])
    reply = await make(clock, venue).request("AddOrderBatch", batch("b1", "b2"))
    assert len(reply["result"]["orders"]) == 2
    assert venue.sent("AddOrderBatch") == 2
    assert venue.orders_with("b1") == venue.orders_with("b2") == 1


async def test_batch_with_an_order_that_cannot_be_found_is_undecided(clock: Clock) -> None:
    def placed_one_vanished(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
        place(v, endpoint, params)
        txid = next(t for t, i in v.open.items() if i["cl_ord_id"] == "b2")
        del v.open[txid]  # e.g. closed long ago, beyond the closed list's first page
        raise TransportError("ReadTimeout", endpoint=endpoint, sent=True)

    venue = Scripted(clock, AddOrderBatch=[placed_one_vanished])
    with pytest.raises(TransportError, match="could not be found") as info:
        await make(clock, venue).request("AddOrderBatch", batch("b1", "b2"))
    assert info.value.sent is True and venue.sent("AddOrderBatch") == 1


# -- cancels -------------------------------------------------------------------------------


async def test_cancel_lost_after_executing_counts_as_done(clock: Clock) -> None:
    venue = Scripted(clock, CancelOrder=[cancel_then_lose])
    place(venue, "AddOrder", ADD)
    rv = make(clock, venue)
    reply = await rv.request("CancelOrder", {"cl_ord_id": "a1"})
    assert reply["error"] == [] and reply["result"]["count"] == 0
    assert "Unknown order" in reply["result"]["orderpace_note"]
    assert venue.sent("CancelOrder") == 2
    assert rv.stats["cancel.unknown_done"] == 1


async def test_cancel_lost_before_executing_is_retried(clock: Clock) -> None:
    venue = Scripted(clock, CancelOrder=[lost_unplaced])
    place(venue, "AddOrder", ADD)
    reply = await make(clock, venue).request("CancelOrder", {"cl_ord_id": "a1"})
    assert reply == {"error": [], "result": {"count": 1}}
    assert not venue.open


async def test_cancel_unavailable_is_retried(clock: Clock) -> None:
    venue = Scripted(clock, CancelOrder=[unavailable])
    place(venue, "AddOrder", ADD)
    reply = await make(clock, venue).request("CancelOrder", {"cl_ord_id": "a1"})
    assert reply["result"] == {"count": 1}


async def test_cancel_retried_only_once(clock: Clock) -> None:
    venue = Scripted(clock, CancelOrder=[lost_unplaced, lost_unplaced])
    with pytest.raises(TransportError):
        await make(clock, venue).request("CancelOrder", {"txid": "X"})
    assert venue.sent("CancelOrder") == 2


async def test_unknown_order_on_a_first_cancel_is_a_real_error(clock: Clock) -> None:
    venue = Scripted(clock)
    reply = await make(clock, venue).request("CancelOrder", {"txid": "NOPE"})
    assert reply == {"error": [ke.UNKNOWN_ORDER]}


async def test_amends_and_queries_pass_through(clock: Clock) -> None:
    def lost(v: Scripted, endpoint: str, params: Mapping[str, Any]) -> Reply:
        raise TransportError("ReadTimeout", endpoint=endpoint, sent=True)

    venue = Scripted(clock, AmendOrder=[lost], Balance=[lost])
    rv = make(clock, venue)
    for endpoint in ("AmendOrder", "Balance"):
        with pytest.raises(TransportError):
            await rv.request(endpoint, {})
    assert len(venue.calls) == 2


def test_uncertain_errors() -> None:
    assert is_uncertain({"error": [ke.UNAVAILABLE]}) == ke.UNAVAILABLE
    assert is_uncertain({"error": ["EGeneral:Internal error:x"]}) == "EGeneral:Internal error:x"
    assert is_uncertain({"error": ["EService:Busy"]}) == "EService:Busy"
    assert is_uncertain({"error": [ke.DEADLINE_ELAPSED]}) is None
    assert is_uncertain({"error": [], "result": {}}) is None


@pytest.mark.parametrize("kwargs", [{"add_deadline": 1.0}, {"add_deadline": 61.0},
                                    {"lookup_attempts": 0}, {"cancel_retries": -1}])
def test_settings_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"add_deadline|lookup_attempts"):
        RecoverySettings(**kwargs)
