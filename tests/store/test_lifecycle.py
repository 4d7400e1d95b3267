"""A run's life in the store: queueing (one run, a group), claiming, metric points, ending, user actions."""
from __future__ import annotations

import os
import time

import pytest
from support.procs import finish_all, run_python
from support.store_data import config, point

from cnnkit.config import RunConfig
from cnnkit.errors import StoreError
from cnnkit.events import Status
from cnnkit.store import CHECKPOINT_NAME, Store

# ---- queueing and claiming ------------------------------------------------------------------------

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


def test_queue_group_records_axes_and_seeds_and_queues_its_runs(store: Store) -> None:
    group, ids = store.queue_group("lr sweep", [config(lr=0.1), config(lr=0.2)], {"lr": "0.1,0.2"}, seeds=2,
                                   names=["a", "b"], tags=["t"])
    assert store.group(group)["meta"] == {"axes": {"lr": "0.1,0.2", "seed": "2 seeds"}}
    assert store.group(group)["kind"] == "sweep" and store.group(group)["name"] == "lr sweep"
    runs = store.list_runs(group=group)
    assert sorted(r.id for r in runs) == sorted(ids) and {r.status for r in runs} == {Status.QUEUED}
    assert sorted(r.name for r in runs) == ["a", "b"] and all(r.tags == ["t"] for r in runs)
    one_seed, _ = store.queue_group("one seed", [config()], {"lr": "0.1"})
    assert store.group(one_seed)["meta"] == {"axes": {"lr": "0.1"}}


def test_queue_group_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(StoreError, match="1–200 characters"):
        store.queue_group("bad names", [config(), config(seed=1)], {}, names=["a", " "])
    assert store.groups() == [] and store.list_runs() == []


def test_a_foreground_run_is_running_in_this_process(store: Store) -> None:
    run = store.get(store.create_run(config(), foreground=True))
    assert (run.status, run.worker, run.pid) == (Status.RUNNING, "foreground", os.getpid())
    assert run.pid_start and run.started_at
    assert store.claim("w") is None


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


# ---- metric points --------------------------------------------------------------------------------

def test_a_start_drops_the_points_after_the_step_it_starts_from(store: Store) -> None:
    run_id = store.create_run(config())
    store.log_metrics(run_id, [point(s, s / 10) for s in range(1, 21)])
    store.mark_started(run_id, {"start_step": 10, "total_steps": 20})  # resumed from a checkpoint at step 10
    assert store.metrics([run_id]).step.max() == 10
    assert (store.get(run_id).step, store.get(run_id).epoch) == (10, 1.0)
    store.mark_started(run_id, {"start_step": 0, "total_steps": 20})  # started over: nothing after step 0 stays
    assert store.metrics([run_id]).empty and (store.get(run_id).step, store.get(run_id).epoch) == (0, 0)


# ---- how a run ends, and what users do to runs --------------------------------------------------

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


def test_finish_records_the_step_a_run_stopped_at(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    store.log_metrics(run_id, [point(40, 0.4)])
    store.finish(run_id, "cancelled", {"step": 47})
    assert store.get(run_id).step == 47


def test_finish_takes_only_an_ended_status(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    with pytest.raises(StoreError, match="finish status must be one of completed, failed"):
        store.finish(run_id, Status.RUNNING)
    assert store.finish(run_id, "diverged", error="loss became non-finite at step 3")
    assert store.get(run_id).status == Status.DIVERGED


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
    assert store.requeue(run_id) and not store.requeue(run_id)  # only a running run goes back
    assert store.get(run_id).status == "queued" and store.claim("w2").id == run_id


def test_a_run_requeued_to_resume_keeps_its_place_and_continues(store: Store) -> None:
    first, second = store.create_runs([config(seed=1), config(seed=2)])
    store.claim("w")
    store.mark_first_step(first)
    assert store.requeue(first, resume=True)
    run = store.get(first)
    assert (run.status, run.resume, run.tries, run.worker, run.first_step_at) == ("queued", True, 0, None, None)
    assert store.claim("w2").id == first  # ahead of the run queued after it


def test_a_lost_run_is_retried_up_to_the_limit(store: Store) -> None:
    run_id = store.create_run(config())
    for tries in (1, 2):
        store.claim("w")
        store.mark_first_step(run_id)
        assert store.retry(run_id, limit=2) == tries
        run = store.get(run_id)
        assert (run.status, run.resume, run.tries, run.first_step_at) == ("queued", True, tries, None)
    store.claim("w")
    assert store.retry(run_id, limit=2) is None and store.get(run_id).status == "running"  # spent: left as it is
    store.finish(run_id, "lost", error="gone")
    assert store.retry(run_id, limit=5) is None  # only a running run
    store.resume(run_id)
    assert store.get(run_id).tries == 0  # a resume by hand starts the count again


def test_a_run_file_is_written_whole_and_only_under_its_names(store: Store) -> None:
    run_id = store.create_run(config())
    path = store.write_run_file(run_id, CHECKPOINT_NAME, b"v1")
    store.write_run_file(run_id, CHECKPOINT_NAME, b"v2")
    assert path == store.checkpoint_path(run_id) and path.read_bytes() == b"v2"
    assert sorted(p.name for p in path.parent.iterdir()) == [CHECKPOINT_NAME]  # no temporary file left
    with pytest.raises(StoreError, match="a run's file is one of checkpoint.pt"):
        store.write_run_file(run_id, "../../evil.py", b"x")


def test_append_log_adds_lines_to_the_run_log(store: Store) -> None:
    run_id = store.create_run(config())
    store.append_log(run_id, "one")
    store.append_log(run_id, "two\n")
    assert store.log_tail(run_id) == "one\ntwo\n"


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
