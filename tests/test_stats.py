"""cnnkit.stats with inputs whose answers are known by hand."""
from __future__ import annotations

import math

import pytest

from cnnkit import stats


def test_summarize_mean_and_sample_std():
    s = stats.summarize([1.0, 2.0, 3.0])
    assert (s.n, s.mean, s.std) == (3, 2.0, 1.0)
    s = stats.summarize([0.8, 0.8, 0.8, 0.8])
    assert s.mean == pytest.approx(0.8) and s.std == pytest.approx(0.0, abs=1e-15)


def test_summarize_small_samples():
    assert stats.summarize([]) == stats.Summary(0, None, None)
    assert stats.summarize([0.5]) == stats.Summary(1, 0.5, None)


def test_summarize_refuses_non_finite_values():
    with pytest.raises(ValueError):
        stats.summarize([0.5, math.nan])


def test_mean_or_none_skips_missing_values():
    assert stats.mean_or_none([1.0, None, 3.0, math.nan]) == 2.0
    assert stats.mean_or_none([None]) is None
    assert stats.mean_or_none([]) is None


def test_bootstrap_of_constant_samples_is_exact():
    d = stats.bootstrap_diff([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert (d.diff, d.low, d.high) == (1.0, 1.0, 1.0)
    assert d.excludes_zero and d.half_width == 0.0


def test_bootstrap_of_identical_samples_includes_zero():
    xs = [0.70, 0.74, 0.78]
    d = stats.bootstrap_diff(xs, xs)
    assert d.diff == 0.0 and d.low < 0 < d.high and not d.excludes_zero


def test_bootstrap_two_point_sample_matches_the_exact_distribution():
    # a = [0, 1] resamples to means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4; b = [0, 0] is constant.
    # The 2.5th and 97.5th percentiles of that distribution are 0 and 1: the interval touches 0.
    d = stats.bootstrap_diff([0.0, 1.0], [0.0, 0.0])
    assert d.diff == 0.5 and d.low == 0.0 and d.high == 1.0
    assert not d.excludes_zero


def test_bootstrap_clear_difference_excludes_zero():
    a, b = [0.80, 0.81, 0.82], [0.70, 0.71, 0.72]
    d = stats.bootstrap_diff(a, b)
    assert d.diff == pytest.approx(0.10)
    assert 0.08 <= d.low <= d.diff <= d.high <= 0.12
    assert d.excludes_zero


def test_bootstrap_overlapping_samples_include_zero():
    d = stats.bootstrap_diff([0.70, 0.80, 0.75], [0.72, 0.78, 0.76])
    assert not d.excludes_zero and d.low < 0 < d.high


def test_bootstrap_is_deterministic_and_seeded():
    a, b = [0.61, 0.66, 0.70, 0.64], [0.60, 0.63, 0.59]
    assert stats.bootstrap_diff(a, b) == stats.bootstrap_diff(a, b)
    other = stats.bootstrap_diff(a, b, seed=1)
    assert other.diff == stats.bootstrap_diff(a, b).diff
    assert abs(other.low - stats.bootstrap_diff(a, b).low) < 0.02  # another seed, about the same interval


def test_bootstrap_needs_two_values_a_side_for_an_interval():
    d = stats.bootstrap_diff([0.9], [0.5, 0.6])
    assert d.diff == pytest.approx(0.35) and d.low is None and d.high is None
    assert not d.excludes_zero and d.half_width is None
    with pytest.raises(ValueError):
        stats.bootstrap_diff([], [0.5])


def test_wider_confidence_gives_a_wider_interval():
    a, b = [0.61, 0.66, 0.70, 0.64], [0.60, 0.63, 0.59]
    d95, d50 = stats.bootstrap_diff(a, b), stats.bootstrap_diff(a, b, confidence=0.5)
    assert d95.low <= d50.low <= d50.high <= d95.high


def test_paired_diff_is_the_t_interval_of_the_differences():
    a, b = [0.80, 0.75, 0.79], [0.78, 0.725, 0.768]  # differences 0.020, 0.025, 0.022
    d = stats.paired_diff(a, b)
    mean, half = 0.067 / 3, 4.303 * stats.summarize([0.020, 0.025, 0.022]).std / math.sqrt(3)
    assert d.diff == pytest.approx(mean) and (d.low, d.high) == (pytest.approx(mean - half), pytest.approx(mean + half))
    assert d.excludes_zero, "levels spread wide, but consistent pair by pair"
    assert not stats.bootstrap_diff(a, b).excludes_zero
    assert stats.paired_diff([0.5], [0.4]) == stats.Difference(pytest.approx(0.1), None, None)
    with pytest.raises(ValueError):
        stats.paired_diff([0.5, 0.6], [0.4])


def test_paired_diff_keeps_its_false_alarm_rate_at_five_pairs():
    import numpy as np

    rng = np.random.default_rng(5)
    alarms = sum(stats.paired_diff(rng.normal(0, 1, 5), rng.normal(0, 1, 5)).excludes_zero for _ in range(4000))
    assert alarms / 4000 == pytest.approx(0.05, abs=0.012)
