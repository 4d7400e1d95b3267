"""The job's system metrics: a reporter that adds a sample of cnnkit.sysmetrics to every report."""
from __future__ import annotations

import time
from typing import Any

from cnnkit.engine import MetricPoint, Reporter, resolve_device
from cnnkit.sysmetrics import SPLIT, SystemSampler


class SystemMetrics(Reporter):
    """Forwards every event to ``inner``, adding a system sample to each batch of metric points."""

    def __init__(self, inner: Reporter, device: str = "auto"):
        self.inner, self.device = inner, device
        self.sampler: SystemSampler | None = None
        self.seconds = 0.0  # spent sampling

    def start(self, info: dict[str, Any]) -> None:
        self.sampler = SystemSampler(str(resolve_device(self.device)))  # fit resolved the same name before
        self.inner.start(info)

    def first_step(self) -> None:
        self.inner.first_step()

    def log(self, points: list[MetricPoint]) -> None:
        if points and self.sampler is not None:
            t0 = time.perf_counter()
            last = max(points, key=lambda p: p.step)
            points = points + [MetricPoint(last.step, last.epoch, SPLIT, name, value, last.wall)
                               for name, value in self.sampler.sample().items()]
            self.seconds += time.perf_counter() - t0
        self.inner.log(points)

