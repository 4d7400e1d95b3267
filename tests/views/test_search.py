"""The Search part of the Train page and the search section of the Compare page, without Streamlit."""
from __future__ import annotations

import pytest
from support.runs import queued_runs
from support.searches import BASE, begin, play

from cnnkit.errors import ConfigError
from cnnkit.search.results import search_report
from cnnkit.store import Store
from cnnkit.views import search as view


def test_the_form_makes_a_checked_plan() -> None:
    plan = view.search_plan(BASE, [("lr", "log:1e-3:1"), ("batch_size", "64,128")], 8, True, 2, 1, [" a ", ""])
    assert (plan.trials, plan.prune, plan.prune_after, plan.tags) == (8, True, 2, ["a"])
    assert view.plan_preview(plan) == (
        "8 trials of lenet (1 at a time, median pruning after 2 completed trials) over lr in [0.001, 1] (log); "
        "batch_size in {64, 128}. TPE samples the first 2 at random, then proposes each trial from the results "
        "so far; every trial is a run of one group.")
    with pytest.raises(ConfigError, match="^--space: lr=1:0.5: a range needs LOW < HIGH$"):
        view.search_plan(BASE, [("lr", "1:0.5")], 8, False, 3, 1)


def test_compare_picks_the_one_selected_search_group(store: Store) -> None:
    group, _ = begin(store)
    sweep = store.create_group("sweep", "a sweep")
    assert view.selected_search(store, [group]) == group
    assert view.selected_search(store, [sweep]) is None and view.selected_search(store, [group, sweep]) is None
    assert view.selected_search(store, []) is None and view.selected_search(store, ["gone"]) is None


def test_best_status_and_trials(store: Store) -> None:
    group, driver = begin(store, trials=2)
    assert view.best_line(search_report(store, group)) == "No completed trial yet."
    driver.step()
    run = queued_runs(store, group)[0]
    play(store, run.id, [0.5, 0.7])
    driver.step()
    second = queued_runs(store, group)[0]
    store.request_cancel(second.id)
    driver.step()
    report = search_report(store, group)
    lr = f"{run.config['lr']:.4g}"
    assert view.best_line(report) == (f"**Best: trial 0**, final test accuracy 0.7000 (lr={lr}, "
                                      f"batch_size={run.config['batch_size']}), run `{run.id}`.")
    assert view.status_line(report).startswith("2/2 trials, 1 completed, 0 pruned · ")
    assert view.status_line(report).endswith(f"running · paused: run {second.id} was cancelled (resume it to go on)")
    table = view.trials_table(report)
    assert list(table.columns) == ["trial", "state", "value", "lr", "batch_size", "run_id", "run_status",
                                   "pruned_at_epoch"]
    assert list(table["state"]) == ["complete", "running"] and list(table["run_status"]) == ["completed", "cancelled"]
