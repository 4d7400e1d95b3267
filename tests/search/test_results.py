"""What a search found: the trials table, the best trial, pruned ones, the text and JSON reports, waiting."""
from __future__ import annotations

import json

import pytest
from support.runs import queued_runs
from support.searches import begin, play

from cnnkit.search.results import search_report, wait
from cnnkit.store import Store


@pytest.fixture
def searched(store: Store) -> str:
    """Three trials: completed at 0.7, pruned at epoch 1, completed at 0.8."""
    group, driver = begin(store, trials=3, prune=True, prune_after=1)
    driver.step()
    play(store, queued_runs(store, group)[0].id, [0.5, 0.6, 0.7])
    driver.step()
    pruned = queued_runs(store, group)[0].id
    play(store, pruned, [0.1], end=None)
    driver.step()
    store.finish(pruned, "cancelled")
    play(store, queued_runs(store, group)[0].id, [0.6, 0.7, 0.8])
    driver.step()
    return group


def test_the_report_lists_every_trial_and_names_the_best(store: Store, searched: str) -> None:
    report = search_report(store, searched)
    trials = report.trials
    assert list(trials["state"]) == ["COMPLETE", "PRUNED", "COMPLETE"] and list(trials["trial"]) == [0, 1, 2]
    assert list(trials["run_status"]) == ["completed", "cancelled", "completed"]
    assert trials["pruned_at_epoch"].tolist()[1] == 1 and {"lr", "batch_size"} <= set(trials.columns)
    best = report.best
    last = store.list_runs(group=searched)[0]
    assert best == {"trial": 2, "value": 0.8, "run_id": last.id,
                    "params": {"lr": last.config["lr"], "batch_size": last.config["batch_size"]}}
    assert report.pruned == 1 and report.done and not report.paused_by and report.wall_seconds >= 0


def test_text_and_json_reports(store: Store, searched: str) -> None:
    report = search_report(store, searched)
    text = report.to_text()
    assert text.splitlines()[0].split() == ["trial", "state", "value", "lr", "batch_size", "run"]
    assert "pruned" in text.splitlines()[3] and "best: trial 2, final test accuracy 0.8000 (lr=" in text
    assert "3 trials (2 completed, 1 pruned) in " in text
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["best"]["value"] == 0.8 and doc["pruned"] == 1 and len(doc["trials"]) == 3 and doc["done"]
    assert doc["trials"][0]["value"] == 0.7 and doc["trials"][1]["value"] == 0.1, "pruned: its last epoch's value"
    assert doc["space"] == {"lr": "log:1e-3:1", "batch_size": "64,128"}
    assert report.progress_line() == (f"search {searched}: 3/3 trials, 2 completed, 1 pruned, 0 failed, "
                                      "0 in flight; best 0.8000 (trial 2)")


def test_waiting_ends_when_the_search_is_done_or_paused(store: Store, searched: str) -> None:
    lines: list[str] = []
    assert wait(store, searched, lines.append, poll=0.01).done and len(lines) == 1
    group, driver = begin(store, trials=2)
    driver.step()
    run = queued_runs(store, group)[0].id
    store.request_cancel(run)
    report = wait(store, group, poll=0.01)
    assert report.paused_by == [run] and not report.done
    assert f"paused: run {run} was cancelled; `cnnkit resume ID` continues" in report.to_text()


def test_a_search_not_started_yet_has_no_best(store: Store) -> None:
    group, _ = begin(store)
    report = wait(store, group, poll=0.01, timeout=0)
    assert report.trials.empty and report.best is None and not report.done
    assert report.to_text().endswith("0 trials (0 completed, 0 pruned) in 0.0 min; not done yet")
