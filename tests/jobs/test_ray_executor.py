"""The Ray executor against a real local Ray cluster (2 CPUs) and a real `worker --executor ray --address`.

Ray takes seconds to start, so one module-scoped cluster serves every scenario, in file order. The
cluster gets its own authentication token; the supervisor and the cluster each lead a process group,
and both are stopped (and checked gone) at the end.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import ROOT, requires_fmnist, wait_for

from cnnkit.config import RunConfig
from cnnkit.jobs.ray_executor import RayExecutor
from cnnkit.store import Store

pytest.importorskip("ray")
pytestmark = [pytest.mark.slow, requires_fmnist]

TINY = RunConfig(epochs=1, subset=0.02, test_subset=0.05)
LONG = RunConfig(epochs=50, subset=0.3, batch_size=64, test_subset=0.05, reports_per_epoch=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the group's leader (it stops its children), then SIGKILL whatever of the group is left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@dataclass
class Cluster:
    tmp: Path
    env: dict[str, str]
    store: Store
    head: subprocess.Popen | None = None
    supervisor: subprocess.Popen | None = None
    runs: dict[str, str] = field(default_factory=dict)

    def start_head(self) -> str:
        log = self.tmp / "head.log"
        with open(log, "wb") as out:
            self.head = subprocess.Popen(
                [str(Path(sys.executable).parent / "ray"), "start", "--head", "--num-cpus=2", "--num-gpus=0",
                 f"--port={free_port()}", "--include-dashboard=false", "--disable-usage-stats", "--block"],
                env=self.env, cwd=self.tmp, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        found = wait_for(lambda: re.search(r"--address='([^']+)'", log.read_text()), 90, "the Ray head")
        return found.group(1)

    def start_supervisor(self, address: str) -> None:
        with open(self.tmp / "worker.log", "wb") as out:
            self.supervisor = subprocess.Popen(
                [sys.executable, "-m", "cnnkit", "worker", "--executor", "ray", "--address", address],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def worker_log(self) -> str:
        return (self.tmp / "worker.log").read_text(errors="replace")

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "cnnkit", *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def status(self, run_id: str) -> str:
        return self.store.get(run_id).status

    def shutdown(self) -> None:
        for proc, grace in ((self.supervisor, 30), (self.head, 30)):
            if proc is not None:
                stop_group(proc, grace)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("ray")
    env = dict(os.environ, CNNKIT_HOME=str(tmp / "store"), CNNKIT_OFFLINE="1", PYTHONUNBUFFERED="1",
               RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32), RAY_USAGE_STATS_ENABLED="0")
    c = Cluster(tmp, env, Store(tmp / "store"))
    try:
        address = c.start_head()
        c.runs["quick"], c.runs["long"] = c.store.create_runs([TINY, LONG])
        c.start_supervisor(address)
        yield c
    finally:
        c.shutdown()


def test_a_run_completes_with_its_metrics_in_the_store(cluster: Cluster) -> None:
    run_id = cluster.runs["quick"]
    wait_for(lambda: cluster.status(run_id) not in ("queued", "running"), 180,
             f"the quick run to end (worker log: {cluster.worker_log()[-2000:]})")
    run = cluster.store.get(run_id)
    assert run.status == "completed", run.error
    assert run.worker.startswith("ray:") and run.first_step_at and run.device.startswith("cpu")
    epochs = cluster.store.epoch_rows(run_id)
    assert [e["epoch"] for e in epochs] == [1] and 0 <= epochs[0]["test_acc"] <= 1
    assert run.summary["epochs_done"] == 1 and run.summary["params"] > 0
    # written by the task in a scratch folder of its node, and sent to the supervisor, which wrote them here
    assert cluster.store.checkpoint_path(run_id).exists() and cluster.store.predictions_path(run_id).exists()
    log = cluster.cli("logs", run_id)
    assert "submitted to Ray as task" in log and "ended completed" in log


def test_a_running_run_is_cancelled(cluster: Cluster) -> None:
    run_id = cluster.runs["long"]
    wait_for(lambda: not cluster.store.metrics([run_id]).empty, 180, "the long run's first point")
    started = time.time()
    assert cluster.cli("cancel", run_id, "--wait", "10").strip() == f"{run_id} cancelled"
    assert time.time() - started < 10
    import torch

    state = torch.load(cluster.store.checkpoint_path(run_id), weights_only=True)
    assert state["step"] == cluster.store.get(run_id).step > 0
    assert cluster.store.get(run_id).error is None  # it stopped by itself, at the flag


def test_a_task_that_ignores_its_flag_is_killed(cluster: Cluster) -> None:
    run_id = cluster.store.create_run(LONG)
    pid = wait_for(lambda: re.search(r"running on \S+ as pid (\d+)", cluster.cli("logs", run_id)), 180,
                   "the stuck run's task")
    wait_for(lambda: cluster.store.get(run_id).first_step_at, 60, "the stuck run's first step")
    os.kill(int(pid.group(1)), signal.SIGSTOP)  # a frozen task never sees its cancel flag
    started = time.time()
    cluster.store.request_cancel(run_id)
    wait_for(lambda: cluster.status(run_id) != "running", 30, "the force cancel")
    run = cluster.store.get(run_id)
    assert (run.status, run.error) == ("cancelled", "stopped by signal after a cancel request")
    assert time.time() - started < 15


def test_a_stopped_supervisor_checkpoints_its_tasks_for_the_next_one_and_no_ray_process_is_left(
        cluster: Cluster) -> None:
    run_id = cluster.store.create_run(LONG)
    wait_for(lambda: not cluster.store.metrics([run_id]).empty, 180, "the last run's first point")
    cluster.supervisor.send_signal(signal.SIGTERM)
    assert cluster.supervisor.wait(timeout=60) == 0, cluster.worker_log()[-2000:]
    run = cluster.store.get(run_id)
    assert (run.status, run.resume, run.tries, run.error) == ("queued", True, 0, None)  # the next supervisor's
    import torch

    assert torch.load(cluster.store.checkpoint_path(run_id), weights_only=True)["step"] > 0
    assert "stopped with its supervisor at step" in cluster.store.log_tail(run_id)
    cluster.shutdown()
    assert not group_alive(cluster.head.pid) and not group_alive(cluster.supervisor.pid)


def test_without_an_address_a_private_local_ray_comes_and_goes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    # ray.init switches this process to token mode by writing RAY_AUTH_MODE into os.environ (and only
    # when it is unset); setenv-then-delenv leaves it unset and has monkeypatch remove Ray's value after.
    monkeypatch.setenv("RAY_AUTH_MODE", "")
    monkeypatch.delenv("RAY_AUTH_MODE")
    executor = RayExecutor(store, num_cpus=1)
    try:
        assert executor.owns_ray and ray.cluster_resources()["CPU"] == 1
        assert [s.label for s in executor.slots()] == ["cpu0"]
    finally:
        executor.close()
    assert not ray.is_initialized()
    wait_for(lambda: not ray_children(), 30, "the local Ray's processes to end")


def ray_children() -> list[int]:
    """Processes this test process started whose command line mentions ray."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"ray" in cmdline:
            found.append(int(stat.parent.name))
    return found


# ---- without a cluster --------------------------------------------------------------------------------

def test_slots_follow_the_cluster_resources() -> None:
    labels = lambda resources, per_job=1: [s.label for s in RayExecutor._make_slots(resources, per_job)]  # noqa: E731
    assert labels({"CPU": 2.0}) == ["cpu0", "cpu1"]
    assert labels({"CPU": 8.0, "GPU": 2.0}) == ["cuda0", "cuda1"] + [f"cpu{i}" for i in range(6)]
    assert labels({"CPU": 8.0}, per_job=4) == ["cpu0", "cpu1"]
    assert labels({"CPU": 1.0, "GPU": 1.0}) == ["cuda0", "cpu0"]  # never without a CPU slot
