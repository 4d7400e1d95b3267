"""The few statistics an experiment's verdict needs: mean ± std over seeds and a bootstrap
interval for a difference of two means.

Kept small and dependency-light (numpy only) so that every number in a verdict can be checked by
hand. With 3 seeds per level a percentile bootstrap interval is narrow-ish (it under-covers for
tiny samples); the verdicts therefore always say how many seeds they rest on.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
CONFIDENCE = 0.95
SEED = 20240531  # fixed: the same inputs always give the same interval


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    std: float | None  # sample standard deviation (n − 1); None below 2 values


@dataclass(frozen=True)
class Difference:
    """mean(a) − mean(b) with its bootstrap interval; ``low``/``high`` are None below 2 values a side."""

    diff: float
    low: float | None
    high: float | None

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2


def summarize(values: Sequence[float]) -> Summary:
    """Mean and sample standard deviation; non-finite values are a caller's bug and are refused."""
    xs = _finite(values)
    if not xs:
        return Summary(0, None, None)
    mean = math.fsum(xs) / len(xs)
    if len(xs) < 2:
        return Summary(1, mean, None)
    var = math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return Summary(len(xs), mean, math.sqrt(var))


def mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are there (None and NaN skipped), or None when none are."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return math.fsum(xs) / len(xs) if xs else None


def bootstrap_diff(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE,
                   resamples: int = RESAMPLES, seed: int = SEED) -> Difference:
    """mean(a) − mean(b) and its percentile bootstrap interval.

    Each sample is resampled with replacement on its own (the seeds of two levels are independent
    runs), ``resamples`` times, with a fixed generator: the interval is deterministic.
    """
    xa, xb = _finite(a), _finite(b)
    if not xa or not xb:
        raise ValueError("bootstrap_diff needs at least one value on each side")
    diff = math.fsum(xa) / len(xa) - math.fsum(xb) / len(xb)
    if len(xa) < 2 or len(xb) < 2:
        return Difference(diff, None, None)
    rng = np.random.Generator(np.random.PCG64(seed))
    va, vb = np.asarray(xa), np.asarray(xb)
    means_a = va[rng.integers(0, len(va), (resamples, len(va)))].mean(axis=1)
    means_b = vb[rng.integers(0, len(vb), (resamples, len(vb)))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means_a - means_b, [tail, 100 - tail])
    # Rounding noise must not turn an interval of identical values into one that "excludes 0".
    return Difference(diff, _clean(float(low)), _clean(float(high)))


# Student's t, 97.5th percentile, by degrees of freedom: the two-sided 95 % interval of a mean.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def paired_diff(a: Sequence[float], b: Sequence[float]) -> Difference:
    """mean(a − b) of paired values (a[i] and b[i] share seed i) and its 95 % t interval.

    For experiments whose levels keep a seed's randomness (same initial weights, same data order), the
    pairs' differences vary far less than the levels do. The t interval is exact for normal differences,
    so its false-alarm rate is the nominal 5 % even for a handful of seeds (a percentile bootstrap of so
    few values is narrower than its name). Beyond 31 pairs the normal quantile stands in.
    """
    xa, xb = _finite(a), _finite(b)
    if len(xa) != len(xb) or not xa:
        raise ValueError(f"paired_diff needs two equally long, non-empty samples, got {len(xa)} and {len(xb)}")
    diffs = [x - y for x, y in zip(xa, xb)]
    s = summarize(diffs)
    if s.std is None:
        return Difference(s.mean, None, None)
    half = (T_975[s.n - 2] if s.n - 2 < len(T_975) else 1.96) * s.std / math.sqrt(s.n)
    return Difference(s.mean, _clean(s.mean - half), _clean(s.mean + half))


def _finite(values: Sequence[float]) -> list[float]:
    xs = [float(v) for v in values]
    if not all(math.isfinite(x) for x in xs):
        raise ValueError(f"values must be finite, got {xs}")
    return xs


def _clean(x: float) -> float:
    return 0.0 if abs(x) < 1e-12 else x
