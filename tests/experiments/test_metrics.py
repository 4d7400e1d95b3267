"""cnnkit.experiments.metrics: what a claim measures, read from a run, and how it is shown."""
from __future__ import annotations

import math

import pytest

from cnnkit.errors import ConfigError
from cnnkit.experiments import metrics
from cnnkit.experiments.metrics import RunRecord


def record(final: dict, summary: dict | None = None, epochs: tuple = (), started: float | None = 10.0,
           finished: float | None = 70.0) -> RunRecord:
    return RunRecord("a1b2c3d4", None, "r", "completed", {"seed": 3}, summary or {}, None, started, finished, "cpu",
                     final, epochs)


def test_the_gap_uses_the_evaluated_train_accuracy_not_the_running_one() -> None:
    run = record({"train_acc": 0.79, "train_eval_acc": 0.86, "test_acc": 0.81})
    assert metrics.get("gap").value(run) == pytest.approx(0.05)
    assert metrics.get("train_acc").value(run) == 0.79 and run.seed == 3


def test_ratio_metrics_are_compared_on_the_log_scale_and_shown_as_ratios() -> None:
    ips = metrics.get("images_per_sec")
    run = record({}, {"images_per_sec": 12_000.0})
    assert ips.value(run) == pytest.approx(math.log(12_000))
    assert ips.show_diff(math.log(0.85)) == "×0.85" and ips.show(math.log(12_000)) == "12,000 images/s"
    assert ips.show_band(math.log(1.1)) == "×0.91 to ×1.10"
    assert metrics.get("wall_seconds").value(run) == pytest.approx(math.log(60))


def test_fractions_are_shown_in_points() -> None:
    acc = metrics.get("test_acc")
    assert acc.show_diff(0.023) == "+2.3 points" and acc.show(0.873) == "87.3 %" and acc.show_band(0.01) == "±1 point"
    assert metrics.get("gap").show_band(0.02) == "±2 points"


def test_missing_or_impossible_values_are_none() -> None:
    assert metrics.get("test_acc").value(record({})) is None
    assert metrics.get("images_per_sec").value(record({}, {"images_per_sec": 0.0})) is None
    assert metrics.get("wall_seconds").value(record({}, started=None)) is None
    assert metrics.get("best_test_acc").value(record({}, {"best": {"test_acc": 0.9}})) == 0.9


def test_time_to_a_test_accuracy_adds_up_the_epochs_until_it_is_reached() -> None:
    epochs = ({"epoch": 1, "test_acc": 0.4, "epoch_seconds": 3.0}, {"epoch": 2, "test_acc": 0.65, "epoch_seconds": 3.5},
              {"epoch": 3, "test_acc": 0.7, "epoch_seconds": 3.0})
    assert metrics.time_to(record({}, epochs=epochs), 0.6) == pytest.approx(6.5)
    assert metrics.time_to(record({}, epochs=epochs), 0.9) is None


def test_an_unknown_metric_names_the_field() -> None:
    with pytest.raises(ConfigError, match="metric: must be one of test_acc"):
        metrics.get("accuracy")
