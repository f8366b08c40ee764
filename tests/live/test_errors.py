"""Typed exceptions for Kraken error replies."""

from __future__ import annotations

import pytest

from engine import kraken_errors as ke
from engine.kraken_errors import ErrorKind
from engine.venues.kraken_rest.errors import (
    AuthError,
    KrakenError,
    LockoutError,
    MalformedReply,
    NonceError,
    OrderRejected,
    RateLimitError,
    ThrottledError,
    TransientError,
    UnknownOrderError,
    error_for_reply,
    raise_for_reply,
)


@pytest.mark.parametrize(
    ("error", "exc_type", "kind"),
    [
        (ke.API_RATE_LIMIT, RateLimitError, ErrorKind.API_RATE_LIMIT),
        (ke.ORDER_RATE_LIMIT, RateLimitError, ErrorKind.ORDER_RATE_LIMIT),
        (ke.ORDERS_LIMIT, RateLimitError, ErrorKind.ORDERS_LIMIT),
        (ke.TOO_MANY_REQUESTS, RateLimitError, ErrorKind.TOO_MANY_REQUESTS),
        ("EService:Throttled:1700000000", ThrottledError, ErrorKind.THROTTLED),
        (ke.TEMPORARY_LOCKOUT, LockoutError, ErrorKind.LOCKOUT),
        (ke.INVALID_KEY, AuthError, ErrorKind.AUTH),
        (ke.INVALID_SIGNATURE, AuthError, ErrorKind.AUTH),
        (ke.PERMISSION_DENIED, AuthError, ErrorKind.AUTH),
        (ke.INVALID_NONCE, NonceError, ErrorKind.NONCE),
        (ke.UNKNOWN_ORDER, UnknownOrderError, ErrorKind.UNKNOWN_ORDER),
        (ke.UNAVAILABLE, TransientError, ErrorKind.TRANSIENT),
        (ke.DEADLINE_ELAPSED, TransientError, ErrorKind.TRANSIENT),
        (ke.INTERNAL_ERROR, TransientError, ErrorKind.TRANSIENT),
        (ke.INSUFFICIENT_FUNDS, OrderRejected, ErrorKind.REJECTED),
        (ke.INVALID_ARGUMENTS + ":volume", OrderRejected, ErrorKind.REJECTED),
        (ke.CANCEL_ONLY, OrderRejected, ErrorKind.REJECTED),
        (ke.TICK_SIZE, OrderRejected, ErrorKind.REJECTED),
    ],
)
def test_each_error_maps_to_its_exception(
    error: str, exc_type: type[KrakenError], kind: ErrorKind
) -> None:
    with pytest.raises(exc_type) as info:
        raise_for_reply({"error": [error]}, endpoint="AddOrder")
    assert type(info.value) is exc_type
    assert info.value.kind is kind
    assert info.value.errors == (error,)
    assert info.value.error == error
    assert info.value.endpoint == "AddOrder"
    assert str(info.value) == f"AddOrder: {error}"


def test_throttled_is_a_rate_limit_error_with_until() -> None:
    error = error_for_reply({"error": ["EService:Throttled: 1700000123"]})
    assert isinstance(error, ThrottledError)
    assert isinstance(error, RateLimitError)
    assert error.until == 1700000123.0


def test_throttled_without_timestamp() -> None:
    error = error_for_reply({"error": [ke.THROTTLED]})
    assert isinstance(error, ThrottledError)
    assert error.until is None


def test_every_kind_has_an_exception() -> None:
    for kind in ErrorKind:
        sample = {
            ErrorKind.API_RATE_LIMIT: ke.API_RATE_LIMIT,
            ErrorKind.ORDER_RATE_LIMIT: ke.ORDER_RATE_LIMIT,
            ErrorKind.ORDERS_LIMIT: ke.ORDERS_LIMIT,
            ErrorKind.THROTTLED: ke.throttled(1.0),
            ErrorKind.TOO_MANY_REQUESTS: ke.TOO_MANY_REQUESTS,
            ErrorKind.LOCKOUT: ke.TEMPORARY_LOCKOUT,
            ErrorKind.AUTH: ke.INVALID_KEY,
            ErrorKind.NONCE: ke.INVALID_NONCE,
            ErrorKind.UNKNOWN_ORDER: ke.UNKNOWN_ORDER,
            ErrorKind.TRANSIENT: ke.UNAVAILABLE,
            ErrorKind.REJECTED: ke.ORDER_MINIMUM,
        }[kind]
        error = error_for_reply({"error": [sample]})
        assert error is not None
        assert error.kind is kind


def test_most_severe_error_decides_and_all_are_kept() -> None:
    reply = {"error": [ke.INSUFFICIENT_FUNDS, ke.API_RATE_LIMIT, ke.TEMPORARY_LOCKOUT]}
    error = error_for_reply(reply)
    assert isinstance(error, LockoutError)
    assert error.errors == tuple(reply["error"])
    assert error.error == ke.TEMPORARY_LOCKOUT


def test_warnings_do_not_fail_a_request() -> None:
    reply = {"error": ["WGeneral:Some warning"], "result": {"txid": ["O1"]}}
    assert error_for_reply(reply) is None
    assert raise_for_reply(reply) == {"txid": ["O1"]}


def test_success_returns_result() -> None:
    assert raise_for_reply({"error": [], "result": {"unixtime": 1}}) == {"unixtime": 1}


@pytest.mark.parametrize(
    "reply",
    [{"error": "EAPI:Invalid key"}, {"error": [1]}, {"error": []}, {}],
)
def test_malformed_replies(reply: dict[str, object]) -> None:
    with pytest.raises(MalformedReply):
        raise_for_reply(reply)


def test_message_without_endpoint() -> None:
    error = error_for_reply({"error": [ke.INVALID_NONCE]})
    assert str(error) == ke.INVALID_NONCE
