"""Parameter decoding (query strings, forms with brackets, JSON) and its bounds, without
sockets; fault selection."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.exchange.server.faults import Fault, FaultKind, FaultPlan, parse_fault
from engine.exchange.server.forms import (
    MAX_DEPTH,
    MAX_INDEX,
    BadParams,
    decode_body,
    decode_query,
    json_depth,
)

FORM = "application/x-www-form-urlencoded"


def test_forms() -> None:
    assert decode_query("pair=XBTUSD&pair=ETHUSD&x=") == {"pair": "ETHUSD", "x": ""}
    assert decode_body(b"orders[0][type]=buy&orders[0][volume]=1&orders[1][type]=sell",
                       FORM) == {"orders": [{"type": "buy", "volume": "1"}, {"type": "sell"}]}
    assert decode_body(b"orders[]=A&orders[]=B", "") == {"orders": ["A", "B"]}
    assert decode_body(b"close[ordertype]=limit&close[price]=1", FORM) == {
        "close": {"ordertype": "limit", "price": "1"}}
    assert decode_body(b'{"nonce": 5, "orders": [{"a": 1}]}', "application/json") == {
        "nonce": 5, "orders": [{"a": 1}]}
    assert decode_body(b"  ", "application/json") == {}
    for bad, ctype in ((b"[1]", "application/json"), (b"{", "application/json"),
                       (b"\xff", FORM), (b"a[0]=1&a[0][b]=2", "")):
        with pytest.raises(BadParams):
            decode_body(bad, ctype)


# -- issue 10, item 6: nesting is bounded before anything recurses --------------------------


def test_a_json_body_nested_100k_deep_is_refused_without_recursing() -> None:
    body = b'{"nonce":1,"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(BadParams, match="nested deeper"):
        decode_body(body, "application/json")


def test_a_form_field_nested_100k_deep_is_refused_without_recursing() -> None:
    body = b"nonce=1&a" + b"[0]" * 100_000 + b"=1"
    with pytest.raises(BadParams, match="nested deeper"):
        decode_body(body, FORM)
    with pytest.raises(BadParams, match="nested deeper"):
        decode_query("a" + "[x]" * 100_000 + "=1")


def test_nesting_up_to_the_bound_is_accepted() -> None:
    ok_json = b'{"a":' + b"[" * (MAX_DEPTH - 1) + b"1" + b"]" * (MAX_DEPTH - 1) + b"}"
    assert json_depth(ok_json) == MAX_DEPTH
    decode_body(ok_json, "application/json")
    deep = b'{"a":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}"
    with pytest.raises(BadParams):
        decode_body(deep, "application/json")
    decode_body(b"a" + b"[0]" * MAX_DEPTH + b"=1", FORM)
    with pytest.raises(BadParams):
        decode_body(b"a" + b"[0]" * (MAX_DEPTH + 1) + b"=1", FORM)


def test_brackets_inside_json_strings_do_not_count() -> None:
    body = json.dumps({"note": "[" * 1000 + "{" * 1000, "q": "\\\"[[["}).encode()
    assert json_depth(body) == 1
    assert decode_body(body, "application/json")["note"].startswith("[[")


def test_huge_bracket_indexes_and_too_many_fields_are_refused() -> None:
    with pytest.raises(BadParams, match="index"):
        decode_body(f"a[{MAX_INDEX + 1}]=1".encode(), FORM)
    with pytest.raises(BadParams, match="too many"):
        decode_body(b"&".join(b"f%d=1" % i for i in range(1001)), FORM)


@given(st.recursive(st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=20))
def test_json_depth_matches_the_structure(value: object) -> None:
    """The scan's depth is the structure's nesting depth; decoding succeeds exactly when the
    wrapped object is within the bound."""

    def depth(v: object) -> int:
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    body = json.dumps({"v": value}).encode()
    assert json_depth(body) == 1 + depth(value)
    if 1 + depth(value) <= MAX_DEPTH:
        assert decode_body(body, "application/json") == {"v": value}
    else:
        with pytest.raises(BadParams):
            decode_body(body, "application/json")


@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12))
def test_form_depth_is_bounded(path: list[int]) -> None:
    name = "a" + "".join(f"[{i}]" for i in path)
    if len(path) <= MAX_DEPTH:
        out = decode_body(f"{name}=v".encode(), FORM)["a"]
        for _ in path:
            assert isinstance(out, list)
            out = out[-1]
        assert out == "v"
    else:
        with pytest.raises(BadParams):
            decode_body(f"{name}=v".encode(), FORM)


# -- faults ----------------------------------------------------------------------------------


def test_fault_selection() -> None:
    plan = FaultPlan([Fault("drop-reply", "AddOrder", nth=2),
                      Fault("http-5xx", None, nth=1, count=0, process=False)])
    hits = [plan.pick(e) for e in ("AddOrder", "AddOrder", "Balance", "AddOrder")]
    assert [h.kind if h else None for h in hits] == [
        FaultKind.HTTP_5XX, FaultKind.DROP_REPLY, FaultKind.HTTP_5XX, FaultKind.HTTP_5XX]
    assert plan.fired == {FaultKind.HTTP_5XX: 3, FaultKind.DROP_REPLY: 1}
    plan.clear()
    assert plan.pick("AddOrder") is None


def test_fault_defaults_and_parsing() -> None:
    assert Fault("drop-reply").processes and not Fault("unavailable").processes
    assert not Fault("hang", process=False).processes
    f = parse_fault("malformed-json:CancelOrder:3:2")
    assert (f.kind, f.endpoint, f.nth, f.count) == (FaultKind.MALFORMED_JSON, "CancelOrder", 3, 2)
    assert parse_fault("hang:*").endpoint is None
    assert parse_fault("drop-reply:balanceex").endpoint == "BalanceEx"
    for bad in ("", "explode", "hang:AddOrder:x", "hang:a:1:2:3", "hang:AddOrder:0"):
        with pytest.raises(ValueError, match=r"KIND|kind|integer|>= 1"):
            parse_fault(bad)
    with pytest.raises(ValueError, match="5xx"):
        Fault("http-5xx", status=404)
