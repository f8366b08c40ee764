"""orderpace's engine: intents, the scheduler, clocks and venues.

``Engine`` queues intents per pair and sends each at the earliest moment the rate limits
allow; venues (``engine.venues``: simulated, Kraken REST) carry the requests;
clocks (``RealClock``, ``VirtualClock``) give time and timers.

The names below are loaded on first use (PEP 562), so that importing one sub-package --
``engine.exchange``, the simulated exchange, say -- does not load the engine's core, its
venues or ``limiters`` with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Public name -> the module that defines it.
_WHERE: dict[str, str] = {
    "Clock": "engine.clock",
    "RealClock": "engine.clock",
    "VirtualClock": "engine.clock",
    "VirtualTimeDeadlock": "engine.clock",
    "Engine": "engine.core.engine",
    "Decision": "engine.core.metrics",
    "MetricsSnapshot": "engine.core.metrics",
    "OrderState": "engine.core.orders",
    "OrderView": "engine.core.orders",
    "EngineSettings": "engine.core.settings",
    "EngineClosed": "engine.errors",
    "EngineError": "engine.errors",
    "EngineLocked": "engine.errors",
    "InvalidIntent": "engine.errors",
    "QueueFull": "engine.errors",
    "UnknownOrder": "engine.errors",
    "AddOrder": "engine.intents",
    "AddOrderBatch": "engine.intents",
    "AmendOrder": "engine.intents",
    "CancelAll": "engine.intents",
    "CancelAllOrdersAfter": "engine.intents",
    "CancelOrder": "engine.intents",
    "CancelOrderBatch": "engine.intents",
    "EditOrder": "engine.intents",
    "Intent": "engine.intents",
    "OrderType": "engine.intents",
    "QueryBalance": "engine.intents",
    "QueryClosedOrders": "engine.intents",
    "QueryOpenOrders": "engine.intents",
    "QueryOrders": "engine.intents",
    "Side": "engine.intents",
    "TimeInForce": "engine.intents",
    "DEFAULT_MARKETS": "engine.markets",
    "Market": "engine.markets",
    "Markets": "engine.markets",
    "UnknownPair": "engine.markets",
    "Handle": "engine.outcomes",
    "Outcome": "engine.outcomes",
    "Status": "engine.outcomes",
    "Reply": "engine.venues.base",
    "TransportError": "engine.venues.base",
    "Venue": "engine.venues.base",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
