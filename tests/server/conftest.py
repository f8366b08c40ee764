"""Server tests: structlog reset per test; ``start_server`` comes from ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from engine.exchange.server import ExchangeServer

Start = Callable[..., Awaitable[ExchangeServer]]


@pytest.fixture(autouse=True)
def _fresh_structlog(fresh_structlog: None) -> None:
    """Every test here starts from structlog's defaults (see ``tests/conftest.py``)."""

