"""The referee's own clock conventions: the default epoch and Kraken's time formats.

The exchange takes ``now`` in clock seconds from its caller; UNIX time is
``epoch + now``.  Replies print times the way Kraken does: RFC 3339 in UTC with whole
seconds (``2024-01-01T00:00:00Z``) for ``SystemStatus`` and ``CancelAllOrdersAfter``,
RFC 1123 with a two-digit year for ``Time`` (``Mon, 01 Jan 24 00:00:00 +0000``), and RFC 3339
with microseconds (``2024-01-01T00:00:00.123456Z``) on WebSocket v2 (``time_in``,
``time_out``, execution ``timestamp``); :func:`parse_rfc3339` reads what v2 requests carry
(``expire_time``, ``deadline``).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

__all__ = ["DEFAULT_EPOCH", "parse_rfc3339", "rfc1123", "rfc3339", "rfc3339_micro"]

#: UNIX time (s) of clock 0 by default: 2024-01-01T00:00:00Z.
DEFAULT_EPOCH = 1_704_067_200.0


def rfc3339(unix: float) -> str:
    """UNIX seconds as RFC 3339 UTC, whole seconds (rounded down): ``2024-01-01T00:00:00Z``."""
    return datetime.fromtimestamp(math.floor(unix), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc1123(unix: float) -> str:
    """UNIX seconds as Kraken's ``Time`` prints them: ``Mon, 01 Jan 24 00:00:00 +0000``."""
    return time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(math.floor(unix)))


def rfc3339_micro(unix: float) -> str:
    """UNIX seconds as RFC 3339 UTC with microseconds: ``2024-01-01T00:00:00.123456Z``."""
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> float | None:
    """UNIX seconds of an RFC 3339 time with a zone (``Z`` or an offset); None if it is not
    one (no zone, malformed, not a string)."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None
