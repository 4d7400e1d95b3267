"""What a curve becomes before it is drawn: smoothed (as TensorBoard does), and mean ± std over seeds."""
from __future__ import annotations

import math
import warnings

import numpy as np


def smooth(values: np.ndarray | list[float], weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average; ``weight`` 0 returns the values unchanged."""
    y = np.asarray(values, dtype=float)
    if weight <= 0 or len(y) < 2:
        return y
    out = np.empty_like(y)
    last, debias = 0.0, 0.0
    for i, v in enumerate(y):
        if not math.isfinite(v):
            out[i] = v
            continue
        last = weight * last + (1 - weight) * v
        debias = weight * debias + (1 - weight)
        out[i] = last / debias
    return out


def mean_band(members: list[tuple[np.ndarray, np.ndarray]], grid_points: int = 200
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and std over member curves (x, y) on a common x grid: x, mean, std, n.

    Curves on the same x values (epochs, steps of runs with the same config) are averaged exactly;
    otherwise (wall time) each member is interpolated linearly within its own range.
    """
    xs = [np.asarray(x, dtype=float) for x, _ in members if len(x)]
    if not xs:
        empty = np.array([])
        return empty, empty, empty, empty
    union = np.unique(np.concatenate(xs))
    exact = len(union) <= max(grid_points, max(len(x) for x in xs))
    grid = union if exact else np.linspace(union[0], union[-1], grid_points)
    stack = np.full((len(members), len(grid)), np.nan)
    for i, (x, y) in enumerate(members):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if not len(x):
            continue
        inside = (grid >= x[0]) & (grid <= x[-1])
        stack[i, inside] = np.interp(grid[inside], x, y)
    n = np.sum(~np.isnan(stack), axis=0)
    # Grid columns no member covers give "mean of empty slice" warnings; they are dropped below.
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(stack, axis=0)
        std = np.where(n > 1, np.nanstd(stack, axis=0, ddof=1) if len(members) > 1 else 0.0, 0.0)
    keep = n > 0
    return grid[keep], mean[keep], np.nan_to_num(std[keep]), n[keep]
