"""One process per journal: an exclusive lock on a sidecar file, held for the run.

Two processes writing one journal would each reconcile the other's orders as a crashed
run's (and cancel them).  :class:`JournalLock` takes ``flock(LOCK_EX | LOCK_NB)`` on
``<journal>.lock`` (created next to the journal, mode 0600) and writes its pid there.  The
lock belongs to the open file: :meth:`release` or the process's death (SIGKILL included:
the kernel closes the file) frees it -- there is never a stale lock to clean up.  A second
:class:`JournalLock` on the same journal -- another process, or another open in this one
-- fails at once with :class:`JournalBusy` naming the file and the holder's pid.

Deleting the ``.lock`` file while a run holds it defeats the lock (a new file is a new
lock): leave it in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from engine.journal.writer import JournalError

__all__ = ["JournalBusy", "JournalLock", "lock_path"]


class JournalBusy(JournalError):
    """Another process (or another run in this one) holds the journal."""


def lock_path(journal: str | Path) -> Path:
    """The sidecar lock file of ``journal``: ``<journal>.lock``."""
    p = Path(journal)
    return p.with_name(p.name + ".lock")


class JournalLock:
    """The exclusive lock of ``journal`` (see the module docstring); taken on creation.

    Raises :class:`JournalBusy` when it is held elsewhere, :class:`JournalError` when the
    lock file cannot be made.
    """

    __slots__ = ("_fd", "path")

    def __init__(self, journal: str | Path) -> None:
        self.path = lock_path(journal)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise JournalError(f"cannot lock journal {journal}: {e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise JournalBusy(f"journal {journal} is in use by {who} (lock {self.path}); "
                              "one run per journal") from None
        except OSError as e:
            os.close(fd)
            raise JournalError(f"cannot lock journal {journal}: {e}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Free the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __repr__(self) -> str:
        return f"JournalLock({str(self.path)!r}, held={self.held})"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
