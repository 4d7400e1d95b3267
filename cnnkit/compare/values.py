"""Config values as the compare page shows, orders and groups them: 0.1 → "0.1", None → "none"."""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_number(value: Any) -> bool:
    """An int or float (numpy's too), not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def value_text(value: Any) -> str:
    if is_missing(value):
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def order_key(value: Any) -> tuple[int, float | str]:
    """Numbers first in numeric order (0.01 before 0.1 before 1), then text, then missing values."""
    if is_missing(value):
        return (2, "")
    if is_number(value):
        return (0, float(value))
    return (1, value_text(value))
