"""Fixtures for the live-venue tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import structlog

from engine.live.credentials import Credentials
from engine.server import DEMO_KEY, DEMO_SECRET, ExchangeServer, serve

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


@pytest.fixture
async def start_server() -> AsyncIterator[Callable[..., Awaitable[ExchangeServer]]]:
    """``await start_server(**ServerConfig fields)``: a simulated exchange on 127.0.0.1
    (port 0) accepting the demo key, stopped at the end of the test."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> ExchangeServer:
            keys = options.pop("keys", {DEMO_KEY: DEMO_SECRET})
            faults = options.pop("faults", None)
            return await stack.enter_async_context(serve(keys=keys, faults=faults, **options))

        yield start


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Each test starts from structlog's defaults (another test may have configured it
    for the process, e.g. through ``cli.main``), and leaves it as it found it."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)
