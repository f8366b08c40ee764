"""Decoding request parameters: query strings, form bodies (with PHP-style bracketed names
such as ``orders[0][price]``) and JSON bodies -- with bounds, before any authentication.

A body is parsed before its signature can be checked, so anyone can send one: every
decoder refuses, with :class:`BadParams`, what would cost more than a Kraken request ever
needs.  Kraken's own payloads nest at most three levels (``orders`` -> one order -> a
``close`` object), so:

* :data:`MAX_DEPTH` (8): JSON nesting (objects and arrays) and bracket segments in a form
  field name are bounded; deeper input is refused *before* it is parsed (a linear scan),
  so no recursion can run away;
* :data:`MAX_FIELDS` (1000): form fields per request;
* :data:`MAX_INDEX` (1000): a numeric bracket index (``a[999999999]`` would otherwise ask
  for a huge list).

The server answers any :class:`BadParams` with ``EGeneral:Invalid arguments`` in Kraken's
envelope.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["MAX_DEPTH", "MAX_FIELDS", "MAX_INDEX", "BadParams", "decode_body", "decode_query"]

MAX_DEPTH = 8
MAX_FIELDS = 1000
MAX_INDEX = 1000

_BRACKETED = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class BadParams(ValueError):
    """The request's parameters cannot be decoded (or exceed the bounds)."""


def decode_query(query: str) -> dict[str, Any]:
    """Parameters of a URL query string (form rules)."""
    return _form(query)


def decode_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Parameters of a request body of media type ``content_type`` (lower-case, no params)."""
    if not body.strip():
        return {}
    if content_type == "application/json":
        _check_json_depth(body)
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError):
            raise BadParams("body is not valid JSON") from None
        if not isinstance(obj, dict):
            raise BadParams("JSON body must be an object")
        return obj
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParams("form body is not UTF-8") from None
    return _form(text)


def json_depth(body: bytes) -> int:
    """The deepest nesting of objects and arrays in a JSON text (brackets inside strings
    do not count); a linear scan that allocates nothing per level."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _check_json_depth(body: bytes) -> None:
    if json_depth(body) > MAX_DEPTH:
        raise BadParams(f"JSON nested deeper than {MAX_DEPTH}")


def _form(text: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                          max_num_fields=MAX_FIELDS)
    except ValueError:
        raise BadParams("malformed form body, or too many fields") from None
    out: dict[str, Any] = {}
    nested: dict[str, list[tuple[list[str], str]]] = {}
    for name, value in pairs:
        m = _BRACKETED.match(name)
        if m is None:
            out[name] = value
            continue
        keys = _SEGMENT.findall(m.group(2))
        if len(keys) > MAX_DEPTH:
            raise BadParams(f"field name nested deeper than {MAX_DEPTH}")
        nested.setdefault(m.group(1), []).append((keys, value))
    for name, entries in nested.items():
        out[name] = _build(entries, 1)
    return out


def _index(key: str) -> int:
    index = int(key)
    if index > MAX_INDEX:
        raise BadParams(f"bracket index above {MAX_INDEX}")
    return index


def _build(entries: list[tuple[list[str], str]], depth: int) -> Any:
    """A list (numeric or empty first keys) or dict from bracket paths and values; ``depth``
    never exceeds :data:`MAX_DEPTH` + 1 (paths were bounded when read)."""
    if all(not keys for keys, _ in entries):
        return entries[-1][1]
    firsts = [keys[0] for keys, _ in entries if keys]
    if all(k == "" or (k.isascii() and k.isdigit()) for k in firsts):
        items: dict[int, list[tuple[list[str], str]]] = {}
        auto = 0
        for keys, value in entries:
            if not keys:
                raise BadParams("mixed plain and bracketed field names")
            if keys[0] == "":
                index = auto
                auto += 1
            else:
                index = _index(keys[0])
                auto = max(auto, index + 1)
            items.setdefault(index, []).append((keys[1:], value))
        return [_build(items[i], depth + 1) for i in sorted(items)]
    groups: dict[str, list[tuple[list[str], str]]] = {}
    for keys, value in entries:
        if not keys:
            raise BadParams("mixed plain and bracketed field names")
        groups.setdefault(keys[0], []).append((keys[1:], value))
    return {k: _build(v, depth + 1) for k, v in groups.items()}
