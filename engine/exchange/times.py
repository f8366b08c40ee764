"""The referee's own clock conventions: the default epoch and Kraken's time formats.

The exchange takes ``now`` in clock seconds from its caller; UNIX time is
``epoch + now``.  Replies print times the way Kraken does: RFC 3339 in UTC with whole
seconds (``2024-01-01T00:00:00Z``) for ``SystemStatus`` and ``CancelAllOrdersAfter``, and
RFC 1123 with a two-digit year for ``Time`` (``Mon, 01 Jan 24 00:00:00 +0000``).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

__all__ = ["DEFAULT_EPOCH", "rfc1123", "rfc3339"]

#: UNIX time (s) of clock 0 by default: 2024-01-01T00:00:00Z.
DEFAULT_EPOCH = 1_704_067_200.0


def rfc3339(unix: float) -> str:
    """UNIX seconds as RFC 3339 UTC, whole seconds (rounded down): ``2024-01-01T00:00:00Z``."""
    return datetime.fromtimestamp(math.floor(unix), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc1123(unix: float) -> str:
    """UNIX seconds as Kraken's ``Time`` prints them: ``Mon, 01 Jan 24 00:00:00 +0000``."""
    return time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(math.floor(unix)))
