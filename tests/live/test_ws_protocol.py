"""REST-shaped requests as WebSocket v2 methods and back, the feed's memory, and the
transport options (``--transport``, ``--ws-url``, ``--dead-man``)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.exchange.wsv2 import translate as server_side
from engine.run.transport_options import (
    DEFAULT_WS_URL,
    TransportOptions,
    add_arguments,
    options_from_args,
    ws_url_for,
)
from engine.venues.kraken_ws import FeedMemory, Symbols, envelope, to_ws, v2_symbol
from engine.venues.kraken_ws.protocol import is_txid
from engine.venues.kraken_ws.venue import KrakenWsVenue

SYMBOLS = Symbols([("XBT/USD", ("XBTUSD", "XXBTZUSD")), ("ETH/USD", ("ETHUSD", "XETHZUSD"))])
CID = "5f1b6d0e-3c1a-4c55-9a43-1b6f0f0d8a11"


def test_symbols_both_ways() -> None:
    assert v2_symbol("XBT/USD") == "BTC/USD" and v2_symbol("XDG/EUR") == "DOGE/EUR"
    assert SYMBOLS.symbol("XBTUSD") == SYMBOLS.symbol("XXBTZUSD") == "BTC/USD"
    assert SYMBOLS.pair("BTC/USD") == "XBT/USD" and SYMBOLS.pair("ETH/USD") == "ETH/USD"
    assert SYMBOLS.pair("SOL/USD") is None


def test_add_order_as_v2_is_what_the_server_reads_back() -> None:
    rest = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.00125",
            "price": "50000.1", "oflags": "post", "timeinforce": "IOC", "userref": "7",
            "cl_ord_id": CID, "deadline": "2026-12-07T12:00:02.000Z"}
    method, params = to_ws("AddOrder", rest, SYMBOLS)
    assert method == "add_order"
    assert params == {"order_type": "limit", "side": "buy", "cl_ord_id": CID,
                      "order_qty": 0.00125, "limit_price": 50000.1, "post_only": True,
                      "time_in_force": "ioc", "order_userref": 7, "symbol": "BTC/USD",
                      "deadline": "2026-12-07T12:00:02.000Z"}
    # the exchange's own reading of those v2 params gives the REST fields back
    back = server_side.order_params(params)
    assert back["type"] == "buy" and back["ordertype"] == "limit" and back["oflags"] == "post"
    assert back["timeinforce"] == "IOC" and back["userref"] == 7 and back["pair"] == "BTC/USD"
    assert Decimal(str(back["volume"])) == Decimal("0.00125")


@given(st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1000000"), places=8))
def test_decimal_strings_survive_as_json_numbers(value: Decimal) -> None:
    text = format(value, "f")
    _, params = to_ws("AddOrder", {"pair": "XBTUSD", "volume": text, "price": text}, SYMBOLS)
    for field in ("order_qty", "limit_price"):
        assert Decimal(str(params[field])) == Decimal(text)


def test_cancels_by_txid_or_cl_ord_id_and_batches() -> None:
    txid = "OABCDE-FGHIJ-KLMNOP"
    assert is_txid(txid) and not is_txid(CID)
    assert to_ws("CancelOrder", {"txid": txid}, SYMBOLS) == ("cancel_order",
                                                             {"order_id": [txid]})
    assert to_ws("CancelOrder", {"txid": CID}, SYMBOLS) == ("cancel_order", {"cl_ord_id": [CID]})
    assert to_ws("CancelOrderBatch", {"orders": [txid, CID]}, SYMBOLS) == (
        "batch_cancel", {"orders": [txid], "cl_ord_id": [CID]})
    assert to_ws("CancelAllOrdersAfter", {"timeout": "60"}, SYMBOLS) == (
        "cancel_all_orders_after", {"timeout": 60})
    assert to_ws("AmendOrder", {"cl_ord_id": CID, "limit_price": "10.5"}, SYMBOLS) == (
        "amend_order", {"cl_ord_id": CID, "limit_price": 10.5})
    with pytest.raises(KeyError):
        to_ws("OpenOrders", {}, SYMBOLS)


def test_replies_as_rest_envelopes() -> None:
    ok = {"method": "add_order", "success": True, "result": {"order_id": "OX"}}
    assert envelope("AddOrder", ok) == {"error": [], "result": {"txid": ["OX"]}}
    batch = {"success": True, "result": [{"order_id": "O1"}, {"order_id": "O2"}]}
    assert envelope("AddOrderBatch", batch)["result"] == {
        "orders": [{"txid": "O1"}, {"txid": "O2"}]}
    edit = {"success": True, "result": {"order_id": "ON", "original_order_id": "OO"}}
    assert envelope("EditOrder", edit)["result"] == {"txid": "ON", "originaltxid": "OO"}
    refused = {"success": False, "error": "EOrder:Rate limit exceeded"}
    assert envelope("AddOrder", refused) == {"error": ["EOrder:Rate limit exceeded"]}
    assert envelope("CancelOrder", {"success": False}) == {"error": ["EGeneral:Internal error"]}


def test_feed_memory() -> None:
    mem = FeedMemory()
    mem.note({"exec_type": "pending_new", "order_id": "O1", "cl_ord_id": CID})
    assert mem.order_id(CID) == "O1" and mem.closed(CID) is None
    mem.note({"exec_type": "canceled", "order_id": "O1", "cl_ord_id": CID})
    assert mem.closed(CID) == mem.closed("O1") == "canceled"
    mem.note({"exec_type": "new"})  # no order_id: ignored
    assert len(mem) == 1


def test_ws_url_derived_from_the_base_url() -> None:
    assert ws_url_for("https://api.kraken.com", None) == DEFAULT_WS_URL
    assert ws_url_for("http://127.0.0.1:8123", None) == "ws://127.0.0.1:8123/v2"
    assert ws_url_for("https://example.test", None) == "wss://example.test/v2"
    assert ws_url_for("http://127.0.0.1:1", "ws://h:2/v2") == "ws://h:2/v2"


def test_transport_options_checked() -> None:
    p = argparse.ArgumentParser()
    add_arguments(p)
    opts = options_from_args(p.parse_args(["--transport", "ws", "--dead-man", "0"]))
    assert opts == TransportOptions("ws", None, 0)
    assert options_from_args(p.parse_args([])) == TransportOptions("rest", None, 60)
    assert TransportOptions(dead_man=60).refresh == 15.0
    for bad in (["--transport", "fix"], ["--dead-man", "-1"], ["--dead-man", "1.5"]):
        with pytest.raises(SystemExit):
            p.parse_args(bad)
    for kwargs in ({"ws_url": "http://h/v2"}, {"ws_url": "ws://user:pw@h/v2"},
                   {"dead_man": True}, {"transport": "udp"}):
        with pytest.raises(ValueError, match=r"ws_url|dead_man|transport"):
            TransportOptions(**kwargs)  # type: ignore[arg-type]


def test_pending_cost_drops_a_request_once_its_own_event_shows_it_processed() -> None:
    import asyncio

    from engine.venues.kraken_ws.venue import _SEEN_KINDS, KrakenWsVenue, _Pending, _refs

    async def check() -> None:
        venue = KrakenWsVenue(None, "ws://127.0.0.1:1/v2")  # type: ignore[arg-type]
        fut: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()
        add = {"cl_ord_id": CID, "pair": "XBTUSD"}
        venue._pending[1] = _Pending(fut, {"XBT/USD": 1.0}, 0, _refs("AddOrder", add),
                                     _SEEN_KINDS["AddOrder"])
        venue._pending[2] = _Pending(fut, {"XBT/USD": 8.0}, 0,
                                     _refs("CancelOrder", {"txid": "OAAAAA-BBBBB-CCCCCC"}),
                                     _SEEN_KINDS["CancelOrder"])
        assert venue.pending_cost("XBT/USD") == 9.0

        def update(**item: object) -> None:
            venue._dispatch({"channel": "executions", "type": "update", "data": [item]})

        update(exec_type="pending_new", order_id="ONEW00-00000-000000", cl_ord_id=CID)
        assert venue.pending_cost("XBT/USD") == 8.0  # the add is in the next ratecount
        # a fill of the order being cancelled is not the cancel: still pending
        update(exec_type="filled", order_id="OAAAAA-BBBBB-CCCCCC")
        assert venue.pending_cost("XBT/USD") == 8.0
        update(exec_type="canceled", order_id="OAAAAA-BBBBB-CCCCCC")
        assert venue.pending_cost("XBT/USD") == 0.0

    asyncio.run(check())


class _RestLog:
    """A REST venue that answers everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.asked.append((endpoint, dict(params)))
        return {"error": [], "result": {"count": 1}}

    async def aclose(self) -> None:
        pass


async def test_a_batch_cancel_of_one_order_goes_over_rest() -> None:
    # v2's batch_cancel takes 2 to 50 ids, and a cancel_order in its place would be refused
    # past the counter's max where the CancelOrderBatch the engine charged is accepted
    rest = _RestLog()
    venue = KrakenWsVenue(rest, "ws://127.0.0.1:9/v2")  # type: ignore[arg-type]
    reply = await venue.request("CancelOrderBatch", {"orders": [CID]})
    assert reply == {"error": [], "result": {"count": 1}}
    assert rest.asked == [("CancelOrderBatch", {"orders": [CID]})]
