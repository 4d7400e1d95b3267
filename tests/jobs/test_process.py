"""The one-supervisor lock with real processes, and whether a supervisor runs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cnnkit.jobs.process import WorkerLock, supervisor_pid, supervisor_running


def test_one_lock_per_store(tmp_path: Path) -> None:
    first, second = WorkerLock(tmp_path), WorkerLock(tmp_path)
    assert supervisor_pid(tmp_path) is None and not supervisor_running(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    assert supervisor_pid(tmp_path) == os.getpid() and supervisor_running(tmp_path)
    first.release()
    assert supervisor_pid(tmp_path) is None and second.acquire()
    second.release()


HOLDER = """
import sys, time
from pathlib import Path
from cnnkit.jobs.process import WorkerLock
assert WorkerLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_dies_with_a_killed_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert supervisor_pid(tmp_path) == holder.pid and not WorkerLock(tmp_path).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert supervisor_pid(tmp_path) is None and WorkerLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
