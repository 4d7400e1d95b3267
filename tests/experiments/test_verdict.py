"""cnnkit.experiments.verdict: per-level results, verdicts and claims, from a store or a bundle (runs
finished by hand through the store's lifecycle)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.experiments import finish_all

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
    assert report.verdict.startswith(  # pooling compares its levels seed by seed (Preset.paired)
        "max pooling beat average pooling by 10.0 points over 3 seeds (81.0 % vs 71.0 %); the 95 % interval of the "
        "seed-by-seed difference, ")
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
    low, high = map(float, re.search(r"interval of the seed-by-seed difference, (\S+) to (\S+) points, excludes 0",
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


# ---- the standard budget's verdicts: equivalence, a measured reason, a ranking, the error rates ------------------

def test_an_interval_inside_the_margin_is_equivalent(store: Store, no_missing_data):
    preset = E.get("conv-layers")
    assert preset.margin == 0.015
    group = E.launch(store, preset.name, "standard", start_worker=False)
    one, two, three = preset.labels
    finish_all(store, group, {one: [("completed", a, a) for a in (0.862, 0.870, 0.864, 0.868, 0.866)],
                              two: [("completed", a, a) for a in (0.866, 0.870, 0.868, 0.865, 0.871)],
                              three: [("completed", a, a) for a in (0.860, 0.872, 0.866, 0.870, 0.862)]})
    report = E.analyze(store, group)
    assert report.margin == 0.015 and report.seeds == 5 and report.budget == "standard"
    assert not report.level(three).excludes_zero and report.level(three).equivalent
    assert f"{three} -0.2 points (equivalent within ±1.5 points)" in report.verdict
    assert "Inconclusive" not in report.verdict
    assert report.claims[0]["outcome"] == "equivalent" and "inside ±1.5" in report.claims[0]["detail"]
    assert report.agreement == "equivalent"
    assert "The expected difference is not there at this budget (3 conv layers beats 1 conv layer: " in report.verdict


def test_two_levels_equivalent_within_the_margin_say_so(store: Store, no_missing_data):
    group = E.launch(store, "pooling", "standard", start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.800, 0.802, 0.804, 0.806, 0.808)],
                              "max pooling": [("completed", a, a) for a in (0.803, 0.801, 0.806, 0.805, 0.810)]})
    report = E.analyze(store, group)
    assert report.verdict.startswith("max pooling and average pooling are equivalent within ±1 points over 5 seeds "
                                     "(80.5 % vs 80.4 %, +0.1 points); the 95 % interval of the seed-by-seed "
                                     "difference, ")
    assert "lies inside that margin" in report.verdict and report.agreement == "equivalent"


def test_a_real_difference_inside_the_margin_is_called_negligible(store: Store, no_missing_data):
    group = E.launch(store, "pooling", "standard", start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.800, 0.802, 0.804, 0.806, 0.808)],
                              "max pooling": [("completed", a, a) for a in (0.804, 0.806, 0.808, 0.810, 0.812)]})
    report = E.analyze(store, group)
    assert report.verdict.startswith("max pooling beat average pooling by 0.4 points over 5 seeds")
    assert "excludes 0. It is real but inside the ±1-point margin this question counts as no difference." \
        in report.verdict
    assert report.agreement == "agrees"  # the claim is "beats": it does, by a little


def test_an_open_comparison_gives_its_measured_reason(store: Store, no_missing_data):
    preset = E.get("course-cnn-vs-vgg16-fmnist")
    course, vgg = preset.labels
    group = E.launch(store, preset.name, "standard", start_worker=False)
    finish_all(store, group, {course: [("completed", a, a) for a in (0.70, 0.74, 0.72, 0.76, 0.73)],
                              vgg: [("completed", a, a) for a in (0.71, 0.77, 0.73, 0.78, 0.74)]})
    report = E.analyze(store, group)
    other = report.level(vgg)
    assert not other.excludes_zero and not other.equivalent and report.agreement == "inconclusive"
    half = (other.ci_high - other.ci_low) / 2
    seeds = -(-5 * (half / other.diff) ** 2 // 1)
    assert (f"Inconclusive at this budget: the difference is smaller than the seed noise (sd 2.2–2.9 points per "
            f"level); at this noise about {seeds:.0f} seeds per level would resolve a difference of 1.6 points."
            ) in report.verdict
    assert "seed-by-seed" not in report.verdict, "its levels are different nets: not paired"


def test_an_open_comparison_inside_the_margin_says_what_would_show_it_equivalent(store: Store, no_missing_data):
    preset = E.get("kernel-size")  # margin ±2 points
    group = E.launch(store, preset.name, "standard", seeds=5, start_worker=False)
    finish_all(store, group, {"3×3": [("completed", a, a) for a in (0.750, 0.752, 0.754, 0.756, 0.758)],
                              "5×5 (d2l)": [("completed", a, a) for a in (0.73, 0.76, 0.75, 0.77, 0.74)],
                              "7×7": [("completed", a, a) for a in (0.72, 0.78, 0.74, 0.79, 0.73)]})
    report = E.analyze(store, group)
    largest = max((report.level(label) for label in ("3×3", "7×7")), key=lambda lv: abs(lv.diff))
    assert not largest.excludes_zero and not largest.equivalent and abs(largest.diff) < 0.02
    half = (largest.ci_high - largest.ci_low) / 2
    seeds = -(-5 * (half / (0.02 - abs(largest.diff))) ** 2 // 1)
    assert seeds < 5 * (half / abs(largest.diff)) ** 2, "fitting inside ±2 is nearer than resolving the difference"
    assert (f"at this noise about {seeds:.0f} seeds per level would narrow the interval around "
            f"{100 * largest.diff:+.1f} points to within ±2.") in report.verdict


def test_a_paired_comparison_measures_the_noise_seed_by_seed(store: Store, no_missing_data):
    group = E.launch(store, "pooling", "standard", start_worker=False)
    # the same data as above: as two samples it is open; seed by seed max pooling leads every time
    finish_all(store, group, {"average pooling": [("completed", a, a) for a in (0.70, 0.74, 0.72, 0.76, 0.73)],
                              "max pooling": [("completed", a, a) for a in (0.71, 0.77, 0.73, 0.78, 0.74)]})
    report = E.analyze(store, group)
    mx = report.level("max pooling")
    assert report.paired and mx.excludes_zero and mx.ci_low > 0 and report.agreement == "agrees"
    assert mx.paired_sd == pytest.approx(0.00894, abs=1e-4)
    finish = E.launch(store, "pooling", "standard", start_worker=False)
    finish_all(store, finish, {"average pooling": [("completed", a, a) for a in (0.70, 0.74, 0.72, 0.76, 0.73)],
                               "max pooling": [("completed", a, a) for a in (0.73, 0.73, 0.71, 0.78, 0.74)]})
    report = E.analyze(store, finish)
    assert report.agreement == "inconclusive" and "(sd 1.8 points seed by seed); at this noise about" in report.verdict


def test_pairs_are_the_seeds_both_levels_have(store: Store, no_missing_data):
    group = E.launch(store, "pooling", "standard", seeds=3, start_worker=False)
    finish_all(store, group, {"average pooling": [("completed", 0.70, 0.7), ("completed", 0.74, 0.7),
                                                  ("failed", "killed")],
                              "max pooling": [("completed", 0.72, 0.7), ("completed", 0.75, 0.7),
                                              ("completed", 0.60, 0.6)]})
    mx = E.analyze(store, group).level("max pooling")
    assert mx.diff == pytest.approx(0.015)  # seeds 0 and 1: +0.02 and +0.01; seed 2 has no partner
    half = 12.706 * 0.005  # t(1) from the table, to 3 decimals
    assert (mx.ci_low, mx.ci_high) == (pytest.approx(0.015 - half, abs=1e-5), pytest.approx(0.015 + half, abs=1e-5))


def zoo_report(store: Store, tmp_path: Path, accuracy: dict[str, float]) -> E.ExperimentReport:
    """The zoo at the standard budget, every level's two seeds at ``accuracy`` (± 0.5 points), read from a bundle."""
    group = E.launch(store, "zoo", "standard", start_worker=False)
    finish_all(store, group, {label: [("completed", acc - 0.005, acc - 0.05), ("completed", acc + 0.005, acc - 0.04)]
                              for label, acc in accuracy.items()})
    return E.analyze_bundle(export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "zoo.zip"))


