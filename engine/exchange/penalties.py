"""The referee's own reading of the trading-counter penalties (kraken-rate-limits.md s.2).

"Age" is the time since the order was created or last amended, when the transaction
*arrives*.  Bucket edges are strict upper bounds: an order exactly 5.0 s old is in the
"< 10 s" bucket.  Penalty (units) = fixed part + the age part of the order's bucket:

=============  =====  =====  ======  ======  ======  ======  =======  ========
transaction    fixed  < 5 s  < 10 s  < 15 s  < 45 s  < 90 s  < 300 s  >= 300 s
=============  =====  =====  ======  ======  ======  ======  =======  ========
AddOrder       1
AmendOrder     1      3      2       1       0       0       0        0
EditOrder      1      6      5       4       2       1       0        0
CancelOrder    0      8      6       5       4       2       1        0
=============  =====  =====  ======  ======  ======  ======  =======  ========

AddOrderBatch of ``n`` orders (2..15, one pair) costs ``ceil(n / 2)`` (rounding up is the
conservative reading of "n/2"); CancelOrderBatch (1..50 ids) the sum of its orders' cancel
penalties.  Written from the rules document, independently of ``limiters``.
"""

from __future__ import annotations

import bisect
import math

import attrs

__all__ = [
    "ADD",
    "AGE_EDGES",
    "AMEND",
    "BATCH_ADD_MAX",
    "BATCH_ADD_MIN",
    "BATCH_CANCEL_MAX",
    "CANCEL",
    "EDIT",
    "AgePenalty",
    "age_bucket",
    "batch_add_penalty",
]

#: Strict upper edges of the age buckets (seconds): < 5, < 10, < 15, < 45, < 90, < 300, >= 300.
AGE_EDGES: tuple[float, ...] = (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)

#: AddOrderBatch sizes, and the most ids one CancelOrderBatch may name.
BATCH_ADD_MIN = 2
BATCH_ADD_MAX = 15
BATCH_CANCEL_MAX = 50


def age_bucket(age: float) -> int:
    """Index of the bucket of an order ``age`` seconds old: 0 for ``< 5``, ... 6 for ``>= 300``.

    ``age`` equal to an edge falls in the *next* bucket (the edges are strict).
    """
    return bisect.bisect_right(AGE_EDGES, age)


@attrs.frozen(slots=True)
class AgePenalty:
    """A transaction's penalty: ``fixed`` units plus ``by_age[age_bucket(age)]`` units."""

    name: str
    fixed: int
    by_age: tuple[int, ...] = attrs.field(default=(0,) * (len(AGE_EDGES) + 1))
    #: ``fixed + by_age[i]`` per bucket, summed once
    totals: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "totals", tuple(self.fixed + a for a in self.by_age))

    def at(self, age: float) -> int:
        """Units charged for an order ``age`` seconds old at arrival."""
        return self.totals[bisect.bisect_right(AGE_EDGES, age)]  # age_bucket(age), inline


ADD = AgePenalty("AddOrder", 1)
AMEND = AgePenalty("AmendOrder", 1, (3, 2, 1, 0, 0, 0, 0))
EDIT = AgePenalty("EditOrder", 1, (6, 5, 4, 2, 1, 0, 0))
CANCEL = AgePenalty("CancelOrder", 0, (8, 6, 5, 4, 2, 1, 0))


def batch_add_penalty(n: int) -> int:
    """AddOrderBatch of ``n`` orders: ``ceil(n / 2)`` units."""
    return math.ceil(n / 2)
