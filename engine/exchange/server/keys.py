"""API keys the simulated exchange accepts.

Without configuration it accepts one documented demo pair, :data:`DEMO_KEY` and
:data:`DEMO_SECRET`: they unlock nothing but this local simulator, so printing them is
fine (``orderpace simulate-exchange`` prints them at start, so a client can be pointed at
it).  Other pairs come from ``--key``/``--secret`` or the environment variables
:data:`KEY_VAR` and :data:`SECRET_VAR`; those secrets are never printed or logged, and a
bad one raises :class:`InvalidServerKey` without showing it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence

from engine.exchange.server.signing import secret_is_valid

__all__ = [
    "DEMO_KEY",
    "DEMO_SECRET",
    "KEY_VAR",
    "SECRET_VAR",
    "InvalidServerKey",
    "ServerKeys",
    "server_keys",
]

#: The demo API key (public: it only works against this local simulator).
DEMO_KEY = "orderpace-demo-key"
#: The demo API secret (base64, as Kraken issues secrets; public like :data:`DEMO_KEY`).
DEMO_SECRET = base64.b64encode(
    b"orderpace simulated exchange demo secret -- not a real Kraken secret"
).decode()

KEY_VAR = "ORDERPACE_SIM_API_KEY"
SECRET_VAR = "ORDERPACE_SIM_API_SECRET"


class InvalidServerKey(ValueError):
    """A key pair the server cannot accept (the message never shows the secret)."""


class ServerKeys:
    """Key -> secret pairs, and whether they are the demo pair (safe to print)."""

    __slots__ = ("demo", "pairs")

    def __init__(self, pairs: Mapping[str, str], *, demo: bool) -> None:
        self.pairs = dict(pairs)
        self.demo = demo

    def __repr__(self) -> str:
        shown = ", ".join(k[:4] + "..." for k in self.pairs)
        return f"ServerKeys({shown}, demo={self.demo})"


def _check(key: str, secret: str) -> None:
    if not key or not key.isprintable() or any(c.isspace() for c in key):
        raise InvalidServerKey("API key is empty or contains whitespace or control characters")
    if not secret_is_valid(secret):
        raise InvalidServerKey("API secret is not valid base64")


def server_keys(
    key: str | Sequence[str] | None = None, secret: str | Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerKeys:
    """The keys to accept: ``key``/``secret`` if given (one pair, or lists paired in order:
    several keys of one account), else the environment, else the demo.

    Raises :class:`InvalidServerKey` (never showing a secret) when only one half of a pair
    is given or a pair is malformed.
    """
    env = os.environ if environ is None else environ
    keys = [key] if isinstance(key, str) else list(key or ())
    secrets = [secret] if isinstance(secret, str) else list(secret or ())
    if not keys and not secrets:
        keys = [k for k in (env.get(KEY_VAR),) if k]
        secrets = [s for s in (env.get(SECRET_VAR),) if s]
        where = f"{KEY_VAR} and {SECRET_VAR}"
    else:
        where = "--key and --secret"
    if not keys and not secrets:
        return ServerKeys({DEMO_KEY: DEMO_SECRET}, demo=True)
    if len(keys) != len(secrets):
        raise InvalidServerKey(f"give both {where} for each key, or neither (to use the "
                               f"demo key): got {len(keys)} key(s), {len(secrets)} secret(s)")
    pairs: dict[str, str] = {}
    for k, sec in zip(keys, secrets, strict=True):
        k, sec = k.strip(), sec.strip()
        _check(k, sec)
        if k in pairs:
            raise InvalidServerKey(f"API key {k[:4]}... is given twice")
        pairs[k] = sec
    return ServerKeys(pairs, demo=False)
