"""cnnkit.compare.verdict: every level against a baseline by the experiments' own statistics, decisive or open
with the reason and the seeds that would resolve it; the exports carry it."""
from __future__ import annotations

import math
import random

import pandas as pd
import pytest

from cnnkit.compare import report
from cnnkit.compare.verdict import Level, judge_levels, per_seed, seeds_to_resolve
from cnnkit.errors import ConfigError
from cnnkit.experiments import judge, metrics
from cnnkit.experiments.metrics import RunRecord


def record(seed: int, acc: float | None = None, status: str = "completed", ips: float = 1000.0,
           dataset: str = "fashion-mnist", run_id: str | None = None) -> RunRecord:
    final = {} if acc is None else {"test_acc": acc, "test_loss": 2 * (1 - acc)}
    return RunRecord(run_id or f"r{seed}-{acc}", None, "run", status, {"seed": seed, "dataset": dataset},
                     {"images_per_sec": ips, "best": {"test_acc": acc}}, None, 100.0, 130.0, "cpu", final)


def level(label: str, accs: list[float], paired: bool = False, seeds: list[int] | None = None, **kw) -> Level:
    seeds = seeds if seeds is not None else list(range(len(accs)))
    return Level(label, [record(s, a, **kw) for s, a in zip(seeds, accs)], paired, "paired: rule" if paired else "")


def test_every_level_gets_exactly_what_versus_baseline_gives_it() -> None:
    levels = [level("a", [0.70, 0.71, 0.72]), level("b", [0.75, 0.77, 0.76], paired=True),
              level("c", [0.69, 0.74, 0.70])]
    verdict = judge_levels(levels, "a", field_name="lr")
    expected = judge.versus_baseline({lv.label: {r.seed: r.final["test_acc"] for r in lv.records} for lv in levels},
                                     "a", {"b": True, "c": False})
    assert {lv.label: lv.vs for lv in verdict.levels if lv.vs} == expected
    b = next(lv for lv in verdict.levels if lv.label == "b")
    assert b.outcome == "better" and b.decisive and b.vs["paired"] and b.pairing == "paired: rule"
    assert verdict.levels[0].is_baseline and verdict.levels[0].shown_mean == "71.0 %"


def test_a_lower_loss_is_better_and_a_higher_one_worse() -> None:
    base = level("base", [0.70, 0.71, 0.72])
    better = level("better", [0.80, 0.81, 0.82])
    verdict = judge_levels([base, better], "base", "test_loss")
    assert verdict.levels[1].vs["diff"] < 0 and verdict.levels[1].outcome == "better"
    assert judge_levels([better, base], "better", "test_loss").levels[1].outcome == "worse"


def test_an_interval_inside_the_smallest_effect_is_equivalent() -> None:
    verdict = judge_levels([level("a", [0.700, 0.701, 0.699, 0.700]), level("b", [0.701, 0.700, 0.700, 0.701])], "a")
    b = verdict.levels[1]
    assert b.outcome == "equivalent" and "inside ±1 point" in b.reason and b.seeds_needed is None


def test_an_open_level_gives_the_seed_noise_and_the_seeds_that_would_resolve_it() -> None:
    verdict = judge_levels([level("a", [0.70, 0.74, 0.72]), level("b", [0.71, 0.77, 0.73])], "a")
    b = verdict.levels[1]
    half = (b.vs["high"] - b.vs["low"]) / 2
    assert b.outcome == "open" and "seed noise" in b.reason and f"±{100 * half:.1f} points" in b.reason
    assert b.seeds_needed == seeds_to_resolve(3, half, b.vs["diff"], 0.01) > 3
    assert "b about" in verdict.summary() and verdict.seeds_needed == b.seeds_needed


def test_seeds_to_resolve_takes_the_nearer_of_excluding_0_and_fitting_inside_the_effect() -> None:
    assert seeds_to_resolve(3, 0.02, 0.01, 0.01) == 12  # 3·(0.02/0.01)²; at the effect, no equivalence
    assert seeds_to_resolve(3, 0.01, 0.004, 0.01) == 9  # 3·(0.01/0.006)² = 8.3 is nearer than 3·(0.01/0.004)²
    assert seeds_to_resolve(5, 0.03, 0.0, 0.01) == 45  # no difference at all: only equivalence can resolve it
    assert seeds_to_resolve(5, 0.001, 0.0005, 0.01) == 6  # always at least one more seed


