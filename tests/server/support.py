"""Helpers for the server tests: a raw HTTP/1.1 client and signed private requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from engine.exchange.server import DEMO_KEY, DEMO_SECRET
from engine.venues.kraken_rest.body import encode_private
from engine.venues.kraken_rest.signing import sign


class RawConnection:
    """One keep-alive connection speaking HTTP/1.1 by hand (no client library)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        """The next response: status, headers (lower-case), body (raises on EOF)."""
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip()
                   for k, v in (line.split(":", 1) for line in lines[1:] if line)}
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        hdrs = {"Host": "127.0.0.1", "Content-Length": str(len(body)), **(headers or {})}
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        await self.send(head.encode() + b"\r\n" + body)
        status, headers_out, payload = await self.response()
        try:
            return status, headers_out, json.loads(payload)
        except ValueError:
            return status, headers_out, payload

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def signed(endpoint: str, params: dict[str, Any], nonce: int, *, key: str = DEMO_KEY,
           secret: str = DEMO_SECRET) -> tuple[str, bytes, dict[str, str]]:
    """Path, body and headers of a correctly signed private request."""
    path = f"/0/private/{endpoint}"
    body = encode_private(endpoint, params, nonce)
    headers = {"API-Key": key, "API-Sign": sign(secret, path, nonce, body.content),
               "Content-Type": body.content_type}
    return path, body.content, headers
