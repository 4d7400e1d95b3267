"""The few statistics an experiment's verdict needs: mean ± std over seeds and a 95 % t interval for a
difference of two means (Welch's for independent levels, the paired one for levels that share their seeds).

Kept small and dependency-free (the t quantile comes from the incomplete beta function, not SciPy) so that every
number in a verdict can be checked with a t table.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    std: float | None  # sample standard deviation (n − 1); None below 2 values


@dataclass(frozen=True)
class Difference:
    """mean(a) − mean(b) with its 95 % interval; ``low``/``high`` are None below 2 values a side."""

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


def welch_diff(a: Sequence[float], b: Sequence[float]) -> Difference:
    """mean(a) − mean(b) of two independent samples and its 95 % Welch t interval.

    Welch's interval does not assume equal spreads (a level that sometimes fails to learn varies far more
    than one that always does); its degrees of freedom are Welch–Satterthwaite's, fractional, as in R's
    ``t.test`` and SciPy's ``ttest_ind(equal_var=False)``. A percentile bootstrap of so few values is narrower
    than its name (it excludes 0 in 12 % of comparisons of equal levels at 5 seeds a side).
    """
    xa, xb = _finite(a), _finite(b)
    if not xa or not xb:
        raise ValueError("welch_diff needs at least one value on each side")
    sa, sb = summarize(xa), summarize(xb)
    diff = sa.mean - sb.mean
    if sa.std is None or sb.std is None:
        return Difference(diff, None, None)
    va, vb = sa.std ** 2 / sa.n, sb.std ** 2 / sb.n
    if va + vb == 0:  # identical values on both sides: the difference is exact
        return Difference(diff, _clean(diff), _clean(diff))
    df = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1))
    half = t_975(df) * math.sqrt(va + vb)
    return Difference(diff, _clean(diff - half), _clean(diff + half))


def t_975(df: float) -> float:
    """The 97.5th percentile of Student's t with ``df`` > 0 degrees of freedom (fractional ones too): the
    two-sided 95 % interval's multiplier, 12.706 at 1, 2.776 at 4, 1.960 in the limit."""
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    low, high = 0.0, 1.0
    while t_cdf(high, df) < 0.975:
        low, high = high, 2 * high
    for _ in range(100):  # bisection: the CDF is increasing
        mid = (low + high) / 2
        low, high = (mid, high) if t_cdf(mid, df) < 0.975 else (low, mid)
    return (low + high) / 2


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom, through the regularized incomplete beta function."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) by its continued fraction (modified Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a)
    where the fraction converges slowly."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    if x > (a + 1) / (a + b + 2):
        return 1 - _incomplete_beta(b, a, 1 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return front * f


def paired_diff(a: Sequence[float], b: Sequence[float]) -> Difference:
    """mean(a − b) of paired values (a[i] and b[i] share seed i) and its 95 % t interval.

    For experiments whose levels keep a seed's randomness (same initial weights, same data order), the
    pairs' differences vary far less than the levels do. The t interval is exact for normal differences,
    so its false-alarm rate is the nominal 5 % even for a handful of seeds.
    """
    xa, xb = _finite(a), _finite(b)
    if len(xa) != len(xb) or not xa:
        raise ValueError(f"paired_diff needs two equally long, non-empty samples, got {len(xa)} and {len(xb)}")
    diffs = [x - y for x, y in zip(xa, xb)]
    s = summarize(diffs)
    if s.std is None:
        return Difference(s.mean, None, None)
    half = t_975(s.n - 1) * s.std / math.sqrt(s.n)
    return Difference(s.mean, _clean(s.mean - half), _clean(s.mean + half))


def _finite(values: Sequence[float]) -> list[float]:
    xs = [float(v) for v in values]
    if not all(math.isfinite(x) for x in xs):
        raise ValueError(f"values must be finite, got {xs}")
    return xs


def _clean(x: float) -> float:
    return 0.0 if abs(x) < 1e-12 else x
