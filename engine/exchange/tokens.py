"""WebSocket tokens: what ``GetWebSocketsToken`` hands out and the WebSocket v2 route checks.

A token is issued to an API key (a private REST call: signed, nonce, API cost 1) and names
that key's account.  The rule (Kraken: "the token should be used within 15 minutes of
creation; it does not expire once a connection ... is maintained"):

* a token is **valid** at ``now`` when ``now - issued_at <= ttl`` (default
  :data:`DEFAULT_TOKEN_TTL`, 900 s), or while at least one open connection has used it;
* using a valid token on a connection binds it to that connection until the connection
  closes (:meth:`WsTokens.release`);
* anything else -- never issued, past its ttl with no connection using it, not a string --
  is refused (the route answers ``ESession:Invalid session``).

Tokens are random (``secrets``), never derived from the key or the seed, and never appear
in a repr or a log line.  Tokens past their ttl that no connection holds are forgotten when
new ones are issued, so the table stays small.
"""

from __future__ import annotations

import base64
import secrets

__all__ = ["DEFAULT_TOKEN_TTL", "WsTokens"]

#: Seconds a token stays valid for its first use (Kraken: 15 minutes).
DEFAULT_TOKEN_TTL = 900.0


class _Token:
    __slots__ = ("issued_at", "key", "users")

    def __init__(self, key: str, issued_at: float) -> None:
        self.key = key
        self.issued_at = issued_at
        self.users: set[int] = set()


class WsTokens:
    """The exchange's WebSocket tokens (see the module docstring); times in clock seconds."""

    __slots__ = ("_by_connection", "_tokens", "issued", "ttl")

    def __init__(self, ttl: float = DEFAULT_TOKEN_TTL) -> None:
        self.ttl = ttl
        self._tokens: dict[str, _Token] = {}
        self._by_connection: dict[int, set[str]] = {}
        self.issued = 0

    def issue(self, key: str, now: float) -> dict[str, object]:
        """A new token for ``key``: Kraken's result ``{"token": ..., "expires": seconds}``."""
        self._forget_stale(now)
        token = base64.b64encode(secrets.token_bytes(30)).decode()
        self._tokens[token] = _Token(key, now)
        self.issued += 1
        return {"token": token, "expires": round(self.ttl)}

    def valid(self, token: object, now: float) -> bool:
        """Whether ``token`` may be used at ``now`` (changes nothing)."""
        t = self._tokens.get(token) if isinstance(token, str) else None
        return t is not None and (bool(t.users) or now - t.issued_at <= self.ttl)

    def key_of(self, token: object) -> str | None:
        """The API key ``token`` was issued to (None: never issued or forgotten)."""
        t = self._tokens.get(token) if isinstance(token, str) else None
        return t.key if t is not None else None

    def use(self, token: object, connection: int, now: float) -> str | None:
        """The key of ``token`` if it is valid at ``now`` (binding it to ``connection``, or
        already bound to it); None if it is refused."""
        if not isinstance(token, str):
            return None
        t = self._tokens.get(token)
        if t is None:
            return None
        if connection not in t.users:
            if not (t.users or now - t.issued_at <= self.ttl):
                return None
            t.users.add(connection)
            self._by_connection.setdefault(connection, set()).add(token)
        return t.key

    def release(self, connection: int) -> None:
        """``connection`` closed: the tokens it used no longer live on through it."""
        for token in self._by_connection.pop(connection, ()):
            t = self._tokens.get(token)
            if t is not None:
                t.users.discard(connection)

    def _forget_stale(self, now: float) -> None:
        stale = [tok for tok, t in self._tokens.items()
                 if not t.users and now - t.issued_at > self.ttl]
        for tok in stale:
            del self._tokens[tok]

    def __len__(self) -> int:
        return len(self._tokens)

    def __repr__(self) -> str:
        return f"WsTokens({len(self._tokens)} live, ttl={self.ttl:g} s)"
