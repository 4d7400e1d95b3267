"""Runs with layer health points as a job records them (split "health"): a starving first layer and a healthy one."""
from __future__ import annotations

from cnnkit.events import MetricPoint
from cnnkit.store import Store
from cnnkit.watch.names import SPLIT
from support.runs import finished_run

LAYERS = ("conv1", "conv2", "fc1", "fc2", "fc3")


def health_points(first_grad: float, saturated: float, epochs: int = 2) -> list[MetricPoint]:
    """5 reports an epoch of every layer's norms (conv1's gradient ``first_grad``, the others' growing towards the
    output, fc3's 1.0), then each sigmoid's saturated share and each epoch's test accuracy."""
    points = []
    for step in range(1, 5 * epochs + 1):
        epoch = step / 5
        for i, layer in enumerate(LAYERS):
            grad = first_grad if layer == "conv1" else 10.0 ** (i - 4)
            points += [MetricPoint(step, epoch, SPLIT, f"{layer}.grad_norm", grad * step, 1e9 + step),
                       MetricPoint(step, epoch, SPLIT, f"{layer}.weight_norm", 1.0 + i, 1e9 + step),
                       MetricPoint(step, epoch, SPLIT, f"{layer}.update_ratio", 0.0 if i == 0 else 0.01, 1e9 + step)]
        if step % 5 == 0:
            points += [MetricPoint(step, epoch, SPLIT, f"{layer}.sigmoid.saturated", saturated * epoch, 1e9 + step)
                       for layer in LAYERS[:-1]]
            points.append(MetricPoint(step, epoch, "test", "acc", 0.1 * epoch, 1e9 + step))
    return points


def health_run(store: Store, name: str, first_grad: float, saturated: float) -> str:
    return finished_run(store, name=name, points=health_points(first_grad, saturated))