def test_the_zoo_is_a_ranking_beside_d2l_and_names_no_winner(store: Store, tmp_path: Path, no_missing_data):
    report = zoo_report(store, tmp_path, {"LeNet": 0.70, "AlexNet": 0.80, "VGG-11 ÷4": 0.75, "NiN": 0.60,
                                          "GoogLeNet": 0.82, "ResNet-18": 0.88, "MLP": 0.83})
    assert report.best is None and report.seeds == 2
    assert report.ranking == ["ResNet-18", "MLP", "GoogLeNet", "AlexNet", "VGG-11 ÷4", "LeNet", "NiN"]
    assert report.level("ResNet-18").published == 0.893 and report.level("MLP").published is None
    assert report.verdict.startswith("Ranking over 2 seeds (mean test accuracy; d2l's 10-epoch figure in brackets): "
                                     "ResNet-18 88.0 % (89.3 %), MLP 83.0 % (no d2l figure), GoogLeNet 82.0 % (88.6 %)")
    assert ("d2l's order is VGG-11 ÷4, ResNet-18, GoogLeNet, AlexNet, NiN, LeNet; this budget names no winner where "
            "the orders differ.") in report.verdict
    assert ("train accuracy below d2l's, in points: NiN 23, VGG-11 ÷4 23, LeNet 17, ResNet-18 16, GoogLeNet 13, "
            "AlexNet 12).") in report.verdict
    assert "Best:" not in report.verdict and report.agreement == "agrees"  # ResNet-18 beats LeNet
    md = report.to_markdown()
    assert "| d2l, 10 epochs: test / train acc |" in md and "| ResNet-18 | 88.0 ± 0.7 % |" in md
    assert "| 89.3 % / 99.7 % |" in md


