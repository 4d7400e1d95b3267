"""compare.bands: TensorBoard's smoothing and the mean ± std band over members."""
from __future__ import annotations

import numpy as np
import pytest

from cnnkit.compare.bands import mean_band, smooth


def test_smooth_is_a_debiased_ema() -> None:
    y = np.array([1.0, 1.0, 1.0])
    assert smooth(y, 0.9).tolist() == pytest.approx([1, 1, 1])  # debiased: no drag towards 0
    steps = smooth([0.0, 10.0], 0.5)
    assert steps[0] == 0 and 0 < steps[1] < 10
    assert smooth([1, 2, 3], 0).tolist() == [1, 2, 3]
    assert np.isnan(smooth([1, float("nan"), 3], 0.5)[1])


def test_mean_band_exact_on_shared_x_and_interpolated_otherwise() -> None:
    x, mean, std, n = mean_band([([1, 2, 3], [1, 2, 3]), ([1, 2, 3], [3, 4, 5])])
    assert x.tolist() == [1, 2, 3] and mean.tolist() == [2, 3, 4] and std == pytest.approx([np.sqrt(2)] * 3)
    x, mean, std, n = mean_band([([0, 2], [0, 2]), ([1, 3], [1, 3])])
    assert x.tolist() == [0, 1, 2, 3] and n.tolist() == [1, 2, 2, 1] and mean.tolist() == [0, 1, 2, 3]
    assert std[0] == 0  # a lone member has no spread


def test_mean_band_of_no_points_is_empty_and_long_unshared_x_goes_on_a_grid() -> None:
    assert all(len(a) == 0 for a in mean_band([([], [])]))
    x, _, _, n = mean_band([(np.arange(300.0), np.zeros(300)), (np.arange(300.0), np.ones(300))], grid_points=50)
    assert len(x) == 300 and n.tolist() == [2] * 300  # shared x values: kept exactly, however many
    x, _, _, _ = mean_band([(np.arange(300.0), np.zeros(300)), (np.arange(300.0) + 0.5, np.zeros(300))],
                           grid_points=50)
    assert len(x) == 50
