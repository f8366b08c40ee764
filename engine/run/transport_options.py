"""How a live run reaches the exchange: the transport for orders, the WebSocket URL, and the
dead-man switch (``orderpace live --transport rest|ws --ws-url URL --dead-man SECONDS``).

* ``rest`` (the default): orders over REST, order state from the OpenOrders poller.
* ``ws``: orders over Kraken WebSocket v2, order state from the ``executions`` feed (the
  poller is off); see :mod:`engine.run.live_ws`.
* ``ws_url``: default :data:`DEFAULT_WS_URL` against Kraken; against any other base URL
  (a loopback ``simulate-exchange``) ``ws://host:port/v2`` is derived from it
  (``https`` -> ``wss``) unless given.
* ``dead_man``: seconds of Kraken's ``CancelAllOrdersAfter`` countdown, refreshed every
  quarter of it during the run on either transport; 0 turns it off.  Kraken fires it at
  most 86400 s ahead.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

import attrs

__all__ = [
    "DEFAULT_DEAD_MAN",
    "DEFAULT_WS_URL",
    "TRANSPORTS",
    "TransportOptions",
    "add_arguments",
    "options_from_args",
    "ws_url_for",
]

#: Kraken's authenticated WebSocket v2 endpoint.
DEFAULT_WS_URL = "wss://ws-auth.kraken.com/v2"
#: The dead-man countdown by default (seconds; Kraken suggests 60, refreshed every 15-30 s).
DEFAULT_DEAD_MAN = 60
#: The longest countdown Kraken accepts (seconds).
_DEAD_MAN_MAX = 86_400
TRANSPORTS = ("rest", "ws")
_KRAKEN_REST_HOST = "api.kraken.com"


def _transport(_i: object, _a: object, value: str) -> None:
    if value not in TRANSPORTS:
        raise ValueError(f"transport must be 'rest' or 'ws', got {value!r}")


def _dead_man(_i: object, _a: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _DEAD_MAN_MAX:
        raise ValueError(f"dead_man must be whole seconds from 0 to {_DEAD_MAN_MAX}, "
                         f"got {value!r}")


def _ws_url(_i: object, _a: object, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"ws_url must be ws:// or wss:// with a host, got {value!r}")
    if parts.username or parts.password:
        raise ValueError("ws_url must not contain a user name or password")


@attrs.frozen(slots=True)
class TransportOptions:
    """The transport (``rest``/``ws``), the WebSocket URL (None: derived, see
    :func:`ws_url_for`) and the dead-man countdown (whole seconds, 0: off)."""

    transport: str = attrs.field(default="rest", validator=_transport)
    ws_url: str | None = attrs.field(default=None, validator=_ws_url)
    dead_man: int = attrs.field(default=DEFAULT_DEAD_MAN, validator=_dead_man)

    @property
    def refresh(self) -> float:
        """Seconds between dead-man refreshes: a quarter of the countdown."""
        return self.dead_man / 4.0


def ws_url_for(base_url: str, ws_url: str | None) -> str:
    """The WebSocket URL to use with REST ``base_url``: ``ws_url`` when given; Kraken's for
    Kraken; else the same host and port at ``/v2`` (``http`` -> ``ws``, ``https`` ->
    ``wss``)."""
    if ws_url is not None:
        return ws_url
    parts = urlsplit(base_url)
    if parts.hostname in (None, _KRAKEN_REST_HOST):
        return DEFAULT_WS_URL
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/v2"


def _whole_seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    if not 0 <= value <= _DEAD_MAN_MAX:
        raise argparse.ArgumentTypeError(f"expected 0 to {_DEAD_MAN_MAX} seconds, got {value}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--transport``, ``--ws-url`` and ``--dead-man`` on ``orderpace live``."""
    p.add_argument("--transport", choices=TRANSPORTS, default="rest",
                   help="send orders over REST (default) or WebSocket v2 (orders and the "
                        "executions feed; the OpenOrders poller is then off)")
    p.add_argument("--ws-url", default=None, metavar="URL",
                   help=f"WebSocket v2 URL (default {DEFAULT_WS_URL}; against another "
                        "--base-url, ws://HOST:PORT/v2 of it)")
    p.add_argument("--dead-man", type=_whole_seconds, default=DEFAULT_DEAD_MAN,
                   metavar="SECONDS",
                   help=f"dead-man switch: the exchange cancels every order if the run "
                        f"stops refreshing it for this long (default {DEFAULT_DEAD_MAN}; "
                        "refreshed every quarter of it; 0 turns it off)")


def options_from_args(args: argparse.Namespace) -> TransportOptions:
    """The options ``add_arguments`` parsed (ValueError for a bad ``--ws-url``)."""
    return TransportOptions(transport=getattr(args, "transport", "rest"),
                            ws_url=getattr(args, "ws_url", None),
                            dead_man=getattr(args, "dead_man", DEFAULT_DEAD_MAN))
