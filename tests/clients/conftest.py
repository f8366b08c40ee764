"""Contract tests with real Kraken clients (ccxt, krakenex, python-kraken-sdk) against
``orderpace simulate-exchange`` started as a real subprocess on loopback.

Each test module shares one server (``sim`` fixture, module scope): a client's nonces and
the exchange's counters carry over from test to test in file order, as they would for a
real program; each module ends with its hammering test, which locks the key out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import attrs
import pytest

from engine.exchange.server import DEMO_KEY, DEMO_SECRET


@attrs.frozen
class Sim:
    url: str
    key: str
    secret: str
    process: subprocess.Popen[str]


def start_sim(*args: str) -> Sim:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate-exchange", "--port", "0", "--seed", "5",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert "listening on http://127.0.0.1:" in first, first + (
        proc.stderr.read() if proc.stderr else "")
    return Sim(first.split("listening on ")[1].split(" ")[0], DEMO_KEY, DEMO_SECRET, proc)


def stop_sim(sim: Sim) -> tuple[int, str]:
    sim.process.send_signal(signal.SIGINT)
    code = sim.process.wait(timeout=15)
    err = sim.process.stderr.read() if sim.process.stderr else ""
    return code, err


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """``orderpace simulate-exchange`` with every default (Intermediate tier, Kraken's
    public limit, lockouts), for the whole test module."""
    server = start_sim()
    try:
        yield server
    finally:
        code, err = stop_sim(server)
        assert code == 0 and "Traceback" not in err, err


def first_error(call: Callable[[], object], tries: int,
                passing: tuple[type[Exception], ...] = ()) -> Exception | None:
    """Call ``call`` up to ``tries`` times; the first exception it raises that is not one of
    ``passing`` (None: it never raised one)."""
    for _ in range(tries):
        try:
            call()
        except passing:
            continue
        except Exception as e:
            return e
    return None
