"""``orderpace live`` as a user runs it: real subprocesses, a real server, real signals.

One ``orderpace simulate-exchange`` subprocess serves the module, with a key whose secret is
a canary; ``orderpace live`` subprocesses trade against it with that key from the
environment.  Nothing either process prints may contain the secret.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from engine.cli import command as cli
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.rest import KrakenRestVenue

KEY = "live-cmd-test-key"
SECRET = base64.b64encode(b"orderpace live command canary secret, do not print").decode()


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """``cli.main`` configures structlog for the process; leave other tests unaffected."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def leaked(text: str) -> bool:
    return SECRET in text or SECRET.rstrip("=") in text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    logs = tmp_path_factory.mktemp("server")
    err = (logs / "stderr").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate-exchange", "--port", "0", "--key", KEY,
         "--secret", SECRET, "--decay-step", "2", "--jitter-ms", "20", "--seed", "4"],
        stdout=subprocess.PIPE, stderr=err, text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    url = first.split("listening on ")[1].split(" ")[0]
    yield {"url": url, "proc": proc}
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    err.seek(0)
    printed = first + proc.stdout.read() + err.read()
    assert not leaked(printed), "the server printed the API secret"
    err.close()


def live(url: str, *args: str, stderr: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "-v", "live", "--base-url", url, "--decay-step", "2",
         "--jitter-ms", "20", "--poll-interval", "1", "--json", *args],
        stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True, env=env,
    )


def wait_for(path: Path, text: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path.name}:\n{path.read_text()[-2000:]}")


async def open_orders(url: str) -> dict[str, Any]:
    async with KrakenRestVenue(Credentials(KEY, SECRET), base_url=url) as venue:
        reply = await venue.request("OpenOrders", {})
    assert reply["error"] == []
    result: dict[str, Any] = reply["result"]["open"]
    return result


def test_no_credentials_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_API_SECRET", raising=False)
    code = cli.main(["live", "--strategy", "burst", "--base-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2
    assert "orderpace live: error: no usable API credentials" in err
    assert "KRAKEN_API_KEY" in err and "KRAKEN_API_SECRET" in err


def test_credentials_file_must_be_private(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    path = tmp_path / "creds"
    path.write_text(f"KRAKEN_API_KEY={KEY}\nKRAKEN_API_SECRET={SECRET}\n")
    path.chmod(0o644)
    code = cli.main(["live", "--strategy", "burst", "--credentials-file", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "chmod 600" in err and not leaked(err)


async def test_ctrl_c_stops_cleanly_cancels_and_reports(
    server: dict[str, Any], tmp_path: Path,
) -> None:
    errfile = tmp_path / "stderr"
    proc = live(server["url"], "--strategy", "burst", stderr=errfile)
    wait_for(errfile, '"event": "live.start"')
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=40)
    logs = errfile.read_text()
    assert proc.returncode == 130, logs[-3000:]  # interrupted, even without --duration
    assert not leaked(out) and not leaked(logs)
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["duration"] is None  # open-ended
    for key in ("intents", "sent", "outcomes", "rate_limit_errors", "budget_utilization",
                "simulated_seconds", "wall_seconds"):
        assert key in summary
    assert summary["rate_limit_errors"] == 0 and summary["unresolved"] == 0
    assert summary["intents"] > 0 and summary["sent"] > 0
    assert summary["live"]["interrupted"] is True
    assert summary["live"]["open_orders_left"] == 0
    assert "stopping (on exit: cancel)" in logs
    for line in logs.splitlines():  # JSON lines, since stderr is not a terminal
        if line.startswith("{"):
            json.loads(line)
    assert '"level": "debug"' in logs  # -v: the most verbose output was checked for leaks
    assert await open_orders(server["url"]) == {}


async def test_dry_run_sends_no_cancels(server: dict[str, Any], tmp_path: Path) -> None:
    errfile = tmp_path / "stderr"
    proc = live(server["url"], "--strategy", "burst", "--dry-run", "--duration", "2",
                "--set", "cancel_age=0.2..0.5", stderr=errfile)
    out, _ = proc.communicate(timeout=40)
    logs = errfile.read_text()
    assert proc.returncode == 0, logs[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["duration"] == 2.0
    assert summary["live"]["dry_run"] is True
    local = summary["live"]["dry_run_local"]
    assert local.get("CancelOrder", 0) + local.get("CancelOrderBatch", 0) > 0
    assert "CancelOrder" not in summary["requests"]  # answered locally, never sent
    assert summary["requests"].get("AddOrder", 0) > 0
    assert '"event": "dry_run.local"' in logs
    assert summary["unresolved"] == 0 and not leaked(out + logs)
    assert await open_orders(server["url"]) == {}  # validate=true: nothing was placed


def test_a_wrong_secret_exits_1_naming_krakens_error(
    server: dict[str, Any], tmp_path: Path,
) -> None:
    wrong = base64.b64encode(b"a wrong secret for the live command test").decode()
    errfile = tmp_path / "stderr"
    env = {**os.environ, "KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": wrong}
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "live", "--base-url", server["url"], "--strategy",
         "burst", "--duration", "3", "--json"],
        stdout=subprocess.PIPE, stderr=errfile.open("w"), text=True, env=env, timeout=40,
    )
    err = errfile.read_text()
    assert proc.returncode == 1, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("orderpace live: error: the exchange refused API key "), last
    assert "(EAPI:Invalid signature)" in last
    assert "Traceback" not in err and proc.stdout == ""
    assert wrong not in err and wrong.rstrip("=") not in err and not leaked(err)
    assert '"event": "live.start"' not in err  # refused before the strategy started


def test_sigterm_stops_a_timed_run_cleanly_with_143(
    server: dict[str, Any], tmp_path: Path,
) -> None:
    errfile = tmp_path / "stderr"
    proc = live(server["url"], "--strategy", "burst", "--duration", "60", stderr=errfile)
    wait_for(errfile, '"event": "live.start"')
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=40)
    logs = errfile.read_text()
    assert proc.returncode == 143, logs[-3000:]  # 128 + SIGTERM, as a shell reports it
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["live"]["interrupted"] is True and summary["duration"] == 60.0
    assert summary["unresolved"] == 0 and summary["live"]["open_orders_left"] == 0
