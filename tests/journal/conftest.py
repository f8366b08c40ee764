"""Fixtures for the journal tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_structlog(fresh_structlog: None) -> None:
    """Every test starts from structlog's defaults (``cli.main`` configures it for the
    process; see ``tests/conftest.py``)."""
