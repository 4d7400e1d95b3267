"""Real processes: `python -m cnnkit …` against one store (killed with every job they started when a test
ends), Python snippets that use the store, and any other processes a test starts in process groups of their own."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.store import Store, is_alive
from support import ROOT, wait_for

TINY = ["--epochs", "1", "--subset", "0.02", "--set", "test_subset=0.05"]
TINY_CONFIG = RunConfig(epochs=1, subset=0.02, test_subset=0.05)
# A run that takes many seconds (it is cancelled or killed long before it would end).
LONG = ["--epochs", "50", "--subset", "0.3", "--batch-size", "64", "--set", "test_subset=0.05",
        "--set", "reports_per_epoch=20"]


class Procs:
    """Starts `python -m cnnkit …` processes against one store and kills every one (and every job) at the end."""

    def __init__(self, env: dict[str, str], home: Path):
        self.env, self.home = env, home
        self.started: list[subprocess.Popen] = []

    def cli(self, *args: str, timeout: float = 180, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "cnnkit", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if ok:
            assert done.returncode == 0, f"{args}: {done.stderr}"
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout.strip().splitlines()[-1])

    def start_worker(self, *args: str) -> subprocess.Popen:
        with open(self.home.parent / f"worker-{len(self.started)}.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "cnnkit", "worker", *args], cwd=ROOT, env=self.env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(proc)
        return proc

    def worker_output(self, index: int = -1) -> str:
        return (self.home.parent / f"worker-{index % len(self.started)}.log").read_text()

    def kill_all(self) -> None:
        for proc in self.started:
            kill_group(proc.pid)
            proc.wait(timeout=30)
        if (self.home / "cnnkit.db").exists():
            for run in Store(self.home).list_runs():
                if run.pid and is_alive(run.pid, run.pid_start):
                    kill_group(run.pid)


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (our subprocesses start their own sessions)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Groups:
    """Processes started by a test, each leading its own process group; all killed at teardown (the ``groups``
    fixture of tests/reliability)."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.popen: list[subprocess.Popen] = []

    def add(self, pid: int) -> int:
        self.pids.append(pid)
        return pid

    def start(self, args: list[str], **kw: Any) -> subprocess.Popen:
        proc = subprocess.Popen(args, start_new_session=True, **kw)
        self.popen.append(proc)
        self.add(proc.pid)
        return proc

    def close(self) -> None:
        for pid in self.pids:
            kill_group(pid)
        for proc in self.popen:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


def wait_status(store: Store, run_id: str, statuses: tuple[str, ...], timeout: float) -> str:
    return wait_for(lambda: store.get(run_id).status in statuses and store.get(run_id).status, timeout,
                    f"run {run_id} to become {'/'.join(statuses)}")


def wait_serving(procs: Procs, timeout: float = 60) -> None:
    wait_for(lambda: "serving" in procs.worker_output(), timeout, "the supervisor to start")


def wait_first_point(store: Store, run_id: str, timeout: float = 60) -> None:
    wait_for(lambda: not store.metrics([run_id]).empty, timeout, f"run {run_id}'s first metric point")


def epoch_test_points(store: Store, run_id: str) -> dict[int, int]:
    """{epoch: number of test-accuracy points}: exactly one each when nothing ran twice."""
    points = store.metrics([run_id], split="test", names=["acc"])
    return points.groupby("epoch").size().rename(int).to_dict() if not points.empty else {}


def finish_worker(procs: Procs, proc: subprocess.Popen, timeout: float = 240) -> None:
    assert proc.wait(timeout=timeout) == 0, procs.worker_output()


TRAIN_LOGGER = """
import sys
from cnnkit.store import Store
from cnnkit.events import MetricPoint as P
store = Store(sys.argv[1])
for step in range(1000):
    store.log_metrics(sys.argv[2], [P(step=step, epoch=step / 1000, split="train", name="loss", value=step, wall=0.0)])
"""


def run_python(code: str, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    """A real process running ``code`` (which sees ``args`` as sys.argv[1:]); it imports only the store."""
    return subprocess.Popen([*prefix, sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_all(procs: list[subprocess.Popen], timeout: float = 120) -> list[str]:
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
        outs.append(out)
    return outs
