"""What to do after a transport error: look the order up by cl_ord_id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from engine import kraken_errors as ke
from engine.venues.base import Reply, TransportError, Venue
from engine.venues.kraken_rest.errors import MalformedReply, RateLimitError
from engine.venues.kraken_rest.idempotency import (
    FoundOrder,
    cancel_counts_as_done,
    find_order_by_cl_ord_id,
    should_resend_add,
)


class FakeVenue:
    """Answers OpenOrders / ClosedOrders from canned replies and records the calls."""

    def __init__(self, replies: dict[str, Reply | Exception]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        self.calls.append((endpoint, dict(params)))
        answer = self.replies[endpoint]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self) -> None:
        return None


def order(cl_ord_id: str | None, status: str) -> dict[str, Any]:
    return {"cl_ord_id": cl_ord_id, "status": status, "descr": {"pair": "XBTUSD"}}


NONE_OPEN: Reply = {"error": [], "result": {"open": {}}}
NONE_CLOSED: Reply = {"error": [], "result": {"closed": {}, "count": 0}}


def test_fake_is_a_venue() -> None:
    assert isinstance(FakeVenue({}), Venue)


async def test_found_open_stops_after_open_orders() -> None:
    venue = FakeVenue({
        "OpenOrders": {"error": [], "result": {"open": {"O1": order("c-1", "open")}}},
    })
    found = await find_order_by_cl_ord_id(venue, "c-1")
    assert found == FoundOrder("O1", "open", "open", {})
    assert venue.calls == [("OpenOrders", {"cl_ord_id": "c-1"})]
    assert not should_resend_add(found)


async def test_found_closed_after_open_orders() -> None:
    venue = FakeVenue({
        "OpenOrders": NONE_OPEN,
        "ClosedOrders": {
            "error": [], "result": {"closed": {"O2": order("c-2", "canceled")}, "count": 1}
        },
    })
    found = await find_order_by_cl_ord_id(venue, "c-2", closed_start=1_700_000_000)
    assert found is not None
    assert (found.txid, found.status, found.where) == ("O2", "canceled", "closed")
    assert venue.calls[1] == ("ClosedOrders", {"cl_ord_id": "c-2", "start": "1700000000"})
    assert not should_resend_add(found)


async def test_not_found_means_resend() -> None:
    venue = FakeVenue({"OpenOrders": NONE_OPEN, "ClosedOrders": NONE_CLOSED})
    found = await find_order_by_cl_ord_id(venue, "c-3")
    assert found is None
    assert should_resend_add(found)
    assert [c[0] for c in venue.calls] == ["OpenOrders", "ClosedOrders"]


async def test_records_with_another_cl_ord_id_do_not_count() -> None:
    # a server that ignored the filter must not make us adopt someone else's order
    venue = FakeVenue({
        "OpenOrders": {"error": [], "result": {"open": {"O9": order("other", "open")}}},
        "ClosedOrders": {"error": [], "result": {"closed": {"O8": order(None, "closed")}}},
    })
    assert await find_order_by_cl_ord_id(venue, "c-4") is None


async def test_error_reply_decides_nothing() -> None:
    venue = FakeVenue({"OpenOrders": {"error": [ke.API_RATE_LIMIT]}})
    with pytest.raises(RateLimitError):
        await find_order_by_cl_ord_id(venue, "c-5")


async def test_transport_error_decides_nothing() -> None:
    venue = FakeVenue({
        "OpenOrders": NONE_OPEN,
        "ClosedOrders": TransportError("timeout", endpoint="ClosedOrders"),
    })
    with pytest.raises(TransportError):
        await find_order_by_cl_ord_id(venue, "c-6")


async def test_malformed_result() -> None:
    venue = FakeVenue({"OpenOrders": {"error": [], "result": {"open": ["O1"]}}})
    with pytest.raises(MalformedReply):
        await find_order_by_cl_ord_id(venue, "c-7")
    venue = FakeVenue({"OpenOrders": {"error": [], "result": []}})
    with pytest.raises(MalformedReply):
        await find_order_by_cl_ord_id(venue, "c-7")


async def test_empty_cl_ord_id_refused() -> None:
    with pytest.raises(ValueError, match="cl_ord_id"):
        await find_order_by_cl_ord_id(FakeVenue({}), "")


def test_cancel_success_is_done() -> None:
    reply = {"error": [], "result": {"count": 1}}
    assert cancel_counts_as_done(reply, after_transport_error=False)
    assert cancel_counts_as_done(reply, after_transport_error=True)


def test_unknown_order_after_a_timeout_counts_as_done() -> None:
    reply = {"error": [ke.UNKNOWN_ORDER]}
    assert cancel_counts_as_done(reply, after_transport_error=True)
    assert not cancel_counts_as_done(reply, after_transport_error=False)


@pytest.mark.parametrize("error", [ke.ORDER_RATE_LIMIT, ke.INVALID_NONCE, ke.UNAVAILABLE])
def test_other_cancel_errors_are_not_done(error: str) -> None:
    assert not cancel_counts_as_done({"error": [error]}, after_transport_error=True)
    assert not cancel_counts_as_done(
        {"error": [ke.UNKNOWN_ORDER, error]}, after_transport_error=True
    )
