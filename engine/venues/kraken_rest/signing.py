"""Kraken's REST request signature (``kraken-rate-limits.md`` section 4).

::

    API-Sign = base64( HMAC-SHA512( key = base64decode(secret),
                                    msg = uri_path + SHA256(str(nonce) + body) ) )

``uri_path`` is the request path (``/0/private/AddOrder``); ``body`` is the exact byte string
sent: the form-encoded body (which itself starts with ``nonce=...``) for most endpoints, or
the exact JSON text (whose object holds ``"nonce"``) for the JSON endpoints.  The same formula
covers both: the signed digest is always of ``str(nonce)`` followed by the body bytes.

:func:`sign` is what a client sends; :func:`verify` is what a server (the simulated exchange,
or a test) checks, in constant time.  Neither function keeps, logs or echoes the secret: a
secret that is not valid base64 raises :class:`InvalidSecret` without showing it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["InvalidSecret", "decode_secret", "sign", "verify"]


class InvalidSecret(ValueError):
    """An API secret that is not valid base64 (the secret itself is never in the message)."""

    def __init__(self) -> None:
        super().__init__("API secret is not valid base64")


def decode_secret(secret: str) -> bytes:
    """The HMAC key: the base64-decoded ``secret``; :class:`InvalidSecret` if it is not base64."""
    try:
        key = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret() from None
    if not key:
        raise InvalidSecret()
    return key


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def sign(secret: str, uri_path: str, nonce: int | str, body: bytes | str) -> str:
    """The ``API-Sign`` header value for one request.

    ``secret`` is the API secret as Kraken issues it (base64); ``uri_path`` the request path;
    ``nonce`` the nonce carried in ``body``; ``body`` the exact bytes sent (UTF-8 if a str).
    """
    inner = hashlib.sha256(str(nonce).encode() + _as_bytes(body)).digest()
    mac = hmac.new(decode_secret(secret), uri_path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def verify(
    secret: str, uri_path: str, nonce: int | str, body: bytes | str, signature: str
) -> bool:
    """Whether ``signature`` is the valid ``API-Sign`` of this request (constant-time compare).

    A server extracts ``nonce`` from the body it received (see
    :func:`engine.venues.kraken_rest.body.nonce_of_body`) and passes the body bytes unchanged.
    """
    expected = sign(secret, uri_path, nonce, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
