"""The ray section of ``cnnkit bench``: what the Ray path costs a short LeNet run next to the local executor, and
how long a run whose node dies takes to train again on another node.

Overhead: two supervisors side by side, the local executor's and the Ray executor's (a private local Ray),
each serving a store of its own; the same LeNet run goes to one, then the other, alternately, with one thread
per job on both (``--cpu-slots`` = cores for the local one; Ray gives a task one CPU). The first run on each
is its cold start (Ray starts its workers and unpacks the code), reported apart from the median of the rest.

Node loss: a head that only hosts the supervisor's side and two bare worker nodes (``cnnkit.bench.cluster``),
one run; its node is killed once the run's first checkpoint is in the store, and the run is timed until the
supervisor has seen the loss (the run queued again) and until its new task's first step on the other node.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit.bench.cluster import LocalCluster, SupervisorProcess, node_of
from cnnkit.bench.threads import lenet_run
from cnnkit.config import RunConfig
from cnnkit.events import Status
from cnnkit.store import Run, Store

RUN_TIMEOUT = 600.0  # seconds a benchmark run may take, queue to end, on a loaded machine
EXECUTORS = ("local", "ray")


def run(short: bool, log: Callable[[str], None], repeats: int = 3) -> dict[str, Any]:
    """Both measurements, as one JSON-ready dict (``skipped`` when Ray is not installed)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return {"skipped": "Ray is not installed (pip install -r requirements-ray.txt)"}
    log("ray: the same LeNet run through the local and the Ray executor, alternately")
    overhead = executor_overhead(lenet_run(short, epochs=1), repeats)
    log("ray: a run's node killed after its first checkpoint; until it trains again on another node")
    return {"overhead": overhead, "node_loss": node_loss(lenet_run(short, epochs=3, init="xavier"))}


def executor_overhead(config: RunConfig, repeats: int) -> dict[str, Any]:
    """Seconds from queue to first step, queue to end, and of training, per executor: the cold start and the
    median of ``repeats`` warm runs."""
    cores = str(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="cnnkit-bench-ray-") as tmp:
        stores = {name: Store(Path(tmp) / name) for name in EXECUTORS}
        workers = {"local": ["--cpu-slots", cores], "ray": ["--executor", "ray"]}
        procs = {name: SupervisorProcess.start(stores[name], workers[name], Path(tmp) / f"{name}.log")
                 for name in EXECUTORS}
        try:
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in EXECUTORS}
            for _ in range(repeats + 1):
                for name in EXECUTORS:
                    samples[name].append(_timed(finished(stores[name], stores[name].create_run(config))))
        finally:
            for proc in procs.values():
                proc.stop()
    section: dict[str, Any] = {"run": config.to_dict(), "repeats": repeats, "threads_per_job": 1}
    for name, runs in samples.items():
        section[name] = {"cold": runs[0]} | {key: statistics.median(r[key] for r in runs[1:]) for key in runs[0]}
    section["ratio"] = {key: section["ray"][key] / section["local"][key] for key in ("total_s", "train_s")}
    return section


def finished(store: Store, run_id: str, timeout: float = RUN_TIMEOUT) -> Run:
    """The run once it has ended completed; RuntimeError otherwise."""
    deadline = time.time() + timeout
    while (run := store.get(run_id)).status in Status.ACTIVE:
        if time.time() > deadline:
            raise RuntimeError(f"bench run {run_id} did not end within {timeout:g} s")
        time.sleep(0.05)
    if run.status != Status.COMPLETED:
        raise RuntimeError(f"bench run {run_id} ended {run.status}: {run.error}")
    return run


def _timed(run: Run) -> dict[str, float]:
    total, train = run.finished_at - run.queued_at, run.summary["train_seconds"]
    return {"first_step_s": run.first_step_at - run.queued_at, "total_s": total, "train_s": train,
            "besides_training_s": total - train}


