"""The scheduling core: the :class:`Engine` over its collaborators (queues, order book,
budget, fences, verdicts, coalescing).  Imports nothing from the venues, the exchange or the
run loop."""

from engine.core.engine import Engine
from engine.core.metrics import Decision, MetricsSnapshot, PairStats
from engine.core.settings import EngineSettings

__all__ = ["Decision", "Engine", "EngineSettings", "MetricsSnapshot", "PairStats"]
