"""One process per journal: a second run on a held journal fails at start -- a typed error
through the API, one line and exit 2 from ``orderpace live`` -- and the holder's death
(SIGKILL) frees it."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.clock import VirtualClock
from engine.journal.lock import JournalBusy, JournalLock, lock_path
from engine.journal.session import Journal


def journal(path: Path) -> Journal:
    return Journal(path, clock=VirtualClock(), account="acct", key_id="k")


def test_a_second_journal_on_the_same_file_is_refused_until_the_first_closes(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    first = journal(path)
    with pytest.raises(JournalBusy, match=rf"j\.sqlite is in use by process {os.getpid()}"):
        journal(path)
    assert first.lock.held
    first.close()
    assert not first.lock.held
    journal(path).close()  # free again
    assert lock_path(path).exists() and oct(lock_path(path).stat().st_mode & 0o777) == "0o600"


HOLDER = textwrap.dedent("""
    import sys, time
    from engine.journal.lock import JournalLock
    lock = JournalLock(sys.argv[1])
    print("held", flush=True)
    time.sleep(60)
""")


def test_another_process_holding_it_fails_the_api_and_the_cli_and_its_death_frees_it(
        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(JournalBusy, match=f"in use by process {holder.pid}"):
            journal(path)
        env = {**os.environ, "KRAKEN_API_KEY": "journal-lock-key",
               "KRAKEN_API_SECRET": base64.b64encode(b"journal lock secret").decode()}
        cli = subprocess.run(
            [sys.executable, "-m", "engine", "live", "--base-url", "http://127.0.0.1:9",
             "--strategy", "market-maker", "--journal", str(path)],
            capture_output=True, text=True, env=env, timeout=60)
        assert cli.returncode == 2, cli.stderr
        lines = cli.stderr.strip().splitlines()
        assert len(lines) == 1 and f"in use by process {holder.pid}" in lines[0], lines
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    JournalLock(path).release()  # the kernel freed it with the process
