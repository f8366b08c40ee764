"""``orderpace live``'s key options: a pool of keys, and their Kraken nonce window.

* ``--credentials-file FILE``: one or more ``KRAKEN_API_KEY=`` / ``KRAKEN_API_SECRET=``
  line pairs, one pair per key of the account (owner-only file);
* without it, the environment: ``KRAKEN_API_KEY`` / ``KRAKEN_API_SECRET``, then
  ``KRAKEN_API_KEY_2`` / ``KRAKEN_API_SECRET_2``, ``_3``... for more keys;
* ``--nonce-window N``: the nonce window set on the keys at Kraken (nonce units: the
  engine's nonces are milliseconds); 0 (default): none -- one private request per key on
  the wire at a time.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from engine.cli import UsageError
from engine.venues.kraken_rest.credentials import Credentials, CredentialsError

__all__ = ["add_arguments", "load_keys", "nonce_window", "render_fills"]


def nonce_window(text: str) -> int:
    """``--nonce-window``'s value: a whole number >= 0."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``--nonce-window`` to ``p`` (``--credentials-file`` is ``live``'s own)."""
    p.add_argument("--nonce-window", type=nonce_window, default=0, metavar="N",
                   help="the nonce window set on the API key(s) at Kraken, in nonce units "
                        "(milliseconds); 0 (default): none, so one private request per key "
                        "is on the wire at a time")


def load_keys(path: str | None) -> tuple[Credentials, ...]:
    """The keys from ``path`` or the environment; :class:`UsageError` (exit 2) if absent."""
    try:
        if path is not None:
            return Credentials.pool_from_file(path)
        return Credentials.pool_from_env()
    except CredentialsError as e:
        hint = "" if path is not None else (
            "; set them, or pass --credentials-file FILE (for a local simulate-exchange, "
            "use the demo key it prints)"
        )
        raise UsageError(f"no usable API credentials: {e}{hint}") from None


def render_fills(fills: Mapping[str, Mapping[str, Any]]) -> str:
    """The summary's line of fills reported by the exchange, per pair (count, volume)."""
    if not fills:
        return "fills (from the exchange): none"
    parts = [f"{pair} {f['count']} ({f['volume']})" for pair, f in sorted(fills.items())]
    return "fills (from the exchange): " + ", ".join(parts)
