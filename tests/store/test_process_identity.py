"""Which process runs a run, with real processes: start times tell a reused pid apart, zombies have ended."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from cnnkit.store.process_identity import is_alive, process_start


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
