"""Small run configs and metric points for the store's tests."""
from __future__ import annotations

from typing import Any

from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint


def config(**changes: Any) -> RunConfig:
    return RunConfig(epochs=2, subset=0.02, test_subset=0.05, **changes)


def point(step: int, epoch: float, split: str = "train", name: str = "loss", value: float = 1.0) -> MetricPoint:
    return MetricPoint(step, epoch, split, name, value, 1000.0 + step)
