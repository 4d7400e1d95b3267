"""compare.values: the text and order of config values."""
from __future__ import annotations

import numpy as np

from cnnkit.compare.values import is_number, order_key
from cnnkit.text import is_missing, value_text


def test_value_text() -> None:
    assert [value_text(v) for v in (0.1, 2.0, None, float("nan"), (6, 16), "relu", 3)] == \
        ["0.1", "2", "none", "none", "6,16", "relu", "3"]


def test_numbers_order_before_text_before_missing() -> None:
    values = [None, "b", 10, 0.5, "a", np.float64(2)]
    assert sorted(values, key=order_key) == [0.5, np.float64(2), 10, "a", "b", None]
    assert is_number(np.int64(1)) and not is_number(True) and not is_number("1")
    assert is_missing(None) and is_missing(float("nan")) and not is_missing(0)
