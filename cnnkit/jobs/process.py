"""The supervisor's lock: one supervisor per store, and whether one runs."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "worker.lock"


class WorkerLock:
    """An exclusive flock on ``<store>/worker.lock``: one supervisor per store.

    The kernel drops the lock when the holder dies, so a killed supervisor never blocks the next.
    """

    def __init__(self, home: Path):
        self.path = Path(home) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def supervisor_pid(home: Path) -> int | None:
    """The pid of the supervisor holding ``home``'s lock (-1 when it cannot be read), or None when none runs."""
    path = Path(home) / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    except BlockingIOError:
        text = path.read_text().strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)


def supervisor_running(home: Path) -> bool:
    """Whether a supervisor serves the store at ``home``."""
    return supervisor_pid(home) is not None
