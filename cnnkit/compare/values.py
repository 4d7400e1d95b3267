"""How the compare page orders config values: numbers first in numeric order, then text, then missing ones
(their text is cnnkit.text.value_text's)."""
from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit.text import is_missing, value_text


def is_number(value: Any) -> bool:
    """An int or float (numpy's too), not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def order_key(value: Any) -> tuple[int, float | str]:
    """Numbers first in numeric order (0.01 before 0.1 before 1), then text, then missing values."""
    if is_missing(value):
        return (2, "")
    if is_number(value):
        return (0, float(value))
    return (1, value_text(value))
