"""``orderpace simulate-exchange`` as a real subprocess: starts, serves, stops on SIGINT."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from engine.exchange.server import DEMO_KEY, DEMO_SECRET

from .support import signed

SECRET = base64.b64encode(b"simulate-exchange-cli-canary-secret-0123456789").decode()


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate-exchange", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert "listening on http://127.0.0.1:" in first, first
    url = first.split("listening on ")[1].split(" ")[0]
    return proc, url


def stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """SIGINT, then everything printed after the first line (read through the same
    buffered pipes: ``communicate`` would skip what ``readline`` already buffered)."""
    assert proc.stdout is not None and proc.stderr is not None
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=10)
    return code, proc.stdout.read(), proc.stderr.read()


def test_serves_time_and_stops_cleanly_on_sigint() -> None:
    proc, url = start("--tier", "pro", "--decay-step", "1", "--jitter-ms", "5")
    try:
        with urllib.request.urlopen(f"{url}/0/public/Time", timeout=5) as resp:
            reply = json.loads(resp.read())
        assert resp.status == 200 and reply["error"] == [] and reply["result"]["unixtime"] > 0
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert DEMO_KEY in out and DEMO_SECRET in out  # the documented demo pair is printed
    assert "stopped after 1 request(s)" in out
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["flags", "env"])
def test_a_given_secret_is_never_printed(how: str) -> None:
    if how == "flags":
        proc, _url = start("--key", "cli-key-1", "--secret", SECRET)
    else:
        proc, _url = start(env={"ORDERPACE_SIM_API_KEY": "cli-key-1",
                                "ORDERPACE_SIM_API_SECRET": SECRET})
    code, out, err = stop(proc)
    assert code == 0
    assert "cli-..." in out and DEMO_SECRET not in out
    assert SECRET not in out + err and SECRET.rstrip("=") not in out + err


def test_several_keys_of_one_account() -> None:
    second = base64.b64encode(b"simulate-exchange-cli-second-secret-987654").decode()
    proc, url = start("--key", "cli-key-1", "--secret", SECRET,
                      "--key", "cli-key-2", "--secret", second)
    try:
        for key, secret in (("cli-key-1", SECRET), ("cli-key-2", second), ("cli-key-3", SECRET)):
            path, body, headers = signed("Balance", {}, 1, key=key, secret=secret)
            req = urllib.request.Request(url + path, data=body, headers=headers)
            with urllib.request.urlopen(req, timeout=5) as resp:
                errors = json.loads(resp.read())["error"]
            assert errors == ([] if key != "cli-key-3" else ["EAPI:Invalid key"]), key
    finally:
        code, out, err = stop(proc)
    assert code == 0 and "cli-..." in out
    assert SECRET not in out + err and second not in out + err


def test_unpaired_keys_are_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "simulate-exchange", "--key", "k1", "--secret", SECRET,
         "--key", "k2"],
        capture_output=True, text=True, timeout=20,
    )
    assert result.returncode == 2
    assert "got 2 key(s), 1 secret(s)" in result.stderr


def test_half_a_key_pair_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "simulate-exchange", "--key", "only-key"],
        capture_output=True, text=True, timeout=20,
    )
    assert result.returncode == 2
    assert "give both --key and --secret" in result.stderr


def test_serves_websocket_v2_on_the_same_port() -> None:
    from websockets.sync.client import connect

    proc, url = start("--ws-token-ttl", "30", "--heartbeat", "0.5",
                      "--fault", "refuse-token:/v2:2")
    try:
        with connect(url.replace("http", "ws", 1) + "/v2", open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))["channel"] == "status"
            ws.send(json.dumps({"method": "ping", "req_id": 1}))
            assert json.loads(ws.recv(timeout=5))["method"] == "pong"
            ws.send(json.dumps({"method": "cancel_all", "req_id": 2,
                                "params": {"token": "whatever"}}))
            refused = json.loads(ws.recv(timeout=5))
            assert refused["error"] == "ESession:Invalid session" and refused["req_id"] == 2
    finally:
        code, out, err = stop(proc)
    assert code == 0, err
    assert f"websocket v2:    {url.replace('http', 'ws', 1)}/v2" in out
    assert "faults in force: 1" in out
