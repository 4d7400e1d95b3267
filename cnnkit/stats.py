"""The few statistics an experiment's verdict needs: mean ± std over seeds and a 95 % t interval for a
difference of two means (Welch's for independent levels, the paired one for levels that share their seeds).

Kept small and dependency-free so that every number in a verdict can be checked by hand with a t table.
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
    than one that always does). Its degrees of freedom (Welch–Satterthwaite) are rounded down, the usual
    conservative reading of a table, so the false-alarm rate stays at or below the nominal 5 % for a handful of
    seeds (a percentile bootstrap of so few values is narrower than its name: 12 % at 5 seeds a side).
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
    half = t_975(math.floor(df)) * math.sqrt(va + vb)
    return Difference(diff, _clean(diff - half), _clean(diff + half))


# Student's t, 97.5th percentile, by degrees of freedom: the two-sided 95 % interval of a mean.
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_975(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` ≥ 1 degrees of freedom (the normal's beyond 30)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    return T_975[df - 1] if df <= len(T_975) else 1.96


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
