"""cnnkit.experiments.judge: claims decided by their plan, did-not-learn, Holm's family, the best level, tiers."""
from __future__ import annotations

import math
import random

import pytest

from cnnkit.experiments import judge
from cnnkit.experiments.judge import LevelResult

CHANCE = 0.1


def level(label: str, values: list[float], baseline: bool = False, seeds: list[int] | None = None,
          ips: list[float] | None = None, gaps: list[float] | None = None) -> LevelResult:
    """A level whose counted runs ended at ``values`` (final test accuracy)."""
    seeds = seeds or list(range(len(values)))
    stuck = sum(v < CHANCE + 0.05 for v in values)
    result = LevelResult(label, baseline, 61706, 416520, [1, 28, 28], [f"{label}-{s}" for s in seeds], seeds,
                         len(values), 0, stuck, 0, 0, 2 * stuck < len(values))
    none = [None] * len(values)
    result.values = {"test_acc": list(values), "images_per_sec": [math.log(v) for v in ips] if ips else none,
                     "gap": gaps or none}
    result.means = {"test_acc": sum(values) / len(values)}
    return result


def claim(kind: str, a: str, b: str = "", metric: str = "test_acc", effect: float = 0.01, paired: bool = False,
          id: str = "c") -> dict:
    return {"id": id, "origin": "notes", "sources": ["notes 000:1"], "text": "t", "kind": kind, "a": a, "b": b,
            "metric": metric, "effect": effect, "tested_as": "", "paired": paired, "pairing": ""}


def plan(claims: list[dict], levels: list[LevelResult]) -> dict:
    return {"claims": claims, "alpha": 0.05, "chance_margin": 0.05, "baseline": levels[0].label,
            "levels": [{"label": lv.label, "paired": False} for lv in levels]}


def decide(claims: list[dict], levels: list[LevelResult]) -> list[judge.ClaimResult]:
    return judge.judge_claims(plan(claims, levels), levels)


def test_a_clear_difference_in_the_claimed_direction_is_confirmed_and_against_it_refuted() -> None:
    levels = [level("base", [0.70, 0.71, 0.69, 0.70, 0.72], True), level("max", [0.75, 0.76, 0.74, 0.75, 0.77])]
    yes, no = decide([claim("better", "max", "base", id="a"), claim("better", "base", "max", id="b")], levels)
    assert yes.outcome == "confirmed" and yes.low > 0.01
    assert no.outcome == "refuted" and no.high < 0
    # Holm: equal p-values, so the first is judged against α / 2 (a 97.5 % interval), the second against α
    assert (yes.level, no.level) == (pytest.approx(0.975), pytest.approx(0.95))


def test_an_interval_inside_the_smallest_effect_refutes_better_and_confirms_similar() -> None:
    levels = [level("base", [0.700, 0.702, 0.698, 0.701, 0.699], True),
              level("same", [0.701, 0.700, 0.699, 0.702, 0.700])]
    better, similar = decide([claim("better", "same", "base", id="a"), claim("similar", "same", "base", id="b")],
                             levels)
    assert better.outcome == "refuted" and "no difference worth the name" in better.detail
    assert similar.outcome == "confirmed"


def test_a_wide_interval_is_open() -> None:
    levels = [level("base", [0.60, 0.75, 0.68], True), level("x", [0.62, 0.78, 0.71])]
    (result,) = decide([claim("better", "x", "base")], levels)
    assert result.outcome == "open" and "too wide" in result.detail


def test_similar_is_refuted_only_when_the_interval_lies_beyond_the_effect() -> None:
    levels = [level("base", [0.70, 0.71, 0.70, 0.70], True), level("far", [0.80, 0.81, 0.80, 0.81])]
    (result,) = decide([claim("similar", "far", "base")], levels)
    assert result.outcome == "refuted" and result.low > 0.01


def test_a_planted_chance_level_baseline_reads_did_not_learn() -> None:
    levels = [level("d2l LeNet", [0.10, 0.101, 0.099, 0.11, 0.10], True),
              level("improved", [0.95, 0.96, 0.955, 0.95, 0.96])]
    (result,) = decide([claim("better", "improved", "d2l LeNet")], levels)
    assert levels[0].learned is False
    assert result.outcome == "did not learn" and result.low is None
    assert "d2l LeNet" in result.detail


def test_did_not_learn_does_not_stop_a_throughput_comparison() -> None:
    levels = [level("256", [0.1] * 4, True, ips=[10_000, 10_100, 9_900, 10_050]),
              level("4096", [0.1] * 4, ips=[7_000, 7_100, 6_900, 7_050])]
    (result,) = decide([claim("better", "4096", "256", metric="images_per_sec", effect=math.log(1.1))], levels)
    assert result.outcome == "refuted" and math.exp(result.diff) == pytest.approx(0.70, abs=0.01)


