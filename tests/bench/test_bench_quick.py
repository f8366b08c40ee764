"""Smoke check of the bench suite: ``orderpace bench --quick`` in process, into a tmp dir.

It checks that the run completes, writes its files and reports real numbers.  No figure
is held to a threshold here: the targets are reported by the bench, not asserted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import structlog

from engine.cli import main


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    buf = io.StringIO()
    saved = structlog.get_config()  # cli.main configures structlog for the process
    try:
        with contextlib.redirect_stdout(buf):
            code = main(["bench", "--quick", "--json", "--out", str(out)])
    finally:
        structlog.configure(**saved)
    assert code == 0
    last = buf.getvalue().strip().splitlines()[-1]
    return out, json.loads(last)


def test_writes_results_files(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, data = quick_run
    assert (out / "latest.json").is_file()
    assert json.loads((out / "latest.json").read_text())["mode"] == "quick"
    md = (out / "latest.md").read_text()
    assert "## Targets" in md and "## Micro-benchmarks" in md
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert (out / "latest.png").is_file() == has_matplotlib
    assert data["mode"] == "quick"


def test_reports_every_cell_with_real_numbers(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _out, data = quick_run
    cfg = data["config"]
    expected = len(cfg["workloads"]) * len(cfg["tiers"]) * len(cfg["limiters"])
    assert len(data["results"]) == expected
    for row in data["results"]:
        for key in ("rate_limit_errors", "orders_per_min", "cpu_us_per_intent", "intents"):
            assert _finite(row[key]), (row["workload"], row["limiter"], key, row[key])
        assert _finite(row["utilization"]["overall"])
        assert row["unresolved_total"] == 0, row
        assert not row["failures"], row["failures"]
    assert {r["limiter"] for r in data["results"]} >= {
        "orderpace", "asyncio-throttle", "aiolimiter", "ccxt-style", "hummingbot-style", "none",
    }


def test_micro_benchmarks_and_targets(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _out, data = quick_run
    m = data["micro"]
    assert _finite(m["scheduler"]["us_per_intent"]["orderpace"])
    assert _finite(m["memory"]["bytes_per_queued_intent"])
    assert _finite(m["throughput"]["intents_per_second"])
    assert _finite(m["replay"]["wall_seconds_24h"])
    assert m["profile"]["top"]
    user, split = m["user_command"], m["user_split"]
    assert _finite(user["now"]["wall_seconds"]) and _finite(user["now"]["wall_seconds_24h"])
    assert user["now"]["intents"] > 0 and user["now"]["rate_limit_errors"] == 0
    assert set(split["us_per_intent"]) == {"scheduler", "simulated exchange", "strategy",
                                           "sampler", "event loop", "other"}
    assert sum(split["share"].values()) == pytest.approx(1.0)
    assert split["share"]["scheduler"] > 0 and split["share"]["simulated exchange"] > 0
    assert len(data["targets"]) == 5
    for t in data["targets"]:
        assert _finite(t["measured"]) and isinstance(t["met"], bool)
    assert data["machine"]["nproc"] >= 1 and data["machine"]["python"]


def test_live_path_has_rest_and_ws_side_by_side(
        quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, data = quick_run
    rows = data["live_path"]
    assert rows and {r["workload"] for r in rows} >= {"burst-pro"}
    for row in rows:
        for transport in ("rest", "ws"):
            cell = row[transport]
            assert _finite(cell["budget_utilization"]) and cell["requests"] > 0, cell
            assert cell["failure"] is None and cell["referee_rate_limit_errors"] == 0, cell
    assert "budget use ws" in (out / "latest.md").read_text()


def test_nonce_discipline_section(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, data = quick_run
    section = data["nonces"]
    cells = section["burst_pro_30ms"] + section["serial"]
    assert len(section["burst_pro_30ms"]) == 3 and len(section["serial"]) == 18
    assert all(c["invalid_nonce"] == 0 and c["rate_limit_errors"] == 0 for c in cells)
    assert all(c["unresolved"] == 0 for c in cells)
    one_key = section["burst_pro_30ms"][0]
    assert one_key["keys"] == 1 and one_key["window"] == 0
    assert one_key["utilization"] >= 0.85
    # the wire-bound start-up: a pool or a window shortens it
    for i in range(0, 18, 3):
        one, pool, window = (c["startup_seconds"] for c in section["serial"][i:i + 3])
        assert window < pool < one
    assert "## Nonce discipline" in (out / "latest.md").read_text()


def test_shared_store_section(quick_run: tuple[Path, dict[str, Any]]) -> None:
    """A decision's latency beside PING/INCR on the same server; 1, 2, 4 processes."""
    section = quick_run[1]["shared_store"]
    lat = section["latency"]
    assert all(_finite(lat[k]["median_us"]) for k in ("ping", "incr", "script", "decision"))
    assert [t["processes"] for t in section["throughput"]] == [1, 2, 4]
    assert all(t["decisions_per_s"] > 0 for t in section["throughput"])
