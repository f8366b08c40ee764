"""WebSocket v2 in process: tokens, reading requests within bounds, translating v2 fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.exchange import SimulatedKraken, WsTokens
from engine.exchange.markets import DEFAULT_MARKETS, v2_symbol
from engine.exchange.wsv2 import WsBadRequest, WsRequest, parse_request
from engine.exchange.wsv2 import translate as tr

from .simkit import flat, make
from .wskit import WsKit, error, result

INVALID_SESSION = "ESession:Invalid session"

# -- tokens ------------------------------------------------------------------------------------

Op = tuple[str, int, float]


@given(st.lists(st.tuples(st.sampled_from(["issue", "use", "close", "wait"]),
                          st.integers(0, 3), st.sampled_from([0.0, 1.0, 4.0, 9.0, 11.0])),
                max_size=40))
def test_a_token_is_good_within_its_ttl_or_while_a_connection_uses_it(ops: list[Op]) -> None:
    """Against a model: valid iff issued, and either within ttl of its issue or used by a
    connection still open; a use binds it to the connection."""
    tokens = WsTokens(ttl=10.0)
    now = 0.0
    issued: list[tuple[str, float]] = []
    users: dict[str, set[int]] = {}
    for op, n, dt in ops:
        now += dt if op == "wait" else 0.0
        if op == "issue":
            reply = tokens.issue("key-a", now)
            assert reply["expires"] == 10
            issued.append((str(reply["token"]), now))
            users[str(reply["token"])] = set()
        elif op == "use" and issued:
            token, at = issued[n % len(issued)]
            expected = bool(users[token]) or now - at <= 10.0 or n in users[token]
            assert (tokens.use(token, n, now) == "key-a") is expected
            if expected:
                users[token].add(n)
        elif op == "close":
            tokens.release(n)
            for held in users.values():
                held.discard(n)
        for token, at in issued:
            assert tokens.valid(token, now) == (bool(users[token]) or now - at <= 10.0)
    assert tokens.use("never-issued", 0, now) is None
    assert tokens.use(None, 0, now) is None
    assert "key-a" not in repr(tokens) and all(t not in repr(tokens) for t, _ in issued)


def test_tokens_come_from_rest_cost_one_api_unit_and_are_refused_when_bad() -> None:
    x = make("starter", ws_token_ttl=5.0)
    kit = WsKit(x)
    assert x.api_level("sim", 0.0) == 1.0  # GetWebSocketsToken: an ordinary private call
    assert kit.token and len(kit.token) >= 32
    add = {"order_type": "limit", "side": "buy", "order_qty": 0.01, "limit_price": 50_000,
           "symbol": "BTC/USD"}
    for token in ("not-a-token", 12345):
        reply = kit.d.handle(WsRequest("add_order", {**add, "token": token}, 3), 1,
                             kit.sink(1), 1.0)
        assert reply == [{"error": INVALID_SESSION, "method": "add_order", "req_id": 3,
                          "success": False}]
    no_token = kit.d.handle(WsRequest("add_order", dict(add), 4), 1, kit.sink(1), 1.0)
    assert error(no_token[0]) == INVALID_SESSION
    sub = kit.d.handle(WsRequest("subscribe", {"channel": "executions"}), 1, kit.sink(1), 1.0)
    assert sub == [{"error": INVALID_SESSION, "method": "subscribe", "channel": "executions",
                    "status": "error", "success": False}]
    late = WsKit(x, now=0.0)
    assert error(late.one("add_order", 6.0, **add)) == INVALID_SESSION  # unused past ttl
    assert x.open_orders() == {}
    assert result(kit.one("add_order", 4.0, **add))["order_id"]  # first used in time ...
    assert result(kit.one("add_order", 60.0, **add))["order_id"]  # ... it lives on
    assert result(kit.one("add_order", 60.0, connection=2, **add))["order_id"]  # shared
    kit.d.close(1)
    kit.d.close(2)
    assert error(kit.one("add_order", 61.0, connection=3, **add)) == INVALID_SESSION
    assert len(x.open_orders()) == 3 and x.api_level("sim", 4.0) < 2.0  # orders cost 0


def test_a_bad_token_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="ws_token_ttl"):
        SimulatedKraken(ws_token_ttl=0.0)


# -- reading requests ------------------------------------------------------------------------


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                              lambda c: st.lists(c, max_size=3)
                              | st.dictionaries(st.text(max_size=6), c, max_size=3),
                              max_leaves=12).map(json.dumps)))
def test_any_message_is_a_request_or_a_clear_refusal(text: str | bytes) -> None:
    refused: WsBadRequest | None = None
    try:
        request = parse_request(text)
    except WsBadRequest as bad:
        refused = bad
    if refused is not None:
        assert refused.error.startswith("EGeneral:Invalid arguments")
        return
    assert isinstance(request.method, str) and request.method
    assert isinstance(request.params, dict)
    assert request.req_id is None or type(request.req_id) is int


def test_request_reading_rules() -> None:
    assert parse_request('{"method":"ping","req_id":7}') == WsRequest("ping", {}, 7)
    secret = parse_request('{"method":"cancel_all","params":{"token":"t0k3n-s3cr3t"}}')
    assert secret.params["token"] == "t0k3n-s3cr3t" and "t0k3n" not in repr(secret)
    assert parse_request(b'{"method":"ping","params":null}') == WsRequest("ping")
    cases = {
        "not json": ("EGeneral:Invalid arguments", None, None),
        "[1, 2]": ("EGeneral:Invalid arguments", None, None),
        '{"req_id": 4}': ("EGeneral:Invalid arguments:method", None, 4),
        '{"method": "ping", "req_id": "4"}': ("EGeneral:Invalid arguments:req_id", "ping", None),
        '{"method": "ping", "req_id": true}': ("EGeneral:Invalid arguments:req_id", "ping",
                                               None),
        '{"method": "add_order", "params": [1]}': ("EGeneral:Invalid arguments:params",
                                                   "add_order", None),
        '{"method": "x", "params": ' + "[" * 9 + "]" * 9 + "}": (
            "EGeneral:Invalid arguments", None, None),
    }
    for text, (err, method, req_id) in cases.items():
        with pytest.raises(WsBadRequest) as info:
            parse_request(text)
        assert (info.value.error, info.value.method, info.value.req_id) == (err, method, req_id)
    with pytest.raises(WsBadRequest):
        parse_request("x" * (1024 * 1024 + 1))


# -- translating -----------------------------------------------------------------------------


def test_v2_symbols_are_in_the_exchanges_own_table() -> None:
    assert [m.ws_symbol for m in DEFAULT_MARKETS] == ["BTC/USD", "ETH/USD", "SOL/USD"]
    assert DEFAULT_MARKETS.get("BTC/USD").name == "XBT/USD"
    assert DEFAULT_MARKETS.get("XBT/USD").asset_pair_info()["wsname"] == "XBT/USD"  # REST's
    assert v2_symbol("XDG/USD") == "DOGE/USD" and v2_symbol("ETH/XBT") == "ETH/BTC"


def test_add_order_fields_map_onto_rest() -> None:
    params: dict[str, Any] = {
        "order_type": "limit", "side": "sell", "order_qty": 0.5, "limit_price": 61_000.5,
        "symbol": "BTC/USD", "time_in_force": "gtd", "post_only": True, "cl_ord_id": "c-1",
        "expire_time": "2024-01-01T00:01:00Z", "deadline": "2024-01-01T00:00:05Z",
        "validate": True, "token": "t", "fee_preference": "quote", "stp_type": "cancel_newest",
        "margin": False, "reduce_only": False,
    }
    assert tr.order_params(params) == {
        "ordertype": "limit", "type": "sell", "volume": 0.5, "price": 61_000.5,
        "cl_ord_id": "c-1", "oflags": "post", "timeinforce": "GTD",
        "expiretm": "1704067260.0", "pair": "BTC/USD", "deadline": "2024-01-01T00:00:05Z",
        "validate": True,
    }
    refusals = {
        "price": "Unsupported field: 'price' for the given msg type: add order",
        "margin": "EGeneral:Invalid arguments:margin",
        "post_only": "EGeneral:Invalid arguments:post_only",
        "time_in_force": "EGeneral:Invalid arguments:time_in_force",
        "expire_time": "EGeneral:Invalid arguments:expire_time",
        "symbol": "EGeneral:Invalid arguments:symbol",
    }
    bad = {"price": 1, "margin": True, "post_only": "yes", "time_in_force": "fok",
           "expire_time": "tomorrow", "symbol": None}
    for field, err in refusals.items():
        with pytest.raises(tr.WsReject) as info:
            tr.order_params({**params, field: bad[field]})
        assert info.value.error == err


def test_rest_errors_name_v2_fields() -> None:
    assert tr.ws_error("EGeneral:Invalid arguments:volume") == (
        "EGeneral:Invalid arguments:order_qty")
    assert tr.ws_error("EGeneral:Invalid arguments:price") == (
        "EGeneral:Invalid arguments:limit_price")
    assert tr.ws_error(ke.ORDER_RATE_LIMIT) == ke.ORDER_RATE_LIMIT


def test_cancel_order_takes_exactly_one_kind_of_identifier() -> None:
    assert tr.cancel_idents({"order_id": ["A", "B"]}) == ("txid", ["A", "B"])
    assert tr.cancel_idents({"cl_ord_id": ["c"]}) == ("cl_ord_id", ["c"])
    assert tr.cancel_idents({"order_userref": [3, 4]}) == ("txid", [3, 4])
    for bad in ({}, {"order_id": ["A"], "cl_ord_id": ["c"]}, {"order_id": "A"},
                {"order_id": []}, {"order_userref": ["3"]}, {"order_userref": [True]},
                {"order_id": ["A"] * 51}):
        with pytest.raises(tr.WsReject, match="EGeneral:Invalid arguments"):
            tr.cancel_idents(bad)


def test_unknown_methods_and_the_dead_man_timeout() -> None:
    kit = WsKit(make("starter", prices=flat()))
    assert error(kit.one("frobnicate", 0.0)) == "EGeneral:Unknown method"
    for timeout in (-1, "60", 1.5, True, 86_401):
        assert error(kit.one("cancel_all_orders_after", 0.0, timeout=timeout)) == (
            "EGeneral:Invalid arguments:timeout")
    armed = result(kit.one("cancel_all_orders_after", 0.0, timeout=60))
    assert armed == {"currentTime": "2024-01-01T00:00:00Z",
                     "triggerTime": "2024-01-01T00:01:00Z"}
    assert result(kit.one("cancel_all_orders_after", 1.0, timeout=0))["triggerTime"] == "0"
