"""The simulated Kraken exchange: an independent referee for backtests.

* :class:`SimulatedKraken` (:mod:`engine.exchange.exchange`): Kraken's REST API, rate limits and
  matching engine, synchronous, time passed in.
* Events (:mod:`engine.exchange.events`), price paths (:mod:`engine.exchange.prices`), statistics
  (:mod:`engine.exchange.stats`); :class:`InvalidSimSetting` (:mod:`engine.exchange.errors`) for bad
  constructor arguments.

The referee shares only constant tables with ``limiters`` (tiers, penalties, costs); its
counters (:mod:`engine.exchange.counters`) and all its bookkeeping are its own.
"""

from engine.exchange.counters import TickCounter
from engine.exchange.driver import MarketDriver, Timebase, drive_market
from engine.exchange.errors import InvalidSimSetting
from engine.exchange.events import CancelReason, Event, OrderCancelled, OrderFilled, PriceTick
from engine.exchange.exchange import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_PROCESSING_TIME,
    ENDPOINTS,
    SimulatedKraken,
)
from engine.exchange.prices import (
    BadTradeRow,
    PricePath,
    RandomWalk,
    Trade,
    load_trades_csv,
    parse_trades,
    trade_path,
)
from engine.exchange.stats import ExchangeStats

__all__ = [
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_PROCESSING_TIME",
    "ENDPOINTS",
    "BadTradeRow",
    "CancelReason",
    "Event",
    "ExchangeStats",
    "InvalidSimSetting",
    "MarketDriver",
    "OrderCancelled",
    "OrderFilled",
    "PricePath",
    "PriceTick",
    "RandomWalk",
    "SimulatedKraken",
    "TickCounter",
    "Timebase",
    "Trade",
    "drive_market",
    "load_trades_csv",
    "parse_trades",
    "trade_path",
]
