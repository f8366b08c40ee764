"""``--store`` and ``--account``: where the budget lives, checked before anything is sent.

* ``memory`` (the default): this process only (:class:`~engine.core.budget.MemoryBudget`);
* ``redis://[:password@]host[:port][/db]`` (or ``rediss://`` for TLS): shared by every
  process that names the same server, database and account.

:func:`parse_store` refuses a malformed URL with :class:`StoreConfigError` (a
``ValueError``: the CLI's exit 2), one line that never repeats a password.  An account
name is 1..64 letters, digits, ``_ . -`` (it becomes part of every key,
``orderpace:{account}:...``: the braces make Redis Cluster keep an account's keys on one
slot, so it may hold no braces or colons).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import attrs

__all__ = ["DEFAULT_ACCOUNT", "StoreConfigError", "StoreSpec", "check_account", "parse_store"]

DEFAULT_ACCOUNT = "default"
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class StoreConfigError(ValueError):
    """A malformed ``--store`` URL or ``--account`` name (one line, no password)."""


@attrs.frozen(slots=True)
class StoreSpec:
    """A parsed store: ``kind`` ``"memory"`` or ``"redis"``; for Redis the URL to connect
    to (``url``, may hold a password: never print it) and ``where`` (``host:port/db``,
    safe to print)."""

    kind: str = "memory"
    url: str = attrs.field(default="", repr=False)
    where: str = "memory"

    @property
    def shared(self) -> bool:
        return self.kind == "redis"


def check_account(name: str) -> str:
    """``name`` if it is a valid account name, else :class:`StoreConfigError`."""
    if not isinstance(name, str) or not _ACCOUNT.fullmatch(name):
        raise StoreConfigError(
            f"account {name!r}: use 1 to 64 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit)")
    return name


def parse_store(value: str | None) -> StoreSpec:
    """``memory`` or a Redis URL (see the module docstring)."""
    if value is None or value.strip() in ("", "memory"):
        return StoreSpec()
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError as e:  # a port that is not a number or out of range
        raise StoreConfigError(f"store: not a redis://host:port/db URL ({e})") from None
    if parts.scheme not in ("redis", "rediss"):
        shown = parts.scheme or text.split(":", 1)[0]
        raise StoreConfigError(
            f"store: {shown!r} is not memory or a redis://host:port/db URL")
    if not host:
        raise StoreConfigError("store: the Redis URL names no host (redis://host:port/db)")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise StoreConfigError(f"store: database {path!r} is not a number (redis://host:port/db)")
    if parts.query or parts.fragment:
        raise StoreConfigError("store: the Redis URL takes no query or fragment")
    db = int(path) if path else 0
    where = f"{host}:{port or 6379}/{db}"
    return StoreSpec("redis", text, where)
