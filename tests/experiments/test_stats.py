"""cnnkit.experiments.stats: summaries, Welch's and the paired t test (scipy.stats) with their intervals,
Holm's step-down correction, and the intervals' coverage by simulation."""
from __future__ import annotations

import math
import random

import pytest

from cnnkit.experiments import stats


def test_summarize_mean_and_sample_std() -> None:
    s = stats.summarize([0.7, 0.8, 0.9])
    assert s.n == 3 and s.mean == pytest.approx(0.8) and s.std == pytest.approx(0.1)
    assert stats.summarize([]) == stats.Summary(0, None, None)
    assert stats.summarize([0.5]) == stats.Summary(1, 0.5, None)
    with pytest.raises(ValueError, match="finite"):
        stats.summarize([0.5, float("nan")])
    assert stats.mean_or_none([None, 1.0, float("nan"), 3.0]) == 2.0 and stats.mean_or_none([None]) is None


def test_welch_is_the_welch_satterthwaite_interval_by_hand() -> None:
    a, b = [19.1, 20.3, 21.0, 18.8, 20.1], [17.2, 18.0, 18.9, 16.5, 17.8]
    c = stats.welch(a, b)
    assert c.diff == pytest.approx(19.86 - 17.68)
    va, vb = stats.summarize(a).std ** 2 / 5, stats.summarize(b).std ** 2 / 5
    df = (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 4)
    from scipy.stats import t

    half = t.ppf(0.975, df) * math.sqrt(va + vb)
    assert 7 < df < 8  # fractional, as R and SciPy compute it
    assert (c.low, c.high) == (pytest.approx(c.diff - half), pytest.approx(c.diff + half))
    assert c.p == pytest.approx(2 * t.sf(c.diff / math.sqrt(va + vb), df)) and c.excludes_zero and not c.paired


def test_the_paired_test_is_the_t_interval_of_the_differences() -> None:
    a, b = [0.71, 0.74, 0.69, 0.73, 0.72], [0.69, 0.71, 0.68, 0.70, 0.70]
    c = stats.paired(a, b, level=0.9)
    d = [x - y for x, y in zip(a, b)]
    s = stats.summarize(d)
    from scipy.stats import t

    half = t.ppf(0.95, 4) * s.std / math.sqrt(5)
    assert c.paired and c.n == 5 and c.level == 0.9
    assert c.diff == pytest.approx(s.mean)
    assert (c.low, c.high) == (pytest.approx(s.mean - half), pytest.approx(s.mean + half))


def test_exact_differences_and_too_few_values() -> None:
    assert stats.welch([0.5, 0.5], [0.4, 0.4]).low == pytest.approx(0.1)
    assert stats.paired([0.5, 0.6], [0.4, 0.5]).p == 0.0
    one = stats.welch([0.5], [0.4, 0.41])
    assert one.low is None and one.p is None and not one.excludes_zero
    with pytest.raises(ValueError):
        stats.paired([0.5, 0.6], [0.4])


def test_within_needs_the_whole_interval_inside_the_effect() -> None:
    c = stats.Comparison(0.002, -0.004, 0.008, 0.5, 0.95, False, 5)
    assert c.within(0.01) and not c.within(0.005) and c.half_width == pytest.approx(0.006)


def test_holm_matches_a_worked_example() -> None:
    # Four p-values at α = 0.05: sorted 0.005 (≤ 0.05/4), 0.011 (≤ 0.05/3), 0.03 (> 0.05/2: stop), 0.04.
    p = [0.04, 0.011, 0.03, 0.005]
    steps = stats.holm_levels(p, 0.05)
    assert [rejected for _, rejected in steps] == [False, True, False, True]
    assert [alpha for alpha, _ in steps] == pytest.approx([0.025, 0.05 / 3, 0.025, 0.0125])
    # R: p.adjust(c(0.04, 0.011, 0.03, 0.005), "holm") = 0.060 0.033 0.060 0.020
    assert stats.holm_adjusted(p) == pytest.approx([0.06, 0.033, 0.06, 0.02])
    assert all((adj < 0.05) == rejected for adj, (_, rejected) in zip(stats.holm_adjusted(p), steps))


def test_holm_keeps_untested_places() -> None:
    assert stats.holm_levels([None, 0.001], 0.05) == [(0.05, False), (0.05, True)]


@pytest.mark.parametrize("paired", [False, True])
def test_the_interval_covers_the_true_difference_95_percent_of_the_time(paired: bool) -> None:
    """Five seeds a side, normal seed noise, levels that do not differ; paired seeds share most of their noise."""
    rng = random.Random(7)
    covered, trials = 0, 2000
    for _ in range(trials):
        seed_luck = [rng.gauss(0, 0.02) for _ in range(5)]
        a = [0.8 + (luck if paired else rng.gauss(0, 0.02)) + rng.gauss(0, 0.005) for luck in seed_luck]
        b = [0.8 + (luck if paired else rng.gauss(0, 0.02)) + rng.gauss(0, 0.005) for luck in seed_luck]
        c = stats.paired(a, b) if paired else stats.welch(a, b)
        covered += c.low <= 0 <= c.high
    assert 0.935 <= covered / trials <= 0.965


def test_holm_keeps_the_familys_false_alarm_rate_at_five_percent() -> None:
    rng = random.Random(3)
    any_false, trials = 0, 1500
    for _ in range(trials):
        base = [rng.gauss(0.8, 0.02) for _ in range(5)]
        ps = [stats.welch([rng.gauss(0.8, 0.02) for _ in range(5)], base).p for _ in range(3)]
        any_false += any(rejected for _, rejected in stats.holm_levels(ps))
    assert any_false / trials <= 0.06
