"""orderpace's engine: intents, the scheduler, clocks and venues.

``Engine`` queues intents per pair and sends each at the earliest moment the rate limits
allow; venues (``engine.venues``: simulated, Kraken REST) carry the requests;
clocks (``RealClock``, ``VirtualClock``) give time and timers.
"""

from engine.clock import Clock, RealClock, VirtualClock, VirtualTimeDeadlock
from engine.core.engine import Engine
from engine.core.metrics import Decision, MetricsSnapshot
from engine.core.orders import OrderState, OrderView
from engine.core.settings import EngineSettings
from engine.errors import (
    EngineClosed,
    EngineError,
    EngineLocked,
    InvalidIntent,
    QueueFull,
    UnknownOrder,
)
from engine.intents import (
    AddOrder,
    AddOrderBatch,
    AmendOrder,
    CancelAll,
    CancelAllOrdersAfter,
    CancelOrder,
    CancelOrderBatch,
    EditOrder,
    Intent,
    OrderType,
    QueryBalance,
    QueryClosedOrders,
    QueryOpenOrders,
    QueryOrders,
    Side,
    TimeInForce,
)
from engine.markets import DEFAULT_MARKETS, Market, Markets, UnknownPair
from engine.outcomes import Handle, Outcome, Status
from engine.venues.base import Reply, TransportError, Venue

__all__ = [
    "DEFAULT_MARKETS",
    "AddOrder",
    "AddOrderBatch",
    "AmendOrder",
    "CancelAll",
    "CancelAllOrdersAfter",
    "CancelOrder",
    "CancelOrderBatch",
    "Clock",
    "Decision",
    "EditOrder",
    "Engine",
    "EngineClosed",
    "EngineError",
    "EngineLocked",
    "EngineSettings",
    "Handle",
    "Intent",
    "InvalidIntent",
    "Market",
    "Markets",
    "MetricsSnapshot",
    "OrderState",
    "OrderType",
    "OrderView",
    "Outcome",
    "QueryBalance",
    "QueryClosedOrders",
    "QueryOpenOrders",
    "QueryOrders",
    "QueueFull",
    "RealClock",
    "Reply",
    "Side",
    "Status",
    "TimeInForce",
    "TransportError",
    "UnknownOrder",
    "UnknownPair",
    "Venue",
    "VirtualClock",
    "VirtualTimeDeadlock",
]