def test_diverged_runs_count_at_chance_for_accuracies_and_not_for_throughput() -> None:
    runs = [record(0, 0.8), record(1, None, "diverged"), record(2, None, "failed"), record(3, None, "running")]
    assert per_seed(runs, metrics.get("test_acc")) == {0: 0.8, 1: pytest.approx(0.1)}
    assert per_seed(runs, metrics.get("images_per_sec")) == {0: pytest.approx(math.log(1000)), 1: None}


def test_a_seed_repeated_in_a_level_keeps_both_values() -> None:
    runs = [record(0, 0.8, run_id="x"), record(0, 0.7, run_id="y")]
    assert per_seed(runs, metrics.get("test_acc")) == {0: 0.8, (0, "y"): 0.7}


def test_too_few_runs_is_open_and_no_value_is_not_tested() -> None:
    verdict = judge_levels([level("a", [0.7, 0.72]), level("one", [0.8]),
                            Level("none", [record(0, None, "failed")])], "a")
    one, none = verdict.levels[1], verdict.levels[2]
    assert one.outcome == "open" and "no interval" in one.reason and one.seeds_needed == 3
    assert none.outcome == "no test" and none.vs is None and "Not tested" in verdict.summary()


def test_throughput_is_compared_as_a_ratio_with_ten_percent_as_its_effect() -> None:
    fast = Level("fast", [record(s, 0.7, ips=v) for s, v in enumerate((2000.0, 2050.0, 1980.0))])
    slow = Level("slow", [record(s, 0.7, ips=v) for s, v in enumerate((1000.0, 1020.0, 990.0))])
    verdict = judge_levels([slow, fast], "slow", "images_per_sec")
    assert verdict.effect == pytest.approx(math.log(1.1)) and verdict.band == "×0.91 to ×1.10"
    assert verdict.levels[1].outcome == "better" and verdict.rows()[1]["Δ vs baseline"].startswith("×2.0")


def test_unfinished_runs_make_it_preliminary() -> None:
    running = Level("b", [record(0, 0.8), record(1, 0.81), record(2, None, "running")])
    verdict = judge_levels([level("a", [0.7, 0.71]), running], "a")
    assert verdict.active == 1 and verdict.summary().startswith("Preliminary (1 run not finished)")


def test_an_unknown_metric_and_a_baseline_that_is_no_level_are_one_line_errors() -> None:
    levels = [level("a", [0.7, 0.71]), level("b", [0.8, 0.81])]
    with pytest.raises(ConfigError, match=r"^metric: must be one of test_acc, .*got 'acc'$"):
        judge_levels(levels, "a", "acc")
    with pytest.raises(ConfigError, match=r"^baseline: 'c' is not a level; levels: a, b$"):
        judge_levels(levels, "c")


@pytest.mark.parametrize("paired", [True, False], ids=["paired", "welch"])
def test_same_config_different_seeds_the_interval_covers_0_about_95_percent_of_the_time(paired: bool) -> None:
    rng = random.Random(7)
    trials, covered = 1000, 0
    for _ in range(trials):
        luck = [rng.gauss(0, 0.02) for _ in range(5)]  # what a seed decides, shared by both levels when paired
        values = {name: [0.8 + (luck[s] if paired else rng.gauss(0, 0.02)) + rng.gauss(0, 0.005) for s in range(5)]
                  for name in ("a", "b")}
        verdict = judge_levels([level("a", values["a"]), level("b", values["b"], paired=paired)], "a")
        vs = verdict.levels[1].vs
        assert vs["paired"] is paired
        covered += vs["low"] <= 0 <= vs["high"]
    assert 0.93 <= covered / trials <= 0.97, covered


def test_the_markdown_and_html_exports_carry_the_verdict_beside_the_table() -> None:
    verdict = judge_levels([level("lr=0.1", [0.70, 0.71, 0.72]), level("lr=0.3", [0.80, 0.81, 0.83])], "lr=0.1",
                           field_name="lr")
    table = pd.DataFrame({"id": ["a"], "final_test_acc": [0.7]})
    md = report.to_markdown(table, "cnnkit comparison", verdict=verdict)
    assert md.index("**Verdict** (grouped by lr).") < md.index("| id | final_test_acc |")
    assert "| lr=0.3 | 3 | 81.3 % | +10.3 (" in md and "| better |" in md
    page = report.to_html("cnnkit comparison", table, verdict=verdict)
    assert "<h2>Verdict (grouped by lr)</h2>" in page and "Against lr=0.1 on final test accuracy" in page
    assert "<h2>Verdict" not in report.to_html("cnnkit comparison", table)
