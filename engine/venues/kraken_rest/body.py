"""Private request bodies: the exact bytes that are signed and sent.

Most private endpoints take ``application/x-www-form-urlencoded`` bodies; the batch and amend
endpoints (:data:`JSON_ENDPOINTS`) take ``application/json``.  Either way the body carries
the nonce: first field of the form (``nonce=...&pair=...``), first key of the JSON object
(``{"nonce":1616492376594,...}``, an integer).

Values are sent exactly as given, so prices and volumes keep their digits: form values must
be ``str``, ``int``, ``bool`` (sent as ``true``/``false``) or :class:`~decimal.Decimal`;
JSON values may also be lists, dicts and ``None``.  A ``float`` is refused (its text form,
``1e-05``, is not what Kraken expects): pass a string or a Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode

import attrs

__all__ = [
    "FORM_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "JSON_ENDPOINTS",
    "EncodedBody",
    "InvalidParameter",
    "encode_private",
    "form_value",
    "nonce_of_body",
]

#: Endpoints whose body is JSON (the others are form-encoded).
JSON_ENDPOINTS: frozenset[str] = frozenset({"AddOrderBatch", "AmendOrder", "CancelOrderBatch"})

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


class InvalidParameter(TypeError):
    """A request parameter that cannot be sent as given (names the parameter, not secrets)."""

    def __init__(self, endpoint: str, name: str, why: str) -> None:
        self.endpoint = endpoint
        self.name = name
        super().__init__(f"{endpoint}: parameter {name!r} {why}")


@attrs.frozen(slots=True)
class EncodedBody:
    """One encoded private body: ``content`` (the bytes sent and signed) and its media type."""

    content: bytes
    content_type: str
    nonce: int


def form_value(endpoint: str, name: str, value: object) -> str:
    """The text of one form field; :class:`InvalidParameter` for floats and containers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidParameter(endpoint, name, "is not a finite number")
        return format(value, "f")
    raise InvalidParameter(
        endpoint, name, f"has type {type(value).__name__}; pass a str, int, bool or Decimal"
    )


def _json_value(endpoint: str, name: str, value: object) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, Decimal):
        return form_value(endpoint, name, value)
    if isinstance(value, Mapping):
        return {str(k): _json_value(endpoint, f"{name}.{k}", v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(endpoint, f"{name}[{i}]", v) for i, v in enumerate(value)]
    raise InvalidParameter(
        endpoint, name, f"has type {type(value).__name__}; pass a str, int, bool or Decimal"
    )


def encode_private(endpoint: str, params: Mapping[str, Any], nonce: int) -> EncodedBody:
    """The body of a private call to ``endpoint`` with ``params`` and ``nonce`` (first field)."""
    if "nonce" in params:
        raise InvalidParameter(endpoint, "nonce", "is assigned by the venue; do not pass it")
    if endpoint in JSON_ENDPOINTS:
        obj: dict[str, Any] = {"nonce": nonce}
        obj.update((name, _json_value(endpoint, name, v)) for name, v in params.items())
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True)
        return EncodedBody(text.encode(), JSON_CONTENT_TYPE, nonce)
    fields = [("nonce", str(nonce))]
    fields.extend((name, form_value(endpoint, name, v)) for name, v in params.items())
    return EncodedBody(urlencode(fields).encode(), FORM_CONTENT_TYPE, nonce)


def nonce_of_body(content: bytes, content_type: str) -> int:
    """The nonce inside a received private body (for a server verifying a signature).

    Raises :class:`ValueError` when the body has no integer nonce.
    """
    try:
        if content_type.split(";")[0].strip().lower() == JSON_CONTENT_TYPE:
            obj = json.loads(content)
            raw: object = obj.get("nonce") if isinstance(obj, dict) else None
        else:
            raw = parse_qs(content.decode(), keep_blank_values=True).get("nonce", [None])[0]
        if isinstance(raw, bool) or raw is None:
            raise ValueError
        nonce = int(raw) if isinstance(raw, (int, str)) else None
    except (ValueError, UnicodeDecodeError):
        nonce = None
    if nonce is None or nonce < 0:
        raise ValueError("request body has no valid nonce")
    return nonce
