"""The commands of cnnkit/cli/run_commands.py: `train` in the foreground, and background jobs through the
command line (submit, worker, runs, cancel, logs, resume, delete, rename, tag, export, import) with real
supervisors, real job processes, real signals.

Every test gets its own store (``CNNKIT_HOME``). Supervisors run in their own process groups and jobs
lead their own, so the ``procs`` fixture kills both kinds by group when a test ends, whatever happened.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability.recording import Record
from support import FMNIST, ROOT, requires_fmnist, wait_for
from support.cli import cnnkit, last_json
from support.procs import (
    LONG,
    TINY,
    TINY_CONFIG,
    Procs,
    epoch_test_points,
    finish_worker,
    wait_first_point,
    wait_serving,
    wait_status,
)

from cnnkit.config import RunConfig
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store

RUN_KEYS = {"id", "status", "pid", "model", "dataset", "group", "progress", "queued_at", "started_at",
            "finished_at", "train_loss", "train_acc", "test_loss", "test_acc", "error"}


# ---- fast: the commands that only touch the store ---------------------------------------------------

def test_runs_json_cancel_rename_tag_delete(procs: Procs, store: Store) -> None:
    first, second = store.create_runs([RunConfig(epochs=1), RunConfig(epochs=1, seed=1)])
    records = {r["id"]: r for r in procs.json("runs")}
    assert set(records) == {first, second} and RUN_KEYS <= set(records[first])
    assert records[first]["status"] == "queued" and records[first]["progress"] == 0
    assert procs.cli("cancel", first).stdout.strip() == f"{first} cancelled"
    procs.cli("rename", first, "my run")
    assert "a, b" in procs.cli("tag", first, "b", "a").stdout
    run = store.get(first)
    assert (run.status, run.name, run.tags) == ("cancelled", "my run", ["a", "b"])
    store.claim("w")
    refused = procs.cli("delete", second, ok=False)
    assert refused.returncode == 2 and refused.stderr.strip() == f"error: run {second} is running; cancel it first"
    procs.cli("delete", first)
    assert [r["id"] for r in procs.json("runs")] == [second]
    bad = procs.cli("logs", "../../etc", ok=False)
    assert bad.returncode == 2 and "8 hex digits" in bad.stderr


def test_resume_refuses_an_active_run(procs: Procs, store: Store) -> None:
    run_id = store.create_run(RunConfig(epochs=1))
    done = procs.cli("resume", run_id, ok=False)
    assert done.returncode == 2 and "only a finished run can be resumed" in done.stderr


@pytest.mark.slow
def test_second_supervisor_exits_with_code_1(procs: Procs) -> None:
    first = procs.start_worker()
    wait_for(lambda: supervisor_pid(procs.home) == first.pid, 60, "the first supervisor's lock")
    second = procs.cli("worker", ok=False, timeout=60)
    assert second.returncode == 1
    assert f"a supervisor already runs for {procs.home} (pid {first.pid})" in second.stderr
    assert first.poll() is None


# ---- a finished store, shared by the tests that only read it ----------------------------------------

@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Procs, dict[str, Any]]]:
    """Five tiny runs submitted as one single run and one sweep (2 lr × 2 seeds), run by `worker --idle-exit 2`."""
    if not FMNIST:
        pytest.skip("Fashion-MNIST is not installed")
    tmp = tmp_path_factory.mktemp("finished")
    env = dict(os.environ, CNNKIT_HOME=str(tmp / "store"), CNNKIT_OFFLINE="1", PYTHONUNBUFFERED="1")
    procs = Procs(env, tmp / "store")
    single = procs.json("submit", *TINY, "--name", "single")
    sweep = procs.json("submit", *TINY, "--sweep", "lr=0.1,0.05", "--seeds", "2")
    worker = procs.start_worker("--idle-exit", "2")
    try:
        finish_worker(procs, worker)
        yield procs, {"single": single, "sweep": sweep}
    finally:
        procs.kill_all()


@pytest.mark.slow
def test_submit_makes_the_sweep_cross_product_as_one_group(finished: tuple[Procs, dict[str, Any]]) -> None:
    procs, submitted = finished
    assert set(submitted["single"]) == {"run_id", "group"} and submitted["single"]["group"] is None
    sweep = submitted["sweep"]
    assert len(sweep["run_ids"]) == 4 and sweep["group"]
    store = Store(procs.home)
    runs = store.list_runs(group=sweep["group"])
    assert sorted((r.config["lr"], r.config["seed"]) for r in runs) == sorted(itertools.product([0.1, 0.05], [0, 1]))
    assert store.group(sweep["group"])["kind"] == "sweep"


@pytest.mark.slow
def test_worker_runs_everything_to_completed(finished: tuple[Procs, dict[str, Any]]) -> None:
    procs, submitted = finished
    records = procs.json("runs")
    assert len(records) == 5
    for r in records:
        assert RUN_KEYS <= set(r)
        assert (r["status"], r["progress"], r["error"]) == ("completed", 1.0, None), r
        assert r["queued_at"] <= r["started_at"] <= r["finished_at"] and r["pid"]
        assert 0 <= r["test_acc"] <= 1 and r["train_loss"] > 0
    assert {r["group"] for r in records} == {None, submitted["sweep"]["group"]}
    assert "serving" in procs.worker_output()


@pytest.mark.slow
def test_logs_export_import_and_delete(finished: tuple[Procs, dict[str, Any]], tmp_path: Path) -> None:
    procs, submitted = finished
    run_id = submitted["single"]["run_id"]
    assert f"run {run_id} ended completed" in procs.cli("logs", run_id).stdout
    bundle = tmp_path / "sweep.zip"
    out = procs.cli("export", "--group", submitted["sweep"]["group"], "--out", str(bundle)).stdout
    assert out.strip() == f"exported 4 runs to {bundle}"
    other = tmp_path / "other"
    assert procs.cli("import", str(bundle), "--store", str(other)).stdout.startswith("imported 4 runs: ")
    assert "all were imported before" in procs.cli("import", str(bundle), "--store", str(other)).stdout
    source, copy = Store(procs.home), Store(other)
    for run in copy.list_runs():
        assert run.group == submitted["sweep"]["group"]
        original = run.summary["origin"]["id"]
        assert copy.metrics([run.id]).value.tolist() == source.metrics([original]).value.tolist()
    assert copy.group(submitted["sweep"]["group"]) is not None
    victim = submitted["sweep"]["run_ids"][0]
    assert source.run_dir(victim).exists()
    assert procs.cli("delete", victim).stdout.strip() == f"{victim} deleted"
    assert not source.run_dir(victim).exists() and victim not in {r["id"] for r in procs.json("runs")}


@pytest.mark.slow
@requires_fmnist
def test_a_forked_job_trains_after_its_supervisor_decoded_the_dataset(procs: Procs, store: Store) -> None:
    """A clean machine: no decoded cache, so the supervisor decodes the raw files itself before it forks.

    Decoding runs torch ops; had they run on an OpenMP thread pool, the forked job would hang in its first one.
    """
    procs.env = procs.env | {"CNNKIT_DATA": str(procs.home.parent / "fresh-data")}
    run_id = procs.json("submit", *TINY)["run_id"]
    finish_worker(procs, procs.start_worker("--idle-exit", "2"), timeout=180)
    assert store.get(run_id).status == "completed", procs.cli("logs", run_id).stdout
    assert (procs.home.parent / "fresh-data" / "cache").is_dir()


# ---- cancelling, killing, recovering ------------------------------------------------------------------

@pytest.mark.slow
@requires_fmnist
def test_cancel_a_running_job_then_resume_it(procs: Procs, store: Store, record: Record) -> None:
    run_id = procs.json("submit", "--epochs", "2", "--subset", "0.1", "--batch-size", "64",
                        "--set", "test_subset=0.05", "--set", "reports_per_epoch=20")["run_id"]
    procs.start_worker()
    wait_first_point(store, run_id)
    job = store.get(run_id).pid
    # The job is paused while the cancel is requested, so that it cannot finish first on a fast machine.
    os.kill(job, signal.SIGSTOP)
    cancel = subprocess.Popen([sys.executable, "-m", "cnnkit", "cancel", run_id, "--wait", "10"], cwd=ROOT,
                              env=procs.env, stdout=subprocess.PIPE, text=True)
    wait_for(lambda: store.get(run_id).cancel_requested, 30, "the cancel request")
    cancelled_at = time.time()
    os.kill(job, signal.SIGCONT)
    assert cancel.communicate(timeout=30)[0].strip() == f"{run_id} cancelled"
    assert time.time() - cancelled_at < 10
    import torch

    state = torch.load(store.checkpoint_path(run_id), weights_only=True)
    stopped_at, total = state["step"], store.get(run_id).total_steps
    assert 0 < stopped_at < total
    assert epoch_test_points(store, run_id) == {e: 1 for e in range(1, state["epoch"] + 1)}
    assert "queued to resume" in procs.cli("resume", run_id).stdout
    wait_status(store, run_id, ("completed", "failed", "lost"), 240)
    run = store.get(run_id)
    assert run.status == "completed", run.error
    assert epoch_test_points(store, run_id) == {1: 1, 2: 1}
    steps = store.metrics([run_id], split="train", names=["loss"]).step.tolist()
    assert steps == sorted(set(steps)) and steps[0] <= stopped_at and steps[-1] == total  # none replayed
    record("fault", "cancel of a running job", "cancelled within 10 s; resumed to completed, no step replayed")


@pytest.mark.slow
@requires_fmnist
def test_sigkill_of_a_job_marks_it_lost_and_keeps_its_points(procs: Procs, store: Store, record: Record) -> None:
    run_id = procs.json("submit", *LONG)["run_id"]
    procs.start_worker()
    wait_first_point(store, run_id)
    pid = next(r["pid"] for r in procs.json("runs") if r["id"] == run_id)
    before = len(store.metrics([run_id]))
    os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    wait_status(store, run_id, ("lost",), 10)
    assert time.time() - killed_at < 10
    run = store.get(run_id)
    assert "SIGKILL" in run.error and len(store.metrics([run_id])) >= before > 0
    record("fault", "SIGKILL of a running job", "lost within 10 s; metrics kept")


@pytest.mark.slow
@requires_fmnist
def test_killed_supervisor_then_a_new_one_loses_and_repeats_nothing(procs: Procs, store: Store, record: Record) -> None:
    first, *rest = store.create_runs([RunConfig(epochs=2, subset=0.1, batch_size=64, test_subset=0.05),
                                      TINY_CONFIG, TINY_CONFIG.replace(seed=1)])
    old = procs.start_worker()
    job = wait_for(lambda: store.get(first).pid, 60, "the first run's process")
    os.kill(job, signal.SIGSTOP)  # it must still be running when its supervisor dies, however fast the machine
    old.send_signal(signal.SIGKILL)
    old.wait(timeout=10)
    new = procs.start_worker("--idle-exit", "2")
    wait_serving(procs)
    os.kill(job, signal.SIGCONT)
    finish_worker(procs, new)
    assert store.get(first).status == "completed"  # re-adopted by the new supervisor
    assert "ended completed" in procs.cli("logs", first).stdout
    for run_id in rest:
        assert store.get(run_id).status == "completed"
    for run_id in [first, *rest]:
        assert epoch_test_points(store, run_id) == {e: 1 for e in range(1, store.get(run_id).epochs + 1)}
    assert store.counts()["completed"] == 3
    record("fault", "supervisor SIGKILLed mid-run, then restarted", "3 of 3 runs completed once, none lost")


@pytest.mark.slow
@requires_fmnist
def test_a_failing_job_is_failed_with_its_error(procs: Procs, store: Store, record: Record) -> None:
    env = procs.env | {"CNNKIT_DATA": str(procs.home.parent / "empty-data")}  # mnist is nowhere to be found
    procs.env = env
    run_id = procs.json("submit", *TINY, "--dataset", "mnist")["run_id"]
    finish_worker(procs, procs.start_worker("--idle-exit", "2"))
    run = store.get(run_id)
    assert run.status == "failed" and "mnist" in run.error.lower() and "Traceback" not in run.error
    assert run.error in procs.cli("logs", run_id).stdout
    record("fault", "job on a missing dataset", "failed with its one-line error")


@pytest.mark.slow
@requires_fmnist
def test_job_start_latency_with_a_warm_supervisor(procs: Procs, store: Store) -> None:
    procs.start_worker()
    wait_serving(procs)
    latencies = []
    for seed in range(3):  # the first run also loads the dataset into the supervisor
        run_id = store.create_run(TINY_CONFIG.replace(seed=seed))  # what `submit` and the dashboard do
        wait_status(store, run_id, ("completed",), 120)
        run = store.get(run_id)
        latencies.append(run.first_step_at - run.queued_at)
    print(f"\njob start latency (first_step_at - queued_at), warm supervisor: "
          f"{', '.join(f'{t:.3f} s' for t in latencies)}")
    assert all(t > 0 for t in latencies)


# ---- train -------------------------------------------------------------------------------------

@requires_fmnist
def test_train_json(python, cli_env):
    proc = cnnkit(python, cli_env, "train", "--epochs", "1", "--subset", "0.02", "--set", "test_subset=0.05",
                  "--lr", "0.5", "--set", "activation=relu", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = last_json(proc.stdout)
    assert {"run_id", "status", "config", "final", "epochs"} <= set(doc)
    assert doc["status"] == "completed" and doc["run_id"]
    assert doc["config"]["epochs"] == 1 and doc["config"]["subset"] == 0.02 and doc["config"]["lr"] == 0.5
    assert doc["config"]["model_options"] == {"activation": "relu"}
    assert set(doc["final"]) == {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert len(doc["epochs"]) == 1
    epoch = doc["epochs"][0]
    assert {"train_loss", "train_acc", "test_loss", "test_acc", "lr"} <= set(epoch)
    assert epoch["test_acc"] == doc["final"]["test_acc"] and 0 <= epoch["test_acc"] <= 1
    assert "Traceback" not in proc.stderr
    # the run is recorded in the store that CNNKIT_HOME names
    from cnnkit.store import Store

    store = Store(cli_env["CNNKIT_HOME"])
    run = store.get(doc["run_id"])
    assert run.status == "completed" and run.model == "lenet"
    assert store.checkpoint_path(doc["run_id"]).is_file()


@requires_fmnist
def test_train_table_output(python, cli_env):
    proc = cnnkit(python, cli_env, "train", "--epochs", "1", "--subset", "0.01", "--set", "test_subset=0.02")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[:5] == ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]
    assert lines[-1].startswith("run ") and lines[-1].endswith(" completed")


def test_train_on_a_missing_dataset_is_one_line_saying_how_to_get_it(python, cli_env, tmp_path):
    env = {**cli_env, "CNNKIT_DATA": str(tmp_path / "data")}
    proc = cnnkit(python, env, "train", "--dataset", "mnist", "--epochs", "1", "--json")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "MNIST is not in" in lines[0] and "download" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "store").exists()  # refused before any run was recorded
