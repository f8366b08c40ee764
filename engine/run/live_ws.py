"""What the transport choice and the dead-man switch add to a live run (``orderpace live
--transport rest|ws --dead-man SECONDS``); :mod:`engine.run.live` calls the hooks.

:class:`LiveTransport`:

* :meth:`venue` -- what the :class:`~engine.venues.kraken_rest.recovery.RecoveringVenue`
  wraps: the REST venue itself, or (``ws``) a :class:`~engine.venues.kraken_ws.venue.
  KrakenWsVenue` over it (orders over WebSocket v2, the rest over REST);
* :meth:`start` -- once the engine exists and the key is checked: (``ws``) the pairs' v2
  symbols, the token pacing on the engine's API counter, the costs of requests on the
  wire, the :class:`~engine.run.executions.ExecutionsRouter` as the feed's listener and a
  one-shot OpenOrders reconcile after each reconnect; then the connection (a refused token
  or an unreachable URL is a :class:`LiveError`); then, on either transport, the
  :class:`~engine.run.deadman.DeadManSwitch` is armed (``dead_man`` > 0, not in a dry run);
* :attr:`feed_on` -- the executions feed replaces the OpenOrders poller;
* :meth:`stop` -- after the exit cancels: the dead-man switch disarmed;
* :meth:`details` -- for the summary: the transport, the feed's and the switch's figures,
  ``poll_units_saved`` (the poller's 2 API units per ``poll_interval`` the run did not
  spend: ``2 * floor(seconds / poll_interval)``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from websockets.exceptions import WebSocketException

from engine.markets import Markets
from engine.run.deadman import DeadManSwitch
from engine.run.executions import ExecutionsRouter, trading_costs
from engine.run.live_config import LiveConfig, LiveError
from engine.run.loop import RunLoop
from engine.run.transport_options import TransportOptions, ws_url_for
from engine.venues.base import TransportError, Venue
from engine.venues.kraken_rest.poller import ClosedOrder, OrderPoller
from engine.venues.kraken_rest.recovery import LookupPacer
from engine.venues.kraken_ws.protocol import Symbols
from engine.venues.kraken_ws.venue import KrakenWsVenue, TokenRefused, WsSettings

if TYPE_CHECKING:
    from engine.core.engine import Engine

__all__ = ["LiveTransport", "symbols_for"]

_log = structlog.get_logger("orderpace.live")

#: API units of one OpenOrders poll.
_POLL_UNITS = 2


def symbols_for(markets: Markets) -> Symbols:
    """v2 symbols for the run's pairs (every name each goes by)."""
    return Symbols((m.name, m.names) for m in markets)


class LiveTransport:
    """The transport and dead-man hooks of one live run (module docstring)."""

    def __init__(self, options: TransportOptions, base_url: str, *, dry_run: bool = False,
                 ws_settings: WsSettings | None = None) -> None:
        self.options = options
        self.ws_url = ws_url_for(base_url, options.ws_url)
        self.dry_run = dry_run
        self.ws_settings = ws_settings
        self.ws: KrakenWsVenue | None = None
        self.router: ExecutionsRouter | None = None
        self.deadman: DeadManSwitch | None = None
        self.reconcile_polls = 0
        self._symbols = Symbols(())
        self._reconciles: set[asyncio.Task[None]] = set()

    @classmethod
    def for_config(cls, config: LiveConfig) -> LiveTransport:
        """The hooks for ``config`` (WebSocket replies awaited ``config.timeout`` s)."""
        return cls(config.transport, config.base_url, dry_run=config.dry_run,
                   ws_settings=WsSettings(reply_timeout=config.timeout))

    def venue(self, rest: Venue) -> Venue:
        """The venue the recovery wraps (see the module docstring)."""
        if self.options.transport != "ws":
            return rest
        self.ws = KrakenWsVenue(rest, self.ws_url, settings=self.ws_settings,
                                dry_run=self.dry_run)
        return self.ws

    @property
    def feed_on(self) -> bool:
        return self.ws is not None

    async def start(self, engine: Engine, loop: RunLoop, markets: Markets, pacer: LookupPacer,
                    on_gone: Callable[[ClosedOrder], None]) -> None:
        """Connect (``ws``) and arm the dead-man switch; :class:`LiveError` when the
        WebSocket cannot be used."""
        ws = self.ws
        if ws is not None:
            self._symbols = symbols_for(markets)
            ws.symbols = self._symbols
            ws.pace = pacer
            ws.cost_of = trading_costs(engine)
            self.router = ExecutionsRouter(engine, loop, lambda: self._symbols, ws.pending_cost,
                                          lambda: ws.calls)
            ws.listener = self.router.on_message
            ws.on_reconnect = lambda: self._reconcile(engine, on_gone)
            try:
                await ws.start()
            except TokenRefused as e:
                raise LiveError(f"the exchange refused a WebSocket token ({e.error}): the "
                                "key needs the 'WebSocket interface' permission; or use "
                                "--transport rest") from None
            except (TransportError, OSError, TimeoutError, WebSocketException) as e:
                raise LiveError(f"cannot connect to {self.ws_url}: "
                                f"{str(e)[:200] or type(e).__name__}") from None
        if self.options.dead_man > 0 and not self.dry_run:
            self.deadman = DeadManSwitch(engine, self.options.dead_man)
            await self.deadman.arm()

    def _reconcile(self, engine: Engine, on_gone: Callable[[ClosedOrder], None]) -> None:
        """After a reconnect: one OpenOrders poll finds orders that left the book while
        the feed was down (fills then reach the strategy through ``on_gone``)."""
        async def once() -> None:
            self.reconcile_polls += 1
            try:
                await OrderPoller(engine, on_closed=on_gone,
                                  strategy="orderpace.reconcile").poll_once()
            except Exception as e:  # closed or locked engine: nothing to reconcile
                _log.info("live.reconcile_skipped", why=str(e)[:200])

        task = asyncio.get_running_loop().create_task(once())
        self._reconciles.add(task)
        task.add_done_callback(self._reconciles.discard)

    async def stop(self) -> None:
        """After the exit cancels: the dead-man switch off."""
        for task in list(self._reconciles):
            task.cancel()
        if self.deadman is not None:
            await self.deadman.disarm()

    async def halt(self) -> None:
        """Stop refreshing the switch without disarming it (orders left on the book when
        the key is refused: the countdown then still pulls them)."""
        if self.deadman is not None:
            await self.deadman.stop()

    def extra_requests(self) -> dict[str, int]:
        """Requests made outside the engine: WebSocket tokens (over REST)."""
        return {"GetWebSocketsToken": self.ws.stats["tokens"]} if self.ws is not None else {}

    def details(self, seconds: float, poll_interval: float) -> dict[str, Any]:
        """The transport's figures for the summary's ``live`` object."""
        out: dict[str, Any] = {
            "transport": self.options.transport,
            "dead_man": self.deadman.details() if self.deadman is not None else None,
        }
        if self.ws is not None:
            out["ws_url"] = self.ws_url
            out["ws"] = dict(sorted(self.ws.stats.items()))
            out["feed"] = dict(sorted(self.router.stats.items())) if self.router else {}
            out["reconcile_polls"] = self.reconcile_polls
            out["poll_units_saved"] = _POLL_UNITS * math.floor(max(0.0, seconds) / poll_interval)
        return out
