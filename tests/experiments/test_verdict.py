"""cnnkit.experiments.verdict: per-level results, verdicts and claims, from a store or a bundle (runs
finished by hand through the store's lifecycle)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from experiment_helpers import finish_all

from cnnkit import experiments as E
from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.experiments import verdict
from cnnkit.store import Store


def test_clear_win_agrees_with_the_notes(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a + 0.02) for a in (0.70, 0.71, 0.72)],
                              "max pooling": [("completed", a, a + 0.02) for a in (0.80, 0.81, 0.82)]})
    report = E.analyze(store, group)
    avg, mx = report.level("average pooling"), report.level("max pooling")
    assert (avg.n, avg.mean, avg.std) == (3, pytest.approx(0.71), pytest.approx(0.01))
    assert mx.diff == pytest.approx(0.10) and mx.excludes_zero and mx.ci_low > 0.08
    assert report.best == "max pooling" and report.baseline == "average pooling" and report.finished
    assert report.current and report.budget_text == "all training images, 4 epochs" == E.describe_budget(
        E.get("pooling"), "quick")
    assert report.verdict.startswith(
        "max pooling beat average pooling by 10.0 points over 3 seeds (81.0 % vs 71.0 %); the 95 % interval of the "
        "difference, ")
    assert "over 3 seeds" in report.verdict and "excludes 0" in report.verdict
    assert report.agreement == "agrees" and "agrees with the expected outcome" in report.verdict
    assert avg.mean_train_acc == pytest.approx(0.73) and avg.mean_gap == pytest.approx(0.02)
    assert avg.mean_seconds == 3.0 and avg.params == 61706 and sorted(avg.run_ids) == sorted(
        r for r, lb in store.group(group)["meta"]["runs"].items() if lb == "average pooling")


def test_a_contradiction_is_said_plainly(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.80, 0.81, 0.82)],
                              "max pooling": [("completed", a, a) for a in (0.70, 0.71, 0.72)]})
    report = E.analyze(store, group)
    assert report.verdict.startswith("average pooling beat max pooling by 10.0")
    low, high = map(float, re.search(r"interval of the difference, (\S+) to (\S+) points, excludes 0",
                                     report.verdict).groups())
    assert 8 <= low <= 10 <= high <= 12, "the interval is the winner's lead, not the level's difference"
    assert report.agreement == "contradicts"
    assert "contradicts the expected outcome (notes / literature: max pooling beats average pooling, but test " \
           "accuracy -10.0 points" in report.verdict
    assert report.claims[0]["outcome"] == "contradicts"


def test_no_clear_difference_is_inconclusive(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.70, 0.80, 0.75)],
                              "max pooling": [("completed", a, a) for a in (0.72, 0.78, 0.76)]})
    report = E.analyze(store, group)
    assert "did not differ clearly" in report.verdict and "includes 0" in report.verdict
    assert report.agreement == "inconclusive"


def test_not_enough_seeds_and_failures_are_reported(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.7), ("completed", 0.72, 0.72)],
                              "max pooling": [("completed", 0.8, 0.8), ("failed", "DataError: MNIST is missing")]})
    report = E.analyze(store, group)
    mx = report.level("max pooling")
    assert (mx.n, mx.n_runs, mx.n_failed) == (1, 2, 1) and mx.std is None
    assert report.verdict.startswith("Not enough seeds: max pooling has 1 counted run")
    assert "1 run did not finish and is not counted" in report.verdict and "MNIST is missing" in report.verdict
    assert report.agreement == "not enough seeds"


def test_diverged_runs_count_at_chance_and_are_said(store: Store, no_missing_data):
    group = E.launch(store, "activation-lr", seeds=3, start_worker=False)
    finish_all(store, group, {
        "sigmoid, lr 0.9": [("completed", a, a) for a in (0.70, 0.72, 0.71)],
        "ReLU, lr 0.1": [("completed", a, a) for a in (0.80, 0.82, 0.81)],
        "ReLU, lr 0.9": [("diverged", "loss became non-finite at step 7")] * 2 + [("completed", 0.1, 0.1)],
    })
    report = E.analyze(store, group)
    bad = report.level("ReLU, lr 0.9")
    assert (bad.n, bad.n_diverged, bad.n_chance, bad.n_failed) == (3, 2, 1, 0)
    assert bad.mean == pytest.approx(0.1) and bad.values == [0.1, 0.1, 0.1]
    assert "ReLU, lr 0.9 diverged (non-finite loss) in 2 of 3 runs; they count at chance (10 %)" in report.verdict
    assert "stayed at chance level in 1 of 3 runs" in report.verdict
    assert report.verdict.startswith("Best: ReLU, lr 0.1 (81.0 %). Against the baseline sigmoid, lr 0.9 (71.0 %)")
    assert "ReLU, lr 0.9 -61.0 points (clearly worse)" in report.verdict
    assert [c["outcome"] for c in report.claims] == ["agrees", "agrees"] and report.agreement == "agrees"


def test_report_json_and_markdown(store: Store, no_missing_data):
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    report = E.analyze(store, group)
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["preset"] == "pooling" and doc["budget"] == "quick" and doc["seeds"] == 2 and doc["verdict"]
    assert [lv["level"] for lv in doc["levels"]] == ["average pooling", "max pooling"]
    assert {"level", "mean", "std", "n", "mean_test_loss", "mean_train_acc", "mean_seconds", "diff", "ci_low",
            "ci_high", "run_ids"} <= set(doc["levels"][0])
    md = report.to_markdown()
    assert "| level | test acc (mean ± std) |" in md and "| max pooling | 81.0 ± 1.4 % | 2 | +10.0" in md
    assert "**Verdict.** max pooling beat average pooling" in md


def test_bundle_round_trip_gives_the_same_report(store: Store, tmp_path: Path, no_missing_data):
    group = E.launch(store, "shuffle", seeds=2, start_worker=False)
    finish_all(store, group, {"shuffled every epoch": [("completed", 0.8, 0.8), ("completed", 0.81, 0.82)],
                              "same order every epoch": [("completed", 0.79, 0.8), ("diverged", "nan")]})
    direct = E.analyze(store, group)
    path = export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "shuffle.zip")
    from_bundle = E.analyze_bundle(path)
    keys = ("mean", "std", "n", "n_diverged", "diff", "ci_low", "ci_high")
    assert [[getattr(lv, k) for k in keys] for lv in from_bundle.levels] == \
           [[getattr(lv, k) for k in keys] for lv in direct.levels]
    assert from_bundle.verdict == direct.verdict and from_bundle.source == "bundle shuffle.zip"
    # imported runs get new ids; their levels are found through the ids they had before
    other = Store(tmp_path / "other")
    assert len(import_bundle(other, path)) == 4
    imported = E.analyze(other, group)
    assert imported.verdict == direct.verdict and [lv.n_runs for lv in imported.levels] == [2, 2]


def test_a_report_says_when_the_preset_changed_since_its_runs(store: Store, no_missing_data, monkeypatch):
    import dataclasses

    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.7, 0.7), ("completed", 0.72, 0.72)],
                              "max pooling": [("completed", 0.8, 0.8), ("completed", 0.82, 0.82)]})
    assert E.analyze(store, group).current
    changed = dataclasses.replace(E.get("pooling"), quick=E.Budget({"epochs": 7}))
    monkeypatch.setattr(verdict, "get", lambda name: changed if name == "pooling" else E.PRESETS[0])
    report = E.analyze(store, group)
    assert not report.current and report.budget_text == "all training images, 4 epochs"  # what ran, from the meta
    assert "the preset has changed since these runs" in report.to_markdown()
