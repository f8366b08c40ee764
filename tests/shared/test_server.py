"""The suite's own redis-server: found, started on a free port, killed and restarted."""

from __future__ import annotations

import os

import pytest
import redis

from engine.shared.server import LocalRedis, NoRedisServer, find_redis_server


def test_a_server_binary_is_found() -> None:
    assert os.access(find_redis_server(), os.X_OK)


def test_no_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERPACE_REDIS_SERVER", "/nonexistent/redis-server")
    with pytest.raises(NoRedisServer, match="ORDERPACE_REDIS_SERVER"):
        find_redis_server()


def test_kill_and_restart_on_the_same_port(own_redis: LocalRedis) -> None:
    client = redis.Redis.from_url(own_redis.url, socket_timeout=2.0)
    assert client.ping()
    client.set("x", "1")
    own_redis.kill()
    assert not own_redis.running
    with pytest.raises(redis.ConnectionError):
        client.ping()
    own_redis.start()
    assert client.ping()
    assert client.get("x") is None  # no persistence: it comes back empty
    client.close()


def test_redis_url_is_emptied(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("left", "behind")
    client.close()
