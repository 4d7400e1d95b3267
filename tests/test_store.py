"""The run store against a real SQLite file, with real concurrent processes."""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from support.permissions import read_only, unprivileged, writable
from support.procs import TRAIN_LOGGER, finish_all, run_python

from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.errors import StoreError
from cnnkit.store import MIGRATIONS, Store


def config(**changes) -> RunConfig:  # noqa: ANN003
    return RunConfig(epochs=2, subset=0.02, test_subset=0.05, **changes)


def point(step: int, epoch: float, split: str = "train", name: str = "loss", value: float = 1.0) -> MetricPoint:
    return MetricPoint(step, epoch, split, name, value, 1000.0 + step)


# ---- schema -------------------------------------------------------------------------------------

def test_schema_version_and_wal(store: Store) -> None:
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    again = Store(store.home)  # opening a current store migrates nothing
    assert again.counts()["queued"] == 0


def test_store_newer_than_cnnkit_is_refused(store: Store) -> None:
    conn = sqlite3.connect(store.db_path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this cnnkit"):
        Store(store.home)


def test_old_store_is_migrated(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "cnnkit.db").close()  # an empty v0 database
    store = Store(tmp_path)
    assert store._read("PRAGMA user_version")[0][0] == len(MIGRATIONS)
    assert store.create_run(config())


def test_run_ids_are_checked_before_they_reach_a_path(store: Store, record) -> None:  # noqa: ANN001
    for bad in ("../etc", "ABCDEF12", "1234567", "12345678/..", ""):
        with pytest.raises(StoreError, match="8 hex digits"):
            store.run_dir(bad)
        record("path", "run id given to the store", "refused")
    with pytest.raises(StoreError, match="no run"):
        store.get("0123abcd")


# ---- creating and claiming ----------------------------------------------------------------------

def test_create_runs_keeps_config_group_and_order(store: Store) -> None:
    group = store.create_group("sweep", "lr sweep", {"axes": {"lr": "0.1,0.2"}})
    ids = store.create_runs([config(lr=0.1), config(lr=0.2)], group, names=["a", "b"], tags=["x", "x", "y"])
    runs = {r.id: r for r in store.list_runs(group=group)}
    assert set(runs) == set(ids)
    first = runs[ids[0]]
    assert (first.status, first.name, first.tags, first.config["lr"]) == ("queued", "a", ["x", "y"], 0.1)
    assert RunConfig.from_dict(first.config) == config(lr=0.1)
    assert store.group(group)["meta"] == {"axes": {"lr": "0.1,0.2"}}
    assert [r.id for r in store.list_runs(status="queued")] == ids[::-1]  # newest first
    with pytest.raises(StoreError, match="status must be one of"):
        store.list_runs(status="finished")


def test_claim_takes_the_oldest_run_of_an_accepted_device(store: Store) -> None:
    gpu_run = store.create_run(config(device="cuda"))
    cpu_run = store.create_run(config(device="cpu"))
    auto_run = store.create_run(config())
    claimed = store.claim("test/cpu0", accept=("cpu", "auto"))
    assert claimed.id == cpu_run and claimed.status == "running"
    assert store.get(cpu_run).started_at is not None
    assert store.claim("test/cpu0", accept=("cpu", "auto")).id == auto_run
    assert store.claim("test/cpu0", accept=("cpu", "auto")) is None
    assert store.claim("test/cuda0", accept=("cuda", "auto")).id == gpu_run


CLAIMER = """
import sys, time
from cnnkit.store import Store
store = Store(sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
claimed = []
while (run := store.claim(sys.argv[3])) is not None:
    claimed.append(run.id)
print(" ".join(claimed))
"""


def test_concurrent_claims_never_hand_out_a_run_twice(store: Store) -> None:
    ids = store.create_runs([config(seed=s) for s in range(60)])
    start = str(time.time() + 1.5)  # every process starts claiming at the same moment
    procs = [run_python(CLAIMER, str(store.home), start, f"w{i}") for i in range(4)]
    claimed = [i for out in finish_all(procs) for i in out.split()]
    assert sorted(claimed) == sorted(ids)  # each run exactly once
    assert store.counts()["running"] == 60


# ---- metrics -------------------------------------------------------------------------------------

def test_log_metrics_latest_and_epoch_rows(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    for epoch in (1, 2):
        store.log_metrics(run_id, [point(epoch * 10 - 5, epoch - 0.5, value=3.0 - epoch),
                                   point(epoch * 10, epoch, value=2.0 - epoch),
                                   point(epoch * 10, epoch, name="acc", value=0.4 * epoch)])
        store.log_metrics(run_id, [point(epoch * 10, epoch, "test", "loss", 2.5 - epoch),
                                   point(epoch * 10, epoch, "test", "acc", 0.3 * epoch),
                                   point(epoch * 10, epoch, "train", "lr", 0.1),
                                   point(epoch * 10, epoch, "train", "epoch_seconds", 2.0),
                                   point(epoch * 10, epoch, "train", "images_per_sec", 600.0)])
    run = store.get(run_id)
    assert (run.step, run.epoch) == (20, 2.0)
    latest = store.latest_metrics([run_id])[run_id]
    assert latest["train_loss"] == 0.0 and latest["test_acc"] == pytest.approx(0.6)
    rows = store.epoch_rows(run_id)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1] == {"epoch": 2, "train_loss": 0.0, "train_acc": 0.8, "test_loss": 0.5, "test_acc": 0.6,
                       "lr": 0.1, "epoch_seconds": 2.0, "images_per_sec": 600.0}


def test_metrics_are_thinned_to_max_points_keeping_both_ends(store: Store) -> None:
    a, b = store.create_runs([config(), config(seed=1)])
    store.log_metrics(a, [point(s, s / 100) for s in range(1, 1001)])
    store.log_metrics(b, [point(s, s / 100) for s in range(1, 31)])
    full = store.metrics([a, b])
    assert len(full) == 1030 and list(full.columns) == ["run_id", "step", "epoch", "split", "name", "value", "wall"]
    thin = store.metrics([a, b], split="train", names=["loss"], max_points=100)
    curve = thin[thin.run_id == a].step.tolist()
    assert 90 <= len(curve) <= 101 and curve[0] == 1 and curve[-1] == 1000 and curve == sorted(curve)
    assert len(thin[thin.run_id == b]) == 30  # short curves are left alone
    assert store.metrics([]).empty and store.metrics([a], split="test").empty


def test_truncate_metrics_drops_points_after_a_checkpoint(store: Store) -> None:
    run_id = store.create_run(config())
    store.log_metrics(run_id, [point(s, s / 10) for s in range(1, 21)])
    store.truncate_metrics(run_id, 10)
    assert store.metrics([run_id]).step.max() == 10
    assert (store.get(run_id).step, store.get(run_id).epoch) == (10, 1.0)


def test_runs_frame_has_latest_metrics_and_flat_config(store: Store) -> None:
    run_id = store.create_run(config(model="lenet", model_options={"activation": "relu"}), name="mine")
    store.log_metrics(run_id, [point(5, 1.0, "test", "acc", 0.7)])
    frame = store.runs_frame()
    row = frame.set_index("id").loc[run_id]
    assert row["name"] == "mine" and row["test_acc"] == 0.7 and row["cfg.model.activation"] == "relu"
    assert row["cfg.lr"] == 0.1 and row["status"] == "queued"


def test_eight_writers_at_once_lose_no_point(store: Store, record) -> None:  # noqa: ANN001
    ids = store.create_runs([config(seed=s) for s in range(8)])
    procs = [run_python(TRAIN_LOGGER, str(store.home), run_id) for run_id in ids]
    finish_all(procs, timeout=300)
    counts = store.metrics(ids).groupby("run_id").size()
    assert counts.to_dict() == {run_id: 1000 for run_id in ids}
    assert store.integrity_check() == "ok"
    record("concurrency", "metric writers, one process each", "0 lost", writers=8, points=1000, lost=0)


# ---- the lifecycle ------------------------------------------------------------------------------

def test_cancel_a_queued_run_at_once_and_flag_a_running_one(store: Store) -> None:
    queued, running = store.create_runs([config(), config(seed=1)])
    assert store.claim("w").id == queued
    store.request_cancel(queued)  # it was claimed meanwhile: it gets the flag, not a status change
    assert store.get(queued).status == "running" and store.get(queued).cancel_requested
    assert store.beat(queued) is True
    assert store.request_cancel(running) == "cancelled"
    assert store.get(running).finished_at is not None
    assert store.finish(queued, "cancelled") is True
    assert store.finish(queued, "failed", error="late") is False  # the first word wins
    assert store.request_cancel(queued) == "cancelled"
    assert not store.get(queued).cancel_requested


def test_resume_only_a_finished_run(store: Store) -> None:
    run_id = store.create_run(config())
    with pytest.raises(StoreError, match="only a finished run can be resumed"):
        store.resume(run_id)
    store.claim("w")
    with pytest.raises(StoreError, match="is running"):
        store.resume(run_id)
    store.finish(run_id, "cancelled", error="stopped")
    store.resume(run_id)
    run = store.get(run_id)
    assert (run.status, run.resume, run.error, run.finished_at) == ("queued", True, None, None)


def test_requeue_puts_a_never_started_run_back(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    store.requeue(run_id)
    assert store.get(run_id).status == "queued" and store.claim("w2").id == run_id


def test_rename_and_tags_are_validated(store: Store) -> None:
    run_id = store.create_run(config())
    store.rename(run_id, "  baseline  ")
    store.set_tags(run_id, ["b", "a", " ", "a"])
    run = store.get(run_id)
    assert (run.name, run.tags) == ("baseline", ["a", "b"])
    with pytest.raises(StoreError, match="1–200 characters"):
        store.rename(run_id, " ")
    with pytest.raises(StoreError, match="at most 20"):
        store.set_tags(run_id, [f"t{i}" for i in range(21)])
    with pytest.raises(StoreError, match="no run"):
        store.rename("0000abcd", "x")


def test_delete_removes_the_run_its_points_and_folder_but_not_a_running_run(store: Store) -> None:
    done, running = store.create_runs([config(), config(seed=1)])
    store.claim("w")
    store.finish(done, "completed")
    store.claim("w")
    for run_id in (done, running):
        store.log_metrics(run_id, [point(1, 0.1)])
        store.run_dir(run_id).mkdir(parents=True)
        (store.run_dir(run_id) / "log.txt").write_text("hello")
    with pytest.raises(StoreError, match="running; cancel it first"):
        store.delete(running)
    store.delete(done)
    assert not store.run_dir(done).exists() and store.run_dir(running).exists()
    assert store.metrics([done]).empty and len(store.metrics([running])) == 1
    with pytest.raises(StoreError, match="no run"):
        store.get(done)


def test_a_fork_child_gets_its_own_connection(store: Store) -> None:
    run_id = store.create_run(config())
    store.counts()  # the parent has a connection open
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store.log_metrics(run_id, [point(1, 0.1)])
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    store.log_metrics(run_id, [point(2, 0.2)])
    assert len(store.metrics([run_id])) == 2 and store.integrity_check() == "ok"


# ---- a read-only store ---------------------------------------------------------------------------

READ_THEN_WRITE = """
import sys
from cnnkit.store import Store
from cnnkit.errors import StoreError
try:
    store = Store(sys.argv[1])
    print(store.counts()["queued"])
    store.rename(sys.argv[2], "renamed")
except StoreError as exc:
    print(exc)
"""


@pytest.mark.parametrize("what", ["database", "folder"])
def test_read_only_store_gives_one_clear_line_and_stays_intact(store: Store, what: str, record) -> None:  # noqa: ANN001
    prefix = unprivileged()
    run_id = store.create_run(config())
    store.log_metrics(run_id, [point(1, 0.1)])
    store.close()
    read_only(store.home if what == "folder" else store.db_path)
    try:
        out = finish_all([run_python(READ_THEN_WRITE, str(store.home), run_id, prefix=prefix)])[0]
    finally:
        writable(store.home)
    lines = out.strip().splitlines()
    message = lines[-1]
    assert "read-only" in message and str(store.db_path) in message and "\n" not in message
    if what == "database":  # the -wal and -shm files could be made: reading works, writing does not
        assert lines[0] == "1" and message.startswith("cannot write to the run store")
    assert store.integrity_check() == "ok"
    assert store.get(run_id).name != "renamed" and len(store.metrics([run_id])) == 1
    record("fault", f"read-only store ({what}), store API", "one-line error")


def test_finish_records_the_step_a_run_stopped_at(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    store.log_metrics(run_id, [point(40, 0.4)])
    store.finish(run_id, "cancelled", {"step": 47})
    assert store.get(run_id).step == 47
