"""Injected faults with real processes: signals to jobs, a store that cannot be written, broken datasets,
divergence, CUDA running out of memory, dashboards racing to start the supervisor.

The faults tests/cli/test_run_commands.py already injects (SIGKILL of a job, a killed and restarted supervisor, a
cancel then resume) stay there and record into the ledger; their helpers are reused here.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from reliability.recording import Record
from support import ROOT, requires_fmnist, wait_for
from support.datasets import make_cifar, make_mnist
from support.faults import injected_env
from support.permissions import read_only, unprivileged, writable
from support.procs import TINY, Groups, Procs, epoch_test_points, wait_status
from support.refusals import cli_in_process, refusal_problem
from support.runs import finished_run

from cnnkit.bundle import export_bundle
from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store, is_alive


def earlier_run(store: Store, seed: int = 0, points: int = 50) -> str:
    """A completed run with ``points`` train-loss points."""
    return finished_run(store, RunConfig(epochs=1, seed=seed), name=f"earlier {seed}", worker="w",
                        points=[MetricPoint(s, s / points, "train", "loss", 1.0 / s, 1e9 + s)
                                for s in range(1, points + 1)],
                        summary={"best": {"test_acc": 0.5}})


def snapshot(store: Store) -> dict[str, tuple]:
    """Everything a fault must leave alone: every run's status, name and number of points."""
    counts = store.metrics([r.id for r in store.list_runs()]).groupby("run_id").size().to_dict()
    return {r.id: (r.status, r.name, r.tags, counts.get(r.id, 0)) for r in store.list_runs()}


# ---- signals to a job ---------------------------------------------------------------------------------

@pytest.mark.slow
@requires_fmnist
def test_sigterm_of_a_job_ends_it_cancelled_with_a_safe_checkpoint_and_resume_continues(
        procs: Procs, store: Store, record: Record) -> None:
    """A SIGTERM from outside (the OS shutting down, `kill`): the job checkpoints and ends cancelled;
    `resume` continues the epoch count and replays no step."""
    run_id = procs.json("submit", "--epochs", "3", "--subset", "0.1", "--batch-size", "64",
                        "--set", "test_subset=0.05", "--set", "reports_per_epoch=20")["run_id"]
    procs.start_worker()
    wait_for(lambda: epoch_test_points(store, run_id), 240, "the first epoch")
    job = store.get(run_id).pid
    os.kill(job, signal.SIGSTOP)  # it must still be training when the signal lands, however fast the machine
    assert store.get(run_id).status == "running"
    os.kill(job, signal.SIGTERM)
    signalled = time.time()
    os.kill(job, signal.SIGCONT)
    assert wait_status(store, run_id, ("cancelled", "completed", "failed", "lost"), 30) == "cancelled"
    took = time.time() - signalled
    state = torch.load(store.checkpoint_path(run_id), weights_only=True)
    total = store.get(run_id).total_steps
    assert 0 < state["step"] < total and state["epoch"] >= 1
    assert epoch_test_points(store, run_id) == {e: 1 for e in range(1, state["epoch"] + 1)}
    assert "queued to resume" in procs.cli("resume", run_id).stdout
    assert wait_status(store, run_id, ("completed", "failed", "lost"), 300) == "completed", store.get(run_id).error
    assert epoch_test_points(store, run_id) == {1: 1, 2: 1, 3: 1}
    steps = store.metrics([run_id], split="train", names=["loss"]).step.tolist()
    assert steps == sorted(set(steps)) and steps[-1] == total
    record("fault", "SIGTERM of a running job", "cancelled; checkpoint loads (weights_only); resumed to epoch 3",
           seconds=round(took, 2))


# ---- the store cannot be written ------------------------------------------------------------------------

WRITES = {  # what → argv after `python -m cnnkit` ({done}: a completed run, {queued}: a queued one)
    "submit": ["submit", *TINY],
    "rename": ["rename", "{done}", "new name"],
    "tag": ["tag", "{done}", "a"],
    "cancel": ["cancel", "{queued}"],
    "delete": ["delete", "{done}"],
    "resume": ["resume", "{done}"],
}


