"""The bench's shared-store section: measured on a real server, rendered."""

from __future__ import annotations

import asyncio

from benchmarks.shared_store import _latency, render_shared_store
from engine.shared.server import LocalRedis


def test_latency_is_measured_side_by_side(redis_server: LocalRedis) -> None:
    if not redis_server.running:
        redis_server.start()
    lat = asyncio.run(_latency(redis_server.url, 100))
    for name in ("ping", "incr", "script", "decision"):
        assert 0 < lat[name]["median_us"] <= lat[name]["p99_us"]
    assert lat["ratio_decision_to_ping"] > 0
    section = {"samples": 100, "seconds": 1.0, "server": "x", "latency": lat,
               "throughput": [{"processes": 1, "decisions_per_s": 10, "per_process": [10]}]}
    text = "\n".join(render_shared_store(section))
    assert "RedisBudget decision" in text and "goal <= 1.5x" in text
    assert render_shared_store(None) == []
    assert "Skipped" in "\n".join(render_shared_store({"skipped": "no redis-server"}))
