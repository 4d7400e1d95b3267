"""cnnkit.experiments.stats with inputs whose answers are known by hand."""
from __future__ import annotations

import math

import pytest

from cnnkit.experiments import stats


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
    # the table's t has 3 decimals
    assert (d.low, d.high) == (pytest.approx(0.10 - half, abs=1e-4), pytest.approx(0.10 + half, abs=1e-4))
    assert d.excludes_zero


def test_welch_uses_the_fractional_welch_satterthwaite_degrees_of_freedom():
    # sd 0.1414 (2 values) against sd 0.0163 (4 values): df = (va + vb)² / (va² / 1 + vb² / 3) ≈ 1.013.
    a, b = [0.9, 0.7], [0.50, 0.52, 0.48, 0.50]
    va, vb = stats.summarize(a).std ** 2 / 2, stats.summarize(b).std ** 2 / 4
    df = (va + vb) ** 2 / (va ** 2 + vb ** 2 / 3)
    d = stats.welch_diff(a, b)
    assert d.half_width == pytest.approx(stats.t_975(df) * math.sqrt(va + vb))
    assert 12.0 < stats.t_975(df) < 12.706 and not d.excludes_zero


def test_welch_overlapping_samples_include_zero():
    d = stats.welch_diff([0.70, 0.80, 0.75], [0.72, 0.78, 0.76])
    assert not d.excludes_zero and d.low < 0 < d.high


def test_welch_needs_two_values_a_side_for_an_interval():
    d = stats.welch_diff([0.9], [0.5, 0.6])
    assert d.diff == pytest.approx(0.35) and d.low is None and d.high is None
    assert not d.excludes_zero and d.half_width is None
    with pytest.raises(ValueError):
        stats.welch_diff([], [0.5])


@pytest.mark.parametrize(("df", "table"), [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571),
                                           (9, 2.262), (30, 2.042), (10**6, 1.960)])
def test_t_975_matches_the_t_table(df: float, table: float):
    assert stats.t_975(df) == pytest.approx(table, abs=6e-4)


@pytest.mark.parametrize("df", [1.3, 1.5, 2.7, 7.4])
def test_t_975_at_fractional_degrees_of_freedom_integrates_the_density_to_97_5_percent(df: float):
    import numpy as np

    q = stats.t_975(df)
    t = np.linspace(0, q, 200_001)
    density = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + t * t / df) ** (
        -(df + 1) / 2)
    assert float(np.trapezoid(density, t)) == pytest.approx(0.475, abs=1e-6)
    assert stats.t_975(math.floor(df) + 1) < q < stats.t_975(math.floor(df))


def test_t_975_refuses_non_positive_degrees_of_freedom():
    with pytest.raises(ValueError):
        stats.t_975(0)


def test_paired_diff_is_the_t_interval_of_the_differences():
    a, b = [0.80, 0.75, 0.79], [0.78, 0.725, 0.768]  # differences 0.020, 0.025, 0.022
    d = stats.paired_diff(a, b)
    mean, half = 0.067 / 3, 4.303 * stats.summarize([0.020, 0.025, 0.022]).std / math.sqrt(3)
    assert d.diff == pytest.approx(mean)
    assert (d.low, d.high) == (pytest.approx(mean - half, abs=1e-5), pytest.approx(mean + half, abs=1e-5))
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


def test_welch_false_alarm_rate_is_about_five_percent():
    import numpy as np

    rng = np.random.default_rng(6)
    for seeds in (3, 5):
        alarms = sum(stats.welch_diff(rng.normal(0, 1, seeds), rng.normal(0, 3, seeds)).excludes_zero
                     for _ in range(4000))
        assert alarms / 4000 == pytest.approx(0.05, abs=0.015), f"{seeds} seeds a side, unequal spreads"
