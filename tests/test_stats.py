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


def test_welch_of_constant_samples_is_exact():
    d = stats.welch_diff([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert (d.diff, d.low, d.high) == (1.0, 1.0, 1.0)
    assert d.excludes_zero and d.half_width == 0.0


def test_welch_of_identical_samples_includes_zero():
    xs = [0.70, 0.74, 0.78]
    d = stats.welch_diff(xs, xs)
    assert d.diff == 0.0 and d.low < 0 < d.high and not d.excludes_zero


def test_welch_equal_spreads_is_the_pooled_t_interval_by_hand():
    # sd 0.01 on both sides, 3 values each: se = √(2 · 0.01² / 3), Welch's df = 4, t(4) = 2.776.
    a, b = [0.80, 0.81, 0.82], [0.70, 0.71, 0.72]
    d = stats.welch_diff(a, b)
    half = 2.776 * math.sqrt(2 * 0.01 ** 2 / 3)
    assert d.diff == pytest.approx(0.10)
    assert (d.low, d.high) == (pytest.approx(0.10 - half), pytest.approx(0.10 + half))
    assert d.excludes_zero


def test_welch_rounds_its_degrees_of_freedom_down():
    # Nearly all the variance is a's (2 values): Welch–Satterthwaite gives df ≈ 1.01, read as 1 (t = 12.706).
    a, b = [0.9, 0.7], [0.50, 0.52, 0.48, 0.50]
    d = stats.welch_diff(a, b)
    se = math.sqrt(stats.summarize(a).std ** 2 / 2 + stats.summarize(b).std ** 2 / 4)
    assert d.half_width == pytest.approx(12.706 * se)
    assert not d.excludes_zero


def test_welch_overlapping_samples_include_zero():
    d = stats.welch_diff([0.70, 0.80, 0.75], [0.72, 0.78, 0.76])
    assert not d.excludes_zero and d.low < 0 < d.high


def test_welch_needs_two_values_a_side_for_an_interval():
    d = stats.welch_diff([0.9], [0.5, 0.6])
    assert d.diff == pytest.approx(0.35) and d.low is None and d.high is None
    assert not d.excludes_zero and d.half_width is None
    with pytest.raises(ValueError):
        stats.welch_diff([], [0.5])


def test_t_975_is_the_table_then_the_normal():
    assert (stats.t_975(1), stats.t_975(4), stats.t_975(30), stats.t_975(31)) == (12.706, 2.776, 2.042, 1.96)
    with pytest.raises(ValueError):
        stats.t_975(0)


def test_paired_diff_is_the_t_interval_of_the_differences():
    a, b = [0.80, 0.75, 0.79], [0.78, 0.725, 0.768]  # differences 0.020, 0.025, 0.022
    d = stats.paired_diff(a, b)
    mean, half = 0.067 / 3, 4.303 * stats.summarize([0.020, 0.025, 0.022]).std / math.sqrt(3)
    assert d.diff == pytest.approx(mean) and (d.low, d.high) == (pytest.approx(mean - half), pytest.approx(mean + half))
    assert d.excludes_zero, "levels spread wide, but consistent pair by pair"
    assert not stats.welch_diff(a, b).excludes_zero
    assert stats.paired_diff([0.5], [0.4]) == stats.Difference(pytest.approx(0.1), None, None)
    with pytest.raises(ValueError):
        stats.paired_diff([0.5, 0.6], [0.4])


def test_paired_diff_keeps_its_false_alarm_rate_at_five_pairs():
    import numpy as np

    rng = np.random.default_rng(5)
    alarms = sum(stats.paired_diff(rng.normal(0, 1, 5), rng.normal(0, 1, 5)).excludes_zero for _ in range(4000))
    assert alarms / 4000 == pytest.approx(0.05, abs=0.012)


def test_welch_false_alarm_rate_stays_at_or_below_five_percent():
    import numpy as np

    rng = np.random.default_rng(6)
    for seeds in (3, 5):
        alarms = sum(stats.welch_diff(rng.normal(0, 1, seeds), rng.normal(0, 3, seeds)).excludes_zero
                     for _ in range(4000))
        assert alarms / 4000 <= 0.06, f"{seeds} seeds a side, unequal spreads"
