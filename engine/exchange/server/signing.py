"""The server's own check of Kraken's request signature (kraken-rate-limits.md s.4).

::

    API-Sign = base64( HMAC-SHA512( key = base64decode(secret),
                                    msg = uri_path + SHA256(nonce + body) ) )

``uri_path`` is the request path (``/0/private/AddOrder``), ``nonce`` the decimal nonce the
body carries, ``body`` the exact bytes received (form or JSON).  Written from the rules,
independently of the client's signing code: Kraken's published test vector is a unit test
of both.  Nothing here keeps, logs or echoes the secret; the comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["expected_signature", "secret_is_valid", "signature_matches"]


def _key(secret: str) -> bytes | None:
    try:
        key = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def secret_is_valid(secret: str) -> bool:
    """Whether ``secret`` is non-empty base64 (as Kraken issues secrets)."""
    return _key(secret) is not None


def expected_signature(secret: str, path: str, nonce: int | str, body: bytes) -> str | None:
    """The ``API-Sign`` a request must carry (None: the secret is not base64)."""
    key = _key(secret)
    if key is None:
        return None
    digest = hashlib.sha256(str(nonce).encode() + body).digest()
    return base64.b64encode(hmac.new(key, path.encode() + digest, hashlib.sha512).digest()).decode()


def signature_matches(secret: str, path: str, nonce: int | str, body: bytes, given: str) -> bool:
    """Whether ``given`` is the request's signature (constant-time comparison)."""
    want = expected_signature(secret, path, nonce, body)
    return want is not None and hmac.compare_digest(want.encode(), given.strip().encode())
