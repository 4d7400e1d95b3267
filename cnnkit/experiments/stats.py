"""The statistics of a verdict, from ``scipy.stats``: mean ± std over seeds, Welch's and the paired t test with
their confidence intervals, and Holm's step-down correction within a preset.

Welch's test does not assume equal spreads (a level that sometimes fails to learn varies far more than one
that always learns); the paired one compares seed by seed where the levels share what a seed decides (the
pairing rule: ``cnnkit.experiments.pairing``). Holm's correction keeps the chance of any false decision
within one preset at α: the claims' p-values are taken from the smallest up, the i-th of m against
α / (m − i + 1), stopping at the first that does not pass. Each claim's interval is reported at the level its
decision used (1 − α / (m − i + 1)), and every claim after the stop at the level of the stop, so an interval
excludes 0 exactly when its claim's difference is declared real.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    std: float | None  # sample standard deviation (n − 1); None below 2 values


@dataclass(frozen=True)
class Comparison:
    """mean(a) − mean(b) (paired: the mean of a − b) with its interval at ``level`` and the two-sided p-value
    of "no difference"; ``low``, ``high`` and ``p`` are None below 2 values a side (2 pairs)."""

    diff: float
    low: float | None
    high: float | None
    p: float | None
    level: float
    paired: bool
    n: int  # values per side (pairs when paired; the smaller side otherwise)

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and (self.low > 0 or self.high < 0)

    def within(self, effect: float) -> bool:
        """Whether the whole interval lies inside ±``effect``."""
        return self.low is not None and -effect < self.low and self.high < effect

    @property
    def half_width(self) -> float | None:
        return None if self.low is None else (self.high - self.low) / 2


def summarize(values: Sequence[float]) -> Summary:
    """Mean and sample standard deviation; non-finite values are a caller's bug and are refused."""
    xs = _finite(values)
    if not xs:
        return Summary(0, None, None)
    mean = math.fsum(xs) / len(xs)
    if len(xs) < 2:
        return Summary(1, mean, None)
    return Summary(len(xs), mean, math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)))


def mean_or_none(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are there (None and NaN skipped), or None when none are."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return math.fsum(xs) / len(xs) if xs else None


def welch(a: Sequence[float], b: Sequence[float], level: float = 1 - ALPHA) -> Comparison:
    """Two independent samples: Welch's t test (scipy.stats.ttest_ind, equal_var=False) and its interval."""
    from scipy import stats

    xa, xb = _finite(a), _finite(b)
    if not xa or not xb:
        raise ValueError("welch needs at least one value on each side")
    diff = math.fsum(xa) / len(xa) - math.fsum(xb) / len(xb)
    if len(xa) < 2 or len(xb) < 2:
        return Comparison(diff, None, None, None, level, False, min(len(xa), len(xb)))
    if _constant(xa) and _constant(xb):  # no spread at all: the difference is exact
        return _exact(diff, level, False, min(len(xa), len(xb)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a side without spread: scipy warns, the test stands
        result = stats.ttest_ind(xa, xb, equal_var=False)
    ci = result.confidence_interval(level)
    return Comparison(diff, _clean(ci.low), _clean(ci.high), float(result.pvalue), level, False,
                      min(len(xa), len(xb)))


def paired(a: Sequence[float], b: Sequence[float], level: float = 1 - ALPHA) -> Comparison:
    """Paired values (a[i] and b[i] share seed i): the paired t test (scipy.stats.ttest_rel) and its interval."""
    from scipy import stats

    xa, xb = _finite(a), _finite(b)
    if len(xa) != len(xb) or not xa:
        raise ValueError(f"paired needs two equally long, non-empty samples, got {len(xa)} and {len(xb)}")
    diffs = [x - y for x, y in zip(xa, xb)]
    diff = math.fsum(diffs) / len(diffs)
    if len(diffs) < 2:
        return Comparison(diff, None, None, None, level, True, len(diffs))
    if _constant(diffs):
        return _exact(diff, level, True, len(diffs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nearly equal differences: scipy warns, the test stands
        result = stats.ttest_rel(xa, xb)
    ci = result.confidence_interval(level)
    return Comparison(diff, _clean(ci.low), _clean(ci.high), float(result.pvalue), level, True, len(diffs))


def holm_levels(pvalues: Sequence[float | None], alpha: float = ALPHA) -> list[tuple[float, bool]]:
    """For each p-value (None: no test), the α its interval is judged at and whether Holm rejects it.

    Step-down: sorted from the smallest, the i-th (from 1) of m is rejected when it and every smaller one
    pass α / (m − i + 1); from the first that fails on, nothing is rejected and every later one is judged at
    the α of that step (so its interval, wider, still contains 0)."""
    m = sum(p is not None for p in pvalues)
    order = sorted((i for i, p in enumerate(pvalues) if p is not None), key=lambda i: pvalues[i])
    out: list[tuple[float, bool]] = [(alpha, False)] * len(pvalues)
    stop: float | None = None
    for rank, i in enumerate(order):
        step = alpha / (m - rank)
        if stop is None and pvalues[i] < step:
            out[i] = (step, True)
        else:
            stop = step if stop is None else stop
            out[i] = (stop, False)
    return out


def holm_adjusted(pvalues: Sequence[float]) -> list[float]:
    """Holm's adjusted p-values (as R's p.adjust(method = "holm")): reject where adjusted < α."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def _exact(diff: float, level: float, is_paired: bool, n: int) -> Comparison:
    return Comparison(diff, _clean(diff), _clean(diff), 0.0 if abs(diff) > 1e-12 else 1.0, level, is_paired, n)


def _constant(xs: list[float]) -> bool:
    """Equal up to rounding (0.8 − 0.7 and 0.82 − 0.72 differ in the 17th digit)."""
    return max(xs) - min(xs) <= 1e-12 * max(1.0, max(abs(x) for x in xs))


def _finite(values: Sequence[float]) -> list[float]:
    xs = [float(v) for v in values]
    if not all(math.isfinite(x) for x in xs):
        raise ValueError(f"values must be finite, got {xs}")
    return xs


def _clean(x: float) -> float:
    x = float(x)
    return 0.0 if abs(x) < 1e-12 else x
