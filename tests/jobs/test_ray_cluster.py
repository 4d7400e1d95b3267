"""Scale-out as Ray tests itself: a head and bare worker nodes on this machine (cnnkit.bench.cluster), a sweep
spread over them, a node added while a run waits, a node killed under a training run, a supervisor killed
mid-sweep. The worker nodes have neither cnnkit nor the dataset (a learnable synthetic MNIST in the real file
format, which only the supervisor and the head can read): both reach them through Ray.

One module-scoped cluster serves the scenarios, in file order, and is removed at the end with every process
it started. CPU training is deterministic for a seed, so a run that lost its node must end exactly as the
same run trained here without a break.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from support import wait_for
from support.datasets import write_idx_images, write_idx_labels

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint, Status
from cnnkit.store import Store

pytest.importorskip("ray")
from cnnkit.bench.cluster import LocalCluster, SupervisorProcess, node_of  # noqa: E402 - needs Ray

pytestmark = pytest.mark.slow

CONFIG = RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, dataset="mnist", epochs=4,
                   batch_size=64, lr=0.1, init="xavier", device="cpu", reports_per_epoch=4)
SWEEP = [CONFIG.replace(seed=seed) for seed in range(4)]  # the head, a and b take one each; one waits
TIMING = ("epoch_seconds", "images_per_sec")  # the only values that differ between two trainings of a seed
WAIT = 240.0  # seconds for anything to happen on a loaded 2-core machine


@dataclass
class Lab:
    tmp: Path
    data: Path
    store: Store
    cluster: LocalCluster
    env: dict[str, str]
    supervisor: SupervisorProcess | None = None

    def start_supervisor(self) -> None:
        self.supervisor = SupervisorProcess.start(self.store, ["--executor", "ray", "--address", self.cluster.address],
                                                  self.tmp / "worker.log", self.env)

    def placed(self, runs: list[str]) -> dict[str, str]:
        """Run → the name of the node its latest task runs on, for the runs that have said."""
        nodes = {run_id: self.cluster.name_of(node_of(self.store, run_id)) for run_id in runs}
        return {run_id: name for run_id, name in nodes.items() if name}

    def wait_ended(self, runs: list[str]) -> None:
        wait_for(lambda: all(self.store.get(r).status not in Status.ACTIVE for r in runs), 2 * WAIT,
                 f"the runs to end (supervisor: {self.supervisor.output()[-1500:] if self.supervisor else ''})")
        for run_id in runs:
            run = self.store.get(run_id)
            assert run.status == Status.COMPLETED, (run_id, run.error, self.store.log_tail(run_id))


def write_learnable_mnist(root: Path, n_train: int = 4000, n_test: int = 500) -> None:
    """MNIST's four idx files: a fixed template per class under heavy noise (LeNet learns it in 3 epochs)."""
    rng = np.random.default_rng(0)
    templates = rng.integers(0, 256, (10, 28, 28))
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True)
    for images, labels, n in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte", n_train),
                              ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", n_test)):
        y = rng.integers(0, 10, n)
        x = templates[y] * 0.5 + rng.integers(0, 256, (n, 28, 28)) * 0.5
        write_idx_images(folder / images, x.astype(np.uint8))
        write_idx_labels(folder / labels, y)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("cluster")
    data = tmp / "data"
    write_learnable_mnist(data)
    env = dict(os.environ, CNNKIT_DATA=str(data), CNNKIT_OFFLINE="1", PYTHONUNBUFFERED="1",
               RAY_USAGE_STATS_ENABLED="0")
    cluster = LocalCluster.start(head_cpus=1, head_env={"CNNKIT_DATA": str(data), "RAY_USAGE_STATS_ENABLED": "0"})
    lab = Lab(tmp, data, Store(tmp / "store"), cluster, env)
    try:
        cluster.add_node("a")
        cluster.add_node("b")
        lab.start_supervisor()
        yield lab
    finally:
        if lab.supervisor:
            lab.supervisor.kill()
        cluster.shutdown()


@pytest.fixture(scope="module")
def sweep(lab: Lab) -> list[str]:
    return lab.store.queue_group("over three nodes", SWEEP, {}, seeds=len(SWEEP))[1]


def uninterrupted(lab: Lab, config: dict) -> tuple[dict[str, float], list[MetricPoint]]:
    """The final metrics and the points of ``config`` trained here in one go, with one thread as its tasks had."""
    import torch

    from cnnkit.data import loading
    from cnnkit.engine import fit

    points: list[MetricPoint] = []
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = fit(RunConfig.from_dict(config), points.extend, dataset=loading.load("mnist", lab.data))
    finally:
        torch.set_num_threads(before)
    return result.final, points


