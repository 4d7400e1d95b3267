"""Searches through a real supervisor: trials are real runs (a few epochs of LeNet on a subset of
Fashion-MNIST), pruned through the cancel path, paused by a cancel, resumed, and carried on by a
restarted supervisor."""
from __future__ import annotations

import os
import signal

import optuna
import pytest
from support import requires_fmnist, wait_for
from support.procs import Procs, wait_first_point, wait_serving, wait_status

from cnnkit.config import RunConfig
from cnnkit.search import SearchPlan, parse_space, start_search
from cnnkit.search.results import search_report, wait
from cnnkit.search.study import open_study
from cnnkit.store import Store

pytestmark = [pytest.mark.slow, requires_fmnist]
State = optuna.trial.TrialState
RELU = {"activation": "relu", "pool": "max"}


def test_a_trial_below_the_median_is_pruned_by_the_supervisor(procs: Procs) -> None:
    store = Store(procs.home)
    base = RunConfig(epochs=4, test_subset=0.05, batch_size=64, init="kaiming", model_options=RELU, device="cpu")
    plan = SearchPlan(base, parse_space("lenet", ["lr=0.0001,0.05", "subset=0.05,0.5"]), trials=2, prune=True,
                      prune_after=1)
    group = start_search(store, plan)
    study = open_study(store, group, plan)
    study.enqueue_trial({"lr": 0.05, "subset": 0.05})  # learns: the median to beat
    study.enqueue_trial({"lr": 0.0001, "subset": 0.5})  # learns nothing, slowly: pruned after an epoch or two
    procs.start_worker()
    report = wait(store, group, poll=0.5, timeout=90)
    assert report.done, procs.worker_output()
    assert list(report.trials["state"]) == ["COMPLETE", "PRUNED"]
    kept, pruned = (store.get(r) for r in report.trials["run_id"])
    assert kept.status == "completed" and report.best["value"] == kept.summary["final"]["test_acc"] > 0.3
    assert pruned.status == "cancelled" and "pruned" in pruned.tags and pruned.epoch < 4
    assert report.trials["pruned_at_epoch"][1] in (1, 2, 3) and report.pruned == 1


def test_cancel_pauses_resume_continues_and_a_restarted_supervisor_finishes_the_study(procs: Procs) -> None:
    store = Store(procs.home)
    first = procs.start_worker()
    wait_serving(procs)
    group = procs.json("search", "--model", "lenet", "--set", "activation=relu", "--device", "cpu",
                       "--epochs", "2", "--subset", "0.2", "--set", "test_subset=0.05", "--space", "lr=0.03,0.05",
                       "--space", "batch_size=64,128", "--trials", "3")["group"]
    (trial0,) = wait_for(lambda: store.list_runs(group=group), 30, "the first trial")
    wait_first_point(store, trial0.id)
    store.request_cancel(trial0.id)  # what `cnnkit cancel` and the Runs page do
    wait_status(store, trial0.id, ("cancelled",), 30)
    with pytest.raises(AssertionError):  # paused: no second trial while the first one is cancelled
        wait_for(lambda: len(store.list_runs(group=group)) > 1, 2.5, "a second trial")
    assert search_report(store, group).paused_by == [trial0.id]

    procs.cli("resume", trial0.id)
    trial1 = wait_for(lambda: len(runs := store.list_runs(group=group)) > 1 and runs[0], 60, "the second trial")
    wait_first_point(store, trial1.id)
    os.killpg(first.pid, signal.SIGKILL)  # mid-study, mid-trial: the job outlives its supervisor
    first.wait(timeout=30)
    procs.start_worker()

    report = wait(store, group, poll=0.5, timeout=120)
    assert report.done, procs.worker_output()
    runs = store.list_runs(group=group)
    assert len(runs) == 3 and all(r.status == "completed" for r in runs), procs.worker_output()
    assert list(report.trials["state"]) == ["COMPLETE"] * 3
    assert list(report.trials["run_id"][:2]) == [trial0.id, trial1.id]
    assert sorted(report.trials["run_id"]) == sorted(r.id for r in runs), "one run per trial, none twice"
    study = open_study(store, group, report.plan)
    assert all(set(t.intermediate_values) == {1, 2} for t in study.get_trials())
    text = procs.cli("search-report", group).stdout
    assert f"best: trial {report.best['trial']}, final test accuracy " in text and "3 trials (3 completed" in text
