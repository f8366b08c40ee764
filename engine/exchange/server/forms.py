"""Request parameters as Kraken accepts them: query strings, form bodies, JSON bodies.

* ``application/json``: the body is one JSON object; its values are kept as they are
  (the nonce an integer, AddOrderBatch's ``orders`` a list of objects).
* anything else is read as ``application/x-www-form-urlencoded`` (what Kraken's clients
  send for most endpoints).  Field values are strings.  Bracketed names build lists, as
  PHP-style form encoders send them: ``orders[0][type]=buy&orders[0][volume]=1`` gives
  ``{"orders": [{"type": "buy", "volume": "1"}]}``; ``orders[]=A&orders[]=B`` or
  ``orders[0]=A&orders[1]=B`` give ``{"orders": ["A", "B"]}``.  A repeated plain name keeps
  its last value.

:class:`BadParams` means the body cannot be read as parameters: the server answers
``EGeneral:Invalid arguments``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["BadParams", "decode_body", "decode_query"]

_BRACKETED = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


class BadParams(ValueError):
    """The request's parameters cannot be decoded."""


def decode_query(query: str) -> dict[str, Any]:
    """Parameters of a URL query string (form rules)."""
    return _form(query)


def decode_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Parameters of a request body of media type ``content_type`` (lower-case, no params)."""
    if not body.strip():
        return {}
    if content_type == "application/json":
        try:
            obj = json.loads(body)
        except ValueError:
            raise BadParams("body is not valid JSON") from None
        if not isinstance(obj, dict):
            raise BadParams("JSON body must be an object")
        return obj
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParams("form body is not UTF-8") from None
    return _form(text)


def _form(text: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise BadParams("malformed form body") from None
    out: dict[str, Any] = {}
    nested: dict[str, list[tuple[list[str], str]]] = {}
    for name, value in pairs:
        m = _BRACKETED.match(name)
        if m is None:
            out[name] = value
            continue
        keys = [k[1:-1] for k in re.findall(r"\[[^\[\]]*\]", m.group(2))]
        nested.setdefault(m.group(1), []).append((keys, value))
    for name, entries in nested.items():
        out[name] = _build(entries)
    return out


def _build(entries: list[tuple[list[str], str]]) -> Any:
    """A list (numeric or empty first keys) or dict from bracket paths and values."""
    if all(not keys for keys, _ in entries):
        return entries[-1][1]
    firsts = [keys[0] for keys, _ in entries if keys]
    if all(k == "" or k.isdigit() for k in firsts):
        items: dict[int, list[tuple[list[str], str]]] = {}
        auto = 0
        for keys, value in entries:
            if not keys:
                raise BadParams("mixed plain and bracketed field names")
            if keys[0] == "":
                index = auto
                auto += 1
            else:
                index = int(keys[0])
                auto = max(auto, index + 1)
            items.setdefault(index, []).append((keys[1:], value))
        return [_build(items[i]) for i in sorted(items)]
    groups: dict[str, list[tuple[list[str], str]]] = {}
    for keys, value in entries:
        if not keys:
            raise BadParams("mixed plain and bracketed field names")
        groups.setdefault(keys[0], []).append((keys[1:], value))
    return {k: _build(v) for k, v in groups.items()}
