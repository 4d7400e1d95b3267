"""The one object the engine calls to watch a run: layer health at every report and at every epoch's end,
and the epoch's snapshot. It keeps the seconds it spends (``seconds``), for the benchmark's cost figure."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnkit.data import loading
from cnnkit.plan import RunPlan
from cnnkit.watch import probe
from cnnkit.watch.health import ActivationHealth, LayerHealth
from cnnkit.watch.snapshots import SnapshotTaker


class Watcher:
    """Layer health of ``model`` (trained on ``data``, the run's own variant of ``raw``) and, when asked for,
    its per-epoch snapshots of ``raw``'s test pair."""

    def __init__(self, plan: RunPlan, model: nn.Module, data: loading.Data, raw: loading.Data, snapshots: bool):
        self.model = model
        # The snapshots' copy of the model first: a copy taken after the health hooks would carry them.
        self.snapshots = SnapshotTaker(plan, model, raw.test_x, raw.test_y) if snapshots else None
        self.layers = LayerHealth(model)
        self.activations = ActivationHealth(model)
        index = probe.probe_index(data.test_y).to(data.test_y.device)
        self.probe_x, self.probe_y = data.test_x[index], data.test_y[index]
        self.seconds = 0.0

    def before_step(self) -> None:
        """Before an optimizer step that a report follows."""
        t0 = time.perf_counter()
        self.layers.before_step()
        self.seconds += time.perf_counter() - t0

    def report(self) -> dict[str, float]:
        """Health metric name → value of every layer with weights, after the step ``before_step`` preceded."""
        t0 = time.perf_counter()
        values = self.layers.values()
        self.seconds += time.perf_counter() - t0
        return values

    def end_epoch(self, epoch: int, evaluate: Callable[[torch.Tensor, torch.Tensor], Any],
                  confusion: torch.Tensor) -> dict[str, float]:
        """The activations' health on the probe batch (``evaluate(images, labels)``: the engine's own evaluation
        pass) and, with snapshots, the snapshot of ``epoch`` (1-based) with the test set's ``confusion``."""
        t0 = time.perf_counter()
        values = self.activations.measure(lambda: evaluate(self.probe_x, self.probe_y))
        if self.snapshots is not None:
            self.snapshots.take(epoch, self.model, confusion)
        self.seconds += time.perf_counter() - t0
        return values

    def snapshot_state(self) -> dict[str, Any] | None:
        """What the snapshots file holds now (None without snapshots or before the first one)."""
        if self.snapshots is None or not self.snapshots.snapshots.kept:
            return None
        return self.snapshots.snapshots.state()

    def resume(self, snapshots: Path | str | None, epoch: int) -> None:
        if self.snapshots is not None and snapshots is not None:
            self.snapshots.resume(snapshots, epoch)