@pytest.mark.slow
@pytest.mark.parametrize("what", ["database", "folder"])
def test_read_only_store_every_writing_command_is_one_clear_line(store: Store, cli_env: dict[str, str], what: str,
                                                                 groups: Groups, record: Record) -> None:
    prefix = unprivileged()
    ids = {"done": earlier_run(store), "queued": store.create_run(RunConfig(epochs=1), name="waiting")}
    before = snapshot(store)
    store.close()
    read_only(store.home if what == "folder" else store.db_path)
    try:
        procs = {name: groups.start([*prefix, sys.executable, "-m", "cnnkit", *(a.format(**ids) for a in argv),
                                     "--store", str(store.home)], cwd=ROOT, env=cli_env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for name, argv in WRITES.items()}
        results = [(name, *p.communicate(timeout=240), p.returncode) for name, p in procs.items()]
        listing = subprocess.run([*prefix, sys.executable, "-m", "cnnkit", "runs", "--json", "--store",
                                  str(store.home)], cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120)
    finally:
        writable(store.home)
    problems = []
    for name, out, err, code in results:
        problem = refusal_problem(code, out, err, "read-only", "fix its permissions", loose=True)
        if not problem and str(store.db_path) not in err:
            problem = f"does not name the database: {err}"
        outcome = "one-line error" if not problem else f"NOT clean: {problem}"
        record("fault", f"read-only store ({what}): {name}", outcome)
        if problem:
            problems.append(f"{name}: {problem}")
    assert not problems, problems
    if what == "database":  # reading still works
        assert listing.returncode == 0 and {r["id"] for r in json.loads(listing.stdout.splitlines()[-1])} == set(
            ids.values())
    assert store.integrity_check() == "ok" and snapshot(store) == before


def _cap_pages(monkeypatch: pytest.MonkeyPatch, db: Path, extra_pages: int) -> None:
    """Every new connection to ``db`` gets ``PRAGMA max_page_count`` = its size now + ``extra_pages``:
    SQLite then fails writes past that with SQLITE_FULL, exactly as on a full disk."""
    probe = sqlite3.connect(db)
    limit = probe.execute("PRAGMA page_count").fetchone()[0] + extra_pages
    probe.close()
    connect = sqlite3.connect

    def capped(path: str | Path, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(path, *args, **kwargs)
        if Path(path) == db:
            conn.execute(f"PRAGMA max_page_count = {limit}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", capped)


def test_full_store_disk_is_one_clear_line_and_writes_nothing(store: Store, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch, record: Record) -> None:
    for seed in range(2):  # earlier runs, which must come out of it intact
        earlier_run(store, seed)
    source = Store(tmp_path / "source")  # a bundle of three big runs to import
    big = [earlier_run(source, seed, points=3000) for seed in range(3)]
    bundle = export_bundle(source, big, tmp_path / "big.zip")
    before = snapshot(store)
    store.close()
    cases = [
        ("import of a 9000-point bundle", ["import", str(bundle)], 50),  # room for one run of the three
        ("submit of a 20-run sweep", ["submit", "--epochs", "1", "--seeds", "20"], 0),
    ]
    problems = []
    for what, argv, extra_pages in cases:
        with monkeypatch.context() as m:
            _cap_pages(m, store.db_path, extra_pages)
            code, out, err = cli_in_process([*argv, "--store", str(store.home)], capsys)
        problem = refusal_problem(code, out, err, "disk is full", "free some disk space", loose=True)
        after = Store(store.home)
        if not problem and after.integrity_check() != "ok":
            problem = "integrity check failed"
        if not problem and snapshot(after) != before:
            problem = f"the store changed: {len(snapshot(after)) - len(before)} runs more"
        after.close()
        record("fault", f"full store disk: {what}", "one-line error, nothing written" if not problem
               else f"NOT clean: {problem}")
        if problem:
            problems.append(f"{what}: {problem} ({err.strip()})")
    assert not problems, problems
    # and once there is room again, the same import goes through whole
    code, out, err = cli_in_process(["import", str(bundle), "--store", str(store.home)], capsys)
    assert code == 0 and out.startswith("imported 3 runs"), err


# ---- broken datasets ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_truncated_dataset_files_fail_the_cli_and_the_job_naming_the_file(procs: Procs, store: Store,
                                                                            tmp_path: Path, record: Record) -> None:
    data_root = tmp_path / "data"
    make_mnist(data_root)
    make_cifar(data_root)
    images = data_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:3000])
    batch = data_root / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:700])
    procs.env = procs.env | {"CNNKIT_DATA": str(data_root)}
    run_id = procs.json("submit", *TINY, "--dataset", "cifar10", "--model", "course-cnn")["run_id"]
    worker = procs.start_worker("--idle-exit", "1")
    train = procs.cli("train", *TINY, "--dataset", "mnist", "--json", ok=False)  # in the foreground meanwhile
    assert worker.wait(timeout=240) == 0, procs.worker_output()

    assert "Traceback" not in train.stdout + train.stderr
    if train.returncode == 2:  # refused before a run was recorded: one line on stderr
        lines = train.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), train.stderr
        cli_error = lines[0]
    else:  # or recorded as a failed run
        doc = json.loads(train.stdout.strip().splitlines()[-1])
        assert train.returncode == 1 and doc["status"] == "failed", doc
        cli_error = doc["error"]
    for error, name, what in ((cli_error, "train-images-idx3-ubyte", "cli train on a truncated idx file"),
                              (store.get(run_id).error, "test_batch", "job on a truncated CIFAR-10 batch")):
        assert error and "\n" not in error and "Traceback" not in error, error
        assert name in error and "corrupt or truncated" in error and "fetch" in error, error
        record("fault", what, "refused or failed, naming the file and what to do")
    assert store.get(run_id).status == "failed"


# ---- divergence and running out of memory ---------------------------------------------------------------

