"""Start the dashboard exactly as the README does, for tests, screenshots and the benchmark.

The README's launch is `.venv/bin/streamlit run dashboard.py` from the project folder, with the
settings of `.streamlit/config.toml`. Only the port (and headless, which the config already sets)
may differ here: a flag that the README does not pass once hid a server that burned a whole core.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnnkit.events import Status
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_command(port: int) -> list[str]:
    """The README's command (`streamlit` of this environment, `run dashboard.py`) on ``port``."""
    streamlit = Path(sys.executable).with_name("streamlit")
    return [str(streamlit), "run", "dashboard.py", "--server.port", str(port), "--server.headless", "true"]


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"CNNKIT_HOME": str(home), "CNNKIT_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    env.pop("CNNKIT_NO_SUPERVISOR", None)
    return env


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def stop_group(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL what is left after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def stop_store_processes(home: Path) -> None:
    """The supervisor of ``home`` and any job it left behind (each leads its own process group)."""
    pid = supervisor_pid(home)
    if pid and pid > 0:
        stop_group(pid)
    if (home / "cnnkit.db").exists():
        for run in Store(home).list_runs(status=Status.RUNNING):
            if run.pid and run.pid != os.getpid():
                stop_group(run.pid, grace=2.0)


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path | None) -> None:
    deadline = time.time() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.read().strip() == b"ok":
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"streamlit did not start (exit {proc.poll()}); see {log}")
        time.sleep(0.3)


@contextlib.contextmanager
def serve(home: Path, port: int | None = None, log: Path | None = None,
          env: dict[str, str] | None = None) -> Iterator[Server]:
    """The README's launch on a free port with ``CNNKIT_HOME=home``; stops it and the store's processes after."""
    port = port or free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(launch_command(port), cwd=ROOT, env=env or env_for(home), stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield Server(url, proc.pid)
    finally:
        stop_group(proc.pid)
        stop_store_processes(home)
        if log:
            out.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    """Share of one core that ``pid`` used over the next ``seconds`` (0.5 = half a core)."""
    start_cpu, start = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pid) - start_cpu) / (time.perf_counter() - start)
