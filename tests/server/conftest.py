"""Server tests: ``start_server`` comes from ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from engine.exchange.server import ExchangeServer

Start = Callable[..., Awaitable[ExchangeServer]]


