"""The scheduling core: the :class:`Engine` over its collaborators -- intake (checks and
coalescing), queues, order book, budget (counters, cancel reserve, in-flight cap; in memory
or in another process), fences, the scheduler (one pump pass), verdicts (reply ->
decision), settlement (what replies do to orders) and the key pool (nonces and wire
slots per API key).  Imports nothing from the venues'
implementations, the exchange or the run loop."""

from engine.core.book import AddFate, OrderBook
from engine.core.budget import Budget, BudgetAnswer, Charge, Done, MemoryBudget
from engine.core.coalescing import Fold, Resolution, coalesce
from engine.core.engine import Engine
from engine.core.fences import Fences
from engine.core.inflight import InflightCap
from engine.core.keys import KeyPool, LocalWire, NoKeysLeft, NonceSource, PoolKey, WireSlot
from engine.core.metrics import Decision, MetricsSnapshot, PairStats
from engine.core.observer import NullObserver, Observer, Outgoing
from engine.core.orders import LIVE_STATES, OrderRecord, OrderState, OrderView
from engine.core.queues import Queues
from engine.core.settings import EngineSettings
from engine.core.verdicts import Action, Effect, Verdict, judge

__all__ = [
    "LIVE_STATES",
    "Action",
    "AddFate",
    "Budget",
    "BudgetAnswer",
    "Charge",
    "Decision",
    "Done",
    "Effect",
    "Engine",
    "EngineSettings",
    "Fences",
    "Fold",
    "InflightCap",
    "KeyPool",
    "LocalWire",
    "MemoryBudget",
    "MetricsSnapshot",
    "NoKeysLeft",
    "NonceSource",
    "NullObserver",
    "Observer",
    "OrderBook",
    "OrderRecord",
    "OrderState",
    "OrderView",
    "Outgoing",
    "PairStats",
    "PoolKey",
    "Queues",
    "Resolution",
    "Verdict",
    "WireSlot",
    "coalesce",
    "judge",
]
