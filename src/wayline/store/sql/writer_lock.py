"""One writer at a time for a SQLite file, across the threads and processes that share it.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps in growing
steps (up to 100 ms) and polls, so under concurrent writers a request can wait long after the lock was freed.
Writers here queue instead: on a thread lock within a process, then on an exclusive ``flock`` of a sidecar
file (``<database>-wayline.lock``), which the kernel hands to the next process the moment it is released.
SQLite's own locking still guards the file; this only decides, without sleeping, who goes next. Readers are
not affected (WAL readers never wait for writers). Where ``flock`` does not exist (Windows) only the threads
of one process are queued.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = "-wayline.lock"


class WriterLock:
    """The write queue of one SQLite database file."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + LOCK_SUFFIX)
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def _file(self) -> int | None:
        """The lock file, opened once per process (a forked child must not share its parent's lock)."""
        if fcntl is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            self._pid = os.getpid()
        return self._fd


__all__ = ["LOCK_SUFFIX", "WriterLock"]
