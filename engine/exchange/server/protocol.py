"""uvicorn's HTTP/1.1 (h11) protocol, with what the simulated exchange needs on top:

* every connection is registered in the server's
  :class:`~engine.exchange.server.connections.ConnectionTable` when it opens (and can be
  dropped from the app: the ``drop-reply`` and ``hang`` faults), and forgotten when it
  closes;
* an **idle timeout**: a connection that sends nothing for ``idle_timeout`` seconds while
  none of its requests is being handled is closed -- a client that connects and stalls,
  or stops half-way through a request, no longer holds its socket for ever (uvicorn's own
  keep-alive timer only starts after a complete response);
* unparsable requests (answered 400 by uvicorn itself) are counted in the server's stats.

uvicorn builds one protocol object per connection from ``Config.http``; the server passes
a ``functools.partial`` of :class:`ExchangeProtocol` carrying these collaborators.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from engine.exchange.server.config import ServerStats
from engine.exchange.server.connections import Connection, ConnectionTable

__all__ = ["ExchangeProtocol"]


class ExchangeProtocol(H11Protocol):
    """One HTTP connection to the simulated exchange (see the module docstring)."""

    def __init__(self, *args: Any, table: ConnectionTable, stats: ServerStats,
                 idle_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._table = table
        self._stats = stats
        self._idle_timeout = idle_timeout
        self._idle: asyncio.TimerHandle | None = None
        self._conn: Connection | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._stats.connections += 1
        self._conn = self._table.open(self.client, transport.abort)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._conn is not None:
            self._table.close(self._conn)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._arm_idle()
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        self._stats.bad_requests += 1
        super().send_400_response(msg)

    def _arm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self.loop.call_later(self._idle_timeout, self._on_idle)

    def _busy(self) -> bool:
        """Whether a request of this connection is complete and being handled by the app."""
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete and not cycle.more_body

    def _on_idle(self) -> None:
        self._idle = None
        if self.transport.is_closing():
            return
        if self._busy():
            self._arm_idle()
            return
        self._stats.idle_closed += 1
        self.transport.close()
