"""cnnkit.experiments.report, records and wording: a group's runs read from a store or a bundle, judged by the
plan they were launched with, and put in words."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.experiments import finish_all

from cnnkit import experiments as E
from cnnkit.bundle import export_bundle
from cnnkit.errors import ConfigError
from cnnkit.events import epoch_rows
from cnnkit.store import Store

AVG = "average pooling (d2l)"
WIN = {AVG: [("completed", a, a + 0.02) for a in (0.70, 0.71, 0.72)],
       "max pooling": [("completed", a, a + 0.02) for a in (0.80, 0.81, 0.82)]}


def pooling(store: Store, outcomes: dict[str, list[tuple]] = WIN, seeds: int = 3) -> str:
    group = E.launch(store, "pooling", seeds=seeds, start_worker=False)
    finish_all(store, group, outcomes)
    return group


def test_a_finished_group_is_summarised_judged_and_worded(store: Store, no_missing_data) -> None:
    report = E.analyze(store, pooling(store))
    avg, mx = report.level(AVG), report.level("max pooling")
    assert (avg.n_counted, avg.means["test_acc"], avg.stds["test_acc"]) == (3, pytest.approx(0.71), pytest.approx(0.01))
    assert avg.means["train_eval_acc"] == pytest.approx(0.73) and avg.means["gap"] == pytest.approx(0.02)
    assert avg.params == 61_706 and avg.input == [1, 28, 28] and report.finished and report.current
    assert mx.vs_baseline["diff"] == pytest.approx(0.10) and mx.vs_baseline["decisive"] and mx.vs_baseline["paired"]
    assert report.best == "max pooling" and report.outcomes() == {"confirmed": 2}  # and the same throughput
    assert report.verdict.startswith("2 claims: 2 confirmed. Best: max pooling, 81.0 % test accuracy")
    md = report.to_markdown()
    assert "**The notes' claims**" in md and "| max pooling | 81.0 ± 1.0 % | 80.0, 81.0, 82.0 |" in md
    assert "plan sha256" in md and "written before the runs" in md


def test_the_bundle_gives_the_same_report_as_the_store(store: Store, tmp_path: Path, no_missing_data) -> None:
    group = pooling(store)
    from_store = E.analyze(store, group)
    path = export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "b.zip")
    from_bundle = E.analyze_bundle(path)
    keep = lambda d: {k: v for k, v in d.items() if k not in ("source",)}  # noqa: E731
    assert keep(from_bundle.to_dict()) == keep(from_store.to_dict())
    assert json.loads(json.dumps(from_bundle.to_dict()))["claims"][0]["outcome"] == "confirmed"


def test_diverged_runs_count_at_chance_and_failures_are_not_counted(store: Store, no_missing_data) -> None:
    outcomes = {AVG: [("completed", 0.7, 0.72), ("diverged", "loss became non-finite at step 3"),
                      ("completed", 0.71, 0.73)],
                "max pooling": [("completed", 0.8, 0.82), ("failed", "boom"), ("completed", 0.81, 0.83)]}
    report = E.analyze(store, pooling(store, outcomes))
    avg, mx = report.level(AVG), report.level("max pooling")
    assert avg.values["test_acc"] == [0.7, 0.1, 0.71] and avg.n_diverged == 1 and avg.learned
    assert mx.n_counted == 2 and mx.n_failed == 1
    assert f"{AVG} diverged (non-finite loss) in 1 of 3 runs" in report.verdict
    assert "1 run did not finish and is not counted (first: " in report.verdict and "failed: boom" in report.verdict


def test_a_run_in_no_level_is_ignored_and_said(store: Store, no_missing_data) -> None:
    group = pooling(store)
    from support.runs import finished_run

    finished_run(store, group=group, name="a stray run", summary={"final": {"test_acc": 0.5}})
    assert "1 run(s) of the group belong to no level and are ignored." in E.analyze(store, group).verdict


def test_a_group_without_a_recorded_plan_is_judged_by_todays_catalogue(store: Store, no_missing_data) -> None:
    group = pooling(store)
    meta = store.group(group)["meta"]
    meta.pop("plan"), meta.pop("plan_hash")
    store.update_group_meta(group, meta)
    report = E.analyze(store, group)
    assert not report.plan_recorded and report.plan["seeds"] == [0, 1, 2]
    assert "recorded no plan before its runs" in report.verdict and report.best == "max pooling"
    meta["preset"] = "gone"
    store.update_group_meta(group, meta)
    with pytest.raises(ConfigError, match="no preset of today's catalogue"):
        E.analyze(store, group)


def test_epoch_rows_take_whole_epochs_with_a_test_accuracy() -> None:
    points = [(5, 0.5, "train", "loss", 2.0, 0), (10, 1.0, "train", "acc", 0.5, 0), (10, 1.0, "test", "acc", 0.6, 0),
              (10, 1.0, "train_eval", "acc", 0.55, 0), (10, 1.0, "train", "epoch_seconds", 3.0, 0),
              (20, 2.0, "train", "loss", 1.0, 0)]
    assert epoch_rows(points) == [{"epoch": 1, "train_acc": 0.5, "test_acc": 0.6, "train_eval_acc": 0.55,
                                   "epoch_seconds": 3.0}]


def test_data_text_says_when_a_stand_in_ran() -> None:
    from cnnkit.experiments.wording import data_text

    assert data_text(["mnist-10k"]).endswith("not the full MNIST") and data_text(["what"]) == "what"


def test_a_preset_that_reports_layer_health_gives_it_by_level_and_epoch(store: Store, no_missing_data) -> None:
    from support.runs import finished_run, queued_runs

    from cnnkit.events import MetricPoint

    group = E.launch(store, "activation-lr", seeds=2, start_worker=False)
    levels = store.group(group)["meta"]["runs"]
    starving = {"conv1.grad_norm": 0.001, "fc3.grad_norm": 1.0, "conv1.sigmoid.saturated": 0.4}
    healthy = {"conv1.grad_norm": 0.2, "fc3.grad_norm": 0.1, "conv1.relu.dead": 0.05}
    for run in queued_runs(store):
        values = starving if levels[run.id].startswith("sigmoid") else healthy
        points = [MetricPoint(5, 1.0, "health", name, value, 0.0) for name, value in values.items()]
        points.append(MetricPoint(5, 1.0, "test", "acc", 0.1 if values is starving else 0.8, 0.0))
        finished_run(store, queued=run.id, points=points, summary={"final": {"test_acc": 0.5}})
    report = E.analyze(store, group)
    sigmoid = next(row for row in report.health if row["level"].startswith("sigmoid"))
    assert (sigmoid["epoch"], sigmoid["runs"], sigmoid["first_layer"], sigmoid["last_layer"]) == (1, 2, "conv1", "fc3")
    assert sigmoid["grad_ratio"] == pytest.approx(0.001) and sigmoid["saturated"] == pytest.approx(0.4)
    assert sigmoid["test_acc"] == pytest.approx(0.1) and sigmoid["dead"] is None
    assert "**Layer health by epoch**" in report.to_markdown() and "| ReLU, lr 0.1 | 1 | 80.0 % |" in \
        report.to_markdown()