def assert_trained_as_without_a_break(lab: Lab, run_id: str) -> None:
    """The run's final metrics and every point of it but the timings and the system's are those of the same run
    trained without a break: one point per step, none left over from a lost task."""
    final, points = uninterrupted(lab, lab.store.get(run_id).config)
    assert lab.store.get(run_id).summary["final"] == pytest.approx(final, rel=1e-5)
    frame = lab.store.metrics([run_id])
    got = {(r.split, r.name, r.step): r.value for r in frame.itertuples() if r.split != "system"}
    want = {(p.split, p.name, p.step): p.value for p in points}
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        if key[1] not in TIMING:
            assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_a_sweep_spreads_over_the_head_and_two_bare_nodes(lab: Lab, sweep: list[str]) -> None:
    placed = wait_for(lambda: p if len(p := lab.placed(sweep)) >= 3 else None, WAIT, "three runs to start")
    assert sorted(placed.values()) == ["a", "b", "head"]
    for run_id, node in placed.items():
        log = lab.store.log_tail(run_id)
        if node == "head":
            assert "the dataset from this node's data folder" in log
        else:  # the code unpacked from the job's runtime env into the node's own folder; the data from Ray
            assert re.search(rf"cnnkit from {lab.cluster.root}/{node}/ray/\S+/working_dir_files/", log), log
            assert "the dataset from the supervisor, through Ray's object store" in log


def test_a_node_added_while_a_run_waits_gets_it(lab: Lab, sweep: list[str]) -> None:
    waiting = [r for r in sweep if lab.store.get(r).status == Status.QUEUED]
    assert len(waiting) == 1
    lab.cluster.add_node("c")
    wait_for(lambda: lab.placed(waiting).get(waiting[0]) == "c", WAIT, "the waiting run to start on the new node")
    assert "slots now cpu0, cpu1, cpu2, cpu3" in lab.supervisor.output()


def test_a_run_whose_node_dies_continues_elsewhere_and_counts_no_step_twice(lab: Lab, sweep: list[str]) -> None:
    import torch

    victim = next(run_id for run_id, node in lab.placed(sweep).items() if node == "c")
    wait_for(lambda: lab.store.checkpoint_path(victim).exists(), WAIT, "the first checkpoint of the run on c")
    checkpoint_step = torch.load(lab.store.checkpoint_path(victim), weights_only=True)["step"]
    assert lab.store.get(victim).status == Status.RUNNING
    killed_at = time.time()
    lab.cluster.remove_node("c")
    lab.wait_ended(sweep)
    run = lab.store.get(victim)
    log = lab.store.log_tail(victim)
    assert run.tries == 1 and "its Ray task was lost on node" in log and "NodeDiedError" in log, log
    assert "queued to continue from its last checkpoint (automatic try 1 of 3)" in log
    resumed_at = int(re.search(r"continues from its checkpoint at step (\d+)", log).group(1))
    assert checkpoint_step <= resumed_at < run.total_steps
    assert lab.placed([victim])[victim] in ("head", "a", "b")
    assert_trained_as_without_a_break(lab, victim)
    frame = lab.store.metrics([victim])
    assert (frame[frame.step > resumed_at].wall > killed_at).all()  # logged again by the task that resumed


def test_a_killed_supervisor_is_replaced_and_the_sweep_carries_on(lab: Lab) -> None:
    runs = lab.store.queue_group("across a crash", [CONFIG.replace(seed=s) for s in (10, 11)], {}, seeds=2)[1]
    interrupted = wait_for(lambda: next((r for r in runs if lab.store.checkpoint_path(r).exists()), None), WAIT,
                           "a checkpoint of the sweep")
    assert lab.store.get(interrupted).status == Status.RUNNING
    lab.supervisor.kill()  # no goodbye: Ray ends the tasks of its job with it
    lab.start_supervisor()
    lab.wait_ended(runs)
    run = lab.store.get(interrupted)
    assert run.tries == 1 and "lost with the supervisor that ran it; queued to continue" in lab.store.log_tail(run.id)
    assert_trained_as_without_a_break(lab, interrupted)


def test_the_cluster_goes_without_a_trace(lab: Lab) -> None:
    lab.supervisor.kill()
    lab.supervisor = None
    root = str(lab.cluster.root)
    assert processes_using(root)
    lab.cluster.shutdown()
    wait_for(lambda: not processes_using(root), 60, f"the processes of {root} to end")
    assert not Path(root).exists()


def processes_using(root: str) -> list[int]:
    """Processes that name ``root`` on their command line or hold a file under it open (Ray's agents rename
    themselves, but keep their logs there)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            named = root.encode() in (proc / "cmdline").read_bytes()
            if named or any(os.readlink(fd).startswith(root) for fd in (proc / "fd").iterdir()):
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours to look into
            continue
    return found
