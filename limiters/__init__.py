"""Pure rate-limit arithmetic: decaying counters, Kraken's tables, counter stores.

Nothing in this package does I/O, touches asyncio or reads a clock: every function takes
``now`` in seconds.  See the README's "Rate model" section for a walk-through.
"""

from limiters.costs import (
    API_COSTS,
    ORDER_ENDPOINTS,
    PUBLIC_ENDPOINTS,
    PUBLIC_RATE_PER_SECOND,
    api_cost,
    is_public,
)
from limiters.counter import EPSILON, ChargeResult, CounterSpec, CounterState
from limiters.errors import (
    CostExceedsCapacity,
    InvalidAmount,
    LimiterError,
    UnknownEndpoint,
    UnknownTier,
    UnknownTransaction,
    check_amount,
)
from limiters.limiter import Counter
from limiters.penalties import (
    AGE_EDGES,
    BATCH_ADD_MAX,
    BATCH_ADD_MIN,
    BATCH_CANCEL_MAX,
    PENALTIES,
    AgePenalty,
    Transaction,
    add_batch_penalty,
    add_penalty,
    cancel_batch_penalty,
    next_cheaper_age,
    penalty,
)
from limiters.profile import KrakenProfile, LimiterSettings
from limiters.store import CounterStore, MemoryStore
from limiters.tiers import KRAKEN_TIERS, Tier, TierLimits, tier_limits

__all__ = [
    "AGE_EDGES",
    "API_COSTS",
    "BATCH_ADD_MAX",
    "BATCH_ADD_MIN",
    "BATCH_CANCEL_MAX",
    "EPSILON",
    "KRAKEN_TIERS",
    "ORDER_ENDPOINTS",
    "PENALTIES",
    "PUBLIC_ENDPOINTS",
    "PUBLIC_RATE_PER_SECOND",
    "AgePenalty",
    "ChargeResult",
    "CostExceedsCapacity",
    "Counter",
    "CounterSpec",
    "CounterState",
    "CounterStore",
    "InvalidAmount",
    "KrakenProfile",
    "LimiterError",
    "LimiterSettings",
    "MemoryStore",
    "Tier",
    "TierLimits",
    "Transaction",
    "UnknownEndpoint",
    "UnknownTier",
    "UnknownTransaction",
    "add_batch_penalty",
    "add_penalty",
    "api_cost",
    "cancel_batch_penalty",
    "check_amount",
    "is_public",
    "next_cheaper_age",
    "penalty",
    "tier_limits",
]