@pytest.mark.slow
@requires_fmnist
def test_lr_100_diverges_at_the_step_it_happened(procs: Procs, store: Store, record: Record) -> None:
    argv = ["--lr", "100", "--set", "activation=relu", "--epochs", "2", "--batch-size", "64", "--subset", "0.02",
            "--set", "test_subset=0.05", "--set", "reports_per_epoch=20", "--device", "cpu"]
    done = procs.cli("train", *argv, "--json", ok=False)
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 1 and doc["status"] == "diverged", doc
    step = int(re.fullmatch(r"loss became non-finite at step (\d+)", doc["error"]).group(1))
    run = store.get(doc["run_id"])
    assert (run.status, run.step) == ("diverged", step)
    points = store.metrics([run.id], split="train", names=["loss"])
    assert (points.step < step).all() and points.value.map(float).map(abs).lt(float("inf")).all()
    # The step is where it happened: the same run again in this process, loss by loss, goes non-finite there.
    from cnnkit import engine

    losses: list[float] = []
    compute = engine.Trainer._loss

    def watched(self: engine.Trainer, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = compute(self, logits, y)
        if self.model.training:
            losses.append(loss.item())
        return loss

    config = RunConfig.from_dict(run.config)
    threads = torch.get_num_threads()
    torch.set_num_threads(int(re.search(r"(\d+) threads", run.device).group(1)))  # the job's own arithmetic
    try:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(engine.Trainer, "_loss", watched)
            again = engine.fit(config)
    finally:
        torch.set_num_threads(threads)
    first_bad = next(i for i, x in enumerate(losses) if not torch.isfinite(torch.tensor(x))) + 1
    assert again.status == "diverged" and first_bad == step == again.step
    record("fault", "lr 100", f"diverged, naming the step ({step})")


@pytest.mark.slow
@requires_fmnist
def test_cuda_out_of_memory_in_a_real_job_ends_it_oom(procs: Procs, store: Store, record: Record) -> None:
    """torch.OutOfMemoryError raised at step 7 inside the supervisor's job (patched in by inject/sitecustomize.py)."""
    procs.env = injected_env(procs.env, CNNKIT_INJECT_OOM_AT_STEP="7")
    run_id = procs.json("submit", "--epochs", "1", "--subset", "0.05", "--batch-size", "64", "--set",
                        "test_subset=0.05", "--set", "reports_per_epoch=20")["run_id"]
    worker = procs.start_worker("--idle-exit", "1")
    assert worker.wait(timeout=240) == 0, procs.worker_output()
    run = store.get(run_id)
    assert run.status == "oom", (run.status, run.error)
    assert run.error.startswith("OutOfMemoryError: CUDA out of memory") and "injected at step 7" in run.error
    assert run.step == 6  # six steps finished before the seventh ran out of memory
    points = store.metrics([run_id], split="train", names=["loss"])
    assert not points.empty and points.step.max() <= 6  # what it logged before is kept
    assert f"run {run_id} ended oom" in procs.cli("logs", run_id).stdout
    record("fault", "CUDA out of memory at step 7 (injected)", "oom; earlier points kept")


# ---- two dashboards, one store ----------------------------------------------------------------------------

RACER = """
import sys, time
from cnnkit.jobs.supervisor import ensure_supervisor
from cnnkit.store import Store
store = Store(sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
print(ensure_supervisor(store, idle_exit=60) or "")
"""


@pytest.mark.slow
def test_dashboards_racing_to_start_the_supervisor_start_one(store: Store, groups: Groups,
                                                             record: Record) -> None:
    """What every dashboard session does on Launch (ui.start_supervisor → ensure_supervisor), from four
    threads and two processes at the same moment: one supervisor serves the store, the rest give way."""
    from cnnkit.jobs.supervisor import ensure_supervisor

    start = time.time() + 3.0
    racers = [groups.start([sys.executable, "-c", RACER, str(store.home), str(start)], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True) for _ in range(2)]
    started: list[int] = []

    def launch() -> None:
        mine = Store(store.home)
        while time.time() < start:
            time.sleep(0.001)
        pid = ensure_supervisor(mine, idle_exit=60)
        if pid:
            started.append(pid)

    threads = [threading.Thread(target=launch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for proc in racers:
        out = proc.communicate(timeout=120)[0].strip()
        if out:
            started.append(int(out))
    for pid in started:
        groups.add(pid)  # every supervisor started leads its own session: killed at teardown
    assert started, "nobody started a supervisor"
    holder = wait_for(lambda: supervisor_pid(store.home), 120, "a supervisor to hold the lock")
    alive = wait_for(lambda: (lambda a: a if len(a) <= 1 else None)([p for p in started if is_alive(p, None)]),
                     120, "the supervisors that lost the race to exit")
    assert alive == [holder], (started, alive, holder)
    log = (store.home / "worker.log").read_text()
    assert log.count("a supervisor already runs") == len(started) - 1, log
    assert ensure_supervisor(store) is None  # and a later dashboard finds it
    record("fault", f"{len(threads) + len(racers)} dashboards launching at once", f"one supervisor "
           f"({len(started)} started, {len(started) - 1} gave way)")
