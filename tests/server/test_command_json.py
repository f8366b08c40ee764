"""``orderpace simulate-exchange --json``: what it served, by key, on SIGUSR1 and at stop."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import urllib.request
from typing import Any

from .support import signed
from .test_command import start, stop

SECRET = base64.b64encode(b"simulate-exchange-json-first-secret-0123").decode()
SECOND = base64.b64encode(b"simulate-exchange-json-second-secret-456").decode()


def post(url: str, endpoint: str, nonce: int, key: str, secret: str) -> list[str]:
    path, body, headers = signed(endpoint, {}, nonce, key=key, secret=secret)
    req = urllib.request.Request(url + path, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=5) as resp:
        errors: list[str] = json.loads(resp.read())["error"]
    return errors


def report(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGUSR1, and the line it prints."""
    assert proc.stdout is not None
    proc.send_signal(signal.SIGUSR1)
    line = proc.stdout.readline()
    assert line.startswith("{"), line
    out: dict[str, Any] = json.loads(line)
    return out


def test_json_reports_errors_by_key_on_sigusr1_and_at_stop() -> None:
    proc, url = start("--json", "--lockout-after", "0", "--decay-step", "600",
                      "--key", "json-key-1", "--secret", SECRET,
                      "--key", "json-key-2", "--secret", SECOND)
    assert proc.stdout is not None
    while "API key 2:" not in proc.stdout.readline():  # the lines up to the keys
        pass
    try:
        # the first key asks ClosedOrders (2 units of 20; no decay within 600 s) 14 times
        replies = [post(url, "ClosedOrders", n, "json-key-1", SECRET) for n in range(1, 15)]
        refused = sum(1 for e in replies if e == ["EAPI:Rate limit exceeded"])
        assert refused == 4, replies
        assert post(url, "Balance", 1, "json-key-2", SECOND) == []
        assert post(url, "Balance", 1, "no-such-key", SECOND) == ["EAPI:Invalid key"]
        with urllib.request.urlopen(f"{url}/0/public/Time", timeout=5):
            pass
        from websockets.sync.client import connect

        with connect(url.replace("http", "ws", 1) + "/v2", open_timeout=5) as ws:
            ws.recv(timeout=5)  # status
            ws.send(json.dumps({"method": "ping", "req_id": 1}))
            assert json.loads(ws.recv(timeout=5))["method"] == "pong"
        mid = report(proc)
        assert mid["in_flight"] == 0
        first, second = mid["keys"]
        assert first == {"key": "json...", "requests": 14, "rate_limit_errors": refused,
                         "errors": {"EAPI:Rate limit exceeded": refused}}
        assert second == {"key": "json...", "requests": 1, "rate_limit_errors": 0,
                          "errors": {}}
        assert mid["unknown_key"]["errors"] == {"EAPI:Invalid key": 1}
        assert mid["public"]["requests"] == 2  # Time, and the WebSocket ping (no token)
        assert (mid["requests"], mid["rate_limit_errors"]) == (18, refused)
        assert mid["errors"] == {"EAPI:Rate limit exceeded": refused, "EAPI:Invalid key": 1}
        assert mid["endpoints"] == {"ClosedOrders": 14, "Balance": 2, "Time": 1, "ping": 1}
        assert post(url, "Balance", 2, "json-key-2", SECOND) == []
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-2] == "orderpace simulate-exchange: stopped after 19 request(s)"
    last = json.loads(lines[-1])  # the last line is the report
    assert last["keys"][1]["requests"] == 2 and last["requests"] == 19
    for secret in (SECRET, SECOND):
        assert secret not in out + err and secret.rstrip("=") not in out + err
    assert "json-key-1" not in out + err


def test_sigusr1_without_json_prints_one_line() -> None:
    proc, url = start()
    assert proc.stdout is not None
    while "try:" not in proc.stdout.readline():  # the lines up to the demo's command line
        pass
    try:
        with urllib.request.urlopen(f"{url}/0/public/Time", timeout=5):
            pass
        proc.send_signal(signal.SIGUSR1)
        line = proc.stdout.readline()
    finally:
        code, out, _err = stop(proc)
    assert line == ("orderpace simulate-exchange: served 1 request(s) so far, 0 error(s), "
                    "0 rate-limit error(s), 0 in flight\n")
    assert code == 0 and not out.strip().splitlines()[-1].startswith("{")


def test_json_is_documented_in_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "simulate-exchange", "--help"],
        capture_output=True, text=True, timeout=20)
    assert result.returncode == 0 and "--json" in result.stdout and "SIGUSR1" in result.stdout
