"""Process bookkeeping with real processes: start times, zombies, and the one-supervisor lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cnnkit.jobs.process import WorkerLock, is_alive, process_start, supervisor_pid


def test_process_start_identifies_a_process_for_its_lifetime() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = process_start(proc.pid)
        assert start and start == process_start(proc.pid)
        assert is_alive(proc.pid, start) and not is_alive(proc.pid, str(int(start) + 1))  # a reused pid
    finally:
        proc.kill()
        proc.wait()
    assert process_start(proc.pid) is None and not is_alive(proc.pid, start)
    assert not is_alive(None, None)


def test_a_zombie_counts_as_ended() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.time() + 30
    while Path(f"/proc/{proc.pid}/stat").read_text().split(") ")[1][0] != "Z" and time.time() < deadline:
        time.sleep(0.05)  # it has exited, but nobody has waited for it yet
    assert process_start(proc.pid) is None
    proc.wait()


def test_one_lock_per_store(tmp_path: Path) -> None:
    first, second = WorkerLock(tmp_path), WorkerLock(tmp_path)
    assert supervisor_pid(tmp_path) is None
    assert first.acquire()
    assert not second.acquire()
    assert supervisor_pid(tmp_path) == os.getpid()
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