def test_a_zoo_in_d2l_s_order_says_so(store: Store, tmp_path: Path, no_missing_data):
    report = zoo_report(store, tmp_path, {"LeNet": 0.70, "AlexNet": 0.80, "VGG-11 ÷4": 0.90, "NiN": 0.75,
                                          "GoogLeNet": 0.84, "ResNet-18": 0.88, "MLP": 0.78})
    assert report.verdict.endswith("The nets d2l measures rank here as they do in d2l. This agrees with the expected "
                                   "outcome (ResNet-18 beats LeNet: test accuracy +18.0 points, 95 % interval +15.0 "
                                   "to +21.0).")


def simulated_rate(seeds: int, effect_sds: float, trials: int) -> float:
    """How often the verdict's interval excludes 0 for normal seed noise, levels ``effect_sds`` sds apart."""
    import numpy as np

    from cnnkit.experiments import stats

    rng = np.random.default_rng(20261201)
    return sum(stats.welch_diff(rng.normal(effect_sds, 1, seeds), rng.normal(0, 1, seeds)).excludes_zero
               for _ in range(trials)) / trials


@pytest.mark.parametrize(("seeds", "effect", "stated"), [
    (3, 0.0, verdict.FALSE_ALARM_RATE[3]), (5, 0.0, verdict.FALSE_ALARM_RATE[5]),
    (5, 2.0, verdict.DETECTION_RATE_5[2.0])])
def test_the_stated_error_rates_are_what_the_interval_does(seeds: int, effect: float, stated: float):
    assert simulated_rate(seeds, effect, 1500) == pytest.approx(stated, abs=0.03)


@pytest.mark.parametrize("fresh_seeds", [False, True], ids=["10 seeds", "redesigned on fresh seeds"])
def test_the_stated_false_alarm_rate_of_a_second_look(fresh_seeds: bool):
    import numpy as np

    from cnnkit.experiments import stats

    rng = np.random.default_rng(20261202)
    trials, alarms = 3000, 0
    for _ in range(trials):
        a, b = rng.normal(0, 1, 10), rng.normal(0, 1, 10)
        second = stats.welch_diff(a[5:], b[5:]) if fresh_seeds else stats.welch_diff(a, b)
        alarms += stats.welch_diff(a[:5], b[:5]).excludes_zero or second.excludes_zero
    assert alarms / trials == pytest.approx(verdict.TWO_LOOK_FALSE_ALARM_RATE, abs=0.02)
