"""Log output for live runs: human-readable on a terminal, JSON lines otherwise.

:func:`configure_live_logging` points structlog at ``stream`` with a timestamp (UTC, ISO
8601) and the level on every event; :class:`Redact` masks given secrets in every string
value as a last line of defence (nothing is supposed to log them in the first place).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

__all__ = ["Redact", "configure_live_logging"]


class Redact:
    """A structlog processor replacing each of ``secrets`` (8+ characters) with ``***``."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str]) -> None:
        found: set[str] = set()
        for s in secrets:
            if len(s) >= 8:
                found.add(s)
                if s.rstrip("=") != s:
                    found.add(s.rstrip("="))
        self._secrets = sorted(found, key=len, reverse=True)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for s in self._secrets:
                if s in value:
                    value = value.replace(s, "***")
            return value
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        return value

    def __call__(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if self._secrets:
            for key, value in list(event.items()):
                event[key] = self._clean(value)
        return event


def configure_live_logging(
    stream: TextIO,
    *,
    level: int = logging.INFO,
    json_lines: bool | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Send structlog events at ``level`` or above to ``stream``.

    ``json_lines``: one JSON object per line (True), a human console format (False), or by
    whether ``stream`` is a terminal (None: human on a TTY, JSON otherwise).
    """
    human = stream.isatty() if json_lines is None else not json_lines
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False) if human
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            Redact(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
