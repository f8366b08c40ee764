"""Kraken's trading-counter penalties, by transaction and by order age.

"Age" is the time in seconds since the order was created **or last amended**, at the
moment the exchange receives the transaction.  Bucket edges are strict upper bounds: an
order exactly 5.0 s old is in the "< 10 s" bucket.  Source: ``kraken-rate-limits.md``
section 2, from Kraken's spot-trading rate-limit page.

Penalty = fixed part + age part::

    transaction   fixed  <5  <10  <15  <45  <90  <300  >=300
    AmendOrder      1     3    2    1    0    0    0     0
    EditOrder       1     6    5    4    2    1    0     0
    CancelOrder     0     8    6    5    4    2    1     0
    AddOrder        1     (no age part)
    AddOrderBatch   ceil(n / 2), n in 2..15 (rounding undocumented: up is conservative)
    CancelOrderBatch: the sum of each order's cancel penalty.

The fixed part is charged even when a transaction fails validation.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Iterable

import attrs

from limiters.errors import InvalidAmount, UnknownTransaction, check_amount

__all__ = [
    "AGE_EDGES",
    "BATCH_ADD_MAX",
    "BATCH_ADD_MIN",
    "BATCH_CANCEL_MAX",
    "PENALTIES",
    "AgePenalty",
    "Transaction",
    "add_batch_penalty",
    "add_penalty",
    "cancel_batch_penalty",
    "next_cheaper_age",
    "penalty",
]

#: Upper edges (seconds, strict) of the age buckets; the last bucket is ">= 300 s".
AGE_EDGES: tuple[float, ...] = (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)

#: AddOrderBatch takes 2 to 15 orders of one pair; CancelOrderBatch up to 50 ids.
BATCH_ADD_MIN = 2
BATCH_ADD_MAX = 15
BATCH_CANCEL_MAX = 50


class Transaction(enum.StrEnum):
    """Matching-engine transactions whose penalty depends on the order's age."""

    AMEND = "amend"
    EDIT = "edit"
    CANCEL = "cancel"


@attrs.frozen(slots=True)
class AgePenalty:
    """A transaction's fixed penalty and its age part per bucket of :data:`AGE_EDGES`."""

    fixed: int
    by_age: tuple[int, ...]  # one entry per bucket: len(AGE_EDGES) + 1

    def at(self, age: float) -> int:
        """Total penalty (counter units) at ``age`` seconds."""
        if age.__class__ is float and 0.0 <= age < math.inf:  # the hot path
            return self.fixed + self.by_age[bisect.bisect_right(AGE_EDGES, age)]
        a = check_amount("age", age)
        return self.fixed + self.by_age[bisect.bisect_right(AGE_EDGES, a)]


#: kraken-rate-limits.md section 2, penalty table.
PENALTIES: dict[Transaction, AgePenalty] = {
    Transaction.AMEND: AgePenalty(fixed=1, by_age=(3, 2, 1, 0, 0, 0, 0)),
    Transaction.EDIT: AgePenalty(fixed=1, by_age=(6, 5, 4, 2, 1, 0, 0)),
    Transaction.CANCEL: AgePenalty(fixed=0, by_age=(8, 6, 5, 4, 2, 1, 0)),
}

_BY_NAME: dict[str, AgePenalty] = {str(t): p for t, p in PENALTIES.items()}

#: AddOrder: a fixed +1, no age part.
ADD_PENALTY = 1


def _table(transaction: Transaction | str) -> AgePenalty:
    # a StrEnum member hashes and compares as its value: "cancel" finds Transaction.CANCEL
    table = _BY_NAME.get(transaction)
    if table is None:
        raise UnknownTransaction(transaction, tuple(Transaction))
    return table


def penalty(transaction: Transaction | str, age: float) -> int:
    """Penalty (counter units) of an amend, edit or cancel of an order ``age`` seconds old.

    Raises :class:`UnknownTransaction` for another name, :class:`InvalidAmount` for a
    NaN, infinite or negative age.
    """
    return _table(transaction).at(age)


def add_penalty() -> int:
    """Penalty of one AddOrder: 1."""
    return ADD_PENALTY


def add_batch_penalty(n: int) -> int:
    """Penalty of an AddOrderBatch of ``n`` orders: ``ceil(n / 2)``, ``n`` in 2..15."""
    if isinstance(n, bool) or not isinstance(n, int) or not BATCH_ADD_MIN <= n <= BATCH_ADD_MAX:
        raise InvalidAmount(
            "batch size", n, f"an integer from {BATCH_ADD_MIN} to {BATCH_ADD_MAX}"
        )
    return math.ceil(n / 2)


def cancel_batch_penalty(ages: Iterable[float]) -> int:
    """Penalty of a CancelOrderBatch: the sum of each order's cancel penalty."""
    return sum(penalty(Transaction.CANCEL, a) for a in ages)


def next_cheaper_age(transaction: Transaction | str, age: float) -> float | None:
    """The age (seconds) at which the penalty first drops below its value at ``age``.

    ``None`` when no later age is cheaper.  Used by non-urgent cancels that may wait for
    the next bucket rather than pay the expensive one.
    """
    table = _table(transaction)
    table.at(age)  # validates ``age``
    # the edges above ``age`` are AGE_EDGES[i:], i = its bucket: the answer is the bucket's
    return _NEXT_CHEAPER[transaction][bisect.bisect_right(AGE_EDGES, age)]


def _cheaper_edges(table: AgePenalty) -> tuple[float | None, ...]:
    """Per bucket ``i`` of :data:`AGE_EDGES`: the first edge above it with a lower
    penalty than the bucket's (None: none)."""
    out: list[float | None] = []
    for i in range(len(AGE_EDGES) + 1):
        cost = table.fixed + table.by_age[i]
        out.append(next((e for e in AGE_EDGES[i:] if table.at(e) < cost), None))
    return tuple(out)


_NEXT_CHEAPER: dict[str, tuple[float | None, ...]] = {
    name: _cheaper_edges(table) for name, table in _BY_NAME.items()
}