def node_loss(config: RunConfig) -> dict[str, Any]:
    """Kill the node of a training run after its first checkpoint; time its way back to training."""
    cluster = LocalCluster.start(head_cpus=0)
    try:
        first, second = cluster.add_node("a"), cluster.add_node("b")
        with tempfile.TemporaryDirectory(prefix="cnnkit-bench-ray-") as tmp:
            store = Store(Path(tmp) / "store")
            supervisor = SupervisorProcess.start(store, ["--executor", "ray", "--address", cluster.address],
                                                 Path(tmp) / "worker.log")
            try:
                run_id = store.create_run(config)
                lost, checkpoint_step, step, killed_at = _kill_its_node(cluster, store, run_id)
                seen_at = _poll(lambda: store.get(run_id).tries >= 1 and time.time())
                # Queueing it again cleared its first step: the next one is the new task's.
                back_at = _poll(lambda: store.get(run_id).first_step_at)
                resumed_on = cluster.name_of(node_of(store, run_id))
                run = finished(store, run_id)
                log = [line for line in store.log_tail(run_id).splitlines() if line.startswith("[supervisor]")]
            finally:
                supervisor.stop()
        return {"run": config.to_dict(), "lost_node": lost, "resumed_on": resumed_on, "nodes": [first, second],
                "checkpoint_step": checkpoint_step, "step_at_loss": step, "seen_s": seen_at - killed_at,
                "training_again_s": back_at - killed_at, "status": str(run.status),
                "final_test_acc": run.summary["final"]["test_acc"], "same_as_uninterrupted": _uninterrupted(run),
                "supervisor_log": log}
    finally:
        cluster.shutdown()


def _kill_its_node(cluster: LocalCluster, store: Store, run_id: str) -> tuple[str, int, int, float]:
    """Remove the node the run trains on as soon as its first checkpoint is in the store; returns the node's
    name, the checkpoint's step, the run's last recorded step and the time of the kill."""
    from cnnkit.engine import load_checkpoint

    _poll(lambda: store.checkpoint_path(run_id).exists())
    run = store.get(run_id)
    if run.status != Status.RUNNING:
        raise RuntimeError(f"bench run {run_id} ended ({run.status}) before its node could be killed")
    name = cluster.name_of(node_of(store, run_id))
    if name in (None, "head"):
        raise RuntimeError(f"bench run {run_id} does not say which worker node it trains on")
    checkpoint_step = int(load_checkpoint(store.checkpoint_path(run_id))["step"])
    killed_at = time.time()
    cluster.remove_node(name)
    return name, checkpoint_step, run.step, killed_at


def _poll(check: Callable[[], Any], timeout: float = RUN_TIMEOUT) -> Any:
    deadline = time.time() + timeout
    while not (value := check()):
        if time.time() > deadline:
            raise RuntimeError(f"bench: nothing happened within {timeout:g} s")
        time.sleep(0.02)
    return value


def _uninterrupted(run: Run) -> bool:
    """Whether the run ends with the final metrics of the same run trained here without a break (one thread,
    as its tasks had): the CPU engine is deterministic for a seed."""
    import math

    import torch

    from cnnkit.engine import fit

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        straight = fit(RunConfig.from_dict(run.config)).final
    finally:
        torch.set_num_threads(before)
    return all(math.isclose(run.summary["final"][k], v, rel_tol=1e-5) for k, v in straight.items())


def format_section(section: dict[str, Any]) -> list[str]:
    from cnnkit.text import format_table

    if "skipped" in section:
        return [f"ray: skipped ({section['skipped']})"]
    over, loss = section["overhead"], section["node_loss"]
    rows = [(name, over[name]["cold"]["total_s"], over[name]["first_step_s"], over[name]["total_s"],
             over[name]["train_s"], over[name]["besides_training_s"]) for name in EXECUTORS]
    images = f"{100 * over['run']['subset']:g} % of Fashion-MNIST"
    return [
        f"ray executor vs local (LeNet on {images}, {over['run']['epochs']} epoch, one thread per job; "
        f"median of {over['repeats']} after a cold start):",
        format_table(rows, ["executor", "cold s", "first step s", "queue→end s", "train s", "besides s"], "lrrrrr"),
        f"ray / local: {over['ratio']['total_s']:.2f}× queue to end, {over['ratio']['train_s']:.2f}× training",
        f"node loss: node {loss['lost_node']} killed at step {loss['step_at_loss']} (checkpoint at step "
        f"{loss['checkpoint_step']}); the supervisor saw it {loss['seen_s']:.1f} s later and the run trained again "
        f"on node {loss['resumed_on']} {loss['training_again_s']:.1f} s after the loss; it ended {loss['status']}, "
        f"final test acc {loss['final_test_acc']:.3f}"
        + (", the same as without the loss" if loss["same_as_uninterrupted"] else ", NOT the same as without the loss"),
        *(f"  {line}" for line in loss.get("supervisor_log", [])),
    ]
