"""The server's own signature check against Kraken's published test vector
(kraken-rate-limits.md s.4), and against the client's independent signing code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.exchange.server.signing import expected_signature, secret_is_valid, signature_matches
from engine.venues.kraken_rest.signing import sign

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = 1616492376594
BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
PATH = "/0/private/AddOrder"
SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="


def test_krakens_published_vector() -> None:
    assert expected_signature(SECRET, PATH, NONCE, BODY) == SIGN
    assert signature_matches(SECRET, PATH, str(NONCE), BODY, SIGN)
    assert not signature_matches(SECRET, PATH, NONCE + 1, BODY, SIGN)
    assert not signature_matches(SECRET, "/0/private/Balance", NONCE, BODY, SIGN)


def test_bad_secrets_match_nothing() -> None:
    assert not secret_is_valid("not base64!") and not secret_is_valid("")
    assert expected_signature("not base64!", PATH, NONCE, BODY) is None
    assert not signature_matches("", PATH, NONCE, BODY, SIGN)


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=2**64 - 1),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", min_size=1, max_size=20))
def test_the_two_readings_agree(body: bytes, nonce: int, endpoint: str) -> None:
    path = f"/0/private/{endpoint}"
    assert signature_matches(SECRET, path, nonce, body, sign(SECRET, path, nonce, body))
