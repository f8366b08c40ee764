"""A small HTTP/1.1 server-side codec over asyncio streams: enough for Kraken's REST API.

:func:`read_request` reads one request from a keep-alive connection: the request line,
headers (names lower-cased; repeated ones joined with ``", "``) and the body, sized by
``Content-Length`` or sent ``Transfer-Encoding: chunked``.  It returns ``None`` when the
client closed the connection between requests, and raises :class:`BadRequest` (with the
status to answer) on a malformed or oversized request.  :func:`encode_response` builds the
bytes of one response, always with ``Content-Length``.

Keep-alive follows RFC 9112: an HTTP/1.1 connection stays open unless either side sends
``Connection: close``; an HTTP/1.0 one only with ``Connection: keep-alive``.  No pipelining
guarantees beyond answering requests in order (the server handles one request per
connection at a time, as HTTP/1.1 clients such as httpx use it).

Limits: :data:`MAX_HEAD` bytes of request line plus headers (pass it as the stream's
``limit``), :data:`MAX_BODY` bytes of body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from urllib.parse import unquote

import attrs

__all__ = ["MAX_BODY", "MAX_HEAD", "BadRequest", "HttpRequest", "encode_response", "read_request"]

#: Largest request line plus headers (bytes).
MAX_HEAD = 16 * 1024
#: Largest request body (bytes).
MAX_BODY = 1024 * 1024

_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})


class BadRequest(Exception):
    """A request that cannot be parsed; answer ``status`` and close the connection."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


@attrs.frozen(slots=True)
class HttpRequest:
    """One parsed request.  ``path`` is percent-decoded; ``query`` is the raw query string."""

    method: str
    path: str
    query: str
    version: str
    headers: Mapping[str, str]
    body: bytes = attrs.field(repr=False)

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may serve another request after this one."""
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters (``""`` if none)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            if not e.partial.strip():
                return None  # closed between requests
            raise BadRequest(400, "connection closed inside the request head") from None
        except asyncio.LimitOverrunError:
            raise BadRequest(431, "request head too large") from None
        head = head.lstrip(b"\r\n")
        if head:
            return head
        # only empty lines (allowed before a request line): read on


def _parse_head(head: bytes) -> tuple[str, str, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        raise BadRequest(400, "undecodable request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if method not in _METHODS:
        raise BadRequest(501, f"method {method!r} not implemented")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505, "HTTP version not supported")
    if not target.startswith("/"):
        raise BadRequest(400, "request target must be a path")
    raw_path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return method, unquote(raw_path), query, version, headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise BadRequest(400, "malformed chunk") from None
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, "malformed chunk size") from None
        if size < 0 or len(body) + size > MAX_BODY:
            raise BadRequest(413, "request body too large")
        if size == 0:
            while True:  # trailers, up to the empty line
                try:
                    trailer = await reader.readuntil(b"\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    raise BadRequest(400, "malformed trailers") from None
                if trailer == b"\r\n":
                    return bytes(body)
        try:
            chunk = await reader.readexactly(size + 2)
        except asyncio.IncompleteReadError:
            raise BadRequest(400, "connection closed inside a chunk") from None
        if chunk[-2:] != b"\r\n":
            raise BadRequest(400, "malformed chunk")
        body += chunk[:-2]


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """The next request on the connection, or ``None`` if the client closed it.

    Raises :class:`BadRequest` on a malformed request (answer it, then close).
    """
    head = await _read_head(reader)
    if head is None:
        return None
    method, path, query, version, headers = _parse_head(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        raw = headers.get("content-length", "0")
        try:
            length = int(raw)
        except ValueError:
            raise BadRequest(400, "malformed Content-Length") from None
        if length < 0:
            raise BadRequest(400, "malformed Content-Length")
        if length > MAX_BODY:
            raise BadRequest(413, "request body too large")
        try:
            body = await reader.readexactly(length) if length else b""
        except asyncio.IncompleteReadError:
            raise BadRequest(400, "connection closed inside the body") from None
    return HttpRequest(method, path, query, version, headers, body)


def encode_response(
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json; charset=utf-8",
    keep_alive: bool = True,
    headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """The bytes of one HTTP/1.1 response with ``Content-Length`` (and ``Connection``)."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        "Server: orderpace-simulated-kraken",
    ]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
