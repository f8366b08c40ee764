"""Strategies: the plugin interface and the built-in strategies.

A strategy subclasses :class:`Strategy`, declares its parameters as an attrs class made
with :func:`param`, and acts through its :class:`StrategyContext` (``self.ctx``)::

    @attrs.frozen(slots=True)
    class PingParams:
        distance_bps: float = param(50.0, "bid this far below mid (bps)", gt=0)

    class Ping(Strategy[PingParams]):
        name = "ping"
        description = "one bid per pair, placed at the start"
        params_type = PingParams

        def start(self) -> None:
            for pair in self.ctx.pairs:
                mid = self.ctx.mid(pair)
                price = self.ctx.round_price(pair, mid * Decimal("0.995"), Side.BUY)
                volume = self.ctx.volume_for(pair, Decimal(100), mid)
                self.ctx.submit(self.ctx.limit_order(pair, Side.BUY, volume, price))

It is registered under the entry-point group ``orderpace.strategies``
(:data:`ENTRY_POINT_GROUP`) of its distribution::

    [project.entry-points."orderpace.strategies"]
    ping = "my_package.ping:Ping"

:func:`discover` finds every registered strategy; ``orderpace strategies`` lists them and
``orderpace backtest --strategy ping --set distance_bps=20`` runs one.  The built-ins are
``market-maker``, ``twap``, ``grid`` and ``burst``.
"""

from strategies.base import Fill, OrderEvent, OrderUpdate, Strategy, Tick
from strategies.context import OrderView, StrategyContext
from strategies.host import StrategyFailed, StrategyHost
from strategies.params import (
    InvalidParameter,
    NoParams,
    ParameterError,
    ParamInfo,
    UnknownParameter,
    describe_params,
    param,
    parse_params,
)
from strategies.registry import (
    BUILTIN_ENTRY_POINTS,
    ENTRY_POINT_GROUP,
    BrokenStrategy,
    Registry,
    StrategyError,
    StrategyInfo,
    UnknownStrategy,
    discover,
)

__all__ = [
    "BUILTIN_ENTRY_POINTS",
    "ENTRY_POINT_GROUP",
    "BrokenStrategy",
    "Fill",
    "InvalidParameter",
    "NoParams",
    "OrderEvent",
    "OrderUpdate",
    "OrderView",
    "ParamInfo",
    "ParameterError",
    "Registry",
    "Strategy",
    "StrategyContext",
    "StrategyError",
    "StrategyFailed",
    "StrategyHost",
    "StrategyInfo",
    "Tick",
    "UnknownParameter",
    "UnknownStrategy",
    "describe_params",
    "discover",
    "param",
    "parse_params",
]
