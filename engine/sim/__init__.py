"""The simulated Kraken exchange: an independent referee for backtests.

* :class:`SimulatedKraken` (:mod:`engine.sim.exchange`): Kraken's REST API, rate limits and
  matching engine, synchronous, time passed in.
* :class:`SimulatedVenue`, :class:`MarketDriver` (:mod:`engine.sim.venue`): the exchange
  behind the :class:`~engine.venue.Venue` interface, with network latency and jitter on a
  clock, and its time kept moving.
* Events (:mod:`engine.sim.events`), price paths (:mod:`engine.sim.prices`), statistics
  (:mod:`engine.sim.stats`); :class:`InvalidSimSetting` (:mod:`engine.sim.errors`) for bad
  constructor arguments.

The referee shares only constant tables with ``limiters`` (tiers, penalties, costs); its
counters (:mod:`engine.sim.counters`) and all its bookkeeping are its own.
"""

from engine.sim.counters import TickCounter
from engine.sim.errors import InvalidSimSetting
from engine.sim.events import CancelReason, Event, OrderCancelled, OrderFilled, PriceTick
from engine.sim.exchange import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_PROCESSING_TIME,
    ENDPOINTS,
    SimulatedKraken,
)
from engine.sim.prices import (
    BadTradeRow,
    PricePath,
    RandomWalk,
    Trade,
    load_trades_csv,
    parse_trades,
    trade_path,
)
from engine.sim.stats import ExchangeStats
from engine.sim.venue import MarketDriver, SimulatedVenue, drive_market

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
    "SimulatedVenue",
    "TickCounter",
    "Trade",
    "drive_market",
    "load_trades_csv",
    "parse_trades",
    "trade_path",
]
