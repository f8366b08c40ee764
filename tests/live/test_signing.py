"""API-Sign: Kraken's official test vector, JSON bodies, and verify()."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from engine.venues.kraken_rest.signing import InvalidSecret, decode_secret, sign, verify

from .support import LEAK_SECRET, VECTOR_SECRET, leaked

VECTOR_NONCE = 1616492376594
VECTOR_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
VECTOR_PATH = "/0/private/AddOrder"
VECTOR_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_official_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_PATH, VECTOR_NONCE, VECTOR_BODY) == VECTOR_SIGN


def test_official_vector_bytes_body_and_str_nonce() -> None:
    assert sign(VECTOR_SECRET, VECTOR_PATH, str(VECTOR_NONCE), VECTOR_BODY.encode()) == VECTOR_SIGN


def test_verify_accepts_the_official_vector() -> None:
    assert verify(VECTOR_SECRET, VECTOR_PATH, VECTOR_NONCE, VECTOR_BODY, VECTOR_SIGN)


@pytest.mark.parametrize(
    ("path", "nonce", "body"),
    [
        ("/0/private/CancelOrder", VECTOR_NONCE, VECTOR_BODY),
        (VECTOR_PATH, VECTOR_NONCE + 1, VECTOR_BODY),
        (VECTOR_PATH, VECTOR_NONCE, VECTOR_BODY.replace("1.25", "1.26")),
    ],
    ids=["other-path", "other-nonce", "tampered-body"],
)
def test_verify_refuses_any_change(path: str, nonce: int, body: str) -> None:
    assert not verify(VECTOR_SECRET, path, nonce, body, VECTOR_SIGN)


def test_verify_refuses_another_secret_and_garbage() -> None:
    assert not verify(LEAK_SECRET, VECTOR_PATH, VECTOR_NONCE, VECTOR_BODY, VECTOR_SIGN)
    assert not verify(VECTOR_SECRET, VECTOR_PATH, VECTOR_NONCE, VECTOR_BODY, "not-a-signature")
    assert not verify(VECTOR_SECRET, VECTOR_PATH, VECTOR_NONCE, VECTOR_BODY, "")


def test_json_body_signs_str_nonce_then_exact_json() -> None:
    body = b'{"nonce":1616492376594,"pair":"XBTUSD","orders":[{"ordertype":"limit"}]}'
    inner = hashlib.sha256(b"1616492376594" + body).digest()
    mac = hmac.new(base64.b64decode(VECTOR_SECRET), b"/0/private/AddOrderBatch" + inner,
                   hashlib.sha512)
    expected = base64.b64encode(mac.digest()).decode()
    assert sign(VECTOR_SECRET, "/0/private/AddOrderBatch", VECTOR_NONCE, body) == expected
    # one changed byte of the JSON text changes the signature
    assert sign(VECTOR_SECRET, "/0/private/AddOrderBatch", VECTOR_NONCE,
                body.replace(b":", b": ", 1)) != expected


@pytest.mark.parametrize(
    "secret",
    ["", "not base64!!", LEAK_SECRET[:-3], "@" + LEAK_SECRET],
    ids=["empty", "not-base64", "truncated", "bad-char"],  # ids: no secret in test names
)
def test_invalid_secret_is_refused_without_showing_it(secret: str) -> None:
    with pytest.raises(InvalidSecret) as info:
        sign(secret, VECTOR_PATH, 1, "nonce=1")
    assert not leaked(str(info.value)) and not leaked(repr(info.value))
    chained = info.value.__cause__ is not None or (
        info.value.__context__ is not None and not info.value.__suppress_context__
    )
    assert not chained


def test_decode_secret_roundtrip() -> None:
    assert decode_secret(VECTOR_SECRET) == base64.b64decode(VECTOR_SECRET)
