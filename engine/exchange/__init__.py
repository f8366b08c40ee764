"""The simulated Kraken exchange: the independent referee for backtests, and its loopback
server (:mod:`engine.exchange.server`).

* :class:`SimulatedKraken` (:mod:`engine.exchange.exchange`): Kraken's REST API, rate limits
  and matching engine, synchronous, time passed in.
* Its own reading of the rules, shared with nothing it referees: tiers
  (:mod:`~engine.exchange.tiers`), penalties and age buckets
  (:mod:`~engine.exchange.penalties`), API costs (:mod:`~engine.exchange.costs`), error
  strings (:mod:`~engine.exchange.replies`), markets and assets
  (:mod:`~engine.exchange.markets`), time formats (:mod:`~engine.exchange.times`), and its
  own decaying counter (:mod:`~engine.exchange.counters`).
* What it does to a misbehaving client: lockouts (:mod:`~engine.exchange.lockout`) and the
  per-IP public limit (:mod:`~engine.exchange.public_limit`).
* Events (:mod:`~engine.exchange.events`), price paths (:mod:`~engine.exchange.prices`),
  statistics (:mod:`~engine.exchange.stats`), the market driver
  (:mod:`~engine.exchange.driver`); :class:`InvalidSimSetting` for bad settings.

It imports nothing from ``limiters``, the engine's core, the venues or the client-side
helpers (a test checks it in a fresh interpreter): a bug in the engine's reading of the
rules cannot hide by being shared.
"""

from engine.exchange.counters import TickCounter
from engine.exchange.driver import MarketDriver, Timebase, drive_market
from engine.exchange.errors import InvalidSimSetting
from engine.exchange.events import CancelReason, Event, OrderCancelled, OrderFilled, PriceTick
from engine.exchange.exchange import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_PROCESSING_TIME,
    ENDPOINTS,
    MAX_SETTING_SECONDS,
    PUBLIC_ENDPOINTS,
    SimulatedKraken,
)
from engine.exchange.lockout import DEFAULT_LOCKOUT_AFTER, DEFAULT_LOCKOUT_SECONDS
from engine.exchange.markets import DEFAULT_MARKETS, ExchangeMarket, ExchangeMarkets
from engine.exchange.matching import DEFAULT_SPREAD_TICKS
from engine.exchange.prices import (
    BadTradeRow,
    PricePath,
    RandomWalk,
    Trade,
    load_trades_csv,
    parse_trades,
    trade_path,
)
from engine.exchange.public_limit import DEFAULT_PUBLIC_BURST, DEFAULT_PUBLIC_RATE
from engine.exchange.stats import ExchangeStats
from engine.exchange.tiers import TIERS, TierRules, UnknownTierName, tier_rules

__all__ = [
    "DEFAULT_LOCKOUT_AFTER",
    "DEFAULT_LOCKOUT_SECONDS",
    "DEFAULT_MARKETS",
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_PROCESSING_TIME",
    "DEFAULT_PUBLIC_BURST",
    "DEFAULT_PUBLIC_RATE",
    "DEFAULT_SPREAD_TICKS",
    "ENDPOINTS",
    "MAX_SETTING_SECONDS",
    "PUBLIC_ENDPOINTS",
    "TIERS",
    "BadTradeRow",
    "CancelReason",
    "Event",
    "ExchangeMarket",
    "ExchangeMarkets",
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
    "TierRules",
    "Timebase",
    "Trade",
    "UnknownTierName",
    "drive_market",
    "load_trades_csv",
    "parse_trades",
    "tier_rules",
    "trade_path",
]
