"""Fixtures for the live-venue tests."""

from __future__ import annotations

from collections.abc import Callable

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

