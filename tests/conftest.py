"""Shared test set-up.

* Hypothesis profiles: ``default`` (fast), ``ci`` (heavier, derandomized) and ``explore``
  (a long random hunt), picked by HYPOTHESIS_PROFILE.
* ``start_server``: a simulated exchange served on 127.0.0.1 (port 0), stopped after the test.
* ``fresh_structlog`` (every test): structlog's defaults, its configuration restored after.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import structlog
from hypothesis import settings

from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer, serve

settings.register_profile("default", max_examples=50, deadline=None)
# CI: heavier, and derandomized so a red run always reproduces (and never turns on a case no
# one has seen); ``explore`` is the random hunt for new cases, run by hand.
settings.register_profile("ci", max_examples=400, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

Start = Callable[..., Awaitable[ExchangeServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[Start]:
    """``await start_server(**ServerConfig fields)``: a simulated exchange on 127.0.0.1
    (port 0) accepting the demo key unless ``keys`` is given, stopped at the end."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> ExchangeServer:
            keys = options.pop("keys", {DEMO_KEY: DEMO_SECRET})
            faults = options.pop("faults", None)
            return await stack.enter_async_context(serve(keys=keys, faults=faults, **options))

        yield start


@pytest.fixture(autouse=True, scope="session")
def _state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``orderpace live`` keeps its journal under ``$XDG_STATE_HOME``: tests (and the
    subprocesses they start) use a directory of their own, never the user's."""
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if saved is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = saved


@pytest.fixture(autouse=True)
def fresh_structlog() -> Iterator[None]:
    """Every test starts from structlog's defaults (another test may have configured it for
    the process, e.g. through ``cli.main``, with a stream that is closed by now), and leaves
    it as it found it."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)
