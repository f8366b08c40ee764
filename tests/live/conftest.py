"""Fixtures for the live-venue tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.venues.kraken_rest.credentials import Credentials

from .support import LEAK_KEY, LEAK_SECRET, leaked


@pytest.fixture
def creds() -> Credentials:
    return Credentials(LEAK_KEY, LEAK_SECRET)


@pytest.fixture
def no_secret() -> Callable[[str], None]:
    """A check that fails (without printing the secret) if ``text`` contains it."""

    def check(text: str) -> None:
        if leaked(text):
            pytest.fail("the API secret leaked into the checked text", pytrace=False)

    return check


@pytest.fixture(autouse=True)
def _fresh_structlog(fresh_structlog: None) -> None:
    """Every test here starts from structlog's defaults (see ``tests/conftest.py``)."""



#: A nonce window (in the live venue's millisecond nonces) for the keys of the live tests'
#: servers.  The server now models arrival jitter per connection, so requests written in
#: nonce order on different pooled connections can arrive out of order, as on Kraken;
#: the live venue still writes private requests concurrently (one request on the wire per
#: key is issue 11), so its keys here declare a nonce window, as a Kraken key can.
LIVE_NONCE_WINDOW = 5_000


@pytest.fixture
def start_server(start_server: Callable[..., Any]) -> Callable[..., Any]:
    """The root ``start_server``, with :data:`LIVE_NONCE_WINDOW` unless a test sets one."""

    async def start(**options: Any) -> Any:
        exchange_options = dict(options.pop("exchange_options", {}))
        exchange_options.setdefault("nonce_window", LIVE_NONCE_WINDOW)
        return await start_server(exchange_options=exchange_options, **options)

    return start