@pytest.mark.parametrize("kind,values,outcome", [
    ("fails", [0.1, 0.1, 0.1, 0.11, 0.1], "confirmed"), ("fails", [0.8, 0.81, 0.79, 0.8, 0.82], "refuted"),
    ("fails", [0.1, 0.8, 0.81, 0.8, 0.79], "open"), ("learns", [0.8, 0.81, 0.79, 0.8, 0.82], "confirmed"),
    ("learns", [0.1, 0.1, 0.1, 0.8, 0.8], "refuted")])
def test_fails_and_learns_count_the_runs_at_chance(kind: str, values: list[float], outcome: str) -> None:
    levels = [level("base", [0.7] * 5, True), level("x", values)]
    (result,) = decide([claim(kind, "x")], levels)
    assert result.outcome == outcome


def test_a_smaller_gap_is_better_for_a_metric_where_lower_is_better() -> None:
    levels = [level("none", [0.8] * 5, True, gaps=[0.08, 0.09, 0.085, 0.09, 0.08]),
              level("dropout", [0.8] * 5, gaps=[0.02, 0.03, 0.025, 0.02, 0.03])]
    (result,) = decide([claim("better", "dropout", "none", metric="gap")], levels)
    assert result.outcome == "confirmed" and result.diff < 0


@pytest.mark.parametrize(("gaps", "outcome"), [
    ([0.070, 0.090, 0.075, 0.085, 0.080], "open"),  # the difference's interval holds 0 and reaches past ±1 point
    ([0.120, 0.130, 0.125, 0.120, 0.130], "refuted"),  # a larger gap: the other side of 0
])
def test_a_lower_is_better_claim_is_confirmed_only_when_the_whole_interval_lies_below_0(gaps, outcome) -> None:
    levels = [level("none", [0.8] * 5, True, gaps=[0.08, 0.07, 0.09, 0.075, 0.085]),
              level("dropout", [0.8] * 5, gaps=gaps)]
    (result,) = decide([claim("better", "dropout", "none", metric="gap")], levels)
    assert result.outcome == outcome, (result.low, result.high)


def test_the_holm_family_is_the_plans_even_when_a_claim_cannot_be_tested() -> None:
    levels = [level("base", [0.70, 0.71, 0.69, 0.70, 0.72], True), level("max", [0.75, 0.76, 0.74, 0.75, 0.77]),
              level("stuck", [0.1] * 5)]
    tested, untested = decide([claim("better", "max", "base", id="a"), claim("better", "stuck", "base", id="b")],
                              levels)
    assert untested.outcome == "did not learn"
    assert tested.holm_alpha == pytest.approx(0.025)  # m = 2: the smaller p is judged against α / 2


def test_paired_claims_compare_seed_by_seed() -> None:
    # Seeds differ a lot, the pairs very little: Welch leaves it open, the paired test confirms.
    base = [0.60, 0.70, 0.80, 0.65, 0.75]
    levels = [level("avg", base, True), level("max", [v + 0.02 for v in base])]
    welch, paired = decide([claim("better", "max", "avg", id="a"), claim("better", "max", "avg", paired=True,
                                                                          id="b")], levels)
    assert welch.outcome == "open" and not welch.paired
    assert paired.outcome == "confirmed" and paired.paired and paired.diff == pytest.approx(0.02)


def test_best_is_named_only_for_a_level_that_beats_the_baseline_decisively() -> None:
    levels = [level("base", [0.70, 0.72, 0.68, 0.71, 0.69], True), level("tie", [0.71, 0.69, 0.72, 0.70, 0.70]),
              level("win", [0.80, 0.81, 0.79, 0.80, 0.82])]
    judge.compare_with_baseline(plan([], levels), levels)
    assert judge.best_level(levels) == "win"
    assert levels[1].vs_baseline["decisive"] is False
    levels = levels[:2]
    judge.compare_with_baseline(plan([], levels), levels)
    assert judge.best_level(levels) is None


def test_ranking_tiers_group_what_the_intervals_do_not_separate() -> None:
    levels = [level("a", [0.90, 0.91, 0.90, 0.89, 0.90]), level("b", [0.895, 0.90, 0.905, 0.90, 0.90]),
              level("c", [0.70, 0.71, 0.70, 0.69, 0.70])]
    assert judge.ranking_tiers(levels, 0.05) == [["a", "b"], ["c"]]


def test_versus_baseline_covers_zero_about_95_percent_of_the_time_for_equal_levels() -> None:
    rng = random.Random(1)
    covered = 0
    trials = 800
    for _ in range(trials):
        values = {"base": {s: rng.gauss(0.8, 0.02) for s in range(5)}, "x": {s: rng.gauss(0.8, 0.02) for s in range(5)}}
        result = judge.versus_baseline(values, "base", {"x": False})["x"]
        covered += result["low"] <= 0 <= result["high"]
    assert 0.93 <= covered / trials <= 0.975
