"""Process bookkeeping: is a recorded process still the same one, and is a supervisor alive."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "worker.lock"


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it is gone.

    A pid alone can be reused by an unrelated process; pid plus start time cannot.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if not _exists(pid) else "?"
    # The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    fields = stat[stat.rfind(")") + 2:].split()
    if fields[0] == "Z":  # a zombie has ended; only its exit status remains
        return None
    return fields[19]


def is_alive(pid: int | None, start: str | None) -> bool:
    if not pid:
        return False
    now = process_start(pid)
    return now is not None and (start in (None, "?") or now in ("?", start))


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


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
    """The pid of the supervisor holding ``home``'s lock, or None when no supervisor runs."""
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
