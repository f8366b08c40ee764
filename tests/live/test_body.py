"""Private bodies: form vs JSON, the nonce first, exact value text."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.venues.kraken_rest.body import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    JSON_ENDPOINTS,
    InvalidParameter,
    encode_private,
    nonce_of_body,
)


def test_json_endpoints_are_the_batch_and_amend_endpoints() -> None:
    assert frozenset({"AddOrderBatch", "AmendOrder", "CancelOrderBatch"}) == JSON_ENDPOINTS


def test_form_body_starts_with_the_nonce_and_keeps_order() -> None:
    params = {"ordertype": "limit", "pair": "XBTUSD", "price": "37500", "type": "buy",
              "volume": "1.25"}
    body = encode_private("AddOrder", params, 1616492376594)
    assert body.content_type == FORM_CONTENT_TYPE
    assert body.content == (
        b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    )
    assert body.nonce == 1616492376594


def test_form_values_bool_int_decimal_and_escaping() -> None:
    body = encode_private(
        "AddOrder",
        {"validate": True, "userref": 7, "price": Decimal("0.00001"), "cl_ord_id": "a b&c"},
        5,
    )
    assert body.content == b"nonce=5&validate=true&userref=7&price=0.00001&cl_ord_id=a+b%26c"


def test_json_body_has_integer_nonce_first_and_compact_separators() -> None:
    orders = [{"ordertype": "limit", "price": Decimal("1.50"), "volume": "2"}]
    body = encode_private("AddOrderBatch", {"pair": "XBTUSD", "orders": orders}, 42)
    assert body.content_type == JSON_CONTENT_TYPE
    assert body.content.startswith(b'{"nonce":42,')
    assert json.loads(body.content) == {
        "nonce": 42, "pair": "XBTUSD",
        "orders": [{"ordertype": "limit", "price": "1.50", "volume": "2"}],
    }
    assert b" " not in body.content


@pytest.mark.parametrize("endpoint", ["AddOrder", "AmendOrder"])
def test_float_is_refused_naming_the_parameter(endpoint: str) -> None:
    with pytest.raises(InvalidParameter, match="'price'"):
        encode_private(endpoint, {"price": 0.00001}, 1)


def test_containers_refused_in_form_bodies() -> None:
    with pytest.raises(InvalidParameter, match="'orders'"):
        encode_private("CancelOrder", {"orders": ["a"]}, 1)


def test_nan_decimal_refused() -> None:
    with pytest.raises(InvalidParameter, match="finite"):
        encode_private("AddOrder", {"price": Decimal("NaN")}, 1)


def test_caller_cannot_pass_a_nonce() -> None:
    with pytest.raises(InvalidParameter, match="nonce"):
        encode_private("Balance", {"nonce": "1"}, 1)


@pytest.mark.parametrize("endpoint", ["Balance", "CancelOrderBatch"])
def test_nonce_of_body_roundtrip(endpoint: str) -> None:
    body = encode_private(endpoint, {"orders": ["A"]} if endpoint in JSON_ENDPOINTS else {}, 99)
    assert nonce_of_body(body.content, body.content_type + "; charset=utf-8") == 99


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"pair=XBTUSD", FORM_CONTENT_TYPE),
        (b"nonce=abc", FORM_CONTENT_TYPE),
        (b"nonce=-1", FORM_CONTENT_TYPE),
        (b"\xff\xfe", FORM_CONTENT_TYPE),
        (b'{"pair":"XBTUSD"}', JSON_CONTENT_TYPE),
        (b'{"nonce":true}', JSON_CONTENT_TYPE),
        (b'{"nonce":1.5}', JSON_CONTENT_TYPE),
        (b"[1]", JSON_CONTENT_TYPE),
        (b"{", JSON_CONTENT_TYPE),
    ],
)
def test_nonce_of_body_refuses_bodies_without_a_nonce(content: bytes, content_type: str) -> None:
    with pytest.raises(ValueError, match="no valid nonce"):
        nonce_of_body(content, content_type)
