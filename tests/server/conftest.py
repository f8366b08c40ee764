"""Fixtures for the server tests: a simulated exchange on 127.0.0.1, port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import structlog

from engine.server import DEMO_KEY, DEMO_SECRET, ExchangeServer, serve

Start = Callable[..., Awaitable[ExchangeServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[Start]:
    """``await start_server(**ServerConfig fields)``: a running server, stopped at the end."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> ExchangeServer:
            options.setdefault("keys", {DEMO_KEY: DEMO_SECRET})
            keys = options.pop("keys")
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
