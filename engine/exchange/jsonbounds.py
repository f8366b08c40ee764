"""Bounds on JSON read from the network, checked before it is parsed.

Anyone can send a body or a WebSocket message before it is authenticated, so nesting is
measured first with a linear scan (:func:`json_depth`) that allocates nothing per level:
no recursion can run away.  Kraken's own payloads nest at most three levels (``orders`` ->
one order -> a ``close`` or ``triggers`` object); :data:`MAX_DEPTH` allows eight.
"""

from __future__ import annotations

__all__ = ["MAX_DEPTH", "json_depth"]

#: The deepest JSON nesting (objects and arrays) accepted.
MAX_DEPTH = 8


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
